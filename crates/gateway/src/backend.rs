//! Calling a backend service for a caller: tier and account metadata, timing, error mapping.

use std::future::Future;
use std::time::{Duration, Instant};

use axum::Json;
use axum::response::{IntoResponse, Response};
use bourse_runtime::caller::with_account;
use bourse_runtime::grpc_client::with_tier;
use serde::Serialize;

use crate::keys::Caller;
use crate::observe::BackendTime;
use crate::problem::Problem;

/// A gRPC request on behalf of `caller`: its tier and account travel as metadata.
pub fn request_for<T>(caller: &Caller, message: T) -> Result<tonic::Request<T>, Problem> {
    let mut request = tonic::Request::new(message);
    with_tier(&mut request, caller.tier);
    with_account(&mut request, &caller.account)?;
    Ok(request)
}

/// Awaits a backend call, mapping its status to a problem and measuring how long it took.
pub async fn timed<R>(
    call: impl Future<Output = Result<tonic::Response<R>, tonic::Status>>,
) -> Result<(R, Duration), Problem> {
    let start = Instant::now();
    let response = call.await?;
    Ok((response.into_inner(), start.elapsed()))
}

/// A JSON response carrying the backend time for `Server-Timing`.
pub fn json<T: Serialize>(body: T, backend: Duration) -> Response {
    let mut response = Json(body).into_response();
    response.extensions_mut().insert(BackendTime(backend));
    response
}
