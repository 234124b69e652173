//! Integration tests of the portfolio service over real gRPC on both storage backends.

mod book;
mod concurrency;
mod limit;
mod list;
mod market_data;
mod orders;
mod trading;
mod valuation;

use std::sync::Arc;

use bourse_portfolio::store::{self, PortfolioRow};
use bourse_portfolio::{PortfolioBook, StaticQuotes};
use bourse_proto::portfolio::v1::portfolio_service_client::PortfolioServiceClient;
use bourse_runtime::caller::with_account;
use bourse_runtime::grpc_server::{GrpcServerConfig, ServeError};
use bourse_store::Db;
use bourse_test_support::grpc::{Served, serve_on_loopback};
use chrono::{DateTime, Duration};
use tonic::transport::Channel;

struct TestApp {
    served: Served<ServeError>,
    client: PortfolioServiceClient<Channel>,
    /// The quotes market orders fill at; set them before placing.
    quotes: StaticQuotes,
}

impl TestApp {
    async fn spawn(db: &Db) -> Self {
        let db = db.clone();
        let quotes = StaticQuotes::new();
        let book = PortfolioBook::new(db.clone(), Arc::new(quotes.clone()));
        let served = serve_on_loopback(move |listener, shutdown| {
            bourse_portfolio::serve_book(listener, db, book, GrpcServerConfig::default(), shutdown)
        })
        .await;
        let client = PortfolioServiceClient::new(served.channel.clone());
        Self {
            served,
            client,
            quotes,
        }
    }
}

/// A request acting for `account`, as the gateway sends it.
fn as_account<T>(account: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    with_account(&mut request, account).expect("valid account");
    request
}

/// Stores portfolio `n` of `account`, created `n` minutes after a fixed time.
async fn seed_portfolio(db: &Db, account: &str, n: i64) -> String {
    let created_at = DateTime::from_timestamp(1_700_000_000, 0)
        .expect("valid")
        .naive_utc()
        + Duration::minutes(n);
    let id = format!("{account}-{n:03}");
    let row = PortfolioRow {
        id: id.clone(),
        account: account.to_owned(),
        name: format!("portfolio {n}"),
        base_currency: "USD".to_owned(),
        cash: "1000.00".to_owned(),
        allow_short: false,
        version: 0,
        created_at,
        updated_at: created_at,
    };
    store::insert_portfolio(db, &row)
        .await
        .expect("store portfolio");
    id
}
