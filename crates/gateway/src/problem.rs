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
//! The gateway's own failures that have no backend status use the code closest in meaning with a
//! more precise HTTP status: a body over the size limit is 413 (`RESOURCE_EXHAUSTED`), a method
//! the route does not serve is 405 (`UNIMPLEMENTED`, with `Allow`), a request over the gateway's
//! deadline is 504 (`DEADLINE_EXCEEDED`), an unknown route 404 (`NOT_FOUND`).
//!
//! A 500 is logged with its source and answered with a generic detail: nothing internal (SQL,
//! addresses, stack traces) reaches a client. An `INVALID_ARGUMENT` whose message follows the
//! services' `field: reason` convention also lists that field under `errors`.

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
    /// The fields a validation failure is about; omitted when there are none. Boxed so every
    /// `Result<_, Problem>` stays small.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Box<FieldViolations>>,
}

/// The invalid fields of a request, serialized as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldViolations(pub Vec<FieldViolation>);

/// One invalid field of a request, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldViolation {
    /// The request field, as named in the contract (`symbol`, `order.quantity`).
    pub field: String,
    /// Why the value was rejected.
    pub reason: String,
}

impl FieldViolation {
    /// The violation a `field: reason` message describes; `None` for any other message.
    pub fn parse(message: &str) -> Option<Self> {
        let (field, reason) = message.split_once(": ")?;
        let is_field = !field.is_empty()
            && field
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
        (is_field && !reason.trim().is_empty()).then(|| Self {
            field: field.to_owned(),
            reason: reason.trim().to_owned(),
        })
    }
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
            errors: None,
        }
    }

    /// The same problem answered with a more precise HTTP status than its code's, for the
    /// gateway's own failures (413, 405).
    pub fn with_status(mut self, status: StatusCode, title: &'static str) -> Self {
        self.status = status.as_u16();
        self.title = title;
        self
    }

    /// The same problem listing the fields that failed validation.
    pub fn with_errors(mut self, errors: Vec<FieldViolation>) -> Self {
        self.errors = (!errors.is_empty()).then(|| Box::new(FieldViolations(errors)));
        self
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
            Code::InvalidArgument => {
                let violations = FieldViolation::parse(status.message())
                    .into_iter()
                    .collect();
                Self::new(Code::InvalidArgument, status.message()).with_errors(violations)
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

    #[test]
    fn validation_failures_name_their_field() {
        let problem = Problem::from_status(&tonic::Status::invalid_argument(
            "confidence: must be in (0, 1), got 1.5",
        ));
        assert_eq!(problem.status, 400);
        assert_eq!(
            problem.errors.clone().map(|errors| errors.0),
            Some(vec![FieldViolation {
                field: "confidence".to_owned(),
                reason: "must be in (0, 1), got 1.5".to_owned(),
            }])
        );
        let body = serde_json::to_value(&problem).expect("serializes");
        assert_eq!(body["errors"][0]["field"], "confidence");
    }

    #[test]
    fn other_messages_have_no_errors_member() {
        let problem = Problem::from_status(&tonic::Status::invalid_argument(
            "Failed to deserialize query string: unknown field `x`",
        ));
        assert!(problem.errors.is_none());
        let body = serde_json::to_value(&problem).expect("serializes");
        assert!(body.get("errors").is_none(), "{body}");
        let not_found = Problem::from_status(&tonic::Status::not_found("symbol: unknown"));
        assert!(
            not_found.errors.is_none(),
            "only INVALID_ARGUMENT lists fields"
        );
    }
}
