//! The cache's metrics: names (public, for dashboards and tests) and how they are recorded.
//!
//! Recording goes through the `metrics` facade; the binary installs the exporter.

use bourse_runtime::tier::Tier;

use crate::DataClass;

/// Counter of lookups per level: labels `class`, `tier`, `level` (`l1`/`l2`), `result` (`hit`/`miss`).
/// L2 lookups are counted only when Redis was actually asked (not while it is down or disabled).
pub const REQUESTS_TOTAL: &str = "bourse_cache_requests_total";
/// Counter of failed L2 operations: labels `class`, `op` (`get`, `get_many`, `set`, `set_many`,
/// `invalidate`, `decode`).
pub const ERRORS_TOTAL: &str = "bourse_cache_errors_total";
/// Gauge: 1 while Redis is used, 0 while it is down or not configured.
pub const L2_UP: &str = "bourse_cache_l2_up";
/// Counter of attempts to reach Redis again while it is down (one PING each).
pub const L2_RECONNECT_ATTEMPTS_TOTAL: &str = "bourse_cache_l2_reconnect_attempts_total";
/// Counter of invalidations: label `class`.
pub const INVALIDATIONS_TOTAL: &str = "bourse_cache_invalidations_total";

/// Which level answered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Level {
    L1,
    L2,
}

pub(crate) fn request(class: DataClass, tier: Tier, level: Level, hit: bool) {
    let level = match level {
        Level::L1 => "l1",
        Level::L2 => "l2",
    };
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!(
        REQUESTS_TOTAL,
        "class" => class.as_str(),
        "tier" => tier.as_str(),
        "level" => level,
        "result" => result,
    )
    .increment(1);
}

pub(crate) fn error(class: DataClass, op: &'static str) {
    metrics::counter!(ERRORS_TOTAL, "class" => class.as_str(), "op" => op).increment(1);
}

pub(crate) fn invalidation(class: DataClass) {
    metrics::counter!(INVALIDATIONS_TOTAL, "class" => class.as_str()).increment(1);
}

pub(crate) fn l2_up(up: bool) {
    metrics::gauge!(L2_UP).set(if up { 1.0 } else { 0.0 });
}

pub(crate) fn reconnect_attempt() {
    metrics::counter!(L2_RECONNECT_ATTEMPTS_TOTAL).increment(1);
}
