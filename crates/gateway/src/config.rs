//! The gateway's configuration: the shared and premium pool of each service. Its listener,
//! database and telemetry options are the ones every process shares.

use bourse_runtime::upstream::{MarketDataPools, PortfolioPools, RiskPools, SentimentPools};
use clap::Args;

use crate::admission::AdmissionArgs;
use crate::batch::BatchArgs;
use crate::pools::PoolArgs;
use crate::ratelimit::RateLimitArgs;

/// The gateway's default listener, when `--listen` is not given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Gateway options; `bourse serve gateway --help` documents them.
#[derive(Debug, Clone, Default, Args)]
pub struct GatewayArgs {
    #[command(flatten)]
    pub market_data: MarketDataPools,
    #[command(flatten)]
    pub portfolio: PortfolioPools,
    #[command(flatten)]
    pub risk: RiskPools,
    #[command(flatten)]
    pub sentiment: SentimentPools,
    #[command(flatten)]
    pub balancing: PoolArgs,
    #[command(flatten)]
    pub admission: AdmissionArgs,
    #[command(flatten)]
    pub rate_limit: RateLimitArgs,
    #[command(flatten)]
    pub batching: BatchArgs,

    /// Honour the `X-User-Tier` request header. Only for deployments behind a trusted proxy
    /// that sets it; otherwise the tier always comes from the API key.
    #[arg(long, env = "BOURSE_TRUST_TIER_HEADER")]
    pub trust_tier_header: bool,
}
