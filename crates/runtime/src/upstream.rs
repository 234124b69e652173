//! Where a service finds the services it calls: one pool of endpoints per tier.
//!
//! Each called service has its own options type, flattened into the command line of every
//! service that calls it, so one environment (`BOURSE_MARKET_DATA_SHARED`, ...) configures the
//! gateway and the services alike. [`TierClients`] turns a pair of pools into one lazily
//! connecting client per tier.

use tonic::transport::Channel;

use crate::grpc_client::{ClientConfig, ClientError, channel};
use crate::tier::Tier;

/// Declares the options type of one called service: its shared and premium pools as
/// comma-separated `http://host:port` lists, each also read from an environment variable, with
/// defaults at the loopback ports of `bourse up`'s instances.
macro_rules! tier_pools {
    (
        $(#[$doc:meta])*
        $name:ident,
        $shared:ident = ($shared_env:literal, $shared_default:literal, $shared_help:literal),
        $premium:ident = ($premium_env:literal, $premium_default:literal, $premium_help:literal) $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
        pub struct $name {
            #[doc = $shared_help]
            #[arg(long, env = $shared_env, value_delimiter = ',', default_value = $shared_default)]
            pub $shared: Vec<String>,
            #[doc = $premium_help]
            #[arg(long, env = $premium_env, value_delimiter = ',', default_value = $premium_default)]
            pub $premium: Vec<String>,
        }

        impl Default for $name {
            /// The command-line defaults.
            fn default() -> Self {
                Self {
                    $shared: vec![$shared_default.to_owned()],
                    $premium: vec![$premium_default.to_owned()],
                }
            }
        }

        impl $name {
            /// One client per pool, built with `client` (see [`TierClients::new`]).
            ///
            /// # Errors
            /// An empty pool or an endpoint that is not `http://host:port`.
            pub fn clients<C: Clone>(
                &self,
                config: &ClientConfig,
                client: impl Fn(Channel) -> C,
            ) -> Result<TierClients<C>, ClientError> {
                TierClients::new(&self.$shared, &self.$premium, config, client)
            }
        }
    };
}

tier_pools!(
    /// Where the market-data service runs: one pool of endpoints per tier.
    MarketDataPools,
    market_data_shared = (
        "BOURSE_MARKET_DATA_SHARED",
        "http://127.0.0.1:50051",
        "Endpoints of the market-data shared pool, asked for shared-tier requests (comma-separated http://host:port)."
    ),
    market_data_premium = (
        "BOURSE_MARKET_DATA_PREMIUM",
        "http://127.0.0.1:50052",
        "Endpoints of the market-data premium pool, asked for premium-tier requests."
    ),
);

tier_pools!(
    /// Where the portfolio service runs: one pool of endpoints per tier.
    PortfolioPools,
    portfolio_shared = (
        "BOURSE_PORTFOLIO_SHARED",
        "http://127.0.0.1:50053",
        "Endpoints of the portfolio shared pool, asked for shared-tier requests (comma-separated http://host:port)."
    ),
    portfolio_premium = (
        "BOURSE_PORTFOLIO_PREMIUM",
        "http://127.0.0.1:50054",
        "Endpoints of the portfolio premium pool, asked for premium-tier requests."
    ),
);

tier_pools!(
    /// Where the risk service runs: one pool of endpoints per tier.
    RiskPools,
    risk_shared = (
        "BOURSE_RISK_SHARED",
        "http://127.0.0.1:50055",
        "Endpoints of the risk shared pool, asked for shared-tier requests (comma-separated http://host:port)."
    ),
    risk_premium = (
        "BOURSE_RISK_PREMIUM",
        "http://127.0.0.1:50056",
        "Endpoints of the risk premium pool, asked for premium-tier requests."
    ),
);

tier_pools!(
    /// Where the sentiment service runs: one pool of endpoints per tier.
    SentimentPools,
    sentiment_shared = (
        "BOURSE_SENTIMENT_SHARED",
        "http://127.0.0.1:50057",
        "Endpoints of the sentiment shared pool, asked for shared-tier requests (comma-separated http://host:port)."
    ),
    sentiment_premium = (
        "BOURSE_SENTIMENT_PREMIUM",
        "http://127.0.0.1:50058",
        "Endpoints of the sentiment premium pool, asked for premium-tier requests."
    ),
);

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
        self.of(tier).clone()
    }
}

impl<C> TierClients<C> {
    /// A client per tier built elsewhere (the gateway balances its own pools).
    pub fn from_parts(shared: C, premium: C) -> Self {
        Self { shared, premium }
    }

    /// One value per tier, made by `build` (e.g. a task per tier pool).
    pub fn build(mut build: impl FnMut(Tier) -> C) -> Self {
        Self {
            shared: build(Tier::Shared),
            premium: build(Tier::Premium),
        }
    }

    /// The client of `tier`'s pool, borrowed.
    pub fn of(&self, tier: Tier) -> &C {
        match tier {
            Tier::Shared => &self.shared,
            Tier::Premium => &self.premium,
        }
    }
}
