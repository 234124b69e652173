//! Integration tests of the market-data service: the real server on a loopback port, called
//! over gRPC, on both storage backends.

mod aggregation;
mod bars;
mod import;
mod instruments;
mod partitions;
mod quotes;
mod recent_bars;
mod server;
mod stream;

use bourse_cache::{Cache, CacheConfig};
use bourse_market_data::store::{self, InstrumentRow, QuoteRow};
use bourse_market_data::{Ingestor, QuoteBus};
use bourse_proto::market_data::v1::market_data_service_client::MarketDataServiceClient;
use bourse_runtime::grpc_server::{GrpcServerConfig, ServeError};
use bourse_store::Db;
use bourse_test_support::grpc::{Served, serve_on_loopback};
use chrono::NaiveDate;
use tonic::transport::Channel;

/// The market-data server under test, with a client connected to it.
struct TestApp {
    served: Served<ServeError>,
    client: MarketDataServiceClient<Channel>,
    /// The server's quote bus: what its streams follow.
    bus: QuoteBus,
    /// The ingest path into the server's store, cache and bus.
    ingestor: Ingestor,
}

impl TestApp {
    /// Serves market data over `db` with an in-process cache.
    async fn spawn(db: &Db) -> Self {
        let (db, cache) = (db.clone(), Cache::in_process(CacheConfig::default()));
        let bus = QuoteBus::default();
        let ingestor = Ingestor::new(db.clone(), cache.clone(), bus.clone());
        let served_bus = bus.clone();
        let served = serve_on_loopback(move |listener, shutdown| {
            let config = GrpcServerConfig::default();
            bourse_market_data::serve(listener, db, cache, served_bus, config, shutdown)
        })
        .await;
        let client = MarketDataServiceClient::new(served.channel.clone());
        Self {
            served,
            client,
            bus,
            ingestor,
        }
    }
}

/// Stores `symbol` with a quote whose last price is `last` and previous close `prev_close`.
async fn seed_quote(db: &Db, symbol: &str, last: f64, prev_close: f64) {
    let ts = NaiveDate::from_ymd_opt(2024, 3, 15)
        .and_then(|d| d.and_hms_opt(20, 0, 0))
        .expect("valid time");
    let instrument = InstrumentRow {
        symbol: symbol.to_owned(),
        name: format!("{symbol} Inc."),
        exchange: "XNAS".to_owned(),
        currency: "USD".to_owned(),
        asset_class: "equity".to_owned(),
        sector: None,
        active: true,
        updated_at: ts,
    };
    let quote = QuoteRow {
        symbol: symbol.to_owned(),
        last,
        bid: Some(last - 0.01),
        ask: Some(last + 0.01),
        bid_size: Some(100.0),
        ask_size: Some(200.0),
        day_open: Some(prev_close),
        day_high: Some(last.max(prev_close)),
        day_low: Some(last.min(prev_close)),
        prev_close: Some(prev_close),
        volume: 1_000.0,
        ts,
    };
    store::upsert_instruments(db, &[instrument])
        .await
        .expect("store instrument");
    store::upsert_quotes(db, &[quote])
        .await
        .expect("store quote");
}
