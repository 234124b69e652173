//! The backend pools: for each service, one pool of endpoints per tier.
//!
//! Calls are balanced over a pool's healthy endpoints by least load (power of two choices).
//! Endpoints are health-checked and ejected when failing; host names are re-resolved so new pods
//! join without a restart. Premium calls spill over to the shared pool only when no premium
//! endpoint is healthy; shared calls never reach a premium pool. Every call carries its tier's
//! deadline, and idempotent calls are retried once within a budget.

mod args;
mod channel;
mod deadline;
mod health;
mod methods;
mod pool;
mod replica;
mod retry;
mod stats;
mod target;

use std::sync::Arc;

use bourse_runtime::grpc_client::{ClientConfig, ClientError};
use bourse_runtime::tier::Tier;
use bourse_runtime::upstream::TierClients;

pub use self::args::PoolArgs;
pub use self::channel::{PoolChannel, PoolReadiness};
pub use self::methods::{DeadlineClass, MethodTable, MethodTraits};
pub use self::stats::{EJECTIONS_TOTAL, POOL_ENDPOINTS, RETRIES_TOTAL, SPILLOVER_TOTAL};

use self::deadline::Deadlines;
use self::pool::Pool;
use self::retry::RetryBudget;
use crate::config::GatewayArgs;

/// Every service's pools.
#[derive(Debug, Clone)]
pub struct Pools {
    pub market_data: TierClients<PoolChannel>,
    pub portfolio: TierClients<PoolChannel>,
    pub risk: TierClients<PoolChannel>,
    pub sentiment: TierClients<PoolChannel>,
}

impl Pools {
    /// Builds every pool in `args` (channels connect lazily) and starts their health checks and
    /// re-resolution, which end when the pools are dropped. Must run inside a Tokio runtime.
    ///
    /// # Errors
    /// An empty pool or an endpoint that is not `http://host:port`.
    pub fn from_args(args: &GatewayArgs, config: &ClientConfig) -> Result<Self, ClientError> {
        stats::describe();
        let builder = Builder {
            args: &args.balancing,
            config,
            methods: Arc::new(MethodTable::from_contract()),
        };
        Ok(Self {
            market_data: builder.service(
                "market-data",
                &args.market_data.market_data_shared,
                &args.market_data.market_data_premium,
            )?,
            portfolio: builder.service(
                "portfolio",
                &args.portfolio.portfolio_shared,
                &args.portfolio.portfolio_premium,
            )?,
            risk: builder.service("risk", &args.risk.risk_shared, &args.risk.risk_premium)?,
            sentiment: builder.service(
                "sentiment",
                &args.sentiment.sentiment_shared,
                &args.sentiment.sentiment_premium,
            )?,
        })
    }

    /// Every pool with its name for readiness reports, e.g. `market-data/premium`.
    pub fn readiness(&self) -> Vec<(String, PoolReadiness)> {
        let services = [
            ("market-data", &self.market_data),
            ("portfolio", &self.portfolio),
            ("risk", &self.risk),
            ("sentiment", &self.sentiment),
        ];
        services
            .into_iter()
            .flat_map(|(name, clients)| {
                Tier::ALL.map(|tier| (format!("{name}/{tier}"), clients.get(tier).readiness()))
            })
            .collect()
    }
}

/// What every pool is built from.
struct Builder<'a> {
    args: &'a PoolArgs,
    config: &'a ClientConfig,
    methods: Arc<MethodTable>,
}

impl Builder<'_> {
    /// The two pools of `service` and the channel of each tier.
    fn service(
        &self,
        service: &'static str,
        shared: &[String],
        premium: &[String],
    ) -> Result<TierClients<PoolChannel>, ClientError> {
        let shared = self.pool(service, Tier::Shared, shared)?;
        let premium = self.pool(service, Tier::Premium, premium)?;
        let spill = self.args.premium_spillover.then(|| shared.clone());
        Ok(TierClients::from_parts(
            self.channel(shared, None),
            self.channel(premium, spill),
        ))
    }

    fn pool(
        &self,
        service: &'static str,
        tier: Tier,
        endpoints: &[String],
    ) -> Result<Arc<Pool>, ClientError> {
        let pool = Arc::new(Pool::new(
            service,
            tier,
            endpoints,
            self.config,
            self.args.pool_eject_after,
        )?);
        pool.watch(
            self.args.pool_health_interval,
            self.args.pool_resolve_interval,
        );
        Ok(pool)
    }

    fn channel(&self, pool: Arc<Pool>, spill: Option<Arc<Pool>>) -> PoolChannel {
        PoolChannel::new(
            pool,
            spill,
            self.methods.clone(),
            Deadlines::new(self.args),
            RetryBudget::new(self.args),
        )
    }
}
