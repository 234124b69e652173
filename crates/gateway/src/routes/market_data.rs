//! Market-data routes: instruments, quotes, bars (JSON or streamed CSV) and the live quote
//! stream (Server-Sent Events), each the REST binding of its RPC's `google.api.http` option.
//!
//! Caching, per data class (see [`caching`]):
//!
//! | Data | `Cache-Control` | `ETag` / `If-None-Match` → 304 |
//! | --- | --- | --- |
//! | quotes | `private, max-age=1` | no: they change with every tick |
//! | bars | `private, max-age=60` | yes, on JSON (a streamed CSV is not hashed first) |
//! | instruments | `private, max-age=3600` | yes |
//! | quote stream | `no-store` | no |
//!
//! Responses are `private`: they are answered for one API key's tier and must not be shared by
//! a proxy between callers.

pub mod bars;
pub mod caching;
pub mod stream;

use std::sync::Arc;

use crate::pools::PoolChannel;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bourse_proto::market_data::v1::market_data_service_client::MarketDataServiceClient;
use bourse_proto::market_data::v1::{
    BatchGetQuotesRequest, GetInstrumentRequest, GetQuoteRequest, ListInstrumentsRequest,
};
use bourse_runtime::grpc_client::Propagate;
use serde::Deserialize;
use tonic::service::interceptor::InterceptedService;

use crate::GatewayState;
use crate::backend::{request_for, timed};
use crate::keys::Caller;
use crate::problem::Problem;
use crate::routes::{NoParams, QueryResult, body, query};

/// A market-data client on the caller's tier pool, propagating the trace context.
pub type MarketDataClient = MarketDataServiceClient<InterceptedService<PoolChannel, Propagate>>;

/// The market-data routes, as declared by the `google.api.http` options of its RPCs.
pub fn router() -> Router<Arc<GatewayState>> {
    Router::new()
        .route("/v1/instruments", get(list_instruments))
        .route("/v1/instruments/{symbol}", get(get_instrument))
        .route("/v1/quotes", get(batch_get_quotes_by_query))
        .route("/v1/quotes:batchGet", post(batch_get_quotes))
        .route("/v1/quotes/{symbol}", get(get_quote))
        .route("/v1/bars/{symbol}", get(bars::list_bars))
        .route("/v1/stream/quotes", get(stream::stream_quotes))
}

/// The market-data client for `caller`'s tier.
pub fn client(state: &GatewayState, caller: &Caller) -> MarketDataClient {
    MarketDataServiceClient::with_interceptor(state.pools.market_data.get(caller.tier), Propagate)
}

/// Query parameters of `GET /v1/instruments`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentsParams {
    /// Case-insensitive symbol prefix or name substring; empty lists everything.
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub page_size: i32,
    #[serde(default)]
    pub page_token: String,
}

/// Query parameters of `GET /v1/quotes`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolsParams {
    /// Comma-separated symbols; empty segments (a trailing comma) are ignored.
    #[serde(default)]
    pub symbols: String,
}

impl SymbolsParams {
    /// The listed symbols, in order, duplicates kept.
    pub fn list(&self) -> Vec<String> {
        self.symbols
            .split(',')
            .map(str::trim)
            .filter(|symbol| !symbol.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// `GET /v1/instruments?q=&page_size=&page_token=`: instruments by symbol prefix or name
/// substring, ordered by symbol.
pub async fn list_instruments(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    params: Result<Query<InstrumentsParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let message = ListInstrumentsRequest {
        q: params.q,
        page_size: params.page_size,
        page_token: params.page_token,
    };
    let mut client = client(&state, &caller);
    let (response, backend) =
        timed(client.list_instruments(request_for(&caller, message)?)).await?;
    caching::json_response(&response, backend, caching::INSTRUMENTS, Some(&headers))
}

/// `GET /v1/instruments/{symbol}`: one instrument; 404 when the symbol is unknown.
pub async fn get_instrument(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(symbol): Path<String>,
    params: QueryResult<NoParams>,
) -> Result<Response, Problem> {
    query(params)?;
    let mut client = client(&state, &caller);
    let request = request_for(&caller, GetInstrumentRequest { symbol })?;
    let (instrument, backend) = timed(client.get_instrument(request)).await?;
    caching::json_response(&instrument, backend, caching::INSTRUMENTS, Some(&headers))
}

/// `GET /v1/quotes/{symbol}`: the latest quote of one symbol; 404 when the symbol is unknown.
/// With batching on, concurrent requests of a tier share one `BatchGetQuotes` call; the answer
/// is the same as `GetQuote`'s.
pub async fn get_quote(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(symbol): Path<String>,
    params: QueryResult<NoParams>,
) -> Result<Response, Problem> {
    query(params)?;
    let (quote, backend) = match state.batchers.quotes(caller.tier) {
        Some(batcher) => batcher.submit(symbol).await?,
        None => {
            let mut client = client(&state, &caller);
            let request = request_for(&caller, GetQuoteRequest { symbol })?;
            timed(client.get_quote(request)).await?
        }
    };
    caching::json_response(&quote, backend, caching::QUOTES, None)
}

/// `GET /v1/quotes?symbols=A,B,C`: the latest quotes of up to 1,000 symbols, in request order,
/// an unknown symbol reported in its own result.
pub async fn batch_get_quotes_by_query(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<SymbolsParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let message = BatchGetQuotesRequest {
        symbols: params.list(),
    };
    batch_quotes(&state, &caller, message).await
}

/// `POST /v1/quotes:batchGet` with `{"symbols": [...]}`: as `GET /v1/quotes`.
pub async fn batch_get_quotes(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: QueryResult<NoParams>,
    payload: Result<Json<BatchGetQuotesRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    query(params)?;
    let Json(message) = body(payload)?;
    batch_quotes(&state, &caller, message).await
}

/// `BatchGetQuotes`; the service refuses more than 1,000 symbols with a problem naming `symbols`.
async fn batch_quotes(
    state: &GatewayState,
    caller: &Caller,
    message: BatchGetQuotesRequest,
) -> Result<Response, Problem> {
    let mut client = client(state, caller);
    let (response, backend) = timed(client.batch_get_quotes(request_for(caller, message)?)).await?;
    caching::json_response(&response, backend, caching::QUOTES, None)
}
