//! The backend pools: for each service, one gRPC channel per tier, balanced over the pool's
//! endpoints. Shared traffic never reaches a premium pool.

use std::convert::identity;

use bourse_runtime::grpc_client::{ClientConfig, ClientError};
use bourse_runtime::tier::Tier;
use bourse_runtime::upstream::TierClients;
use tonic::transport::Channel;

use crate::config::GatewayArgs;

/// Every service's pools.
#[derive(Debug, Clone)]
pub struct Pools {
    pub market_data: TierClients<Channel>,
    pub portfolio: TierClients<Channel>,
    pub risk: TierClients<Channel>,
    pub sentiment: TierClients<Channel>,
}

impl Pools {
    /// Builds lazily connecting channels for every pool in `args`.
    pub fn from_args(args: &GatewayArgs, config: &ClientConfig) -> Result<Self, ClientError> {
        Ok(Self {
            market_data: args.market_data.clients(config, identity)?,
            portfolio: args.portfolio.clients(config, identity)?,
            risk: args.risk.clients(config, identity)?,
            sentiment: args.sentiment.clients(config, identity)?,
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
                Tier::ALL.map(|tier| (format!("{name}/{tier}"), pools.get(tier)))
            })
            .collect()
    }
}
