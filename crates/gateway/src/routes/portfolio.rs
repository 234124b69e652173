//! Portfolio routes: portfolios and their holdings here, orders in [`orders`].
//!
//! Every route is the `google.api.http` option of its RPC in `proto/bourse/portfolio/v1`.
//! Created resources answer 201 with a `Location` header; `DELETE` answers 204 without a body.

pub mod orders;

use std::sync::Arc;
use std::time::Duration;

use crate::pools::PoolChannel;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use bourse_proto::portfolio::v1::portfolio_service_client::PortfolioServiceClient;
use bourse_proto::portfolio::v1::{
    CreatePortfolioRequest, DeletePortfolioRequest, GetPortfolioRequest, GetValuationRequest,
    ListPortfoliosRequest, ListPositionsRequest, Portfolio,
};
use bourse_runtime::grpc_client::Propagate;
use serde::{Deserialize, Serialize};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;

use crate::GatewayState;
use crate::backend::{json, request_for, timed};
use crate::keys::Caller;
use crate::observe::BackendTime;
use crate::problem::Problem;
use crate::routes::{NoParams, QueryResult, body, query};

/// The portfolio routes, as declared by the `google.api.http` options of its RPCs.
pub fn router() -> Router<Arc<GatewayState>> {
    Router::new()
        .route(
            "/v1/portfolios",
            get(list_portfolios).post(create_portfolio),
        )
        .route(
            "/v1/portfolios/{portfolio_id}",
            get(get_portfolio).delete(delete_portfolio),
        )
        .route(
            "/v1/portfolios/{portfolio_id}/orders",
            get(orders::list_orders).post(orders::place_order),
        )
        // `{order_id}` also carries the custom method of `POST .../orders/{order_id}:cancel`:
        // axum cannot match a literal suffix inside a segment, so the POST handler splits it.
        .route(
            "/v1/portfolios/{portfolio_id}/orders/{order_id}",
            get(orders::get_order).post(orders::order_action),
        )
        .route(
            "/v1/portfolios/{portfolio_id}/positions",
            get(list_positions),
        )
        .route(
            "/v1/portfolios/{portfolio_id}/valuation",
            get(get_valuation),
        )
}

/// Query parameters of list routes (AIP-158).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Largest number of items in the answer; 0 asks for the service's default.
    #[serde(default)]
    pub page_size: i32,
    /// The `next_page_token` of the previous page; empty for the first.
    #[serde(default)]
    pub page_token: String,
}

/// A portfolio service client that propagates the trace context.
pub(crate) type Client = PortfolioServiceClient<InterceptedService<PoolChannel, Propagate>>;

/// A portfolio client on the caller's tier's pool.
pub(crate) fn client(state: &GatewayState, caller: &Caller) -> Client {
    PortfolioServiceClient::with_interceptor(state.pools.portfolio.get(caller.tier), Propagate)
}

/// A 201 Created JSON response whose `Location` is the new resource's URL.
pub(crate) fn created<T: Serialize>(
    body: T,
    location: &str,
    backend: Duration,
) -> Result<Response, Problem> {
    // Identifiers are assigned by the service (UUIDs); one that is not a header value is a bug.
    let location = HeaderValue::from_str(location).map_err(|_| {
        tracing::error!(location, "created resource URL is not a header value");
        Problem::new(Code::Internal, "the service failed to complete the request")
    })?;
    let mut response = json(body, backend);
    *response.status_mut() = StatusCode::CREATED;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// `POST /v1/portfolios` with the `portfolio` as the body: 201 and the new portfolio's URL.
pub async fn create_portfolio(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: QueryResult<NoParams>,
    payload: Result<Json<Portfolio>, JsonRejection>,
) -> Result<Response, Problem> {
    query(params)?;
    let Json(portfolio) = body(payload)?;
    let message = CreatePortfolioRequest {
        portfolio: Some(portfolio),
    };
    let mut client = client(&state, &caller);
    let (response, backend) =
        timed(client.create_portfolio(request_for(&caller, message)?)).await?;
    let location = format!("/v1/portfolios/{}", response.id);
    created(response, &location, backend)
}

/// `GET /v1/portfolios`: the caller's portfolios, newest first.
pub async fn list_portfolios(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    params: QueryResult<PageParams>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let message = ListPortfoliosRequest {
        page_size: params.page_size,
        page_token: params.page_token,
    };
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.list_portfolios(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// `GET /v1/portfolios/{portfolio_id}`.
pub async fn get_portfolio(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: QueryResult<NoParams>,
) -> Result<Response, Problem> {
    query(params)?;
    let message = GetPortfolioRequest { portfolio_id };
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.get_portfolio(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// `DELETE /v1/portfolios/{portfolio_id}`: 204 without a body, with its orders and positions.
pub async fn delete_portfolio(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: QueryResult<NoParams>,
) -> Result<Response, Problem> {
    query(params)?;
    let message = DeletePortfolioRequest { portfolio_id };
    let mut client = client(&state, &caller);
    let (_, backend) = timed(client.delete_portfolio(request_for(&caller, message)?)).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.extensions_mut().insert(BackendTime(backend));
    Ok(response)
}

/// `GET /v1/portfolios/{portfolio_id}/positions`: open positions, ordered by symbol.
pub async fn list_positions(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: QueryResult<NoParams>,
) -> Result<Response, Problem> {
    query(params)?;
    let message = ListPositionsRequest { portfolio_id };
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.list_positions(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// `GET /v1/portfolios/{portfolio_id}/valuation`: positions marked to the latest quotes.
pub async fn get_valuation(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: QueryResult<NoParams>,
) -> Result<Response, Problem> {
    query(params)?;
    let message = GetValuationRequest { portfolio_id };
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.get_valuation(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}
