//! The gateway's own limits on a request: body size, total time, and the methods a route serves.
//! Each answers a problem like every other error.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tonic::Code;

use crate::problem::Problem;

/// The largest request body the gateway reads: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// How long the gateway works on one request before answering 504. Streams (SSE, CSV) are
/// bounded only until their headers are sent.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The problem for a body over [`MAX_BODY_BYTES`]: 413.
pub fn too_large() -> Problem {
    Problem::new(
        Code::ResourceExhausted,
        format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
    )
    .with_status(StatusCode::PAYLOAD_TOO_LARGE, "Content Too Large")
}

/// Rejects a request whose declared `Content-Length` is over the limit before any handler runs;
/// a body without a length is cut off by `DefaultBodyLimit` when a handler reads it.
///
/// Either way the rest of the body is never read, so an HTTP/1 connection cannot carry another
/// request: the 413 says `Connection: close`. Without it a client returns the connection to its
/// pool, and its next request races the server closing it (hyper's `IncompleteMessage`).
pub async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let http1 = request.version() <= Version::HTTP_11;
    let mut response = match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => too_large().into_response(),
        _ => next.run(request).await,
    };
    if http1 && response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Answers 504 when the response has not started within `timeout` ([`REQUEST_TIMEOUT`] in the
/// gateway).
pub async fn deadline(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?timeout, "request timed out");
            Problem::new(
                Code::DeadlineExceeded,
                format!("the request took longer than {timeout:?}"),
            )
            .into_response()
        }
    }
}

/// The answer for a known path with a method it does not serve: 405 (axum adds `Allow`).
pub async fn method_not_allowed() -> Problem {
    Problem::new(Code::Unimplemented, "the route does not serve this method")
        .with_status(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// The answer for a path no route serves: 404.
pub async fn no_such_route() -> Problem {
    Problem::new(Code::NotFound, "no such route")
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::extract::DefaultBodyLimit;
    use axum::middleware::{from_fn, from_fn_with_state};
    use axum::routing::post;
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test]
    async fn a_declared_oversized_body_is_413_before_the_handler() {
        let app = Router::new()
            .route("/", post(|| async { "handled" }))
            .layer(from_fn(limit_body));
        let request = Request::post("/")
            .header(header::CONTENT_LENGTH, MAX_BODY_BYTES + 1)
            .body(Body::from(vec![b'x'; MAX_BODY_BYTES + 1]))
            .expect("request");
        let response = app.oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            crate::problem::PROBLEM_JSON
        );
        assert_eq!(response.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_body_cut_off_while_read_is_413_and_closes_the_connection() {
        let app = Router::new()
            .route(
                "/",
                post(
                    |body: Result<axum::Json<serde_json::Value>, _>| async move {
                        crate::routes::body(body).map(|_| "handled")
                    },
                ),
            )
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(from_fn(limit_body));
        let chunks =
            futures::stream::iter([Ok::<_, std::io::Error>(vec![b' '; MAX_BODY_BYTES + 1])]);
        let request = Request::post("/")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(chunks))
            .expect("request");
        let response = app.oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(response.headers()[header::CONNECTION], "close");
    }

    #[tokio::test]
    async fn a_slow_handler_is_504() {
        let timeout = Duration::from_millis(20);
        let app = Router::new()
            .route(
                "/",
                post(move || async move {
                    tokio::time::sleep(timeout * 50).await;
                    "late"
                }),
            )
            .layer(from_fn_with_state(timeout, deadline));
        let request = Request::post("/").body(Body::empty()).expect("request");
        let response = app.oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    }
}
