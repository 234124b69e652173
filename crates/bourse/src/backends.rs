//! Connecting to the store and the cache a process was configured with.

use std::time::Duration;

use anyhow::Context as _;
use bourse_cache::{Cache, CacheArgs};
use bourse_market_data::QuoteBus;
use bourse_runtime::config::{ServiceArgs, redact_url};
use bourse_store::{Db, StoreConfig};

/// How long start-up waits for the database before giving up with an error.
const DB_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the database pool gauges are refreshed.
const POOL_METRICS_INTERVAL: Duration = Duration::from_secs(5);

/// The store, cache and quote bus of one process.
#[derive(Debug, Clone)]
pub struct Backends {
    pub db: Db,
    pub cache: Cache,
    /// Fans ingested quotes out to the quote streams of every market-data instance of the
    /// process (see `bourse_market_data::bus`).
    pub bus: QuoteBus,
}

/// Connects the database (migrating it when asked) and the cache. An unreachable database or
/// Redis at start-up is an error, never a silent fallback.
pub async fn connect(
    args: &ServiceArgs,
    cache: &CacheArgs,
    migrate: bool,
) -> anyhow::Result<Backends> {
    let db = connect_db(args, migrate).await?;
    let config = cache.config(args.redis_url.clone());
    let cache = match &args.redis_url {
        Some(url) => Cache::connect(config)
            .await
            .with_context(|| format!("connecting to Redis at {}", redact_url(url)))?,
        None => Cache::in_process(config),
    };
    Ok(Backends {
        db,
        cache,
        bus: QuoteBus::default(),
    })
}

/// Connects the database alone, migrating it when asked, and keeps its pool gauges current
/// for as long as the runtime runs.
pub async fn connect_db(args: &ServiceArgs, migrate: bool) -> anyhow::Result<Db> {
    let config = StoreConfig {
        max_connections: args.db_max_connections,
        connect_timeout: DB_CONNECT_TIMEOUT,
        ..StoreConfig::embedded(&args.data_dir)
    }
    .with_database_url(args.database_url.clone());
    let place = describe_store(args);
    let db = Db::connect(&config)
        .await
        .with_context(|| format!("connecting to {place}"))?;
    if migrate || args.migrate {
        db.migrate()
            .await
            .with_context(|| format!("migrating {place}"))?;
    }
    let gauges = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POOL_METRICS_INTERVAL);
        loop {
            tick.tick().await;
            gauges.record_pool_metrics();
        }
    });
    Ok(db)
}

/// Where the store is, for messages; never a password.
pub fn describe_store(args: &ServiceArgs) -> String {
    match args.redacted_database_url() {
        Some(url) => format!("PostgreSQL at {url}"),
        None => format!(
            "the embedded SQLite store in {}",
            args.data_dir.join(StoreConfig::SQLITE_FILE_NAME).display()
        ),
    }
}

/// Which cache is in use, for messages.
pub fn describe_cache(args: &ServiceArgs) -> String {
    match &args.redis_url {
        Some(url) => format!("in-process L1 + Redis L2 at {}", redact_url(url)),
        None => "in-process cache (no REDIS_URL)".to_owned(),
    }
}
