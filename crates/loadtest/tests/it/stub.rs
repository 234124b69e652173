//! A stand-in for the REST gateway: it knows two API keys, creates portfolios, and answers every
//! other request with 200 after a fixed service time, recording what it received.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub(crate) const PREMIUM_KEY: &str = "bk_premium_test";
pub(crate) const SHARED_KEY: &str = "bk_shared_test";

/// One request the stub received.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) tier: &'static str,
    pub(crate) path: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Stub {
    pub(crate) addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

#[derive(Clone)]
struct StubState {
    service: Duration,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Stub {
    /// Starts a stub answering after `service` on a free loopback port.
    pub(crate) async fn start(service: Duration) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = StubState {
            service,
            received: received.clone(),
        };
        let app = Router::new()
            .route("/v1/portfolios", post(create_portfolio))
            .fallback(answer)
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, received }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }

    /// Requests of one tier, set-up calls included.
    pub(crate) fn count(&self, tier: &str) -> usize {
        self.received()
            .iter()
            .filter(|request| request.tier == tier)
            .count()
    }
}

fn tier_of(request: &Request) -> Option<&'static str> {
    let header = request.headers().get("authorization")?.to_str().ok()?;
    match header.strip_prefix("Bearer ")? {
        PREMIUM_KEY => Some("premium"),
        SHARED_KEY => Some("shared"),
        _ => None,
    }
}

fn record(state: &StubState, request: &Request) -> Option<&'static str> {
    let tier = tier_of(request)?;
    state.received.lock().expect("not poisoned").push(Received {
        tier,
        path: request
            .uri()
            .path_and_query()
            .map_or_else(String::new, ToString::to_string),
    });
    Some(tier)
}

async fn create_portfolio(State(state): State<StubState>, request: Request) -> Response {
    match record(&state, &request) {
        Some(tier) => axum::Json(serde_json::json!({"id": format!("p-{tier}")})).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn answer(State(state): State<StubState>, request: Request) -> Response {
    if record(&state, &request).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    tokio::time::sleep(state.service).await;
    axum::Json(serde_json::json!({"ok": true})).into_response()
}
