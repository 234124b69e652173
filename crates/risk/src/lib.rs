//! The risk service: Value at Risk, expected shortfall and portfolio statistics, with stored
//! reports per portfolio.
//!
//! [`serve`] runs the gRPC server until its shutdown future resolves.
//!
//! A request flows through [`request`] (parameters and positions parsed, defaults applied),
//! [`engine`] (portfolio and history read from the other services, computed on the rayon pool,
//! stored and cached), [`history`] (the common window of closes) and [`analysis`] (the report),
//! which calls the numerics: [`returns`], [`var`], [`covariance`], [`montecarlo`], [`stats`].
//! Conventions are stated in each numeric module and in `proto/bourse/risk/v1/risk.proto`.

pub mod analysis;
pub mod covariance;
pub mod engine;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod history;
pub mod montecarlo;
pub mod params;
pub mod request;
pub mod returns;
pub mod service;
pub mod stats;
pub mod store;
pub mod upstream;
pub mod var;

use std::future::Future;

use bourse_cache::Cache;
use bourse_proto::risk::v1::risk_service_server::RiskServiceServer;
use bourse_runtime::grpc_server::{GrpcServer, GrpcServerConfig, ServeError};
use bourse_runtime::http::HealthState;
use bourse_store::Db;
use tokio::net::TcpListener;

pub use engine::RiskEngine;
pub use upstream::Upstreams;

/// The name this service reports in logs, metrics and health checks.
pub const SERVICE_NAME: &str = "risk";

/// Serves the risk gRPC API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    db: Db,
    cache: Cache,
    upstreams: Upstreams,
    config: GrpcServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let server = GrpcServer::new(SERVICE_NAME, config);
    let max_bytes = server.max_message_bytes();
    server
        .file_descriptor_set(bourse_proto::FILE_DESCRIPTOR_SET)
        .add_service(
            RiskServiceServer::new(RiskEngine::new(db.clone(), cache, upstreams))
                .max_decoding_message_size(max_bytes)
                .max_encoding_message_size(max_bytes),
        )
        .readiness(HealthState::new().with_check("database", db.readiness_check()))
        .serve(listener, shutdown)
        .await
}
