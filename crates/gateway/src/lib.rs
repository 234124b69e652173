//! The edge gateway: REST/JSON in front of the gRPC services.
//!
//! It authenticates API keys, decides each caller's tier, routes shared and premium traffic to
//! different service pools, and answers every error as `application/problem+json`. The routes
//! are composed in [`router`], top to bottom.

pub mod admission;
pub mod auth;
pub mod backend;
pub mod batch;
pub mod coalesce;
pub mod config;
pub mod docs;
pub mod fields;
pub mod keys;
pub mod limits;
pub mod observe;
pub mod openapi;
pub mod pools;
pub mod problem;
pub mod ratelimit;
pub mod routes;
pub mod trace;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use axum::serve::ListenerExt as _;
use bourse_runtime::grpc_client::{ClientConfig, ClientError};
use bourse_runtime::http::{HealthState, ops_router};
use bourse_runtime::telemetry::metrics_handle;
use bourse_runtime::trace_context::TraceContextLayer;
use bourse_store::Db;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};

pub use config::GatewayArgs;

use crate::admission::Admission;
use crate::batch::Batchers;
use crate::coalesce::Coalescer;
use crate::keys::KeyStore;
use crate::pools::{PoolReadiness, Pools};
use crate::ratelimit::{RateLimitError, RateLimiter};

/// What every handler shares, built once at start-up.
#[derive(Debug)]
pub struct GatewayState {
    /// The backend pools per service and tier.
    pub pools: Pools,
    /// Resolves API keys to callers.
    pub keys: KeyStore,
    /// Whether `X-User-Tier` may override the key's tier.
    pub trust_tier_header: bool,
    /// Per-tier concurrency limits; sheds shared traffic first.
    pub admission: Admission,
    /// Per-key rate limits, shared across replicas through Redis.
    pub limiter: RateLimiter,
    /// Identical in-flight GETs share one backend call.
    pub coalescer: Coalescer,
    /// Single quote and sentiment requests gathered into batch calls.
    pub batchers: Batchers,
}

/// Why the gateway could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("invalid pool configuration")]
    Pools(#[from] ClientError),
    #[error("invalid rate-limit configuration")]
    RateLimit(#[from] RateLimitError),
    #[error("serving HTTP")]
    Io(#[from] std::io::Error),
}

impl GatewayState {
    /// Builds the state from the configuration; channels connect lazily. Rate limits are
    /// shared through Redis at `redis_url` when given. Must run inside a Tokio runtime: the
    /// pools and batchers run background tasks.
    pub fn new(args: &GatewayArgs, db: Db, redis_url: Option<&str>) -> Result<Self, GatewayError> {
        let pools = Pools::from_args(args, &ClientConfig::default())?;
        Ok(Self {
            batchers: Batchers::new(&args.batching, &args.balancing, &pools),
            coalescer: Coalescer::new(&args.batching),
            admission: Admission::new(&args.admission),
            limiter: RateLimiter::new(&args.rate_limit, redis_url)?,
            pools,
            keys: KeyStore::new(db),
            trust_tier_header: args.trust_tier_header,
        })
    }
}

/// The whole REST application. Layers run outermost first: trace context, timing and metrics,
/// compression, the request deadline, `fields=` (before routing sees the query), the body limit.
/// An API route then runs, in order: authentication, the caller's rate limit, admission (load
/// shedding), coalescing of identical in-flight GETs, and the handler.
pub fn router(state: Arc<GatewayState>) -> Router {
    let api = Router::new()
        .merge(routes::market_data::router())
        .merge(routes::portfolio::router())
        .merge(routes::risk::router())
        .merge(routes::sentiment::router())
        .route_layer(from_fn_with_state(state.clone(), coalesce::coalesce))
        .route_layer(from_fn_with_state(state.clone(), admission::admit))
        .route_layer(from_fn_with_state(state.clone(), ratelimit::rate_limit))
        .route_layer(from_fn_with_state(state.clone(), auth::authenticate))
        .with_state(state.clone());

    Router::new()
        .merge(api)
        .merge(ops_router(metrics_handle(), readiness(&state.pools)))
        .route("/health/startup", get(started))
        .merge(openapi::router())
        .merge(docs::router())
        .method_not_allowed_fallback(limits::method_not_allowed)
        .fallback(limits::no_such_route)
        .layer(DefaultBodyLimit::max(limits::MAX_BODY_BYTES))
        .layer(from_fn(limits::limit_body))
        .layer(from_fn(fields::select_fields))
        .layer(from_fn_with_state(
            limits::REQUEST_TIMEOUT,
            limits::deadline,
        ))
        .layer(compression())
        .layer(from_fn(observe::observe))
        .layer(TraceContextLayer)
}

/// The smallest body worth compressing.
pub const COMPRESS_ABOVE_BYTES: u64 = 1024;

/// gzip, br or zstd, as the client accepts, for bodies over [`COMPRESS_ABOVE_BYTES`]; never for
/// Server-Sent Events (each event must reach the client when sent), gRPC or images.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().compress_when(
        SizeAbove::new(COMPRESS_ABOVE_BYTES)
            .and(NotForContentType::SSE)
            .and(NotForContentType::GRPC)
            .and(NotForContentType::IMAGES),
    )
}

/// `GET /health/startup`: the gateway only serves once it has started, so any answer is 200.
async fn started() -> StatusCode {
    StatusCode::OK
}

/// Ready when every backend pool has a healthy endpoint, or is a premium pool that may spill
/// over to a healthy shared pool. Reports each pool (`market-data/premium`, ...); the pools'
/// own health checks keep the state current, so a probe makes no backend call.
fn readiness(pools: &Pools) -> HealthState {
    pools
        .readiness()
        .into_iter()
        .fold(HealthState::new(), |health, (name, pool)| {
            health.with_check(name, move || pool_health(pool.clone()))
        })
}

async fn pool_health(pool: PoolReadiness) -> Result<(), String> {
    pool.check()
}

/// Serves the REST API on `listener` until `shutdown` resolves, then drains in-flight requests.
/// Responses leave as soon as they are written: Nagle's algorithm is off on every connection,
/// or a response written in two parts can wait for the client's delayed ACK (40 ms on Linux).
pub async fn serve(
    listener: TcpListener,
    state: Arc<GatewayState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
