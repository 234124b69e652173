//! Per-request observation: the `Server-Timing` header (gateway and backend time) and the HTTP
//! request metrics, labelled by route template, method, tier and status.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::TIER_HEADER;

/// Counter of answered HTTP requests.
pub const HTTP_REQUESTS_TOTAL: &str = "bourse_http_requests_total";
/// Histogram of HTTP request latency in seconds, as seen by the gateway.
pub const HTTP_DURATION_SECONDS: &str = "bourse_http_request_duration_seconds";

/// Time spent waiting for backend services, set by handlers as a response extension.
#[derive(Debug, Clone, Copy)]
pub struct BackendTime(pub Duration);

/// Times the request, writes `Server-Timing` and records the request metrics.
pub async fn observe(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();

    let mut response = next.run(request).await;
    let total = start.elapsed();

    let mut timing = format!("gateway;dur={:.3}", millis(total));
    if let Some(BackendTime(backend)) = response.extensions().get::<BackendTime>() {
        timing.push_str(&format!(", backend;dur={:.3}", millis(*backend)));
    }
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }

    let tier = response
        .headers()
        .get(TIER_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    let labels = [
        ("route", route),
        ("method", method),
        ("tier", tier),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION_SECONDS, &labels).record(total.as_secs_f64());
    response
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}
