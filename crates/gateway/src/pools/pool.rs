//! One pool: the replicas of one service's tier, balanced by least load, with health checks,
//! ejection and periodic re-resolution of host names running as background tasks.

use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

use bourse_runtime::grpc_client::{ClientConfig, ClientError};
use bourse_runtime::tier::Tier;

use super::replica::{Replica, power_of_two_choices};
use super::stats::{EJECTIONS_TOTAL, POOL_ENDPOINTS};
use super::target::{Target, connect_lazy};

/// The replicas of one service's tier.
#[derive(Debug)]
pub struct Pool {
    /// The service name used in metrics and messages, e.g. `market-data`.
    pub(crate) service: &'static str,
    /// The tier the pool serves.
    pub(crate) tier: Tier,
    targets: Vec<Target>,
    config: ClientConfig,
    /// Consecutive failures that eject a replica.
    eject_after: u32,
    /// The current replicas; replaced as a whole when a resolution changes the set.
    replicas: RwLock<Vec<Arc<Replica>>>,
}

impl Pool {
    /// A pool of `endpoints`, each connecting lazily. Host names are used as given until the
    /// first resolution replaces them with their addresses.
    ///
    /// # Errors
    /// No endpoints, or one that is not `http://host:port`.
    pub fn new(
        service: &'static str,
        tier: Tier,
        endpoints: &[String],
        config: &ClientConfig,
        eject_after: u32,
    ) -> Result<Self, ClientError> {
        if endpoints.is_empty() {
            return Err(ClientError::NoEndpoints);
        }
        let targets = endpoints
            .iter()
            .map(|endpoint| Target::parse(endpoint))
            .collect::<Result<Vec<_>, _>>()?;
        let replicas = targets
            .iter()
            .enumerate()
            .map(|(index, target)| {
                let address = target.address();
                let channel = connect_lazy(&address, config)?;
                Ok(Arc::new(Replica::new(address, index, channel)))
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        let pool = Self {
            service,
            tier,
            targets,
            config: config.clone(),
            eject_after: eject_after.max(1),
            replicas: RwLock::new(replicas),
        };
        pool.report();
        Ok(pool)
    }

    /// `market-data/premium`: how readiness reports and messages name the pool.
    pub fn name(&self) -> String {
        format!("{}/{}", self.service, self.tier)
    }

    /// The current replicas.
    pub fn replicas(&self) -> Vec<Arc<Replica>> {
        self.replicas
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A healthy replica by power of two choices, other than `avoid` when another is healthy.
    pub fn pick(&self, avoid: Option<&Arc<Replica>>) -> Option<Arc<Replica>> {
        let replicas = self.replicas.read().unwrap_or_else(PoisonError::into_inner);
        let healthy: Vec<Arc<Replica>> = replicas
            .iter()
            .filter(|replica| replica.is_healthy())
            .cloned()
            .collect();
        drop(replicas);
        if let Some(avoid) = avoid {
            let others: Vec<Arc<Replica>> = healthy
                .iter()
                .filter(|replica| !Arc::ptr_eq(replica, avoid))
                .cloned()
                .collect();
            if !others.is_empty() {
                return power_of_two_choices(&others);
            }
        }
        power_of_two_choices(&healthy)
    }

    /// Healthy and ejected replicas.
    pub fn counts(&self) -> (usize, usize) {
        let replicas = self.replicas.read().unwrap_or_else(PoisonError::into_inner);
        let healthy = replicas.iter().filter(|r| r.is_healthy()).count();
        (healthy, replicas.len() - healthy)
    }

    /// Whether any replica may take calls.
    pub fn has_healthy(&self) -> bool {
        self.counts().0 > 0
    }

    /// Records the outcome of a call on `replica`: a failure (transport error or UNAVAILABLE)
    /// counts towards ejection, anything else ends the failure streak.
    pub fn record(&self, replica: &Replica, failed: bool) {
        if !failed {
            replica.record_success();
        } else if replica.record_failure(self.eject_after) {
            tracing::warn!(
                pool = %self.name(),
                endpoint = %replica.address,
                failures = self.eject_after,
                "endpoint ejected after consecutive failures"
            );
            self.ejected();
        }
    }

    /// Ejects `replica` after a failed health check.
    pub fn eject(&self, replica: &Replica, reason: &str) {
        if replica.eject() {
            tracing::warn!(pool = %self.name(), endpoint = %replica.address, reason, "endpoint ejected");
            self.ejected();
        }
    }

    /// Returns `replica` to rotation after a successful health check.
    pub fn restore(&self, replica: &Replica) {
        if replica.restore() {
            tracing::info!(pool = %self.name(), endpoint = %replica.address, "endpoint healthy again");
            self.report();
        }
    }

    fn ejected(&self) {
        let labels = [("service", self.service), ("tier", self.tier.as_str())];
        metrics::counter!(EJECTIONS_TOTAL, &labels).increment(1);
        self.report();
    }

    /// Sets the endpoint gauges to the current counts.
    pub fn report(&self) {
        let (healthy, ejected) = self.counts();
        for (state, count) in [("healthy", healthy), ("ejected", ejected)] {
            let labels = [
                ("service", self.service),
                ("tier", self.tier.as_str()),
                ("state", state),
            ];
            #[expect(clippy::cast_precision_loss, reason = "endpoint counts are small")]
            metrics::gauge!(POOL_ENDPOINTS, &labels).set(count as f64);
        }
    }

    /// Whether some endpoint is a host name, so the pool needs re-resolving.
    pub fn resolves(&self) -> bool {
        self.targets.iter().any(Target::needs_resolution)
    }

    /// Resolves every host name again: unchanged addresses keep their replica (state and
    /// connection), new ones join, vanished ones leave. A failed lookup keeps what the target
    /// had.
    pub async fn resolve(&self) {
        let current = self.replicas();
        let mut wanted: Vec<(usize, String)> = Vec::new();
        for (index, target) in self.targets.iter().enumerate() {
            if !target.needs_resolution() {
                wanted.push((index, target.address()));
                continue;
            }
            match target.resolve().await {
                Ok(addresses) if !addresses.is_empty() => {
                    wanted.extend(addresses.into_iter().map(|address| (index, address)));
                }
                outcome => {
                    let error = outcome
                        .err()
                        .map_or_else(|| "no addresses".to_owned(), |error| error.to_string());
                    tracing::warn!(pool = %self.name(), endpoint = %target.address(), %error,
                        "cannot resolve endpoint; keeping its last known addresses");
                    wanted.extend(
                        current
                            .iter()
                            .filter(|replica| replica.target == index)
                            .map(|replica| (index, replica.address.clone())),
                    );
                }
            }
        }
        self.replace(&current, wanted);
    }

    /// Makes the replica set `wanted`, reusing the replicas of `current` that stay.
    fn replace(&self, current: &[Arc<Replica>], wanted: Vec<(usize, String)>) {
        let unchanged = current.len() == wanted.len()
            && current
                .iter()
                .zip(&wanted)
                .all(|(replica, (target, address))| {
                    replica.target == *target && replica.address == *address
                });
        if unchanged {
            return;
        }
        let mut next = Vec::with_capacity(wanted.len());
        for (target, address) in wanted {
            let existing = current
                .iter()
                .find(|replica| replica.target == target && replica.address == address);
            if let Some(existing) = existing {
                next.push(existing.clone());
                continue;
            }
            match connect_lazy(&address, &self.config) {
                Ok(channel) => {
                    tracing::info!(pool = %self.name(), endpoint = %address, "endpoint joined");
                    next.push(Arc::new(Replica::new(address, target, channel)));
                }
                Err(error) => {
                    tracing::warn!(pool = %self.name(), endpoint = %address, %error, "unusable address");
                }
            }
        }
        for gone in current
            .iter()
            .filter(|r| !next.iter().any(|n| Arc::ptr_eq(r, n)))
        {
            tracing::info!(pool = %self.name(), endpoint = %gone.address, "endpoint left");
        }
        *self
            .replicas
            .write()
            .unwrap_or_else(PoisonError::into_inner) = next;
        self.report();
    }

    /// Starts the health checks and, for host names, the re-resolution. Both tasks hold only a
    /// [`Weak`] reference and end once the pool is dropped.
    pub fn watch(self: &Arc<Self>, health_interval: Duration, resolve_interval: Duration) {
        tokio::spawn(super::health::watch(Arc::downgrade(self), health_interval));
        if self.resolves() {
            tokio::spawn(resolve_periodically(Arc::downgrade(self), resolve_interval));
        }
    }
}

async fn resolve_periodically(pool: Weak<Pool>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        pool.resolve().await;
    }
}

#[cfg(test)]
mod tests;
