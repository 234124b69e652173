//! The gateway's configuration: the shared and premium pool of each service. Its listener,
//! database and telemetry options are the ones every process shares.

use clap::Args;

/// The gateway's default listener, when `--listen` is not given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Gateway options; `bourse serve gateway --help` documents them.
#[derive(Debug, Clone, Args)]
pub struct GatewayArgs {
    /// Endpoints of the market-data shared pool (comma-separated http://host:port).
    #[arg(
        long,
        env = "BOURSE_MARKET_DATA_SHARED",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50051"
    )]
    pub market_data_shared: Vec<String>,
    /// Endpoints of the market-data premium pool.
    #[arg(
        long,
        env = "BOURSE_MARKET_DATA_PREMIUM",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50052"
    )]
    pub market_data_premium: Vec<String>,
    /// Endpoints of the portfolio shared pool.
    #[arg(
        long,
        env = "BOURSE_PORTFOLIO_SHARED",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50053"
    )]
    pub portfolio_shared: Vec<String>,
    /// Endpoints of the portfolio premium pool.
    #[arg(
        long,
        env = "BOURSE_PORTFOLIO_PREMIUM",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50054"
    )]
    pub portfolio_premium: Vec<String>,
    /// Endpoints of the risk shared pool.
    #[arg(
        long,
        env = "BOURSE_RISK_SHARED",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50055"
    )]
    pub risk_shared: Vec<String>,
    /// Endpoints of the risk premium pool.
    #[arg(
        long,
        env = "BOURSE_RISK_PREMIUM",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50056"
    )]
    pub risk_premium: Vec<String>,
    /// Endpoints of the sentiment shared pool.
    #[arg(
        long,
        env = "BOURSE_SENTIMENT_SHARED",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50057"
    )]
    pub sentiment_shared: Vec<String>,
    /// Endpoints of the sentiment premium pool.
    #[arg(
        long,
        env = "BOURSE_SENTIMENT_PREMIUM",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50058"
    )]
    pub sentiment_premium: Vec<String>,

    /// Honour the `X-User-Tier` request header. Only for deployments behind a trusted proxy
    /// that sets it; otherwise the tier always comes from the API key.
    #[arg(long, env = "BOURSE_TRUST_TIER_HEADER")]
    pub trust_tier_header: bool,
}
