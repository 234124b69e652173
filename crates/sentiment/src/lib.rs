//! The sentiment service: finance-aware text scoring, news ingestion and per-symbol sentiment.
//!
//! Texts are scored by a [`Scorer`] (the finvader lexicon by default) through the [`Predictor`],
//! which caches every prediction by (model, normalised text). News articles are scored once at
//! ingest; a symbol's sentiment over a window is aggregated from its articles on read.
//! [`serve`] runs the gRPC server until its shutdown future resolves.

pub mod args;
pub mod error;
pub mod import;
pub mod lexicon;
pub mod news;
pub mod predict;
pub mod rollup;
pub mod scorer;
pub mod service;
pub mod synthetic;
pub mod text;
#[cfg(feature = "transformer")]
pub mod transformer;
pub mod window;

use std::future::Future;
use std::sync::Arc;

use bourse_cache::Cache;
use bourse_proto::sentiment::v1::sentiment_service_server::SentimentServiceServer;
use bourse_runtime::grpc_server::{GrpcServer, GrpcServerConfig, ServeError};
use bourse_runtime::http::HealthState;
use bourse_store::Db;
use tokio::net::TcpListener;

pub use lexicon::LexiconScorer;
pub use predict::Predictor;
pub use scorer::{Score, Scorer};
pub use service::Sentiment;

/// The name this service reports in logs, metrics and health checks.
pub const SERVICE_NAME: &str = "sentiment";

/// Serves the sentiment gRPC API on `listener` with the default lexicon scorer and input limits
/// until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    db: Db,
    cache: Cache,
    config: GrpcServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let predictor = Predictor::new(Arc::new(LexiconScorer::default()), cache);
    let sentiment = Sentiment::new(db, predictor, text::DEFAULT_MAX_TEXT_CHARS);
    serve_service(listener, sentiment, config, shutdown).await
}

/// Serves an already built [`Sentiment`] (any scorer, any limits) until `shutdown` resolves.
pub async fn serve_service(
    listener: TcpListener,
    sentiment: Sentiment,
    config: GrpcServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let readiness = HealthState::new().with_check("database", sentiment.db().readiness_check());
    // PostgreSQL's daily rollup is refreshed while the server runs (a no-op on SQLite).
    let refresher = (sentiment.db().backend() == bourse_store::Backend::Postgres).then(|| {
        tokio::spawn(rollup::refresh_forever(
            sentiment.db().clone(),
            rollup::REFRESH_EVERY,
        ))
    });
    let server = GrpcServer::new(SERVICE_NAME, config);
    let max_bytes = server.max_message_bytes();
    let served = server
        .file_descriptor_set(bourse_proto::FILE_DESCRIPTOR_SET)
        .add_service(
            SentimentServiceServer::new(sentiment)
                .max_decoding_message_size(max_bytes)
                .max_encoding_message_size(max_bytes),
        )
        .readiness(readiness)
        .serve(listener, shutdown)
        .await;
    if let Some(refresher) = refresher {
        refresher.abort();
    }
    served
}
