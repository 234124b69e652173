//! The command line. `bourse <command> --help` is the configuration reference: every option
//! also reads an environment variable, named in the help.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bourse_cache::CacheArgs;
use bourse_gateway::GatewayArgs;
use bourse_market_data::feed::DEFAULT_SEED;
use bourse_market_data::symbol::Symbol;
use bourse_runtime::config::ServiceArgs;
use bourse_runtime::tier::Tier;
use bourse_runtime::upstream::{MarketDataPools, PortfolioPools};
use clap::{Args, Parser, Subcommand};

/// Bourse: market data, portfolios, risk and sentiment over REST and gRPC.
#[derive(Debug, Parser)]
#[command(name = "bourse", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole platform in one process: every service as a shared and a premium
    /// instance, and the gateway, on loopback, with demo data and demo API keys.
    Up(Box<UpArgs>),
    /// Run one service.
    #[command(subcommand)]
    Serve(ServeCommand),
    /// Apply pending database migrations and exit.
    Migrate(StoreOpts),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Bulk-load instruments or bars from CSV files straight into the configured store (the
    /// same checks as the gRPC ImportBars call, without a running service).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Live market-data feeds, written through the ingest path.
    #[command(subcommand)]
    Feed(FeedCommand),
    /// Drive the REST gateway with a weighted mix of requests, both tiers at once, and check
    /// each tier's latency and success against its SLA. Exit status: 0 when every objective
    /// held, 3 when one did not, 1 when the run itself failed.
    Loadtest(Box<bourse_loadtest::LoadtestArgs>),
}

/// Options of `bourse up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Address of the REST gateway.
    #[arg(long, env = "BOURSE_GATEWAY_LISTEN", default_value = bourse_gateway::config::DEFAULT_LISTEN)]
    pub gateway_listen: SocketAddr,
    /// First of eight consecutive loopback ports for the service instances; 0 picks free ports.
    #[arg(long, env = "BOURSE_GRPC_BASE_PORT", default_value_t = 50051)]
    pub grpc_base_port: u16,
    /// Do not load the demo data set into an empty store.
    #[arg(long, env = "BOURSE_NO_DEMO")]
    pub no_demo: bool,
    /// Run the simulated live feed in-process (see `bourse feed simulate`), streaming to every
    /// market-data instance.
    #[arg(long, env = "BOURSE_FEED")]
    pub feed: bool,
    /// With --feed: time between rounds of ticks, real and simulated.
    #[arg(long, env = "BOURSE_FEED_TICK_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub feed_tick_interval: Duration,
    /// With --feed: seed of the random walk.
    #[arg(long, env = "BOURSE_FEED_SEED", default_value_t = DEFAULT_SEED)]
    pub feed_seed: u64,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub gateway: UpGatewayOpts,
}

/// The gateway options `bourse up` passes on, the same as `bourse serve gateway`'s (its pools
/// are the instances `bourse up` starts).
#[derive(Debug, Args)]
pub struct UpGatewayOpts {
    #[command(flatten)]
    pub balancing: bourse_gateway::pools::PoolArgs,
    #[command(flatten)]
    pub admission: bourse_gateway::admission::AdmissionArgs,
    #[command(flatten)]
    pub rate_limit: bourse_gateway::ratelimit::RateLimitArgs,
    #[command(flatten)]
    pub batching: bourse_gateway::batch::BatchArgs,
}

/// The services `bourse serve` can run.
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Instruments, quotes, bars, streams and imports (default listener 127.0.0.1:50051).
    MarketData(ServiceOpts),
    /// Portfolios, orders, positions and valuations (default listener 127.0.0.1:50053).
    Portfolio(PortfolioOpts),
    /// VaR, expected shortfall and risk statistics (default listener 127.0.0.1:50055).
    Risk(RiskOpts),
    /// Text scoring, news and symbol sentiment (default listener 127.0.0.1:50057).
    Sentiment(SentimentOpts),
    /// The REST gateway (default listener 127.0.0.1:8080).
    Gateway(Box<GatewayOpts>),
}

/// Options of `bourse serve <service>`.
#[derive(Debug, Args)]
pub struct ServiceOpts {
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Options of `bourse serve sentiment`: a service's, and its scorer's.
#[derive(Debug, Args)]
pub struct SentimentOpts {
    #[command(flatten)]
    pub service: ServiceOpts,
    #[command(flatten)]
    pub sentiment: bourse_sentiment::args::SentimentArgs,
}

/// Options of `bourse serve portfolio`: a service's, and where its quotes come from.
#[derive(Debug, Args)]
pub struct PortfolioOpts {
    #[command(flatten)]
    pub service: ServiceOpts,
    #[command(flatten)]
    pub market_data: MarketDataPools,
}

/// Options of `bourse serve risk`: a service's, and where it reads portfolios and history.
#[derive(Debug, Args)]
pub struct RiskOpts {
    #[command(flatten)]
    pub service: ServiceOpts,
    #[command(flatten)]
    pub market_data: MarketDataPools,
    #[command(flatten)]
    pub portfolio: PortfolioPools,
}

/// Options of `bourse serve gateway`.
#[derive(Debug, Args)]
pub struct GatewayOpts {
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub gateway: GatewayArgs,
}

/// Where the store is: the options of commands that only need the database.
#[derive(Debug, Args)]
pub struct StoreOpts {
    #[command(flatten)]
    pub service: ServiceArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once; only its hash is stored.
    Create {
        /// The account the key acts for.
        #[arg(long)]
        account: String,
        /// The key's tier: shared or premium.
        #[arg(long)]
        tier: Tier,
        /// The key's own rate limit in requests per second (default: its tier's).
        #[arg(long)]
        rate_limit: Option<i32>,
        #[command(flatten)]
        store: StoreOpts,
    },
    /// List keys (never the keys themselves: their id, prefix, account and tier).
    List(StoreOpts),
    /// Revoke a key by id.
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreOpts,
    },
}

/// What `bourse import` can load. Import instruments before their bars: a bar whose symbol has
/// no instrument is rejected.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Bars from CSV with the header `symbol,ts,open,high,low,close,volume[,vwap,trades]` (and
    /// optionally `interval`); `ts` is RFC 3339 or YYYY-MM-DD. Re-importing replaces bars.
    Bars(ImportBarsArgs),
    /// Instruments from CSV with the header `symbol,name,exchange,currency,asset_class,sector[,active]`.
    Instruments(ImportFileArgs),
    /// News articles from JSON Lines, one `NewsArticle` per line (`symbols`, `headline`,
    /// `source`, optional `id`, `url`, `body`, `published_at` as RFC 3339). Each is scored once;
    /// re-importing adds nothing (idempotent on `id`, or on `source` and `url`).
    News(ImportNewsArgs),
}

/// Options of `bourse import news`.
#[derive(Debug, Args)]
pub struct ImportNewsArgs {
    /// The JSON Lines file to import.
    pub file: PathBuf,
    #[command(flatten)]
    pub store: StoreOpts,
}

/// Options of every `bourse import` command.
#[derive(Debug, Args)]
pub struct ImportFileArgs {
    /// The CSV file to import.
    pub file: PathBuf,
    /// Store nothing when any row is bad (default: skip bad rows and store the rest).
    #[arg(long, env = "BOURSE_IMPORT_ALL_OR_NOTHING")]
    pub all_or_nothing: bool,
    /// How many row errors to print.
    #[arg(long, env = "BOURSE_IMPORT_SHOW_ERRORS", default_value_t = 20)]
    pub show_errors: usize,
    #[command(flatten)]
    pub store: StoreOpts,
}

/// Options of `bourse import bars`.
#[derive(Debug, Args)]
pub struct ImportBarsArgs {
    #[command(flatten)]
    pub file: ImportFileArgs,
    /// The interval of rows when the file has no `interval` column: 1m, 5m, 15m, 1h, 1d, 1w, 1mo.
    #[arg(long, env = "BOURSE_IMPORT_INTERVAL", default_value = "1d")]
    pub interval: String,
    /// With --all-or-nothing: the most rows held in memory before the import is refused.
    #[arg(long, env = "BOURSE_IMPORT_MAX_ROWS", default_value_t = bourse_market_data::import::DEFAULT_MAX_BUFFERED_ROWS)]
    pub max_rows: usize,
}

/// The `bourse feed` commands.
#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Simulate a live feed over the stored instruments: a seeded, correlated random walk from
    /// each symbol's latest quote, with bid/ask, day range and volume, closing a 1-minute bar
    /// per symbol every simulated minute. Set REDIS_URL so that market-data servers in other
    /// processes stream its quotes.
    Simulate(SimulateArgs),
}

/// Options of `bourse feed simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Time between rounds of ticks, real and simulated (e.g. 250ms, 1s).
    #[arg(long, env = "BOURSE_FEED_TICK_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub tick_interval: Duration,
    /// Seed of the random walk: the same seed and starting quotes give the same prices.
    #[arg(long, env = "BOURSE_FEED_SEED", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Stop after this long (e.g. 10m); runs until Ctrl-C when unset.
    #[arg(long, env = "BOURSE_FEED_DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Simulate only these symbols, comma-separated; every active instrument when unset.
    #[arg(long, env = "BOURSE_FEED_SYMBOLS", value_delimiter = ',')]
    pub symbols: Vec<Symbol>,
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}
