//! The backend pools: for each service, one gRPC channel per tier, balanced over the pool's
//! endpoints. Shared traffic never reaches a premium pool.

use bourse_runtime::grpc_client::{ClientConfig, ClientError, channel};
use bourse_runtime::tier::Tier;
use tonic::transport::Channel;

use crate::config::GatewayArgs;

/// One service's shared and premium pools.
#[derive(Debug, Clone)]
pub struct TierChannels {
    shared: Channel,
    premium: Channel,
}

impl TierChannels {
    fn new(
        shared: &[String],
        premium: &[String],
        config: &ClientConfig,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            shared: channel(shared, config)?,
            premium: channel(premium, config)?,
        })
    }

    /// The pool that serves `tier`.
    pub fn for_tier(&self, tier: Tier) -> Channel {
        match tier {
            Tier::Shared => self.shared.clone(),
            Tier::Premium => self.premium.clone(),
        }
    }
}

/// Every service's pools.
#[derive(Debug, Clone)]
pub struct Pools {
    pub market_data: TierChannels,
    pub portfolio: TierChannels,
    pub risk: TierChannels,
    pub sentiment: TierChannels,
}

impl Pools {
    /// Builds lazily connecting channels for every pool in `args`.
    pub fn from_args(args: &GatewayArgs, config: &ClientConfig) -> Result<Self, ClientError> {
        Ok(Self {
            market_data: TierChannels::new(
                &args.market_data_shared,
                &args.market_data_premium,
                config,
            )?,
            portfolio: TierChannels::new(&args.portfolio_shared, &args.portfolio_premium, config)?,
            risk: TierChannels::new(&args.risk_shared, &args.risk_premium, config)?,
            sentiment: TierChannels::new(&args.sentiment_shared, &args.sentiment_premium, config)?,
        })
    }

    /// Every pool with a name for health reports, e.g. `market-data/premium`.
    pub fn named(&self) -> Vec<(String, Channel)> {
        let services = [
            ("market-data", &self.market_data),
            ("portfolio", &self.portfolio),
            ("risk", &self.risk),
            ("sentiment", &self.sentiment),
        ];
        services
            .into_iter()
            .flat_map(|(name, pools)| {
                Tier::ALL.map(|tier| (format!("{name}/{tier}"), pools.for_tier(tier)))
            })
            .collect()
    }
}
