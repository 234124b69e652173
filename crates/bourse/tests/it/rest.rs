//! The REST surface end to end: `bourse up`'s composition (demo data, demo keys) on the test's
//! own database, driven over HTTP. [`Rest`] is the harness; one module per service.

mod market_data;
mod operations;
mod portfolio;
mod risk_sentiment;

use bourse::up::Platform;
use bourse_test_support::{TestDb, sqlite_db};
use reqwest::header::CONTENT_TYPE;
use reqwest::{RequestBuilder, Response};
use serde_json::Value;

use crate::up::config;

/// A running platform and an HTTP client for its gateway.
pub(crate) struct Rest {
    platform: Platform,
    /// Keeps the test database alive as long as the platform.
    _db: TestDb,
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) premium_key: String,
    pub(crate) shared_key: String,
}

impl Rest {
    /// The platform on a fresh SQLite store with the demo data.
    pub(crate) async fn start() -> Self {
        Self::start_on(sqlite_db().await).await
    }

    /// The platform on `db` with the demo data.
    pub(crate) async fn start_on(db: TestDb) -> Self {
        let platform = Platform::start(config(&db)).await.expect("platform starts");
        Self {
            base: format!("http://{}", platform.gateway_addr),
            http: reqwest::Client::new(),
            premium_key: platform.keys.premium.clone(),
            shared_key: platform.keys.shared.clone(),
            platform,
            _db: db,
        }
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A GET with the shared demo key.
    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.shared_key)
    }

    /// A POST with the shared demo key.
    pub(crate) fn post(&self, path: &str) -> RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(&self.shared_key)
    }

    /// A DELETE with the shared demo key.
    pub(crate) fn delete(&self, path: &str) -> RequestBuilder {
        self.http
            .delete(self.url(path))
            .bearer_auth(&self.shared_key)
    }

    pub(crate) async fn stop(self) {
        self.platform.stop().await.expect("clean stop");
    }
}

/// Sends `request` and returns the status and the JSON body.
pub(crate) async fn send(request: RequestBuilder) -> (reqwest::StatusCode, Value) {
    let response = request.send().await.expect("response");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// Asserts `response` is an RFC 9457 problem with `status` and returns its body.
pub(crate) async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status, "status of {response:?}");
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["status"], status, "{body}");
    body
}
