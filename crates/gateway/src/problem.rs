//! Errors as RFC 9457 `application/problem+json`, and the one table that maps gRPC status codes
//! to HTTP statuses.
//!
//! | gRPC code | HTTP |
//! | --- | --- |
//! | OK | 200 |
//! | INVALID_ARGUMENT, OUT_OF_RANGE | 400 |
//! | UNAUTHENTICATED | 401 |
//! | PERMISSION_DENIED | 403 |
//! | NOT_FOUND | 404 |
//! | ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION | 409 |
//! | RESOURCE_EXHAUSTED | 429 |
//! | CANCELLED | 499 |
//! | UNIMPLEMENTED | 501 |
//! | UNAVAILABLE | 503 |
//! | DEADLINE_EXCEEDED | 504 |
//! | INTERNAL, UNKNOWN, DATA_LOSS | 500 |
//!
//! A 500 is logged with its source and answered with a generic detail: nothing internal (SQL,
//! addresses, stack traces) reaches a client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bourse_runtime::grpc_metrics::code_label as code_name;
use serde::Serialize;
use tonic::Code;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response body (RFC 9457) with Bourse's extension members.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// A relative URI naming the kind of problem, e.g. `/problems/not-found`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// The gRPC status code name, e.g. `NOT_FOUND`.
    pub code: &'static str,
    /// The W3C trace id of the request, for support requests; empty when not traced.
    pub trace_id: String,
}

impl Problem {
    /// A problem for a gRPC code with a client-safe detail.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        let (status, title) = http_status(code);
        Self {
            kind: format!("/problems/{}", slug(code)),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            code: code_name(code),
            trace_id: crate::trace::current_trace_id(),
        }
    }

    /// The problem for a status returned by a backend service.
    pub fn from_status(status: &tonic::Status) -> Self {
        match status.code() {
            Code::Internal | Code::Unknown | Code::DataLoss => {
                tracing::error!(code = ?status.code(), message = status.message(), "backend failure");
                Self::new(status.code(), "the service failed to complete the request")
            }
            Code::Unavailable => {
                tracing::warn!(message = status.message(), "backend unavailable");
                Self::new(Code::Unavailable, "the service is unavailable, retry later")
            }
            code => Self::new(code, status.message()),
        }
    }
}

impl From<tonic::Status> for Problem {
    fn from(status: tonic::Status) -> Self {
        Self::from_status(&status)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// The HTTP status and title of a gRPC code: the mapping table of the module documentation.
pub fn http_status(code: Code) -> (StatusCode, &'static str) {
    match code {
        Code::Ok => (StatusCode::OK, "OK"),
        Code::InvalidArgument | Code::OutOfRange => (StatusCode::BAD_REQUEST, "Bad Request"),
        Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "Unauthorized"),
        Code::PermissionDenied => (StatusCode::FORBIDDEN, "Forbidden"),
        Code::NotFound => (StatusCode::NOT_FOUND, "Not Found"),
        Code::AlreadyExists | Code::Aborted | Code::FailedPrecondition => {
            (StatusCode::CONFLICT, "Conflict")
        }
        Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
        Code::Cancelled => (client_closed_request(), "Client Closed Request"),
        Code::Unimplemented => (StatusCode::NOT_IMPLEMENTED, "Not Implemented"),
        Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        Code::DeadlineExceeded => (StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout"),
        Code::Internal | Code::Unknown | Code::DataLoss => {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

fn client_closed_request() -> StatusCode {
    StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST)
}

fn slug(code: Code) -> String {
    code_name(code).to_ascii_lowercase().replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_documented_codes() {
        assert_eq!(http_status(Code::NotFound).0, StatusCode::NOT_FOUND);
        assert_eq!(
            http_status(Code::InvalidArgument).0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            http_status(Code::ResourceExhausted).0,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            http_status(Code::Unavailable).0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            http_status(Code::DeadlineExceeded).0,
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            http_status(Code::FailedPrecondition).0,
            StatusCode::CONFLICT
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_message() {
        let problem = Problem::from_status(&tonic::Status::internal(
            "relation \"quotes\" does not exist",
        ));
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("quotes"), "{}", problem.detail);
        assert_eq!(problem.kind, "/problems/internal");
    }
}
