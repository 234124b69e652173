//! The sentiment service: finance-aware text scoring, news ingestion and per-symbol sentiment.
//!
//! [`serve`] runs the gRPC server until its shutdown future resolves.

pub mod error;
pub mod lexicon;
pub mod service;

use std::future::Future;

use bourse_proto::sentiment::v1::sentiment_service_server::SentimentServiceServer;
use bourse_runtime::grpc_server::{GrpcServer, GrpcServerConfig, ServeError};
use bourse_runtime::http::HealthState;
use bourse_store::Db;
use tokio::net::TcpListener;

pub use service::Sentiment;

/// The name this service reports in logs, metrics and health checks.
pub const SERVICE_NAME: &str = "sentiment";

/// Serves the sentiment gRPC API on `listener` until `shutdown` resolves.
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
            SentimentServiceServer::new(Sentiment::default())
                .max_decoding_message_size(max_bytes)
                .max_encoding_message_size(max_bytes),
        )
        .readiness(HealthState::new().with_check("database", db.readiness_check()))
        .serve(listener, shutdown)
        .await
}
