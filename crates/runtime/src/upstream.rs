//! Where a service finds the services it calls: one pool of endpoints per tier.
//!
//! Each called service has its own options type, flattened into the command line of every
//! service that calls it, so one environment (`BOURSE_MARKET_DATA_SHARED`, ...) configures the
//! gateway and the services alike. [`TierClients`] turns a pair of pools into one lazily
//! connecting client per tier.

use tonic::transport::Channel;

use crate::grpc_client::{ClientConfig, ClientError, channel};
use crate::tier::Tier;

/// Where the market-data service runs: one pool of endpoints per tier.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct MarketDataPools {
    /// Endpoints of the market-data shared pool, asked for shared-tier requests
    /// (comma-separated http://host:port).
    #[arg(
        long,
        env = "BOURSE_MARKET_DATA_SHARED",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50051"
    )]
    pub market_data_shared: Vec<String>,
    /// Endpoints of the market-data premium pool, asked for premium-tier requests.
    #[arg(
        long,
        env = "BOURSE_MARKET_DATA_PREMIUM",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50052"
    )]
    pub market_data_premium: Vec<String>,
}

impl Default for MarketDataPools {
    /// The clap defaults: the loopback ports of `bourse up`'s market-data instances.
    fn default() -> Self {
        Self {
            market_data_shared: vec!["http://127.0.0.1:50051".to_owned()],
            market_data_premium: vec!["http://127.0.0.1:50052".to_owned()],
        }
    }
}

/// Where the portfolio service runs: one pool of endpoints per tier.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct PortfolioPools {
    /// Endpoints of the portfolio shared pool, asked for shared-tier requests
    /// (comma-separated http://host:port).
    #[arg(
        long,
        env = "BOURSE_PORTFOLIO_SHARED",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50053"
    )]
    pub portfolio_shared: Vec<String>,
    /// Endpoints of the portfolio premium pool, asked for premium-tier requests.
    #[arg(
        long,
        env = "BOURSE_PORTFOLIO_PREMIUM",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50054"
    )]
    pub portfolio_premium: Vec<String>,
}

impl Default for PortfolioPools {
    /// The clap defaults: the loopback ports of `bourse up`'s portfolio instances.
    fn default() -> Self {
        Self {
            portfolio_shared: vec!["http://127.0.0.1:50053".to_owned()],
            portfolio_premium: vec!["http://127.0.0.1:50054".to_owned()],
        }
    }
}

/// One client per tier pool, so a request is answered by the pool of the tier it came in on.
/// Cheap to clone: clones share the channels.
#[derive(Debug, Clone)]
pub struct TierClients<C> {
    shared: C,
    premium: C,
}

impl<C: Clone> TierClients<C> {
    /// Builds one channel per pool and wraps each with `client` (e.g.
    /// `|channel| MyClient::with_interceptor(channel, Propagate)`). No connection is made until
    /// the first call. Must run inside a Tokio runtime.
    ///
    /// # Errors
    /// An empty pool or an endpoint that is not `http://host:port`.
    pub fn new(
        shared: &[String],
        premium: &[String],
        config: &ClientConfig,
        client: impl Fn(Channel) -> C,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            shared: client(channel(shared, config)?),
            premium: client(channel(premium, config)?),
        })
    }

    /// The client of `tier`'s pool.
    pub fn get(&self, tier: Tier) -> C {
        match tier {
            Tier::Shared => self.shared.clone(),
            Tier::Premium => self.premium.clone(),
        }
    }
}
