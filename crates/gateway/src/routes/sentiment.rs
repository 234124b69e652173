//! Sentiment routes: scoring texts, ingesting and listing news, and a symbol's aggregate
//! sentiment over a window.

use std::sync::Arc;

use crate::pools::PoolChannel;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bourse_proto::sentiment::v1::sentiment_service_client::SentimentServiceClient;
use bourse_proto::sentiment::v1::{
    BatchScoreTextRequest, GetSymbolSentimentRequest, IngestNewsRequest, ListNewsRequest,
    NewsArticle, ScoreTextRequest,
};
use bourse_runtime::grpc_client::Propagate;
use serde::Deserialize;
use tonic::service::interceptor::InterceptedService;

use crate::GatewayState;
use crate::backend::{json, request_for, timed};
use crate::keys::Caller;
use crate::problem::Problem;
use crate::routes::{NoParams, QueryResult, body, query};

/// The sentiment routes, as declared by the `google.api.http` options of its RPCs.
pub fn router() -> Router<Arc<GatewayState>> {
    Router::new()
        .route("/v1/sentiment:score", post(score_text))
        .route("/v1/sentiment:batchScore", post(batch_score_text))
        .route("/v1/news", post(ingest_news).get(list_news))
        .route("/v1/sentiment/{symbol}", get(symbol_sentiment))
}

/// Query parameters of `GET /v1/news`: the fields of `ListNewsRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListNewsParams {
    /// Only articles about this symbol; empty for all.
    #[serde(default)]
    pub symbol: String,
    #[serde(default)]
    pub page_size: i32,
    #[serde(default)]
    pub page_token: String,
}

/// Query parameters of `GET /v1/sentiment/{symbol}`: the fields of `GetSymbolSentimentRequest`
/// other than the path's.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolSentimentParams {
    /// 1h, 1d, 7d or 30d; empty for the default (1d). The service validates it.
    #[serde(default)]
    pub window: String,
}

/// `POST /v1/sentiment:score` with `{"text": ...}`. With batching on, concurrent requests of a
/// tier share one `BatchScoreText` call; the answer is the same as `ScoreText`'s.
pub async fn score_text(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: QueryResult<NoParams>,
    payload: Result<Json<ScoreTextRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    query(params)?;
    let Json(message) = body(payload)?;
    let (score, backend) = match state.batchers.sentiment(caller.tier) {
        Some(batcher) => batcher.submit(message.text).await?,
        None => {
            let mut client = client(&state, &caller);
            timed(client.score_text(request_for(&caller, message)?)).await?
        }
    };
    Ok(json(score, backend))
}

/// `POST /v1/sentiment:batchScore` with `{"texts": [...]}`: one result per text, in request
/// order, with per-item errors.
pub async fn batch_score_text(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: QueryResult<NoParams>,
    payload: Result<Json<BatchScoreTextRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    query(params)?;
    let Json(message) = body(payload)?;
    let mut client = client(&state, &caller);
    let (response, backend) =
        timed(client.batch_score_text(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// `POST /v1/news` with the article as the body (`body: "article"`): stores and scores it and
/// answers 201 Created with the stored article.
///
/// No `Location` header: the REST surface has no route that reads one article back, and a
/// `Location` must identify the created resource itself (RFC 9110 §10.2.2); a list URL such as
/// `/v1/news?symbol=...` would not. The body carries the article's `id`. Ingestion is idempotent
/// on the caller's id (or source and url), and the service does not say whether this call
/// created the article, so a replay also answers 201 with the stored article.
pub async fn ingest_news(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: QueryResult<NoParams>,
    payload: Result<Json<NewsArticle>, JsonRejection>,
) -> Result<Response, Problem> {
    query(params)?;
    let Json(article) = body(payload)?;
    let mut client = client(&state, &caller);
    let message = IngestNewsRequest {
        article: Some(article),
    };
    let (stored, backend) = timed(client.ingest_news(request_for(&caller, message)?)).await?;
    let mut response = json(stored, backend);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `GET /v1/news?symbol=&page_size=&page_token=`: articles, newest first.
pub async fn list_news(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<ListNewsParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let mut client = client(&state, &caller);
    let message = ListNewsRequest {
        symbol: params.symbol,
        page_size: params.page_size,
        page_token: params.page_token,
    };
    let (response, backend) = timed(client.list_news(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// `GET /v1/sentiment/{symbol}?window=`: a symbol's aggregate news sentiment over a window.
pub async fn symbol_sentiment(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(symbol): Path<String>,
    params: Result<Query<SymbolSentimentParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let mut client = client(&state, &caller);
    let message = GetSymbolSentimentRequest {
        symbol,
        window: params.window,
    };
    let (sentiment, backend) =
        timed(client.get_symbol_sentiment(request_for(&caller, message)?)).await?;
    Ok(json(sentiment, backend))
}

/// The sentiment client the handlers call through.
type Client = SentimentServiceClient<InterceptedService<PoolChannel, Propagate>>;

/// A sentiment client on the caller's tier's pool, propagating the trace context.
fn client(state: &GatewayState, caller: &Caller) -> Client {
    SentimentServiceClient::with_interceptor(state.pools.sentiment.get(caller.tier), Propagate)
}
