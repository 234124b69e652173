//! `bourse feed simulate`: the simulated live feed in its own process, and the live-quote
//! plumbing the other commands share: the ingest path and the Redis quote relay.
//!
//! Quote updates reach the `StreamQuotes` calls of other processes only through Redis
//! (`REDIS_URL`). Without it a separate feed process still writes every quote and bar to the
//! store (so `GetQuote` and `ListBars` see them), but streams of other processes do not carry
//! them: run the feed inside `bourse up --feed` instead, or configure Redis.

use std::future::Future;

use anyhow::Context as _;
use bourse_cache::CacheArgs;
use bourse_market_data::Ingestor;
use bourse_market_data::feed::{SimulatedFeed, SimulationConfig};
use bourse_market_data::ingest::run_feed;
use bourse_market_data::relay::{self, RelayConfig, RelayPublisher};
use bourse_runtime::config::ServiceArgs;
use bourse_runtime::{shutdown, telemetry};
use tokio_util::sync::CancellationToken;

use crate::backends::{self, Backends};
use crate::cli::{FeedCommand, SimulateArgs};

/// Runs a `bourse feed` command.
pub async fn run(command: FeedCommand) -> anyhow::Result<()> {
    let FeedCommand::Simulate(args) = command;
    simulate(args).await
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let _telemetry = telemetry::init("feed", &args.service.telemetry)?;
    let backends = backends::connect(&args.service, &args.cache, false).await?;
    let config = SimulationConfig {
        seed: args.seed,
        tick_interval: args.tick_interval,
        symbols: args.symbols,
        start: None,
    };
    let feed = SimulatedFeed::from_store(&backends.db, &config)
        .await
        .context("starting the simulated feed")?;
    let ingestor = ingestor(&args.service, &args.cache, &backends)?;
    if args.service.redis_url.is_none() {
        tracing::warn!(
            "no REDIS_URL: quotes and bars go to the store, but StreamQuotes of other processes \
             will not carry them (use `bourse up --feed`, or set REDIS_URL)"
        );
    }
    tracing::info!(
        store = %backends::describe_store(&args.service),
        cache = %backends::describe_cache(&args.service),
        duration = ?args.duration,
        "simulated feed running"
    );
    let stop = async {
        match args.duration {
            Some(duration) => tokio::select! {
                () = shutdown::signal() => {}
                () = tokio::time::sleep(duration) => {}
            },
            None => shutdown::signal().await,
        }
    };
    let Ok(summary) = run_feed(feed, &ingestor, stop).await;
    println!(
        "simulated feed stopped: {} rounds, {} quotes, {} 1-minute bars, {} rounds not stored",
        summary.rounds, summary.quotes, summary.bars, summary.failed_rounds
    );
    Ok(())
}

/// The relay between this process and the others, when Redis is configured. Its channel
/// follows the cache key prefix, as the cache entries do.
pub fn relay_config(args: &ServiceArgs, cache: &CacheArgs) -> Option<RelayConfig> {
    let url = args.redis_url.as_deref()?;
    Some(RelayConfig::new(url, &cache.config(None).key_prefix))
}

/// The ingest path of this process: its store, cache and bus, and the relay when Redis is
/// configured.
pub fn ingestor(
    args: &ServiceArgs,
    cache: &CacheArgs,
    backends: &Backends,
) -> anyhow::Result<Ingestor> {
    let Backends {
        db,
        cache: quotes_cache,
        bus,
    } = backends.clone();
    Ok(match relay_config(args, cache) {
        Some(config) => {
            let publisher = RelayPublisher::new(&config, &bus).context("the quote relay")?;
            Ingestor::with_relay(db, quotes_cache, bus, publisher)
        }
        None => Ingestor::new(db, quotes_cache, bus),
    })
}

/// The relay subscriber that brings other processes' quotes into this process's bus (run one
/// per process, whatever the number of market-data instances), until `stop` is cancelled.
/// Without Redis it only says, once, that streams carry this process's quotes only.
pub fn relay_subscriber(
    args: &ServiceArgs,
    cache: &CacheArgs,
    backends: &Backends,
    stop: CancellationToken,
) -> impl Future<Output = anyhow::Result<()>> + Send + 'static {
    let config = relay_config(args, cache);
    let (bus, quotes_cache) = (backends.bus.clone(), backends.cache.clone());
    async move {
        let Some(config) = config else {
            tracing::info!(
                "no REDIS_URL: quote streams carry the quotes ingested in this process only"
            );
            stop.cancelled().await;
            return Ok(());
        };
        relay::run_subscriber(config, bus, quotes_cache, stop.cancelled_owned())
            .await
            .context("the quote relay")
    }
}
