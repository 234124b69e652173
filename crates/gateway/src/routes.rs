//! The REST routes, one module per backend service, and the extractor rejections they share.

pub mod market_data;
pub mod portfolio;
pub mod risk;
pub mod sentiment;

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use serde::Deserialize;
use tonic::Code;

use crate::problem::Problem;

/// Query parameters, or a 400 problem that says what was wrong with them.
pub fn query<T>(params: Result<Query<T>, QueryRejection>) -> Result<Query<T>, Problem> {
    params.map_err(|rejection| Problem::new(Code::InvalidArgument, rejection.body_text()))
}

/// A JSON body, or a problem that says what was wrong with it: 400, or 413 when the body is over
/// the gateway's size limit.
pub fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<Json<T>, Problem> {
    payload.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::limits::too_large()
        } else {
            Problem::new(Code::InvalidArgument, rejection.body_text())
        }
    })
}

/// The query of a route that takes no parameters: any parameter is a 400 naming it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// The query rejection type every handler receives its parameters with.
pub type QueryResult<T> = Result<Query<T>, QueryRejection>;
