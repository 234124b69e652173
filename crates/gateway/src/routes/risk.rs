//! Risk routes: Value at Risk and portfolio statistics of a stored portfolio or of ad-hoc
//! positions, one at a time or in batches, and a portfolio's stored reports.

use std::sync::Arc;

use crate::pools::PoolChannel;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bourse_proto::risk::v1::risk_service_client::RiskServiceClient;
use bourse_proto::risk::v1::{
    AnalyzePortfolioRequest, AnalyzePositionsRequest, BatchAnalyzeRequest, ListRiskReportsRequest,
};
use bourse_runtime::grpc_client::Propagate;
use serde::Deserialize;
use tonic::service::interceptor::InterceptedService;

use crate::GatewayState;
use crate::backend::{json, request_for, timed};
use crate::keys::Caller;
use crate::problem::Problem;
use crate::routes::portfolio::PageParams;
use crate::routes::{NoParams, QueryResult, body, query};

/// The risk routes, as declared by the `google.api.http` options of its RPCs.
pub fn router() -> Router<Arc<GatewayState>> {
    Router::new()
        .route("/v1/portfolios/{portfolio_id}/risk", get(analyze_portfolio))
        .route("/v1/risk:analyze", post(analyze_positions))
        .route("/v1/risk:batchAnalyze", post(batch_analyze))
        .route(
            "/v1/portfolios/{portfolio_id}/risk/reports",
            get(list_risk_reports),
        )
}

/// Query parameters of `GET /v1/portfolios/{portfolio_id}/risk`: the fields of
/// `AnalyzePortfolioRequest` other than the path's.
///
/// The numeric parameters the proto declares `optional` stay optional here, so an absent
/// parameter reaches the service as "use the default" while an explicit value (even an invalid
/// 0) reaches it as given and is refused there with the field named.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyzePortfolioParams {
    /// historical, parametric, cornish_fisher, monte_carlo or bootstrap; empty for the default.
    #[serde(default)]
    pub method: String,
    pub confidence: Option<f64>,
    pub horizon_days: Option<i32>,
    pub lookback_days: Option<i32>,
    /// Benchmark symbol; empty for the default.
    #[serde(default)]
    pub benchmark: String,
    pub paths: Option<i32>,
    pub seed: Option<u64>,
    /// Annual risk-free rate; not `optional` in the proto, so absent means 0.
    #[serde(default)]
    pub risk_free_rate: f64,
}

impl AnalyzePortfolioParams {
    /// The gRPC request for `portfolio_id` with these parameters.
    fn into_request(self, portfolio_id: String) -> AnalyzePortfolioRequest {
        AnalyzePortfolioRequest {
            portfolio_id,
            method: self.method,
            confidence: self.confidence,
            horizon_days: self.horizon_days,
            lookback_days: self.lookback_days,
            benchmark: self.benchmark,
            paths: self.paths,
            seed: self.seed,
            risk_free_rate: self.risk_free_rate,
        }
    }
}

/// `GET /v1/portfolios/{portfolio_id}/risk`: analyzes a stored portfolio and stores the report.
pub async fn analyze_portfolio(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: Result<Query<AnalyzePortfolioParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let mut client = client(&state, &caller);
    let message = params.into_request(portfolio_id);
    let (report, backend) = timed(client.analyze_portfolio(request_for(&caller, message)?)).await?;
    Ok(json(report, backend))
}

/// `POST /v1/risk:analyze` with an `AnalyzePositionsRequest` body: analyzes ad-hoc positions.
pub async fn analyze_positions(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: QueryResult<NoParams>,
    payload: Result<Json<AnalyzePositionsRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    query(params)?;
    let Json(message) = body(payload)?;
    let mut client = client(&state, &caller);
    let (report, backend) = timed(client.analyze_positions(request_for(&caller, message)?)).await?;
    Ok(json(report, backend))
}

/// `POST /v1/risk:batchAnalyze` with a `BatchAnalyzeRequest` body: up to 100 analyses, results
/// in request order with per-item errors (a bad item does not fail the call).
pub async fn batch_analyze(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: QueryResult<NoParams>,
    payload: Result<Json<BatchAnalyzeRequest>, JsonRejection>,
) -> Result<Response, Problem> {
    query(params)?;
    let Json(message) = body(payload)?;
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.batch_analyze(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// `GET /v1/portfolios/{portfolio_id}/risk/reports`: stored risk reports, newest first.
pub async fn list_risk_reports(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let mut client = client(&state, &caller);
    let message = ListRiskReportsRequest {
        portfolio_id,
        page_size: params.page_size,
        page_token: params.page_token,
    };
    let (response, backend) =
        timed(client.list_risk_reports(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// The risk client the handlers call through.
type Client = RiskServiceClient<InterceptedService<PoolChannel, Propagate>>;

/// A risk client on the caller's tier's pool, propagating the trace context.
fn client(state: &GatewayState, caller: &Caller) -> Client {
    RiskServiceClient::with_interceptor(state.pools.risk.get(caller.tier), Propagate)
}
