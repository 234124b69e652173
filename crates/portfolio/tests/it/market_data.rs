//! `MarketDataClient` against real market-data servers: each tier's calls go to that tier's
//! pool, and a batch answers every quoted symbol while leaving unknown ones out.

use bourse_cache::{Cache, CacheConfig};
use bourse_market_data::QuoteBus;
use bourse_portfolio::MarketDataClient;
use bourse_portfolio::quotes::QuoteSource;
use bourse_runtime::grpc_client::ClientConfig;
use bourse_runtime::grpc_server::{GrpcServerConfig, ServeError};
use bourse_runtime::tier::Tier;
use bourse_runtime::upstream::MarketDataPools;
use bourse_store::Db;
use bourse_test_support::grpc::{Served, serve_on_loopback};
use bourse_test_support::sqlite_db;

async fn market_data(db: &Db) -> Served<ServeError> {
    let db = db.clone();
    serve_on_loopback(move |listener, shutdown| {
        let cache = Cache::in_process(CacheConfig::default());
        bourse_market_data::serve(
            listener,
            db,
            cache,
            QuoteBus::default(),
            GrpcServerConfig::default(),
            shutdown,
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn each_tier_asks_its_own_pool_in_one_batch() {
    // The premium pool's store has the demo quotes; the shared pool's store is empty.
    let (shared_db, premium_db) = (sqlite_db().await, sqlite_db().await);
    bourse_market_data::load_demo(&premium_db.db)
        .await
        .expect("demo data")
        .expect("loaded into the empty store");
    let (shared, premium) = (
        market_data(&shared_db.db).await,
        market_data(&premium_db.db).await,
    );
    let pools = MarketDataPools {
        market_data_shared: vec![format!("http://{}", shared.addr)],
        market_data_premium: vec![format!("http://{}", premium.addr)],
    };
    let client = MarketDataClient::new(&pools, &ClientConfig::default()).expect("client");
    let symbols = ["AAPL", "MSFT", "NOSUCH"].map(String::from);

    let from_premium = client
        .quotes(Tier::Premium, None, &symbols)
        .await
        .expect("premium batch");
    let mut found: Vec<_> = from_premium.keys().map(String::as_str).collect();
    found.sort_unstable();
    assert_eq!(found, ["AAPL", "MSFT"], "unknown symbols are left out");
    assert_eq!(from_premium["AAPL"].last, 125.674);
    let single = client.quote(Tier::Premium, "AAPL").await.expect("quote");
    assert_eq!(single.map(|quote| quote.last), Some(125.674));

    let from_shared = client
        .quotes(Tier::Shared, None, &symbols)
        .await
        .expect("shared batch");
    assert!(
        from_shared.is_empty(),
        "shared calls reach the shared pool: {from_shared:?}"
    );
    assert_eq!(
        client.quote(Tier::Shared, "AAPL").await.expect("quote"),
        None
    );
}
