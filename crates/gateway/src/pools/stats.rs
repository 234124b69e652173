//! The pools' metrics, described once.

use std::sync::Once;

/// Gauge of a pool's endpoints by state (`healthy` or `ejected`).
pub const POOL_ENDPOINTS: &str = "bourse_gateway_pool_endpoints";
/// Counter of endpoints taken out of rotation, by health check or consecutive failures.
pub const EJECTIONS_TOTAL: &str = "bourse_gateway_endpoint_ejections_total";
/// Counter of premium requests sent to the shared pool because no premium endpoint was healthy.
pub const SPILLOVER_TOTAL: &str = "bourse_gateway_spillover_total";
/// Counter of retries of idempotent calls: `sent`, or refused for lack of budget (`no_budget`).
pub const RETRIES_TOTAL: &str = "bourse_gateway_retries_total";

/// Describes every pool metric (once per process).
pub(crate) fn describe() {
    static DESCRIBE: Once = Once::new();
    DESCRIBE.call_once(|| {
        metrics::describe_gauge!(
            POOL_ENDPOINTS,
            "Endpoints of a backend pool, by service, tier and state (healthy or ejected)."
        );
        metrics::describe_counter!(
            EJECTIONS_TOTAL,
            "Backend endpoints ejected after a failed health check or consecutive failures."
        );
        metrics::describe_counter!(
            SPILLOVER_TOTAL,
            "Premium requests sent to the shared pool because no premium endpoint was healthy."
        );
        metrics::describe_counter!(
            RETRIES_TOTAL,
            "Retries of idempotent backend calls, sent or refused for lack of retry budget."
        );
    });
}
