//! Portfolio routes.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use bourse_proto::portfolio::v1::ListPortfoliosRequest;
use bourse_proto::portfolio::v1::portfolio_service_client::PortfolioServiceClient;
use bourse_runtime::grpc_client::Propagate;
use serde::Deserialize;

use crate::GatewayState;
use crate::backend::{json, request_for, timed};
use crate::keys::Caller;
use crate::problem::Problem;
use crate::routes::query;

/// Query parameters of list routes (AIP-158).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    #[serde(default)]
    pub page_size: i32,
    #[serde(default)]
    pub page_token: String,
}

/// `GET /v1/portfolios`: the caller's portfolios, newest first.
pub async fn list_portfolios(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<PageParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let mut client =
        PortfolioServiceClient::with_interceptor(state.pools.portfolio.get(caller.tier), Propagate);
    let message = ListPortfoliosRequest {
        page_size: params.page_size,
        page_token: params.page_token,
    };
    let (response, backend) = timed(client.list_portfolios(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}
