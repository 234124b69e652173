//! `bourse up`: the whole platform in one process.
//!
//! Every service runs twice, a shared-pool and a premium-pool instance, on loopback; the gateway
//! routes each tier to its own pool. The store is migrated, the demo data set is loaded into an
//! empty store, and one demo API key per tier is created (the previous demo keys are revoked,
//! since keys are stored hashed and cannot be shown again).

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context as _;
use bourse_cache::CacheArgs;
use bourse_gateway::{GatewayArgs, GatewayState, keys};
use bourse_market_data::DemoSummary;
use bourse_market_data::feed::{SimulatedFeed, SimulationConfig};
use bourse_market_data::ingest::run_feed;
use bourse_runtime::config::ServiceArgs;
use bourse_runtime::shutdown;
use bourse_runtime::tier::Tier;
use bourse_runtime::upstream::{MarketDataPools, PortfolioPools, RiskPools, SentimentPools};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::backends::{self, Backends};
use crate::cli::UpArgs;
use crate::feed;
use crate::serve::{Peers, ServiceKind, bind};

/// How often `bourse up --feed` ingests a synthetic headline.
const SYNTHETIC_NEWS_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

/// The account both demo keys act for, so either key sees the same portfolios.
pub const DEMO_ACCOUNT: &str = "demo";

/// What to start.
#[derive(Debug, Clone)]
pub struct UpConfig {
    pub gateway_listen: SocketAddr,
    /// First of eight consecutive ports for the service instances; 0 picks free ports.
    pub grpc_base_port: u16,
    pub load_demo: bool,
    /// Runs the simulated live feed in-process when set.
    pub feed: Option<SimulationConfig>,
    pub service: ServiceArgs,
    pub cache: CacheArgs,
    /// The gateway's options; its pools are replaced by the instances started.
    pub gateway: GatewayArgs,
}

/// One service instance of the platform.
#[derive(Debug, Clone, Copy)]
pub struct Instance {
    pub service: ServiceKind,
    pub tier: Tier,
    pub addr: SocketAddr,
}

/// The demo API keys, one per tier.
#[derive(Debug, Clone)]
pub struct DemoKeys {
    pub premium: String,
    pub shared: String,
}

/// A running platform. Stop it with [`Platform::stop`].
#[derive(Debug)]
pub struct Platform {
    pub gateway_addr: SocketAddr,
    pub instances: Vec<Instance>,
    pub keys: DemoKeys,
    pub demo: Option<DemoSummary>,
    pub backends: Backends,
    shutdown: CancellationToken,
    tasks: JoinSet<anyhow::Result<()>>,
}

impl Platform {
    /// Binds every listener (failing fast on a port in use), prepares the store and starts all
    /// servers.
    pub async fn start(config: UpConfig) -> anyhow::Result<Self> {
        let gateway_listener = bind(config.gateway_listen).await?;
        let gateway_addr = gateway_listener.local_addr()?;
        let mut listeners = Vec::new();
        for (index, (service, tier)) in instances().enumerate() {
            let port = match config.grpc_base_port {
                0 => 0,
                base => base
                    .checked_add(u16::try_from(index)?)
                    .context("--grpc-base-port leaves no room for eight ports")?,
            };
            let listener = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
            listeners.push((
                Instance {
                    service,
                    tier,
                    addr: listener.local_addr()?,
                },
                listener,
            ));
        }

        let backends = backends::connect(&config.service, &config.cache, true).await?;
        let demo = if config.load_demo {
            bourse_market_data::load_demo(&backends.db)
                .await
                .context("loading the demo data")?
        } else {
            None
        };
        let keys = demo_keys(&backends).await?;
        let feed = match &config.feed {
            Some(simulation) => Some(
                SimulatedFeed::from_store(&backends.db, simulation)
                    .await
                    .context("starting the simulated feed")?,
            ),
            None => None,
        };

        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let instances: Vec<Instance> = listeners.iter().map(|(instance, _)| *instance).collect();
        let gateway = gateway_args(&instances, config.gateway.clone());
        // Each portfolio and risk instance asks the pool of the request's tier: shared requests
        // the shared instances, premium requests the premium ones.
        let peers = Peers {
            market_data: gateway.market_data.clone(),
            portfolio: gateway.portfolio.clone(),
        };
        for (instance, listener) in listeners {
            let (backends, stop) = (backends.clone(), shutdown.clone().cancelled_owned());
            let peers = peers.clone();
            tasks.spawn(async move {
                instance
                    .service
                    .serve(listener, backends, &peers, stop)
                    .await
                    .with_context(|| {
                        format!("{} ({}) stopped", instance.service.name(), instance.tier)
                    })
            });
        }
        let state = Arc::new(GatewayState::new(
            &gateway,
            backends.db.clone(),
            config.service.redis_url.as_deref(),
        )?);
        // One relay subscriber for the process: its market-data instances share the bus.
        tasks.spawn(feed::relay_subscriber(
            &config.service,
            &config.cache,
            &backends,
            shutdown.clone(),
        ));
        if let Some(simulated) = feed {
            let ingestor = feed::ingestor(&config.service, &config.cache, &backends)?;
            let stop = shutdown.clone().cancelled_owned();
            tasks.spawn(async move {
                let Ok(_summary) = run_feed(simulated, &ingestor, stop).await;
                Ok(())
            });
            // A trickle of synthetic headlines (source "synthetic") so symbol sentiment moves.
            let sentiment = bourse_sentiment::args::SentimentArgs::default()
                .build(backends.db.clone(), backends.cache.clone())
                .context("starting the synthetic headlines")?;
            let stop = shutdown.clone().cancelled_owned();
            tasks.spawn(async move {
                bourse_sentiment::synthetic::run(sentiment, SYNTHETIC_NEWS_EVERY, 6, stop)
                    .await
                    .context("synthetic headlines stopped")
            });
        }
        let stop = shutdown.clone().cancelled_owned();
        tasks.spawn(async move {
            bourse_gateway::serve(gateway_listener, state, stop)
                .await
                .context("the gateway stopped")
        });

        Ok(Self {
            gateway_addr,
            instances,
            keys,
            demo,
            backends,
            shutdown,
            tasks,
        })
    }

    /// Runs until `stop` resolves or a server fails, then stops everything.
    pub async fn run_until(mut self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let failed = tokio::select! {
            () = stop => None,
            Some(joined) = self.tasks.join_next() => Some(joined),
        };
        let outcome = match failed {
            Some(Ok(Ok(()))) => Err(anyhow::anyhow!("a server stopped unexpectedly")),
            Some(Ok(Err(error))) => Err(error),
            Some(Err(join_error)) => {
                Err(anyhow::Error::new(join_error).context("a server panicked"))
            }
            None => Ok(()),
        };
        self.stop().await?;
        outcome
    }

    /// Stops every server, letting in-flight requests finish, and waits for them.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        while let Some(joined) = self.tasks.join_next().await {
            joined.context("a server panicked")??;
        }
        Ok(())
    }
}

/// Each service as a shared and a premium instance, in port order.
fn instances() -> impl Iterator<Item = (ServiceKind, Tier)> {
    ServiceKind::ALL
        .into_iter()
        .flat_map(|service| [Tier::Shared, Tier::Premium].map(|tier| (service, tier)))
}

/// `options` with the instances of each service and tier as the pools.
fn gateway_args(instances: &[Instance], options: GatewayArgs) -> GatewayArgs {
    let pool = |service: ServiceKind, tier: Tier| {
        instances
            .iter()
            .filter(|instance| instance.service == service && instance.tier == tier)
            .map(|instance| format!("http://{}", instance.addr))
            .collect()
    };
    GatewayArgs {
        market_data: MarketDataPools {
            market_data_shared: pool(ServiceKind::MarketData, Tier::Shared),
            market_data_premium: pool(ServiceKind::MarketData, Tier::Premium),
        },
        portfolio: PortfolioPools {
            portfolio_shared: pool(ServiceKind::Portfolio, Tier::Shared),
            portfolio_premium: pool(ServiceKind::Portfolio, Tier::Premium),
        },
        risk: RiskPools {
            risk_shared: pool(ServiceKind::Risk, Tier::Shared),
            risk_premium: pool(ServiceKind::Risk, Tier::Premium),
        },
        sentiment: SentimentPools {
            sentiment_shared: pool(ServiceKind::Sentiment, Tier::Shared),
            sentiment_premium: pool(ServiceKind::Sentiment, Tier::Premium),
        },
        ..options
    }
}

/// The demo shared key's own rate limit (requests per second): twice the 1,000 req/s the load
/// scenario sends with it, so the scenario runs unthrottled with headroom for its bursts.
pub const DEMO_SHARED_RATE_LIMIT: i32 = 2_000;
/// The demo premium key's own rate limit: twice the scenario's 500 req/s premium load.
pub const DEMO_PREMIUM_RATE_LIMIT: i32 = 1_000;

/// Fresh demo keys (the previous run's are revoked), each with its own rate limit; their bursts
/// follow their tier's burst window (two seconds' worth by default).
async fn demo_keys(backends: &Backends) -> anyhow::Result<DemoKeys> {
    keys::revoke_account(&backends.db, DEMO_ACCOUNT).await?;
    let premium = keys::create(
        &backends.db,
        DEMO_ACCOUNT,
        Tier::Premium,
        Some(DEMO_PREMIUM_RATE_LIMIT),
    )
    .await?;
    let shared = keys::create(
        &backends.db,
        DEMO_ACCOUNT,
        Tier::Shared,
        Some(DEMO_SHARED_RATE_LIMIT),
    )
    .await?;
    Ok(DemoKeys {
        premium: premium.key,
        shared: shared.key,
    })
}

/// `bourse up`: start, print how to use it, run until Ctrl-C.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let config = UpConfig {
        gateway_listen: args.gateway_listen,
        grpc_base_port: args.grpc_base_port,
        load_demo: !args.no_demo,
        feed: args.feed.then(|| SimulationConfig {
            seed: args.feed_seed,
            tick_interval: args.feed_tick_interval,
            symbols: Vec::new(),
            start: None,
        }),
        service: args.service,
        cache: args.cache,
        gateway: GatewayArgs {
            balancing: args.gateway.balancing,
            admission: args.gateway.admission,
            rate_limit: args.gateway.rate_limit,
            batching: args.gateway.batching,
            ..GatewayArgs::default()
        },
    };
    // Listen for Ctrl-C before the (seconds-long) start, so a signal during it is not lost.
    let signal = tokio::spawn(shutdown::signal());
    let store = backends::describe_store(&config.service);
    let cache = backends::describe_cache(&config.service);
    let feed_interval = config.feed.as_ref().map(|feed| feed.tick_interval);
    let platform = Platform::start(config).await?;

    println!("Bourse is up.");
    println!("  store: {store}");
    println!("  cache: {cache}");
    match platform.demo {
        Some(demo) => println!(
            "  demo data loaded: {} instruments, {} daily bars, {} quotes",
            demo.instruments, demo.bars, demo.quotes
        ),
        None => println!("  demo data: the store already has data, left as it is"),
    }
    if let Some(interval) = feed_interval {
        println!("  live feed: simulated, one round of quotes every {interval:?}");
    }
    println!("  REST gateway: http://{}", platform.gateway_addr);
    for instance in &platform.instances {
        println!(
            "  gRPC {:<12} {:<8} http://{}",
            instance.service.name(),
            instance.tier,
            instance.addr
        );
    }
    println!("premium key: {}", platform.keys.premium);
    println!("shared key: {}", platform.keys.shared);
    println!(
        "Try: curl -H 'Authorization: Bearer {}' http://{}/v1/quotes/AAPL",
        platform.keys.premium, platform.gateway_addr
    );
    println!("Press Ctrl-C to stop.");
    platform
        .run_until(async {
            // The signal task only ends by receiving a signal (or with the runtime).
            let _ = signal.await;
        })
        .await
}
