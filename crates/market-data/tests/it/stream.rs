//! The live path: ingest (write-through to the cache), StreamQuotes, the simulated feed and the
//! Redis relay between processes.

use std::time::Duration;

use bourse_cache::{Cache, CacheConfig, DataClass, Tier};
use bourse_market_data::feed::{SimulatedFeed, SimulatedMarket, SimulationConfig};
use bourse_market_data::ingest::{MinuteBar, Tick, run_feed};
use bourse_market_data::relay::{self, RelayConfig, RelayPublisher};
use bourse_market_data::store::{self, BarRow, InstrumentRow};
use bourse_market_data::{Ingestor, QuoteBus};
use bourse_proto::market_data::v1::{GetQuoteRequest, Quote, QuoteUpdate, StreamQuotesRequest};
use bourse_store::schema::bars;
use bourse_store::{Db, StoreError, with_conn};
use bourse_test_support::{redis_url, store_test, unique_prefix};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::{ExpressionMethods as _, QueryDsl as _, SelectableHelper as _};
use diesel_async::RunQueryDsl as _;
use prost::Message as _;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Streaming};

use crate::{TestApp, seed_quote};

/// Bounds every wait on something asynchronous: reached only when the behaviour is broken.
const PATIENCE: Duration = Duration::from_secs(10);

fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 3, 18)
        .and_then(|d| d.and_hms_opt(h, m, s))
        .expect("valid time")
}

/// A tick of `symbol` at `last`, with no bar.
fn tick(symbol: &str, last: f64) -> Tick {
    Tick {
        symbol: symbol.parse().expect("symbol"),
        ts: at(14, 30, 5),
        last,
        bid: Some(last - 0.01),
        ask: Some(last + 0.01),
        bid_size: Some(100.0),
        ask_size: Some(100.0),
        day_open: Some(last),
        day_high: Some(last),
        day_low: Some(last),
        prev_close: Some(100.0),
        volume: 500.0,
        bar: None,
    }
}

/// The next message of `stream`, which must come within [`PATIENCE`].
async fn next(stream: &mut Streaming<QuoteUpdate>) -> Option<QuoteUpdate> {
    tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("a message in time")
        .expect("a healthy stream")
}

fn summary(update: Option<QuoteUpdate>) -> Option<(String, f64, u64)> {
    update.map(|u| {
        let quote = u.quote.expect("a quote");
        (quote.symbol, quote.last, u.skipped)
    })
}

async fn open(app: &mut TestApp, symbols: &[&str]) -> Streaming<QuoteUpdate> {
    app.client
        .stream_quotes(StreamQuotesRequest {
            symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        })
        .await
        .expect("stream opens")
        .into_inner()
}

/// Waits, within [`PATIENCE`], until `bus` has `count` subscribers.
async fn subscribers_become(bus: &QuoteBus, count: usize) {
    tokio::time::timeout(PATIENCE, async {
        while bus.subscriber_count() != count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{} subscribers, expected {count}", bus.subscriber_count()));
}

store_test!(
    a_stream_sends_the_current_quotes_then_updates_of_its_symbols,
    |db| {
        seed_quote(db, "AAPL", 110.0, 100.0).await;
        seed_quote(db, "MSFT", 400.0, 390.0).await;
        let mut app = TestApp::spawn(db).await;
        let mut stream = open(&mut app, &["aapl", "NEW"]).await;

        assert_eq!(
            summary(next(&mut stream).await),
            Some(("AAPL".into(), 110.0, 0))
        );
        // MSFT first: a stream that did not filter would show it first.
        let round = vec![tick("MSFT", 401.0), tick("AAPL", 111.0)];
        app.ingestor.ingest(round).await.expect("ingest");
        assert_eq!(
            summary(next(&mut stream).await),
            Some(("AAPL".into(), 111.0, 0))
        );
        // A tick of a symbol that is no instrument is dropped; once listed, it is followed.
        let report = app
            .ingestor
            .ingest(vec![tick("NEW", 4.0)])
            .await
            .expect("ingest");
        assert_eq!((report.quotes, report.rejected), (0, 1));
        list_instrument(db, "NEW").await;
        let round = vec![tick("MSFT", 402.0), tick("NEW", 5.0), tick("AAPL", 112.0)];
        app.ingestor.ingest(round).await.expect("ingest");
        assert_eq!(
            summary(next(&mut stream).await),
            Some(("NEW".into(), 5.0, 0))
        );
        assert_eq!(
            summary(next(&mut stream).await),
            Some(("AAPL".into(), 112.0, 0))
        );

        let quote = next_quote_of_all(&mut app).await;
        assert_eq!(quote.change, Some(12.0), "derived fields are filled in");
        app.served.stop().await;
    }
);

/// Stores an instrument without a quote.
async fn list_instrument(db: &Db, symbol: &str) {
    let row = InstrumentRow {
        symbol: symbol.to_owned(),
        name: format!("{symbol} Corp."),
        exchange: "XNYS".to_owned(),
        currency: "USD".to_owned(),
        asset_class: "equity".to_owned(),
        sector: None,
        active: true,
        updated_at: at(9, 0, 0),
    };
    store::upsert_instruments(db, &[row])
        .await
        .expect("store instrument");
}

/// Opens an all-symbols stream and returns the AAPL quote of its opening snapshot.
async fn next_quote_of_all(app: &mut TestApp) -> Quote {
    let mut all = open(app, &[]).await;
    let mut symbols = Vec::new();
    let mut aapl = None;
    for _ in 0..3 {
        let quote = next(&mut all)
            .await
            .and_then(|u| u.quote)
            .expect("snapshot");
        symbols.push(quote.symbol.clone());
        if quote.symbol == "AAPL" {
            aapl = Some(quote);
        }
    }
    assert_eq!(
        symbols,
        ["AAPL", "MSFT", "NEW"],
        "every quote, in symbol order"
    );
    aapl.expect("AAPL in the snapshot")
}

store_test!(an_invalid_symbol_is_invalid_argument_naming_symbols, |db| {
    let mut app = TestApp::spawn(db).await;
    let status = app
        .client
        .stream_quotes(StreamQuotesRequest {
            symbols: vec!["AAPL".into(), "AA PL".into()],
        })
        .await
        .expect_err("invalid symbol");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("symbols:"),
        "{}",
        status.message()
    );
    assert_eq!(app.bus.subscriber_count(), 0);
    app.served.stop().await;
});

store_test!(the_server_lets_go_of_a_stream_the_client_dropped, |db| {
    seed_quote(db, "AAPL", 110.0, 100.0).await;
    let mut app = TestApp::spawn(db).await;
    let mut stream = open(&mut app, &["AAPL"]).await;
    next(&mut stream).await.expect("snapshot");
    assert_eq!(app.bus.subscriber_count(), 1);

    drop(stream);
    subscribers_become(&app.bus, 0).await;
    // Publishing to nobody is fine, and the server still serves.
    app.ingestor
        .ingest(vec![tick("AAPL", 111.0)])
        .await
        .expect("ingest");
    let _still_serving = open(&mut app, &["AAPL"]).await;
    app.served.stop().await;
});

store_test!(open_streams_end_cleanly_when_the_server_stops, |db| {
    seed_quote(db, "AAPL", 110.0, 100.0).await;
    let mut app = TestApp::spawn(db).await;
    let mut stream = open(&mut app, &["AAPL"]).await;
    next(&mut stream).await.expect("snapshot");

    // Without ending its streams the server would wait out its 10 s grace period.
    let stopping = tokio::spawn(app.served.stop());
    assert_eq!(
        next(&mut stream).await,
        None,
        "the stream ends with an OK status"
    );
    tokio::time::timeout(PATIENCE / 2, stopping)
        .await
        .expect("the server stops without waiting out its grace period")
        .expect("stopped cleanly");
    subscribers_become(&app.bus, 0).await;
});

store_test!(
    get_quote_sees_an_ingested_quote_at_once_and_bars_are_stored,
    |db| {
        seed_quote(db, "AAPL", 110.0, 100.0).await;
        let mut app = TestApp::spawn(db).await;
        let get = |client: &mut bourse_proto::market_data::v1::market_data_service_client::MarketDataServiceClient<_>| {
        let mut client = client.clone();
        async move {
            client
                .get_quote(GetQuoteRequest { symbol: "AAPL".into() })
                .await
                .expect("quote")
                .into_inner()
                .last
        }
    };
        assert_eq!(get(&mut app.client).await, 110.0, "now cached for a second");

        let bar = MinuteBar {
            start: at(14, 29, 0),
            open: 110.0,
            high: 121.0,
            low: 109.5,
            close: 120.0,
            volume: 1_500.0,
            vwap: Some(115.0),
            trades: Some(12),
        };
        let report = app
            .ingestor
            .ingest(vec![Tick {
                bar: Some(bar),
                ..tick("AAPL", 120.0)
            }])
            .await
            .expect("ingest");
        assert_eq!((report.quotes, report.bars, report.rejected), (1, 1, 0));
        assert_eq!(
            get(&mut app.client).await,
            120.0,
            "the cache was written through"
        );

        let stored = minute_bars(db, "AAPL").await;
        assert_eq!(stored.len(), 1);
        assert_eq!(
            (
                stored[0].ts,
                stored[0].open,
                stored[0].high,
                stored[0].low,
                stored[0].close
            ),
            (bar.start, 110.0, 121.0, 109.5, 120.0)
        );
        app.served.stop().await;
    }
);

async fn minute_bars(db: &Db, symbol: &str) -> Vec<BarRow> {
    async fn read(db: &Db, symbol: &str) -> Result<Vec<BarRow>, StoreError> {
        Ok(with_conn!(db, |conn| {
            bars::table
                .filter(bars::symbol.eq(symbol))
                .filter(bars::interval.eq("1m"))
                .order(bars::ts)
                .select(BarRow::as_select())
                .load(conn)
                .await?
        }))
    }
    read(db, symbol).await.expect("read bars")
}

store_test!(the_simulated_feed_writes_through_the_ingest_path, |db| {
    seed_quote(db, "AAPL", 110.0, 100.0).await;
    seed_quote(db, "MSFT", 400.0, 390.0).await;
    let mut app = TestApp::spawn(db).await;
    let mut stream = open(&mut app, &["MSFT"]).await;
    assert_eq!(summary(next(&mut stream).await).map(|s| s.1), Some(400.0));

    // 20-second ticks from 14:30:10: ticks at :30, :50, 31:10, :30, :50, 32:10 close the
    // 14:30 and 14:31 bars. A fixed start keeps this independent of the wall clock (a start
    // early in a minute closes only one bar; one before midnight starts a new session).
    let start = chrono::NaiveDate::from_ymd_opt(2024, 3, 15)
        .and_then(|d| d.and_hms_opt(14, 30, 10))
        .expect("valid time");
    let config = SimulationConfig {
        seed: 42,
        tick_interval: Duration::from_secs(20),
        symbols: vec![
            "MSFT".parse().expect("symbol"),
            "AAPL".parse().expect("symbol"),
        ],
        start: Some(start),
    };
    let mut market = SimulatedMarket::from_store(db, &config)
        .await
        .expect("market");
    let mut last_msft = 0.0;
    for _ in 0..6 {
        let round = market.step();
        last_msft = round
            .iter()
            .find(|t| t.symbol.as_str() == "MSFT")
            .expect("MSFT")
            .last;
        app.ingestor.ingest(round).await.expect("ingest");
        let (symbol, last, _) = summary(next(&mut stream).await).expect("an update");
        assert_eq!((symbol.as_str(), last), ("MSFT", last_msft));
    }
    let quote = app
        .client
        .get_quote(GetQuoteRequest {
            symbol: "MSFT".into(),
        })
        .await
        .expect("quote")
        .into_inner();
    assert_eq!(quote.last, last_msft);
    assert_eq!(
        quote.prev_close,
        Some(400.0),
        "the stored last closed the previous session"
    );

    let bars = minute_bars(db, "MSFT").await;
    assert_eq!(bars.len(), 2, "{bars:?}");
    for bar in &bars {
        assert!(
            bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close),
            "{bar:?}"
        );
        assert!(bar.low > 0.0);
    }

    // Paced by run_feed until the stream has seen three more rounds.
    let feed = SimulatedFeed::new(market, Duration::from_millis(1));
    let stop = CancellationToken::new();
    let feeding = {
        let (ingestor, stop) = (app.ingestor.clone(), stop.clone());
        tokio::spawn(async move { run_feed(feed, &ingestor, stop.cancelled_owned()).await })
    };
    for _ in 0..3 {
        next(&mut stream)
            .await
            .expect("an update from the paced feed");
    }
    stop.cancel();
    let summary = feeding.await.expect("feed task").expect("feed");
    assert!(
        summary.rounds >= 3 && summary.failed_rounds == 0,
        "{summary:?}"
    );
    app.served.stop().await;
});

store_test!(the_feed_refuses_unknown_symbols, |db| {
    seed_quote(db, "AAPL", 110.0, 100.0).await;
    let config = SimulationConfig {
        symbols: vec![
            "AAPL".parse().expect("symbol"),
            "NOPE".parse().expect("symbol"),
        ],
        ..SimulationConfig::default()
    };
    let error = SimulatedMarket::from_store(db, &config)
        .await
        .expect_err("NOPE is no instrument");
    assert!(error.to_string().contains("NOPE"), "{error}");
});

store_test!(
    an_update_ingested_in_one_process_reaches_another_through_redis,
    |db| {
        let Some(url) = redis_url() else { return };
        seed_quote(db, "AAPL", 110.0, 100.0).await;
        let prefix = unique_prefix("quote_relay");
        let relay = RelayConfig::new(url.clone(), &prefix);

        // Process A ingests, with Redis L2 and the relay publisher.
        let cache_a = Cache::connect(CacheConfig {
            redis_url: Some(url.clone()),
            key_prefix: prefix.clone(),
            ..CacheConfig::default()
        })
        .await
        .expect("Redis cache");
        let bus_a = QuoteBus::default();
        let publisher = RelayPublisher::new(&relay, &bus_a).expect("relay URL");
        let ingestor = Ingestor::with_relay(db.clone(), cache_a, bus_a, publisher);

        // Process B serves streams: its own bus and (in-process) cache, fed by the relay.
        let (bus_b, cache_b) = (
            QuoteBus::default(),
            Cache::in_process(CacheConfig::default()),
        );
        let mut following = bus_b.subscribe();
        let stop = CancellationToken::new();
        let subscriber = tokio::spawn(relay::run_subscriber(
            relay.clone(),
            bus_b.clone(),
            cache_b.clone(),
            stop.clone().cancelled_owned(),
        ));
        subscribed(&url, &relay.channel).await;

        ingestor
            .ingest(vec![tick("AAPL", 123.0)])
            .await
            .expect("ingest");
        let received = tokio::time::timeout(PATIENCE, following.next())
            .await
            .expect("relayed in time")
            .expect("an update");
        assert_eq!(
            (received.quote.symbol.as_str(), received.quote.last),
            ("AAPL", 123.0)
        );
        let cached = cache_b.get(DataClass::Quote, Tier::Premium, "AAPL").await;
        let cached = cached.map(|bytes| Quote::decode(bytes).expect("a quote").last);
        assert_eq!(cached, Some(123.0), "B's L1 was refreshed from the relay");

        stop.cancel();
        subscriber
            .await
            .expect("subscriber task")
            .expect("valid relay config");
    }
);

/// Waits, within [`PATIENCE`], until Redis counts a subscriber on `channel`.
async fn subscribed(url: &str, channel: &str) {
    let client = redis::Client::open(url).expect("Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis connection");
    tokio::time::timeout(PATIENCE, async {
        loop {
            let (_, count): (String, u64) = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(channel)
                .query_async(&mut conn)
                .await
                .expect("PUBSUB NUMSUB");
            if count > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the relay subscribed in time");
}
