//! The market-data service: instruments, latest quotes, OHLCV history (paged, or the newest bars
//! of many symbols at once), quote streams and bulk imports, over PostgreSQL or the embedded
//! SQLite store, read through the two-level cache.
//!
//! [`serve`] runs the gRPC server until its shutdown future resolves; [`load_demo`] fills an
//! empty store with the demo data set.

pub mod adjust;
pub mod aggregate;
pub mod bars;
pub mod bus;
pub mod demo;
pub mod error;
pub mod feed;
pub mod import;
pub mod ingest;
pub mod instruments;
pub mod interval;
pub mod quotes;
pub mod recent;
pub mod relay;
pub mod service;
pub mod store;
pub mod stream;
pub mod symbol;
pub mod warm;

use std::future::Future;

use bourse_cache::Cache;
use bourse_proto::market_data::v1::market_data_service_server::MarketDataServiceServer;
use bourse_runtime::grpc_server::{GrpcServer, GrpcServerConfig, ServeError};
use bourse_runtime::http::HealthState;
use bourse_store::{Db, StoreError};
use tokio::net::TcpListener;

pub use bus::QuoteBus;
pub use ingest::Ingestor;
pub use quotes::QuoteReader;
pub use service::MarketData;

/// The name this service reports in logs, metrics and health checks.
pub const SERVICE_NAME: &str = "market-data";

/// Serves the market-data gRPC API on `listener` until `shutdown` resolves; quote streams
/// follow `bus` and end when shutdown starts. Warms the quote cache alongside (see [`warm`]).
pub async fn serve(
    listener: TcpListener,
    db: Db,
    cache: Cache,
    bus: QuoteBus,
    config: GrpcServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let warming = warm::warm_quotes_logged(db.clone(), cache.clone());
    let service = MarketData::new(db.clone(), cache, bus);
    let streams = service.clone();
    let shutdown = async move {
        shutdown.await;
        streams.close_streams();
    };
    let server = GrpcServer::new(SERVICE_NAME, config);
    let max_bytes = server.max_message_bytes();
    let server = server
        .file_descriptor_set(bourse_proto::FILE_DESCRIPTOR_SET)
        .add_service(
            MarketDataServiceServer::new(service)
                .max_decoding_message_size(max_bytes)
                .max_encoding_message_size(max_bytes),
        )
        .readiness(HealthState::new().with_check("database", db.readiness_check()))
        .serve(listener, shutdown);
    let (served, ()) = tokio::join!(server, warming);
    served
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
    #[error("importing the demo data")]
    Import(#[from] import::ImportError),
    /// A vendored or generated row failed the import checks: a packaging defect.
    #[error("the demo {what} were refused: {first}")]
    Refused { what: &'static str, first: String },
}

/// Loads the demo data set into an empty store; returns `None`, changing nothing, when the store
/// already holds instruments.
pub async fn load_demo(db: &Db) -> Result<Option<DemoSummary>, LoadDemoError> {
    if store::has_instruments(db).await? {
        return Ok(None);
    }
    let data = demo::build()?;
    // Through the import path like any other data, all or nothing: a bad row is a defect.
    let options = import::ImportOptions {
        all_or_nothing: true,
        max_buffered_rows: data.bars.len(),
    };
    let instruments =
        import::import_instruments(db, data.instruments.into_iter().map(Ok), options).await?;
    refused_demo("instruments", &instruments)?;
    let mut bars = import::BarImport::new(db.clone(), options);
    bars.push(data.bars.into_iter().map(Ok)).await?;
    let bars = bars.finish().await?;
    refused_demo("bars", &bars)?;
    Ok(Some(DemoSummary {
        instruments: usize::try_from(instruments.imported).unwrap_or(usize::MAX),
        bars: usize::try_from(bars.imported).unwrap_or(usize::MAX),
        quotes: bars.quotes_refreshed.len(),
    }))
}

fn refused_demo(what: &'static str, report: &import::ImportReport) -> Result<(), LoadDemoError> {
    match report.errors.first() {
        Some(error) if report.refused => Err(LoadDemoError::Refused {
            what,
            first: format!("row {} {}: {}", error.line, error.field, error.reason),
        }),
        _ => Ok(()),
    }
}
