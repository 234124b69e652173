//! Sentiment routes.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::Response;
use axum::{Extension, Json};
use bourse_proto::sentiment::v1::ScoreTextRequest;
use bourse_proto::sentiment::v1::sentiment_service_client::SentimentServiceClient;
use bourse_runtime::grpc_client::Propagate;

use crate::GatewayState;
use crate::backend::{json, request_for, timed};
use crate::keys::Caller;
use crate::problem::Problem;
use crate::routes::body;

/// `POST /v1/sentiment:score` with `{"text": ...}`.
pub async fn score_text(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    payload: Result<Json<ScoreTextRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(message) = body(payload)?;
    let mut client =
        SentimentServiceClient::with_interceptor(state.pools.sentiment.get(caller.tier), Propagate);
    let (score, backend) = timed(client.score_text(request_for(&caller, message)?)).await?;
    Ok(json(score, backend))
}
