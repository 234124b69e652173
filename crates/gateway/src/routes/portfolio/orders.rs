//! Order routes: place (with `Idempotency-Key`), list with filters, get, and the `:cancel`
//! custom method.
//!
//! An idempotent replay answers exactly what the first request answered: 201 with the same
//! order and `Location` (as the IETF `Idempotency-Key` draft and Stripe do), so a client that
//! retries after a lost response cannot tell the retry from the original and needs no second
//! code path.
//!
//! `status=` takes the proto enum name (`ORDER_STATUS_FILLED`) or its short form (`filled`),
//! case-insensitively.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bourse_proto::portfolio::v1::{
    CancelOrderRequest, GetOrderRequest, ListOrdersRequest, Order, OrderStatus, PlaceOrderRequest,
};
use bourse_proto::time::to_timestamp;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tonic::Code;

use super::{client, created};
use crate::GatewayState;
use crate::backend::{json, request_for, timed};
use crate::keys::Caller;
use crate::problem::{FieldViolation, Problem};
use crate::routes::{NoParams, QueryResult};
use crate::routes::{body, query};

/// The request header that makes `POST .../orders` safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The custom methods of an order, after the `:` of `.../orders/{order_id}:<method>`.
const CANCEL: &str = "cancel";

/// Query parameters of `GET /v1/portfolios/{portfolio_id}/orders`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderListParams {
    /// Only orders in this status: `ORDER_STATUS_FILLED` or `filled`.
    #[serde(default)]
    pub status: String,
    /// Only orders for this symbol.
    #[serde(default)]
    pub symbol: String,
    /// Only orders created at or after this RFC 3339 time.
    #[serde(default)]
    pub start_time: String,
    /// Only orders created before this RFC 3339 time.
    #[serde(default)]
    pub end_time: String,
    /// Largest number of orders in the answer; 0 asks for the service's default.
    #[serde(default)]
    pub page_size: i32,
    /// The `next_page_token` of the previous page; empty for the first.
    #[serde(default)]
    pub page_token: String,
}

/// `POST /v1/portfolios/{portfolio_id}/orders` with the `order` as the body: 201 and the
/// order's URL. The `Idempotency-Key` header becomes the request's `idempotency_key`.
pub async fn place_order(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: QueryResult<NoParams>,
    headers: HeaderMap,
    payload: Result<Json<Order>, JsonRejection>,
) -> Result<Response, Problem> {
    query(params)?;
    let Json(order) = body(payload)?;
    let idempotency_key = idempotency_key(&headers, &order.idempotency_key)?;
    let message = PlaceOrderRequest {
        portfolio_id,
        order: Some(order),
        idempotency_key,
    };
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.place_order(request_for(&caller, message)?)).await?;
    let location = format!(
        "/v1/portfolios/{}/orders/{}",
        response.portfolio_id, response.id
    );
    created(response, &location, backend)
}

/// The idempotency key of a placement: the header's, or the body's `idempotency_key`; both
/// given and different is a 400, as is a header that is repeated or not visible ASCII.
fn idempotency_key(headers: &HeaderMap, in_body: &str) -> Result<String, Problem> {
    let bad_header = |reason: &str| {
        invalid(
            "idempotency_key",
            format!("the Idempotency-Key header {reason}"),
        )
    };
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let header = match (values.next(), values.next()) {
        (None, _) => None,
        (Some(_), Some(_)) => return Err(bad_header("is repeated")),
        (Some(value), None) => {
            let text = value
                .to_str()
                .map_err(|_| bad_header("is not visible ASCII"))?
                .trim();
            if text.is_empty() {
                return Err(bad_header("is empty"));
            }
            Some(text)
        }
    };
    let in_body = in_body.trim();
    match header {
        None => Ok(in_body.to_owned()),
        Some(key) if in_body.is_empty() || in_body == key => Ok(key.to_owned()),
        Some(key) => Err(bad_header(&format!(
            "{key:?} and the body's idempotency_key {in_body:?} disagree"
        ))),
    }
}

/// `GET /v1/portfolios/{portfolio_id}/orders`: orders of a portfolio, newest first.
pub async fn list_orders(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path(portfolio_id): Path<String>,
    params: QueryResult<OrderListParams>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let message = ListOrdersRequest {
        portfolio_id,
        status: order_status(&params.status)?,
        symbol: params.symbol,
        start_time: timestamp("start_time", &params.start_time)?,
        end_time: timestamp("end_time", &params.end_time)?,
        page_size: params.page_size,
        page_token: params.page_token,
    };
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.list_orders(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// The `status=` filter: empty for none, else an enum name in full or short, any case.
fn order_status(text: &str) -> Result<i32, Problem> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(OrderStatus::Unspecified as i32);
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("ORDER_STATUS_") {
        upper
    } else {
        format!("ORDER_STATUS_{upper}")
    };
    match OrderStatus::from_str_name(&name) {
        Some(status) if status != OrderStatus::Unspecified => Ok(status as i32),
        _ => Err(invalid(
            "status",
            format!(
                "{text:?} is not an order status; expected one of ORDER_STATUS_ACCEPTED, \
                 ORDER_STATUS_PARTIALLY_FILLED, ORDER_STATUS_FILLED, ORDER_STATUS_CANCELED, \
                 ORDER_STATUS_REJECTED, or the short form such as filled"
            ),
        )),
    }
}

/// An optional RFC 3339 time filter.
fn timestamp(field: &str, text: &str) -> Result<Option<pbjson_types::Timestamp>, Problem> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|time| Some(to_timestamp(time.with_timezone(&Utc))))
        .map_err(|_| {
            invalid(
                field,
                format!("{text:?} is not an RFC 3339 time, e.g. 2022-12-28T00:00:00Z"),
            )
        })
}

/// `GET /v1/portfolios/{portfolio_id}/orders/{order_id}`.
pub async fn get_order(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path((portfolio_id, order_id)): Path<(String, String)>,
    params: QueryResult<NoParams>,
) -> Result<Response, Problem> {
    query(params)?;
    let message = GetOrderRequest {
        portfolio_id,
        order_id,
    };
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.get_order(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// `POST /v1/portfolios/{portfolio_id}/orders/{order_id}:<method>`: the order's custom methods,
/// of which there is one, `:cancel`. Any other suffix, or none, is a 404 like an unknown route.
pub async fn order_action(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    Path((portfolio_id, order_action)): Path<(String, String)>,
    params: QueryResult<NoParams>,
    payload: Bytes,
) -> Result<Response, Problem> {
    let order_id = match order_action.rsplit_once(':') {
        Some((order_id, CANCEL)) if !order_id.is_empty() => order_id.to_owned(),
        _ => {
            return Err(Problem::new(
                Code::NotFound,
                format!(
                    "no such route: POST /v1/portfolios/{portfolio_id}/orders/{order_action}; \
                     an order's only method is POST .../orders/{{order_id}}:cancel"
                ),
            ));
        }
    };
    query(params)?;
    let message = cancel_request(portfolio_id, order_id, &payload)?;
    let mut client = client(&state, &caller);
    let (response, backend) = timed(client.cancel_order(request_for(&caller, message)?)).await?;
    Ok(json(response, backend))
}

/// The `CancelOrderRequest` of a `:cancel`: its body (`body: "*"`) may be empty or `{}`, and
/// may repeat the path's identifiers but not contradict them.
fn cancel_request(
    portfolio_id: String,
    order_id: String,
    payload: &[u8],
) -> Result<CancelOrderRequest, Problem> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(CancelOrderRequest {
            portfolio_id,
            order_id,
        });
    }
    let in_body: CancelOrderRequest = serde_json::from_slice(payload).map_err(|error| {
        Problem::new(
            Code::InvalidArgument,
            format!("Failed to deserialize the JSON body: {error}"),
        )
    })?;
    for (field, path, body) in [
        ("portfolio_id", &portfolio_id, &in_body.portfolio_id),
        ("order_id", &order_id, &in_body.order_id),
    ] {
        if !body.is_empty() && body != path {
            return Err(invalid(
                field,
                format!("the body's {body:?} disagrees with the path's {path:?}"),
            ));
        }
    }
    Ok(CancelOrderRequest {
        portfolio_id,
        order_id,
    })
}

/// A 400 about one request field: `field: reason` in the detail, and the field under `errors`.
fn invalid(field: &str, reason: String) -> Problem {
    Problem::new(Code::InvalidArgument, format!("{field}: {reason}")).with_errors(vec![
        FieldViolation {
            field: field.to_owned(),
            reason,
        },
    ])
}
