//! The risk service: Value at Risk, expected shortfall and portfolio statistics, with stored
//! reports per portfolio.
//!
//! [`serve`] runs the gRPC server until its shutdown future resolves.
//!
//! STATUS (issue #5 is in progress: the numerical core has landed, the RPCs have not):
//! - Done and tested (unit tests in each module, reference values from
//!   `scripts/risk_reference.py`, numpy/scipy on the vendored data, equal-weight 20 stocks, last
//!   504 returns, within 1e-9 relative): `returns` (simple, portfolio, overlapping h-day),
//!   `params` (`Confidence`, `Horizon`, `CalcError`), `var` (historical and parametric VaR/ES,
//!   Cornish-Fisher VaR, Gaussian marginal/component VaR summing to portfolio VaR), `stats`
//!   (volatility, Sharpe, Sortino, max drawdown with indices, beta, correlation, moments),
//!   `montecarlo` (Cholesky MC with eigen-clipped nearest-PSD fallback, seeded StdRng,
//!   convergence to parametric within 1.5 %; bootstrap variant, close to historical).
//! - Not done: Cornish-Fisher expected shortfall (e.g. Boudt-Peterson-Croux modified ES); MC/
//!   bootstrap component VaR (only Gaussian Euler allocation exists); correlation matrix of the
//!   holdings as an API value (`montecarlo::covariance_matrix` gives the covariance); mapping
//!   `CalcError` to `RiskError`/FAILED_PRECONDITION with symbol names; drawdown indices to dates;
//!   all gRPC wiring in `service.rs`; criterion benchmarks (MC 10k paths x 20 holdings not yet
//!   timed); the fixtures module is test-only (`src/fixtures.rs`).

pub mod error;
#[cfg(test)]
mod fixtures;
pub mod montecarlo;
pub mod params;
pub mod returns;
pub mod service;
pub mod stats;
pub mod store;
pub mod var;

use std::future::Future;

use bourse_proto::risk::v1::risk_service_server::RiskServiceServer;
use bourse_runtime::grpc_server::{GrpcServer, GrpcServerConfig, ServeError};
use bourse_runtime::http::HealthState;
use bourse_store::Db;
use tokio::net::TcpListener;

pub use service::RiskEngine;

/// The name this service reports in logs, metrics and health checks.
pub const SERVICE_NAME: &str = "risk";

/// Serves the risk gRPC API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    db: Db,
    config: GrpcServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let server = GrpcServer::new(SERVICE_NAME, config);
    let max_bytes = server.max_message_bytes();
    server
        .file_descriptor_set(bourse_proto::FILE_DESCRIPTOR_SET)
        .add_service(
            RiskServiceServer::new(RiskEngine::new(db.clone()))
                .max_decoding_message_size(max_bytes)
                .max_encoding_message_size(max_bytes),
        )
        .readiness(HealthState::new().with_check("database", db.readiness_check()))
        .serve(listener, shutdown)
        .await
}
