//! The command line. `bourse <command> --help` is the configuration reference: every option
//! also reads an environment variable, named in the help.

use std::net::SocketAddr;

use bourse_cache::CacheArgs;
use bourse_gateway::GatewayArgs;
use bourse_runtime::config::ServiceArgs;
use bourse_runtime::tier::Tier;
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
    Up(UpArgs),
    /// Run one service.
    #[command(subcommand)]
    Serve(ServeCommand),
    /// Apply pending database migrations and exit.
    Migrate(StoreOpts),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
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
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// The services `bourse serve` can run.
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Instruments, quotes, bars, streams and imports (default listener 127.0.0.1:50051).
    MarketData(ServiceOpts),
    /// Portfolios, orders, positions and valuations (default listener 127.0.0.1:50053).
    Portfolio(ServiceOpts),
    /// VaR, expected shortfall and risk statistics (default listener 127.0.0.1:50055).
    Risk(ServiceOpts),
    /// Text scoring, news and symbol sentiment (default listener 127.0.0.1:50057).
    Sentiment(ServiceOpts),
    /// The REST gateway (default listener 127.0.0.1:8080).
    Gateway(GatewayOpts),
}

/// Options of `bourse serve <service>`.
#[derive(Debug, Args)]
pub struct ServiceOpts {
    #[command(flatten)]
    pub service: ServiceArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
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
