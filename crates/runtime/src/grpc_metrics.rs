//! Request metrics for every gRPC call a Bourse server handles.
//!
//! [`GrpcMetricsLayer`] records, once per call and when the call really ends (the response's
//! trailers, which for streams can be long after the headers):
//! - `bourse_grpc_server_requests_total{service,method,tier,code}` (counter)
//! - `bourse_grpc_server_duration_seconds{service,method,tier,code}` (histogram)
//!
//! `service` is the Bourse service name, `method` the last path segment, `tier` the validated
//! [`TIER_METADATA_KEY`] header (`shared` when absent or invalid) and `code` the gRPC status name
//! (`OK`, `NOT_FOUND`, ...; `CANCELLED` when the response was dropped before it finished).
//! Calls answered `UNIMPLEMENTED` are labelled `method="unknown"`, so clients probing random
//! paths cannot create unbounded label values.

use std::pin::Pin;
use std::sync::Once;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::BoxFuture;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use tonic::Code;
use tower::{Layer, Service};

use crate::tier::{TIER_METADATA_KEY, Tier};
use crate::trace_context::split_grpc_path;

/// Counter of finished gRPC calls.
pub const REQUESTS_TOTAL: &str = "bourse_grpc_server_requests_total";
/// Histogram of gRPC call durations, from request to final status.
pub const DURATION_SECONDS: &str = "bourse_grpc_server_duration_seconds";

/// The method label for calls the server does not implement.
const UNKNOWN_METHOD: &str = "unknown";

/// Records request count and duration per service, method, tier and status code.
#[derive(Clone, Copy, Debug)]
pub struct GrpcMetricsLayer {
    /// The Bourse service name used as the `service` label.
    service: &'static str,
}

impl GrpcMetricsLayer {
    /// A layer labelling its metrics with `service`.
    pub fn new(service: &'static str) -> Self {
        static DESCRIBE: Once = Once::new();
        DESCRIBE.call_once(|| {
            metrics::describe_counter!(REQUESTS_TOTAL, "gRPC calls handled, by final status.");
            metrics::describe_histogram!(
                DURATION_SECONDS,
                metrics::Unit::Seconds,
                "gRPC call duration, from request headers to final status."
            );
        });
        Self { service }
    }
}

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            service: self.service,
        }
    }
}

/// The service made by [`GrpcMetricsLayer`].
#[derive(Clone, Debug)]
pub struct GrpcMetrics<S> {
    /// The service whose calls are measured.
    inner: S,
    /// The `service` label.
    service: &'static str,
}

impl<S, B, ResBody> Service<http::Request<B>> for GrpcMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<MetricsBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let mut call = PendingCall {
            service: self.service,
            method: split_grpc_path(request.uri().path()).1.to_owned(),
            tier: tier_label(request.headers()),
            started: Instant::now(),
            recorded: false,
        };
        let response = self.inner.call(request);
        // If this future is dropped (a server timeout, a reset stream), `call` records CANCELLED.
        Box::pin(async move {
            let response = match response.await {
                Ok(response) => response,
                Err(error) => {
                    call.record(Code::Unknown);
                    return Err(error);
                }
            };
            // A trailers-only response (every error from a generated service) has its status in
            // the headers; otherwise it arrives in the trailers at the end of the body.
            if let Some(code) = status_of(response.headers()) {
                call.record(code);
            }
            Ok(response.map(|inner| MetricsBody { inner, call }))
        })
    }
}

/// The labels and start time of one call, recorded exactly once: with its status when known,
/// or as `CANCELLED` when dropped before that.
#[derive(Debug)]
struct PendingCall {
    service: &'static str,
    method: String,
    tier: Tier,
    started: Instant,
    /// Set once the metrics are recorded.
    recorded: bool,
}

impl PendingCall {
    fn record(&mut self, code: Code) {
        if std::mem::replace(&mut self.recorded, true) {
            return;
        }
        let method = if code == Code::Unimplemented {
            UNKNOWN_METHOD.to_owned()
        } else {
            std::mem::take(&mut self.method)
        };
        let labels = [
            ("service", self.service.to_owned()),
            ("method", method),
            ("tier", self.tier.as_str().to_owned()),
            ("code", code_label(code).to_owned()),
        ];
        metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
        metrics::histogram!(DURATION_SECONDS, &labels).record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        // Dropped before a status was seen: the client went away, the call timed out or the
        // connection was cut.
        self.record(Code::Cancelled);
    }
}

/// A response body that records the call's metrics when its trailers go by.
#[derive(Debug)]
pub struct MetricsBody<B> {
    /// The response body being sent.
    inner: B,
    /// The call, recorded when the trailers pass (or already, for a trailers-only response).
    call: PendingCall,
}

impl<B> Body for MetricsBody<B>
where
    B: Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    this.call
                        .record(status_of(trailers).unwrap_or(Code::Unknown));
                }
            }
            // A body that fails or ends without trailers never told the client a status.
            Poll::Ready(Some(Err(_)) | None) => this.call.record(Code::Unknown),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn status_of(headers: &HeaderMap) -> Option<Code> {
    headers
        .get("grpc-status")
        .map(|value| Code::from_bytes(value.as_bytes()))
}

fn tier_label(headers: &HeaderMap) -> Tier {
    headers
        .get(TIER_METADATA_KEY)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or_default()
}

/// The canonical upper-case name of a gRPC status code.
pub fn code_label(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_label_accepts_only_the_two_tiers() {
        let mut headers = HeaderMap::new();
        assert_eq!(tier_label(&headers), Tier::Shared);
        headers.insert(TIER_METADATA_KEY, "premium".parse().expect("ascii"));
        assert_eq!(tier_label(&headers), Tier::Premium);
        headers.insert(TIER_METADATA_KEY, "platinum".parse().expect("ascii"));
        assert_eq!(tier_label(&headers), Tier::Shared);
    }

    #[test]
    fn status_comes_from_grpc_status() {
        let mut headers = HeaderMap::new();
        assert_eq!(status_of(&headers), None);
        headers.insert("grpc-status", "5".parse().expect("ascii"));
        assert_eq!(status_of(&headers), Some(Code::NotFound));
        assert_eq!(code_label(Code::NotFound), "NOT_FOUND");
    }
}
