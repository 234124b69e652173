//! Active health checks: every replica of a pool is asked `grpc.health.v1.Health/Check`
//! periodically; one that does not answer SERVING is ejected until it does.

use std::sync::Weak;
use std::time::Duration;

use futures::future::join_all;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::pool::Pool;

/// The longest a health check may take (bounded by the interval too).
pub(crate) const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Checks every replica of `pool` each `interval` until the pool is dropped.
pub(crate) async fn watch(pool: Weak<Pool>, interval: Duration) {
    let timeout = HEALTH_CHECK_TIMEOUT.min(interval);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        let replicas = pool.replicas();
        let outcomes = join_all(
            replicas
                .iter()
                .map(|replica| check(replica.channel.clone(), timeout)),
        )
        .await;
        for (replica, outcome) in replicas.iter().zip(outcomes) {
            match outcome {
                Ok(()) => pool.restore(replica),
                Err(reason) => pool.eject(replica, &reason),
            }
        }
    }
}

/// Asks the service behind `channel` whether it is serving (service `""`: the whole server).
///
/// # Errors
/// Why it is not: no answer in `timeout`, an error status, or a status other than SERVING.
pub(crate) async fn check(channel: Channel, timeout: Duration) -> Result<(), String> {
    let mut client = HealthClient::new(channel);
    let request = HealthCheckRequest {
        service: String::new(),
    };
    match tokio::time::timeout(timeout, client.check(request)).await {
        Err(_) => Err(format!("health check timed out after {timeout:?}")),
        Ok(Err(status)) => Err(format!("{:?}: {}", status.code(), status.message())),
        Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32 => Ok(()),
        Ok(Ok(response)) => Err(format!("not serving ({})", response.get_ref().status)),
    }
}
