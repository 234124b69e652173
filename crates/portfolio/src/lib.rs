//! The portfolio service: a paper-trading book of portfolios, orders and positions per account.
//!
//! [`serve`] runs the gRPC server until its shutdown future resolves, with quotes from the
//! market-data pools ([`market_data`]), cached reads ([`read_cache`]) and the limit-order
//! watcher ([`limit`]) alongside.

pub mod book;
pub mod decimal;
pub mod error;
pub mod limit;
pub mod market_data;
pub mod order;
pub mod order_store;
pub mod position;
pub mod quotes;
pub mod read_cache;
pub mod service;
pub mod store;
pub mod valuation;

use std::future::Future;
use std::sync::Arc;

use bourse_cache::Cache;
use bourse_proto::portfolio::v1::portfolio_service_server::PortfolioServiceServer;
use bourse_runtime::grpc_server::{GrpcServer, GrpcServerConfig, ServeError};
use bourse_runtime::http::HealthState;
use bourse_store::Db;
use tokio::net::TcpListener;

pub use limit::{LimitWatcher, WatcherConfig};
pub use market_data::MarketDataClient;
pub use quotes::StaticQuotes;
pub use service::PortfolioBook;

/// The name this service reports in logs, metrics and health checks.
pub const SERVICE_NAME: &str = "portfolio";

/// Serves the portfolio gRPC API on `listener` until `shutdown` resolves: quotes from
/// `market_data` (asked in the tier each request arrived on), reads cached in `cache`. Use
/// [`serve_book`] to give the book another [`quotes::QuoteSource`].
pub async fn serve(
    listener: TcpListener,
    db: Db,
    cache: Cache,
    quotes: MarketDataClient,
    config: GrpcServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let watcher = LimitWatcher::new(
        db.clone(),
        Arc::new(quotes.clone()),
        Some(cache.clone()),
        WatcherConfig::default(),
    );
    let book = PortfolioBook::new(db.clone(), Arc::new(quotes))
        .with_cache(cache)
        .with_watcher(watcher.clone());
    // The watcher stops when shutdown starts (or the server fails and drops the sender).
    let (stop_watcher, stopped) = tokio::sync::watch::channel(false);
    let watching = tokio::spawn(watcher.run(stopped));
    let shutdown = async move {
        shutdown.await;
        let _ = stop_watcher.send(true);
    };
    let served = serve_book(listener, db, book, config, shutdown).await;
    if let Err(error) = watching.await {
        tracing::error!(%error, "the limit-order watcher panicked");
    }
    served
}

/// Serves `book` (built on `db`, whose readiness the health checks report) on `listener`
/// until `shutdown` resolves.
pub async fn serve_book(
    listener: TcpListener,
    db: Db,
    book: PortfolioBook,
    config: GrpcServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let server = GrpcServer::new(SERVICE_NAME, config);
    let max_bytes = server.max_message_bytes();
    server
        .file_descriptor_set(bourse_proto::FILE_DESCRIPTOR_SET)
        .add_service(
            PortfolioServiceServer::new(book)
                .max_decoding_message_size(max_bytes)
                .max_encoding_message_size(max_bytes),
        )
        .readiness(HealthState::new().with_check("database", db.readiness_check()))
        .serve(listener, shutdown)
        .await
}
