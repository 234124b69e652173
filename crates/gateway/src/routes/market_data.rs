//! Market-data routes.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bourse_proto::market_data::v1::GetQuoteRequest;
use bourse_proto::market_data::v1::market_data_service_client::MarketDataServiceClient;
use bourse_runtime::grpc_client::Propagate;

use crate::GatewayState;
use crate::backend::{json, request_for, timed};
use crate::keys::Caller;
use crate::problem::Problem;

/// `GET /v1/quotes/{symbol}`: the latest quote of one symbol.
pub async fn get_quote(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(symbol): Path<String>,
) -> Result<Response, Problem> {
    let mut client = MarketDataServiceClient::with_interceptor(
        state.pools.market_data.get(caller.tier),
        Propagate,
    );
    let request = request_for(&caller, GetQuoteRequest { symbol })?;
    let (quote, backend) = timed(client.get_quote(request)).await?;
    Ok(json(quote, backend))
}
