//! Integration tests of the market-data service: the real server on a loopback port, called
//! over gRPC, on both storage backends.

mod quotes;
mod server;

use bourse_cache::{Cache, CacheConfig};
use bourse_market_data::store::{self, InstrumentRow, QuoteRow};
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
}

impl TestApp {
    /// Serves market data over `db` with an in-process cache.
    async fn spawn(db: &Db) -> Self {
        let (db, cache) = (db.clone(), Cache::in_process(CacheConfig::default()));
        let served = serve_on_loopback(move |listener, shutdown| {
            bourse_market_data::serve(listener, db, cache, GrpcServerConfig::default(), shutdown)
        })
        .await;
        let client = MarketDataServiceClient::new(served.channel.clone());
        Self { served, client }
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
