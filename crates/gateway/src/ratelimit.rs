//! Rate limits per API key and tier, shared across gateway replicas through Redis.
//!
//! Each key has a GCRA budget ([`gcra`]): a sustained rate and a burst. The defaults come from
//! the key's tier (`--shared-rate-limit`/`--shared-burst`, `--premium-rate-limit`/
//! `--premium-burst`); a key created with its own requests-per-second limit keeps its tier's
//! burst window (burst / rate, two seconds by default), so the same clients' bursts fit whatever
//! the rate ([`Limit::at_rate`]).
//!
//! With a Redis URL every replica asks one atomic Lua script ([`redis_gcra`]), so a key's budget
//! is one across replicas. When Redis fails or is slower than `--rate-limit-redis-timeout`, the
//! replica decides with its in-process limiter ([`local`]) and skips Redis for
//! `--rate-limit-redis-backoff`; without a Redis URL the in-process limiter is the limiter.
//!
//! Every API response carries `RateLimit-Policy` and `RateLimit` ([`headers`]); a request over
//! its budget is answered 429 problem+json with `Retry-After`.

pub mod gcra;
pub mod headers;
pub mod local;
pub mod redis_gcra;

use std::num::NonZeroU32;
use std::sync::{Arc, Once};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bourse_runtime::tier::Tier;
use clap::Args;
use tonic::Code;

pub use self::gcra::{Decision, Limit};
use self::local::LocalGcra;
use self::redis_gcra::RedisGcra;
use crate::GatewayState;
use crate::keys::Caller;
use crate::problem::Problem;

/// Requests refused over a key's limit, by tier.
pub const RATELIMITED_TOTAL: &str = "bourse_gateway_ratelimited_total";
/// Decisions made by the in-process limiter because Redis failed or was being skipped.
pub const FALLBACK_TOTAL: &str = "bourse_gateway_ratelimit_fallback_total";

/// Rate-limit options.
#[derive(Debug, Clone, Args)]
pub struct RateLimitArgs {
    /// Requests per second a shared-tier API key may make, unless the key carries its own limit.
    #[arg(long, env = "BOURSE_SHARED_RATE_LIMIT", default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub shared_rate_limit: u32,
    /// Requests a shared-tier key may make at once after being idle (the GCRA burst).
    #[arg(long, env = "BOURSE_SHARED_BURST", default_value_t = 200,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub shared_burst: u32,
    /// Requests per second a premium-tier API key may make, unless the key carries its own limit.
    #[arg(long, env = "BOURSE_PREMIUM_RATE_LIMIT", default_value_t = 1_000,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub premium_rate_limit: u32,
    /// Requests a premium-tier key may make at once after being idle (the GCRA burst).
    #[arg(long, env = "BOURSE_PREMIUM_BURST", default_value_t = 2_000,
        value_parser = clap::value_parser!(u32).range(1..))]
    pub premium_burst: u32,
    /// Longest wait for Redis's decision (connection and script), e.g. `50ms`. Past it the
    /// replica decides alone: a slow Redis must not slow every request.
    #[arg(long, env = "BOURSE_RATE_LIMIT_REDIS_TIMEOUT", default_value = "50ms",
        value_parser = humantime::parse_duration)]
    pub rate_limit_redis_timeout: Duration,
    /// How long a replica decides alone after Redis failed, before asking it again.
    #[arg(long, env = "BOURSE_RATE_LIMIT_REDIS_BACKOFF", default_value = "1s",
        value_parser = humantime::parse_duration)]
    pub rate_limit_redis_backoff: Duration,
    /// Switch rate limits off: no 429s and no RateLimit headers (benchmarks of the backends).
    #[arg(long, env = "BOURSE_NO_RATE_LIMITS")]
    pub no_rate_limits: bool,
}

impl Default for RateLimitArgs {
    fn default() -> Self {
        Self {
            shared_rate_limit: 100,
            shared_burst: 200,
            premium_rate_limit: 1_000,
            premium_burst: 2_000,
            rate_limit_redis_timeout: Duration::from_millis(50),
            rate_limit_redis_backoff: Duration::from_secs(1),
            no_rate_limits: false,
        }
    }
}

/// Why the rate limiter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("invalid Redis URL for rate limits: {0}")]
    InvalidRedisUrl(String),
    #[error("rate limits and bursts must be at least 1")]
    ZeroLimit,
    #[error("the rate-limit Redis timeout must be longer than zero")]
    ZeroTimeout,
}

/// Decides whether a key's request fits its budget.
#[derive(Debug)]
pub struct RateLimiter {
    /// `None` with `--no-rate-limits`.
    limits: Option<TierLimits>,
    /// The budget shared with the other replicas, when Redis is configured.
    redis: Option<RedisGcra>,
    /// This replica's own budget: the limiter without Redis, the fallback with it.
    local: LocalGcra,
}

/// The default limit of each tier.
#[derive(Debug, Clone, Copy)]
struct TierLimits {
    shared: Limit,
    premium: Limit,
}

/// A request's rate-limit outcome, with what its headers report.
#[derive(Debug, Clone, Copy)]
pub struct Verdict {
    /// The caller's tier: the name of the policy in the headers.
    pub tier: Tier,
    /// The budget the request was measured against.
    pub limit: Limit,
    /// Whether it fits, and what is left.
    pub decision: Decision,
}

impl RateLimiter {
    /// A limiter as configured, sharing its state through Redis at `redis_url` when given.
    /// Never connects: Redis is reached on the first request, so start-up does not wait for it.
    pub fn new(args: &RateLimitArgs, redis_url: Option<&str>) -> Result<Self, RateLimitError> {
        Self::with_key_prefix(args, redis_url, redis_gcra::KEY_PREFIX)
    }

    /// [`RateLimiter::new`] with another Redis key prefix (tests keep theirs apart this way).
    pub fn with_key_prefix(
        args: &RateLimitArgs,
        redis_url: Option<&str>,
        prefix: &str,
    ) -> Result<Self, RateLimitError> {
        static DESCRIBE: Once = Once::new();
        DESCRIBE.call_once(|| {
            metrics::describe_counter!(
                RATELIMITED_TOTAL,
                "Requests refused with 429 over their API key's rate limit, by tier."
            );
            metrics::describe_counter!(
                FALLBACK_TOTAL,
                "Rate-limit decisions made by the replica alone because Redis was unreachable."
            );
        });
        let limit = |rate, burst| Limit::new(rate, burst).ok_or(RateLimitError::ZeroLimit);
        let limits = TierLimits {
            shared: limit(args.shared_rate_limit, args.shared_burst)?,
            premium: limit(args.premium_rate_limit, args.premium_burst)?,
        };
        if args.rate_limit_redis_timeout.is_zero() {
            return Err(RateLimitError::ZeroTimeout);
        }
        let redis = redis_url
            .filter(|_| !args.no_rate_limits)
            .map(|url| {
                RedisGcra::new(
                    url,
                    prefix,
                    args.rate_limit_redis_timeout,
                    args.rate_limit_redis_backoff,
                )
            })
            .transpose()
            .map_err(|error| RateLimitError::InvalidRedisUrl(error.to_string()))?;
        Ok(Self {
            limits: (!args.no_rate_limits).then_some(limits),
            redis,
            local: LocalGcra::new(),
        })
    }

    /// The budget of `caller`: its key's own rate when it has one, in its tier's burst window;
    /// otherwise its tier's default. `None` with rate limits off.
    pub fn limit_for(&self, caller: &Caller) -> Option<Limit> {
        let limits = self.limits?;
        let tier = match caller.tier {
            Tier::Shared => limits.shared,
            Tier::Premium => limits.premium,
        };
        let own = caller
            .rate_limit_per_second
            .and_then(|rate| u32::try_from(rate).ok())
            .and_then(NonZeroU32::new);
        Some(own.map_or(tier, |rate| tier.at_rate(rate)))
    }

    /// Spends one request of `caller`'s budget, if it has any left. `None` with limits off.
    pub async fn check(&self, caller: &Caller) -> Option<Verdict> {
        let limit = self.limit_for(caller)?;
        let key_id = caller.key_id.as_str();
        let shared = match &self.redis {
            Some(redis) => redis.check(key_id, limit).await,
            None => None,
        };
        let decision = match shared {
            Some(decision) => decision,
            None => {
                if self.redis.is_some() {
                    metrics::counter!(FALLBACK_TOTAL).increment(1);
                }
                self.local.check(key_id, limit).await
            }
        };
        Some(Verdict {
            tier: caller.tier,
            limit,
            decision,
        })
    }
}

/// Answers 429 over the caller's limit; adds the RateLimit headers to every answer.
pub async fn rate_limit(
    State(state): State<Arc<GatewayState>>,
    request: Request,
    next: Next,
) -> Response {
    let verdict = match request.extensions().get::<Caller>() {
        Some(caller) => state.limiter.check(caller).await,
        None => None,
    };
    let Some(verdict) = verdict else {
        return next.run(request).await;
    };
    let mut response = if verdict.decision.allowed {
        next.run(request).await
    } else {
        metrics::counter!(RATELIMITED_TOTAL, "tier" => verdict.tier.as_str()).increment(1);
        too_many_requests(&verdict)
    };
    headers::write(
        response.headers_mut(),
        verdict.tier,
        verdict.limit,
        &verdict.decision,
    );
    response
}

fn too_many_requests(verdict: &Verdict) -> Response {
    let limit = verdict.limit;
    Problem::new(
        Code::ResourceExhausted,
        format!(
            "this API key's rate limit is {} requests per second with bursts of {}; \
             retry in {} s",
            limit.per_second(),
            limit.burst(),
            verdict.decision.retry_after_seconds()
        ),
    )
    .into_response()
}

#[cfg(test)]
mod tests;
