//! What the generated clients call through: a tier's route to its pool (and, for premium, the
//! shared pool it may spill over to), with per-tier deadlines and budgeted retries.

use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt as _, Full};
use tonic::body::Body;
use tower::ServiceExt as _;

use super::deadline::Deadlines;
use super::methods::MethodTable;
use super::pool::Pool;
use super::replica::Replica;
use super::retry::{Attempt, BoxError, RetryBudget};
use super::stats::{RETRIES_TOTAL, SPILLOVER_TOTAL};

/// One tier pool of one service, as a `tower::Service` for tonic clients. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PoolChannel(Arc<Route>);

/// Where a tier's calls go and how they are bounded.
#[derive(Debug)]
pub(crate) struct Route {
    /// The tier's own pool.
    pool: Arc<Pool>,
    /// The shared pool, for a premium route allowed to spill over.
    spill: Option<Arc<Pool>>,
    methods: Arc<MethodTable>,
    deadlines: Deadlines,
    budget: RetryBudget,
}

impl PoolChannel {
    /// A channel to `pool`, falling back to `spill` when no endpoint of `pool` is healthy.
    pub fn new(
        pool: Arc<Pool>,
        spill: Option<Arc<Pool>>,
        methods: Arc<MethodTable>,
        deadlines: Deadlines,
        budget: RetryBudget,
    ) -> Self {
        Self(Arc::new(Route {
            pool,
            spill,
            methods,
            deadlines,
            budget,
        }))
    }

    /// The route's readiness, without keeping its pools alive.
    pub fn readiness(&self) -> PoolReadiness {
        PoolReadiness {
            pool: Arc::downgrade(&self.0.pool),
            spill: self.0.spill.as_ref().map(Arc::downgrade),
        }
    }
}

impl tower::Service<http::Request<Body>> for PoolChannel {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    /// Always ready: each replica's channel buffers its own calls.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let route = self.0.clone();
        Box::pin(async move { route.dispatch(request).await })
    }
}

impl Route {
    /// Sends `request` within its deadline.
    async fn dispatch(
        &self,
        mut request: http::Request<Body>,
    ) -> Result<http::Response<Body>, BoxError> {
        self.budget.deposit();
        let traits = self.methods.get(request.uri().path());
        let deadline = self
            .deadlines
            .apply(&mut request, self.pool.tier, traits.deadline);
        let call = self.send(request, traits.idempotent);
        let Some(deadline) = deadline else {
            return call.await;
        };
        match tokio::time::timeout(deadline, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Box::new(tonic::Status::deadline_exceeded(format!(
                "the {} pool did not answer within {deadline:?}",
                self.pool.name()
            )))),
        }
    }

    /// One attempt, and for an idempotent call one retry on another replica when the first
    /// got no answer and the budget allows.
    async fn send(
        &self,
        request: http::Request<Body>,
        idempotent: bool,
    ) -> Result<http::Response<Body>, BoxError> {
        let (pool, replica) = self.pick(None)?;
        if !std::ptr::eq(pool, &*self.pool) {
            metrics::counter!(SPILLOVER_TOTAL, "service" => self.pool.service).increment(1);
        }
        if !idempotent {
            return attempt(pool, &replica, request).await.into_result();
        }
        let (parts, body) = request.into_parts();
        let body = body.collect().await?.to_bytes();
        let first = attempt(pool, &replica, rebuild(&parts, body.clone())).await;
        if !first.failed() {
            return first.into_result();
        }
        let Ok((pool, other)) = self.pick(Some(&replica)) else {
            return first.into_result();
        };
        let service = self.pool.service;
        if !self.budget.withdraw() {
            metrics::counter!(RETRIES_TOTAL, "service" => service, "outcome" => "no_budget")
                .increment(1);
            return first.into_result();
        }
        metrics::counter!(RETRIES_TOTAL, "service" => service, "outcome" => "sent").increment(1);
        attempt(pool, &other, rebuild(&parts, body))
            .await
            .into_result()
    }

    /// A healthy replica of the tier's pool, else (premium with spill-over) of the shared pool.
    fn pick(&self, avoid: Option<&Arc<Replica>>) -> Result<(&Pool, Arc<Replica>), tonic::Status> {
        if let Some(replica) = self.pool.pick(avoid) {
            return Ok((&self.pool, replica));
        }
        if let Some(spill) = &self.spill
            && let Some(replica) = spill.pick(avoid)
        {
            return Ok((spill, replica));
        }
        Err(tonic::Status::unavailable(format!(
            "no healthy endpoint in the {} {} pool",
            self.pool.service, self.pool.tier
        )))
    }
}

/// One call on one replica, counted in its load and towards its ejection.
async fn attempt(pool: &Pool, replica: &Arc<Replica>, request: http::Request<Body>) -> Attempt {
    let _in_flight = replica.start_call();
    let outcome = Attempt::from_result(replica.channel.clone().oneshot(request).await);
    pool.record(replica, outcome.failed());
    outcome
}

/// The request again, from its head and buffered body.
fn rebuild(parts: &http::request::Parts, body: Bytes) -> http::Request<Body> {
    let mut request = http::Request::new(Body::new(Full::new(body)));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    *request.extensions_mut() = parts.extensions.clone();
    request
}

/// Whether a route can take calls now, as the readiness probe reports it.
#[derive(Debug, Clone)]
pub struct PoolReadiness {
    pool: Weak<Pool>,
    spill: Option<Weak<Pool>>,
}

impl PoolReadiness {
    /// Ready when the pool has a healthy endpoint, or it may spill over to a shared pool that
    /// has one.
    ///
    /// # Errors
    /// Why the route cannot take calls.
    pub fn check(&self) -> Result<(), String> {
        let pool = self.pool.upgrade().ok_or("the gateway is shutting down")?;
        let (healthy, ejected) = pool.counts();
        if healthy > 0 {
            return Ok(());
        }
        if let Some(spill) = self.spill.as_ref().and_then(Weak::upgrade)
            && spill.has_healthy()
        {
            return Ok(());
        }
        let spill = if self.spill.is_some() {
            " and no healthy endpoint to spill over to"
        } else {
            ""
        };
        Err(format!("all {ejected} endpoints ejected{spill}"))
    }
}

#[cfg(test)]
mod tests;
