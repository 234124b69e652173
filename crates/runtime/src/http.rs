//! The operations endpoints every Bourse process serves next to its API: Prometheus metrics and
//! liveness/readiness probes.
//!
//! Liveness only says the process answers; readiness runs the named checks a service registered
//! in its [`HealthState`] (database reachable, cache reachable, model loaded) so that an
//! orchestrator or load balancer stops sending traffic while a dependency is down.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::future::{BoxFuture, FutureExt as _, join_all};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Serialize;

/// How long one readiness check may take before it counts as failed.
pub const READINESS_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The content type of the Prometheus text exposition format.
const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// One readiness check: resolves to `Ok(())` when the dependency is usable, or to a short reason
/// (shown to operators on `/health/ready`, so it must not contain secrets) when it is not.
pub type ReadinessCheck = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// The named readiness checks of one service, built once at start-up and cheap to clone.
///
/// A service with no checks is always ready.
#[derive(Clone, Default)]
pub struct HealthState {
    /// Checks by name, in registration order.
    checks: Vec<(String, ReadinessCheck)>,
}

impl fmt::Debug for HealthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.checks.iter().map(|(name, _)| name))
            .finish()
    }
}

impl HealthState {
    /// A state with no checks: always ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a readiness check called `name`, run on every readiness probe.
    pub fn with_check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks
            .push((name.into(), Arc::new(move || check().boxed())));
        self
    }

    /// Runs every check concurrently, each bounded by [`READINESS_CHECK_TIMEOUT`].
    pub async fn check(&self) -> Readiness {
        let results = join_all(self.checks.iter().map(|(name, check)| async move {
            let outcome = match tokio::time::timeout(READINESS_CHECK_TIMEOUT, check()).await {
                Ok(Ok(())) => CheckStatus::Ok,
                Ok(Err(reason)) => CheckStatus::Failed { error: reason },
                Err(_) => CheckStatus::Failed {
                    error: format!("timed out after {READINESS_CHECK_TIMEOUT:?}"),
                },
            };
            (name.clone(), outcome)
        }))
        .await;
        let checks: BTreeMap<_, _> = results.into_iter().collect();
        let ready = checks
            .values()
            .all(|status| matches!(status, CheckStatus::Ok));
        Readiness { ready, checks }
    }
}

/// The outcome of one round of readiness checks; the JSON body of `/health/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// True when every check passed.
    pub ready: bool,
    /// Each check's outcome, by name.
    pub checks: BTreeMap<String, CheckStatus>,
}

/// The outcome of one readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CheckStatus {
    /// The dependency is usable.
    Ok,
    /// The dependency is not usable, and why.
    Failed {
        /// The reason the check gave, or that it timed out.
        error: String,
    },
}

/// The state behind the ops routes.
#[derive(Clone)]
struct OpsState {
    /// Renders the process-wide Prometheus recorder.
    metrics: PrometheusHandle,
    /// The service's readiness checks.
    health: HealthState,
}

/// Routes for `GET /metrics`, `GET /health/live` and `GET /health/ready`.
pub fn ops_router(handle: PrometheusHandle, health: HealthState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .with_state(OpsState {
            metrics: handle,
            health,
        })
}

async fn metrics(State(state): State<OpsState>) -> Response {
    (
        [(header::CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

async fn live() -> StatusCode {
    StatusCode::OK
}

async fn ready(State(state): State<OpsState>) -> Response {
    let readiness = state.health.check().await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(readiness)).into_response()
}
