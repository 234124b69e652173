//! Risk routes.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use bourse_proto::risk::v1::ListRiskReportsRequest;
use bourse_proto::risk::v1::risk_service_client::RiskServiceClient;
use bourse_runtime::grpc_client::Propagate;

use crate::GatewayState;
use crate::backend::{json, request_for, timed};
use crate::keys::Caller;
use crate::problem::Problem;
use crate::routes::portfolio::PageParams;
use crate::routes::query;

/// `GET /v1/portfolios/{portfolio_id}/risk/reports`: stored risk reports, newest first.
pub async fn list_risk_reports(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: Result<Query<PageParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let mut client =
        RiskServiceClient::with_interceptor(state.pools.risk.get(caller.tier), Propagate);
    let message = ListRiskReportsRequest {
        portfolio_id,
        page_size: params.page_size,
        page_token: params.page_token,
    };
    let (response, backend) =
        timed(client.list_risk_reports(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}
