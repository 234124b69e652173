//! Admission control: how many requests of each tier the gateway works on at once, and load
//! shedding that drops shared traffic before premium traffic.
//!
//! Each tier has its own concurrency limit. On top of that the gateway has one capacity for
//! both tiers, of which the last `premium_reserve` slots are premium's alone: once the gateway
//! is that full, shared requests are shed while premium requests still get in. A shed request
//! is answered at once with 503 and `Retry-After`, before any backend is asked, so a surge of
//! shared traffic costs premium callers nothing but the cheap refusal.
//!
//! A request holds its slot until its response headers are ready; a stream (SSE, CSV) is not
//! counted while it streams.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bourse_runtime::tier::Tier;
use clap::Args;
use tonic::Code;

use crate::GatewayState;
use crate::keys::Caller;
use crate::problem::Problem;

/// Counter of requests refused by admission control.
pub const SHED_TOTAL: &str = "bourse_gateway_shed_total";
/// Gauge of API requests in flight per tier.
pub const IN_FLIGHT: &str = "bourse_gateway_in_flight";

/// What a shed request is told to wait before retrying, in seconds.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Concurrency limits per tier and of the gateway as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct AdmissionArgs {
    /// API requests the gateway works on at once, both tiers together.
    #[arg(long, env = "BOURSE_MAX_IN_FLIGHT", default_value_t = 1024)]
    pub max_in_flight: usize,
    /// Slots of --max-in-flight only premium requests may take: once the gateway is that
    /// full, shared requests are shed (503) while premium requests are still admitted.
    #[arg(long, env = "BOURSE_PREMIUM_RESERVE", default_value_t = 256)]
    pub premium_reserve: usize,
    /// Shared-tier requests in flight at most; more are shed with 503.
    #[arg(long, env = "BOURSE_SHARED_CONCURRENCY", default_value_t = 768)]
    pub shared_concurrency: usize,
    /// Premium-tier requests in flight at most; more are shed with 503.
    #[arg(long, env = "BOURSE_PREMIUM_CONCURRENCY", default_value_t = 512)]
    pub premium_concurrency: usize,
}

impl Default for AdmissionArgs {
    /// The command-line defaults.
    fn default() -> Self {
        Self {
            max_in_flight: 1024,
            premium_reserve: 256,
            shared_concurrency: 768,
            premium_concurrency: 512,
        }
    }
}

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's tier has as many requests in flight as it may.
    TierLimit,
    /// The gateway is full for this tier (for shared: only the premium reserve is left).
    Saturated,
}

impl Refusal {
    fn as_str(self) -> &'static str {
        match self {
            Self::TierLimit => "tier_limit",
            Self::Saturated => "saturated",
        }
    }
}

/// The requests in flight, per tier and in total.
#[derive(Debug)]
pub struct Admission {
    limits: AdmissionArgs,
    total: AtomicUsize,
    shared: AtomicUsize,
    premium: AtomicUsize,
}

impl Admission {
    /// Admission with `limits`.
    pub fn new(limits: &AdmissionArgs) -> Self {
        metrics::describe_counter!(
            SHED_TOTAL,
            "API requests refused with 503 by admission control, by tier and reason."
        );
        metrics::describe_gauge!(IN_FLIGHT, "API requests in flight, by tier.");
        Self {
            limits: limits.clone(),
            total: AtomicUsize::new(0),
            shared: AtomicUsize::new(0),
            premium: AtomicUsize::new(0),
        }
    }

    /// Takes a slot for a `tier` request, released when the returned permit drops.
    ///
    /// # Errors
    /// The tier is at its limit, or the gateway is full for it.
    pub fn try_admit(&self, tier: Tier) -> Result<Permit<'_>, Refusal> {
        let (tier_count, tier_limit, capacity) = match tier {
            Tier::Shared => (
                &self.shared,
                self.limits.shared_concurrency,
                self.limits
                    .max_in_flight
                    .saturating_sub(self.limits.premium_reserve),
            ),
            Tier::Premium => (
                &self.premium,
                self.limits.premium_concurrency,
                self.limits.max_in_flight,
            ),
        };
        // Count first, then check: two racing requests may both back off, never both overshoot.
        let permit = Permit {
            admission: self,
            tier,
        };
        let in_tier = tier_count.fetch_add(1, Ordering::AcqRel) + 1;
        let in_total = self.total.fetch_add(1, Ordering::AcqRel) + 1;
        if in_tier > tier_limit {
            return Err(Refusal::TierLimit);
        }
        if in_total > capacity {
            return Err(Refusal::Saturated);
        }
        metrics::gauge!(IN_FLIGHT, "tier" => tier.as_str()).set(in_tier as f64);
        Ok(permit)
    }

    fn count(&self, tier: Tier) -> &AtomicUsize {
        match tier {
            Tier::Shared => &self.shared,
            Tier::Premium => &self.premium,
        }
    }
}

/// A request's slot; dropping it frees the slot (also when admission was refused).
#[derive(Debug)]
pub struct Permit<'a> {
    admission: &'a Admission,
    tier: Tier,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let left = self
            .admission
            .count(self.tier)
            .fetch_sub(1, Ordering::AcqRel)
            - 1;
        self.admission.total.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!(IN_FLIGHT, "tier" => self.tier.as_str()).set(left as f64);
    }
}

/// Admits the caller's request or answers 503 with `Retry-After` at once.
pub async fn admit(
    State(state): State<Arc<GatewayState>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(tier) = request
        .extensions()
        .get::<Caller>()
        .map(|caller| caller.tier)
    else {
        return next.run(request).await;
    };
    match state.admission.try_admit(tier) {
        Ok(_permit) => next.run(request).await,
        Err(refusal) => {
            metrics::counter!(SHED_TOTAL, "tier" => tier.as_str(), "reason" => refusal.as_str())
                .increment(1);
            shed(tier, refusal)
        }
    }
}

/// The 503 problem of a shed request.
fn shed(tier: Tier, refusal: Refusal) -> Response {
    let detail = match refusal {
        Refusal::TierLimit => format!(
            "the gateway is at its limit of concurrent {tier}-tier requests; retry after \
             {RETRY_AFTER_SECONDS} s"
        ),
        Refusal::Saturated => {
            format!("the gateway is saturated; retry after {RETRY_AFTER_SECONDS} s")
        }
    };
    let mut response = Problem::new(Code::Unavailable, detail).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max: usize, reserve: usize, shared: usize, premium: usize) -> Admission {
        Admission::new(&AdmissionArgs {
            max_in_flight: max,
            premium_reserve: reserve,
            shared_concurrency: shared,
            premium_concurrency: premium,
        })
    }

    #[test]
    fn shared_is_shed_at_the_premium_reserve_while_premium_gets_in() {
        let admission = admission(4, 2, 10, 10);
        let shared: Vec<_> = (0..2)
            .map(|_| admission.try_admit(Tier::Shared).expect("room for shared"))
            .collect();
        assert_eq!(
            admission.try_admit(Tier::Shared).err(),
            Some(Refusal::Saturated)
        );
        let premium: Vec<_> = (0..2)
            .map(|_| admission.try_admit(Tier::Premium).expect("the reserve"))
            .collect();
        assert_eq!(
            admission.try_admit(Tier::Premium).err(),
            Some(Refusal::Saturated)
        );
        drop(shared);
        // Premium may use the slots shared gave back; shared still sees a full gateway.
        let _more = admission.try_admit(Tier::Premium).expect("a freed slot");
        assert_eq!(
            admission.try_admit(Tier::Shared).err(),
            Some(Refusal::Saturated)
        );
        drop(premium);
        admission.try_admit(Tier::Shared).expect("room again");
    }

    #[test]
    fn each_tier_has_its_own_limit() {
        let admission = admission(100, 0, 1, 2);
        let _shared = admission.try_admit(Tier::Shared).expect("first shared");
        assert_eq!(
            admission.try_admit(Tier::Shared).err(),
            Some(Refusal::TierLimit)
        );
        let _one = admission.try_admit(Tier::Premium).expect("first premium");
        let _two = admission.try_admit(Tier::Premium).expect("second premium");
        assert_eq!(
            admission.try_admit(Tier::Premium).err(),
            Some(Refusal::TierLimit)
        );
    }

    #[test]
    fn refusals_give_their_slots_back() {
        let admission = admission(2, 0, 2, 2);
        let _a = admission.try_admit(Tier::Shared).expect("a");
        let _b = admission.try_admit(Tier::Premium).expect("b");
        for _ in 0..10 {
            assert!(admission.try_admit(Tier::Shared).is_err());
        }
        assert_eq!(admission.total.load(Ordering::Acquire), 2);
        assert_eq!(admission.shared.load(Ordering::Acquire), 1);
    }
}
