//! `bourse serve <service>`: one service in its own process, and the table of services that
//! `bourse up` composes.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::Context as _;
use bourse_gateway::GatewayState;
use bourse_portfolio::MarketDataClient;
use bourse_risk::Upstreams;
use bourse_runtime::config::ServiceArgs;
use bourse_runtime::grpc_client::ClientConfig;
use bourse_runtime::grpc_server::GrpcServerConfig;
use bourse_runtime::upstream::{MarketDataPools, PortfolioPools};
use bourse_runtime::{shutdown, telemetry};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::backends::{self, Backends};
use crate::cli::{GatewayOpts, ServeCommand};
use crate::feed;

/// The gRPC services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    MarketData,
    Portfolio,
    Risk,
    Sentiment,
}

impl ServiceKind {
    /// Every service, in the order of their default ports.
    pub const ALL: [ServiceKind; 4] = [
        Self::MarketData,
        Self::Portfolio,
        Self::Risk,
        Self::Sentiment,
    ];

    /// The name used on the command line, in logs and in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::MarketData => bourse_market_data::SERVICE_NAME,
            Self::Portfolio => bourse_portfolio::SERVICE_NAME,
            Self::Risk => bourse_risk::SERVICE_NAME,
            Self::Sentiment => bourse_sentiment::SERVICE_NAME,
        }
    }

    /// The default port of the service's shared instance; the premium instance of `bourse up`
    /// takes the next one.
    pub fn default_port(self) -> u16 {
        match self {
            Self::MarketData => 50051,
            Self::Portfolio => 50053,
            Self::Risk => 50055,
            Self::Sentiment => 50057,
        }
    }

    /// Serves this service on `listener` until `shutdown` resolves. `peers` is where the
    /// portfolio and risk services find the services they call (the others ignore it).
    pub async fn serve(
        self,
        listener: TcpListener,
        backends: Backends,
        peers: &Peers,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let config = GrpcServerConfig::default();
        let Backends { db, cache, bus } = backends;
        Ok(match self {
            Self::MarketData => {
                bourse_market_data::serve(listener, db, cache, bus, config, shutdown).await
            }
            Self::Portfolio => {
                let quotes = MarketDataClient::new(&peers.market_data, &ClientConfig::default())
                    .context("building the market-data clients")?;
                bourse_portfolio::serve(listener, db, cache, quotes, config, shutdown).await
            }
            Self::Risk => {
                let upstreams = Upstreams::new(
                    &peers.market_data,
                    &peers.portfolio,
                    &ClientConfig::default(),
                )
                .context("building the risk service's clients")?;
                bourse_risk::serve(listener, db, cache, upstreams, config, shutdown).await
            }
            Self::Sentiment => bourse_sentiment::serve(listener, db, cache, config, shutdown).await,
        }?)
    }
}

/// Where the services that call other services find them.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    pub market_data: MarketDataPools,
    pub portfolio: PortfolioPools,
}

/// Binds a listener, saying which address could not be bound.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))
}

/// Serves the sentiment service with its own options (scorer, model, limits).
async fn serve_sentiment(
    listener: TcpListener,
    backends: Backends,
    args: &bourse_sentiment::args::SentimentArgs,
) -> anyhow::Result<()> {
    let sentiment = args
        .build(backends.db, backends.cache)
        .context("starting the sentiment scorer")?;
    let config = GrpcServerConfig::default();
    Ok(bourse_sentiment::serve_service(listener, sentiment, config, shutdown::signal()).await?)
}

pub async fn run(command: ServeCommand) -> anyhow::Result<()> {
    let mut peers = Peers::default();
    let mut sentiment = None;
    let (kind, opts) = match command {
        ServeCommand::MarketData(opts) => (ServiceKind::MarketData, opts),
        ServeCommand::Portfolio(opts) => {
            peers.market_data = opts.market_data;
            (ServiceKind::Portfolio, opts.service)
        }
        ServeCommand::Risk(opts) => {
            peers.market_data = opts.market_data;
            peers.portfolio = opts.portfolio;
            (ServiceKind::Risk, opts.service)
        }
        ServeCommand::Sentiment(opts) => {
            sentiment = Some(opts.sentiment);
            (ServiceKind::Sentiment, opts.service)
        }
        ServeCommand::Gateway(opts) => return gateway(*opts).await,
    };
    let args = &opts.service;
    let _telemetry = telemetry::init(kind.name(), &args.telemetry)?;
    let addr = listen_addr(args, kind.default_port());
    let listener = bind(addr).await?;
    let backends = backends::connect(args, &opts.cache, false).await?;
    tracing::info!(
        service = kind.name(),
        %addr,
        store = %backends::describe_store(args),
        cache = %backends::describe_cache(args),
        "serving"
    );
    let stop_relay = CancellationToken::new();
    if kind == ServiceKind::MarketData {
        let relay = feed::relay_subscriber(args, &opts.cache, &backends, stop_relay.clone());
        tokio::spawn(async move {
            if let Err(error) = relay.await {
                tracing::error!(error = format!("{error:#}"), "quote relay stopped");
            }
        });
    }
    let served = match &sentiment {
        Some(sentiment) => serve_sentiment(listener, backends, sentiment).await,
        None => {
            kind.serve(listener, backends, &peers, shutdown::signal())
                .await
        }
    }
    .with_context(|| format!("serving {}", kind.name()));
    stop_relay.cancel();
    served
}

async fn gateway(opts: GatewayOpts) -> anyhow::Result<()> {
    let _telemetry = telemetry::init("gateway", &opts.service.telemetry)?;
    let addr = listen_addr(&opts.service, 8080);
    let listener = bind(addr).await?;
    let db = backends::connect_db(&opts.service, false).await?;
    let state = Arc::new(GatewayState::new(
        &opts.gateway,
        db,
        opts.service.redis_url.as_deref(),
    )?);
    tracing::info!(%addr, "gateway serving");
    bourse_gateway::serve(listener, state, shutdown::signal())
        .await
        .context("serving the gateway")
}

fn listen_addr(args: &ServiceArgs, default_port: u16) -> SocketAddr {
    args.listen
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, default_port)))
}
