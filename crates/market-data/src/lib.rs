//! The market-data service: instruments, latest quotes, OHLCV history, quote streams and bulk
//! imports, over PostgreSQL or the embedded SQLite store, read through the two-level cache.
//!
//! [`serve`] runs the gRPC server until its shutdown future resolves; [`load_demo`] fills an
//! empty store with the demo data set.

pub mod demo;
pub mod error;
pub mod quotes;
pub mod service;
pub mod store;
pub mod symbol;

use std::future::Future;

use bourse_cache::Cache;
use bourse_proto::market_data::v1::market_data_service_server::MarketDataServiceServer;
use bourse_runtime::grpc_server::{GrpcServer, GrpcServerConfig, ServeError};
use bourse_runtime::http::HealthState;
use bourse_store::{Db, StoreError};
use tokio::net::TcpListener;

pub use quotes::QuoteReader;
pub use service::MarketData;

/// The name this service reports in logs, metrics and health checks.
pub const SERVICE_NAME: &str = "market-data";

/// Serves the market-data gRPC API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    db: Db,
    cache: Cache,
    config: GrpcServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let service = MarketData::new(QuoteReader::new(db.clone(), cache));
    let server = GrpcServer::new(SERVICE_NAME, config);
    let max_bytes = server.max_message_bytes();
    server
        .file_descriptor_set(bourse_proto::FILE_DESCRIPTOR_SET)
        .add_service(
            MarketDataServiceServer::new(service)
                .max_decoding_message_size(max_bytes)
                .max_encoding_message_size(max_bytes),
        )
        .readiness(HealthState::new().with_check("database", move || {
            let db = db.clone();
            async move { db.ping().await.map_err(|e| e.to_string()) }
        }))
        .serve(listener, shutdown)
        .await
}

/// What [`load_demo`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    pub instruments: usize,
    pub bars: usize,
    pub quotes: usize,
}

/// Why the demo data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadDemoError {
    #[error(transparent)]
    Data(#[from] demo::DemoDataError),
    #[error("storing the demo data")]
    Store(#[from] StoreError),
}

/// Loads the demo data set into an empty store; returns `None`, changing nothing, when the store
/// already holds instruments.
pub async fn load_demo(db: &Db) -> Result<Option<DemoSummary>, LoadDemoError> {
    if store::has_instruments(db).await? {
        return Ok(None);
    }
    let data = demo::build()?;
    store::upsert_instruments(db, &data.instruments).await?;
    store::upsert_bars(db, &data.bars).await?;
    store::upsert_quotes(db, &data.quotes).await?;
    Ok(Some(DemoSummary {
        instruments: data.instruments.len(),
        bars: data.bars.len(),
        quotes: data.quotes.len(),
    }))
}
