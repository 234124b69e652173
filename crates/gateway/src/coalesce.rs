//! Coalescing identical in-flight GET requests: the first (the leader) runs the handler, and every
//! identical request that arrives while it is in flight gets a copy of its response.
//!
//! Two requests are identical when they agree on the caller's tier, the path and query, `Accept`
//! and `If-None-Match`, and the caller's account. The account is left out for the public market
//! data and news routes (`/v1/quotes`, `/v1/instruments`, `/v1/bars`, `/v1/news`,
//! `/v1/sentiment/{symbol}`): their answers depend on the tier but never on who asks, so callers
//! of different accounts share them. Every other route (portfolios, risk) is only ever shared
//! within one account.
//!
//! Streams are never coalesced (`/v1/stream/*`, and CSV asked for with `Accept: text/csv`), nor
//! is a response whose body is not known to fit in `--coalescing-max-body`: the leader gets it,
//! and the requests that waited make their own call.
//!
//! The leader's call is a shared future that every waiting request polls, so the requests
//! waiting on it are answered even when the leader's client goes away; the flight is forgotten
//! as soon as it finishes.
//! [`COALESCED_TOTAL`] counts the requests answered by another request's call.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bourse_runtime::tier::Tier;
use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use http_body::Body as _;
use http_body_util::BodyExt;
use tonic::Code;

use crate::GatewayState;
use crate::batch::BatchArgs;
use crate::keys::Caller;
use crate::observe::BackendTime;
use crate::problem::Problem;

/// Counter of requests answered by another request's backend call, by route.
pub const COALESCED_TOTAL: &str = "bourse_gateway_coalesced_total";

/// Routes whose answers do not depend on the caller's account (a path equal to one, or under it).
const PUBLIC_ROUTES: [&str; 4] = ["/v1/quotes", "/v1/instruments", "/v1/bars", "/v1/news"];
/// The public per-symbol sentiment route's prefix.
const PUBLIC_SENTIMENT: &str = "/v1/sentiment/";
/// Streaming routes, never coalesced.
const STREAMS: &str = "/v1/stream/";

/// What makes two GET requests identical.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FlightKey {
    tier: Tier,
    path_and_query: String,
    accept: Vec<HeaderValue>,
    if_none_match: Vec<HeaderValue>,
    /// `None` on the public routes, whose answers are the same for every account.
    account: Option<String>,
}

/// A finished response, kept to answer the requests that waited for it.
#[derive(Debug)]
struct SharedResponse {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    backend: Option<BackendTime>,
    body: Bytes,
}

impl SharedResponse {
    fn to_response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.version_mut() = self.version;
        *response.headers_mut() = self.headers.clone();
        if let Some(backend) = self.backend {
            response.extensions_mut().insert(backend);
        }
        response
    }
}

/// How a flight ended: the response to share, or the leader's own response when it could not
/// be shared (then the waiting requests make their own calls).
#[derive(Debug)]
struct Landed {
    shared: Option<SharedResponse>,
    /// Taken by the leader; dropped unread when the leader's client went away.
    unshared: Mutex<Option<Response>>,
}

/// One backend call that identical requests wait for. Whichever of them is polling drives it,
/// so the waiting requests are answered even when the leader's client goes away.
type Flight = Shared<BoxFuture<'static, Arc<Landed>>>;
type Flights = Arc<Mutex<HashMap<FlightKey, Flight>>>;

/// The in-flight GET requests by key.
pub struct Coalescer {
    enabled: bool,
    max_body: usize,
    flights: Flights,
}

impl fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coalescer")
            .field("enabled", &self.enabled)
            .field("max_body", &self.max_body)
            .field("in_flight", &lock(&self.flights).len())
            .finish()
    }
}

impl Coalescer {
    /// A coalescer as configured (`--coalescing`, `--coalescing-max-body`).
    pub fn new(args: &BatchArgs) -> Self {
        metrics::describe_counter!(
            COALESCED_TOTAL,
            "Requests answered by an identical in-flight request's backend call."
        );
        Self {
            enabled: args.coalescing,
            max_body: args.coalescing_max_body,
            flights: Flights::default(),
        }
    }

    /// The key of a request that may be coalesced; `None` for any other.
    fn key_of(&self, request: &Request) -> Option<FlightKey> {
        if !self.enabled || request.method() != Method::GET {
            return None;
        }
        let path = request.uri().path();
        let headers = request.headers();
        if path.starts_with(STREAMS) || accepts_csv(headers) {
            return None;
        }
        let caller = request.extensions().get::<Caller>()?;
        let public = path.starts_with(PUBLIC_SENTIMENT)
            || PUBLIC_ROUTES.iter().any(|route| {
                path.strip_prefix(route)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            });
        let path_and_query = request
            .uri()
            .path_and_query()
            .map_or(path, |path_and_query| path_and_query.as_str());
        Some(FlightKey {
            tier: caller.tier,
            path_and_query: path_and_query.to_owned(),
            accept: headers.get_all(header::ACCEPT).iter().cloned().collect(),
            if_none_match: headers
                .get_all(header::IF_NONE_MATCH)
                .iter()
                .cloned()
                .collect(),
            account: (!public).then(|| caller.account.clone()),
        })
    }
}

/// Whether the request asks for CSV, which the bars route streams.
fn accepts_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/csv"))
}

/// The flights, even if a thread panicked while holding them: every change is one insert or
/// remove, so the map is never left half-changed.
fn lock(flights: &Flights) -> MutexGuard<'_, HashMap<FlightKey, Flight>> {
    flights.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Forgets a flight when its leader's task ends, also by a panic.
struct Landing {
    flights: Flights,
    key: FlightKey,
}

impl Drop for Landing {
    fn drop(&mut self) {
        lock(&self.flights).remove(&self.key);
    }
}

/// Shares one backend call among identical in-flight GETs.
pub async fn coalesce(
    State(state): State<Arc<GatewayState>>,
    request: Request,
    next: Next,
) -> Response {
    state.coalescer.run(request, next).await
}

/// A request's part in a flight.
enum Role {
    /// An identical request is in flight: wait for its response (or, when it cannot be shared,
    /// make this request's own call).
    Follow(Flight, Box<Request>, Next),
    /// This request's call is the flight.
    Lead(Flight),
}

impl Coalescer {
    /// Runs `request` through `next`, or answers it with an identical in-flight request's
    /// response.
    ///
    /// The leader's call is not spawned: it runs on the leader's own task, or on a waiting
    /// request's when the leader's client goes away, so it never queues behind other tasks.
    pub async fn run(&self, request: Request, next: Next) -> Response {
        let Some(key) = self.key_of(&request) else {
            return next.run(request).await;
        };
        match self.enter(key, request, next) {
            Role::Follow(flight, request, next) => {
                let landed = flight.await;
                let Some(shared) = &landed.shared else {
                    return next.run(*request).await;
                };
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or("unmatched", MatchedPath::as_str)
                    .to_owned();
                metrics::counter!(COALESCED_TOTAL, "route" => route).increment(1);
                shared.to_response()
            }
            Role::Lead(flight) => {
                let landed = flight.await;
                let unshared = landed
                    .unshared
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                match (unshared, &landed.shared) {
                    (Some(response), _) => response,
                    (None, Some(shared)) => shared.to_response(),
                    (None, None) => {
                        Problem::new(Code::Internal, "the response was lost").into_response()
                    }
                }
            }
        }
    }

    /// Joins the flight of `key`, or makes `request`'s call the flight.
    fn enter(&self, key: FlightKey, request: Request, next: Next) -> Role {
        let mut flights = lock(&self.flights);
        if let Some(flight) = flights.get(&key) {
            return Role::Follow(flight.clone(), Box::new(request), next);
        }
        let landing = Landing {
            flights: self.flights.clone(),
            key: key.clone(),
        };
        let max_body = self.max_body;
        let flight = async move {
            let response = next.run(request).await;
            let landed = buffer(response, max_body).await;
            drop(landing);
            Arc::new(landed)
        }
        .boxed()
        .shared();
        flights.insert(key, flight.clone());
        Role::Lead(flight)
    }
}

/// The response as a shareable copy when its body is known to fit in `max_body` bytes; else the
/// response itself, for the leader alone.
async fn buffer(response: Response, max_body: usize) -> Landed {
    let unshared = |response: Response| Landed {
        shared: None,
        unshared: Mutex::new(Some(response)),
    };
    let (parts, body) = response.into_parts();
    let fits = body
        .size_hint()
        .exact()
        .is_some_and(|length| length <= max_body as u64);
    if !fits {
        return unshared(Response::from_parts(parts, body));
    }
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::error!(%error, "reading a response body to share");
            let problem = Problem::new(Code::Internal, "the response could not be read");
            return unshared(problem.into_response());
        }
    };
    Landed {
        shared: Some(SharedResponse {
            status: parts.status,
            version: parts.version,
            backend: parts.extensions.get::<BackendTime>().copied(),
            headers: parts.headers,
            body,
        }),
        unshared: Mutex::new(None),
    }
}

#[cfg(test)]
mod tests;
