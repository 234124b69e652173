//! `GET /v1/stream/quotes?symbols=`: the `StreamQuotes` RPC as Server-Sent Events.
//!
//! Each `QuoteUpdate` becomes one `event: quote` whose data is the update's JSON (the service
//! opens with the current quote of each requested symbol, then sends updates as they arrive).
//! A comment line every [`KEEP_ALIVE`] keeps idle proxies from closing the connection. When the
//! client goes away axum drops the event stream, which drops the gRPC stream and so cancels the
//! call: nothing outlives the client. When the service ends the stream (it is shutting down) the
//! response ends; a failure of the service is sent as one `event: error` with a problem body,
//! after which the response ends.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse as _, Response};
use bourse_proto::market_data::v1::{QuoteUpdate, StreamQuotesRequest};
use futures::{Stream, stream};
use tonic::Streaming;

use super::{SymbolsParams, caching, client};
use crate::GatewayState;
use crate::backend::{request_for, timed};
use crate::keys::Caller;
use crate::observe::BackendTime;
use crate::problem::Problem;
use crate::routes::query;

/// How often an idle stream sends a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /v1/stream/quotes?symbols=A,B`: live quotes of the listed symbols (every symbol when
/// `symbols` is empty or absent). An invalid symbol is a 400 naming `symbols`.
pub async fn stream_quotes(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<SymbolsParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let message = StreamQuotesRequest {
        symbols: params.list(),
    };
    let mut client = client(&state, &caller);
    let (updates, backend) = timed(client.stream_quotes(request_for(&caller, message)?)).await?;
    let sse = Sse::new(events(updates)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    let mut response = sse.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(caching::STREAM),
    );
    // Tells buffering reverse proxies (nginx) to pass events on as they come.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.extensions_mut().insert(BackendTime(backend));
    Ok(response)
}

/// One event per update until the service ends the stream or fails.
fn events(updates: Streaming<QuoteUpdate>) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(Some(updates), |updates| async move {
        let mut updates = updates?;
        match updates.message().await {
            Ok(Some(update)) => Some((Ok(quote_event(&update)), Some(updates))),
            Ok(None) => None,
            Err(status) => Some((Ok(error_event(&Problem::from_status(&status))), None)),
        }
    })
}

fn quote_event(update: &QuoteUpdate) -> Event {
    Event::default()
        .event("quote")
        .json_data(update)
        .unwrap_or_else(|error| {
            tracing::error!(%error, "encoding a quote update");
            Event::default().comment("an update could not be encoded")
        })
}

fn error_event(problem: &Problem) -> Event {
    Event::default()
        .event("error")
        .json_data(problem)
        .unwrap_or_else(|_| Event::default().event("error").data(problem.detail.clone()))
}
