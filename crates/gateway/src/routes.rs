//! The REST routes, one module per backend service, and the extractor rejections they share.

pub mod market_data;
pub mod portfolio;
pub mod risk;
pub mod sentiment;

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use tonic::Code;

use crate::problem::Problem;

/// Query parameters, or a 400 problem that says what was wrong with them.
pub fn query<T>(params: Result<Query<T>, QueryRejection>) -> Result<Query<T>, Problem> {
    params.map_err(|rejection| Problem::new(Code::InvalidArgument, rejection.body_text()))
}

/// A JSON body, or a 400 problem that says what was wrong with it.
pub fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<Json<T>, Problem> {
    payload.map_err(|rejection| Problem::new(Code::InvalidArgument, rejection.body_text()))
}
