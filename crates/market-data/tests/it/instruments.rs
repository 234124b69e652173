//! GetInstrument and ListInstruments.

use bourse_market_data::store::{self, InstrumentRow};
use bourse_proto::market_data::v1::{
    AssetClass, GetInstrumentRequest, ListInstrumentsRequest, ListInstrumentsResponse,
};
use bourse_store::Db;
use bourse_test_support::store_test;
use chrono::NaiveDate;
use tonic::{Code, Status};

use crate::TestApp;

/// An instrument row with the given reference data.
pub(crate) fn instrument(
    symbol: &str,
    name: &str,
    asset_class: &str,
    sector: Option<&str>,
) -> InstrumentRow {
    InstrumentRow {
        symbol: symbol.to_owned(),
        name: name.to_owned(),
        exchange: "XNAS".to_owned(),
        currency: "USD".to_owned(),
        asset_class: asset_class.to_owned(),
        sector: sector.map(str::to_owned),
        active: true,
        updated_at: NaiveDate::from_ymd_opt(2024, 1, 2)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("valid time"),
    }
}

async fn seed(db: &Db) {
    let rows = [
        instrument(
            "MSFT",
            "Microsoft Corporation",
            "equity",
            Some("Information Technology"),
        ),
        instrument(
            "AAPL",
            "Apple Inc.",
            "equity",
            Some("Information Technology"),
        ),
        instrument("SPX", "S&P 500 Index", "index", None),
        instrument("AMD", "Advanced Micro Devices, Inc.", "equity", None),
        instrument("AMZN", "Amazon.com, Inc.", "equity", None),
        instrument("QQQ", "Invesco QQQ 100% Trust", "etf", None),
    ];
    store::upsert_instruments(db, &rows)
        .await
        .expect("store instruments");
}

/// Asserts `status` is INVALID_ARGUMENT with a message naming `field` first.
pub(crate) fn assert_invalid(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with(&format!("{field}:")),
        "message should start with {field:?}: {}",
        status.message()
    );
}

fn symbols(page: &ListInstrumentsResponse) -> Vec<&str> {
    page.instruments.iter().map(|i| i.symbol.as_str()).collect()
}

store_test!(get_instrument_returns_reference_data, |db| {
    seed(db).await;
    let mut app = TestApp::spawn(db).await;

    for _ in 0..2 {
        // The second read is served from the cache, and must be the same.
        let apple = app
            .client
            .get_instrument(GetInstrumentRequest {
                symbol: "aapl".into(),
            })
            .await
            .expect("AAPL")
            .into_inner();
        assert_eq!(apple.symbol, "AAPL");
        assert_eq!(apple.name, "Apple Inc.");
        assert_eq!(apple.exchange, "XNAS");
        assert_eq!(apple.currency, "USD");
        assert_eq!(apple.asset_class(), AssetClass::Equity);
        assert_eq!(apple.sector, "Information Technology");
        assert!(apple.active);
    }
    let index = app
        .client
        .get_instrument(GetInstrumentRequest {
            symbol: "SPX".into(),
        })
        .await
        .expect("SPX")
        .into_inner();
    assert_eq!(index.asset_class(), AssetClass::Index);
    assert_eq!(index.sector, "", "no sector for an index");

    let unknown = app
        .client
        .get_instrument(GetInstrumentRequest {
            symbol: "NOPE".into(),
        })
        .await
        .expect_err("unknown symbol");
    assert_eq!(unknown.code(), Code::NotFound);
    assert!(unknown.message().contains("NOPE"), "{}", unknown.message());

    let invalid = app
        .client
        .get_instrument(GetInstrumentRequest {
            symbol: "AA PL".into(),
        })
        .await
        .expect_err("invalid symbol");
    assert_invalid(&invalid, "symbol");
    app.served.stop().await;
});

store_test!(list_instruments_searches_symbol_prefix_and_name, |db| {
    seed(db).await;
    let mut app = TestApp::spawn(db).await;
    let mut search = async |q: &str| {
        app.client
            .list_instruments(ListInstrumentsRequest {
                q: q.to_owned(),
                ..Default::default()
            })
            .await
            .expect("search")
            .into_inner()
    };

    let everything = search("").await;
    assert_eq!(
        symbols(&everything),
        ["AAPL", "AMD", "AMZN", "MSFT", "QQQ", "SPX"]
    );
    assert_eq!(everything.next_page_token, "");
    // Symbol prefix, any case; "am" is in no name.
    assert_eq!(symbols(&search("am").await), ["AMD", "AMZN"]);
    // Name substring, any case: Advanced Micro Devices and Microsoft.
    assert_eq!(symbols(&search("MICRO").await), ["AMD", "MSFT"]);
    // Both at once: "s" starts SPX and occurs in names.
    assert_eq!(
        symbols(&search("s").await),
        ["AMD", "MSFT", "QQQ", "SPX"],
        "Devices, Corporation, Trust, S&P"
    );
    // LIKE wildcards are matched literally.
    assert_eq!(symbols(&search("%").await), ["QQQ"]);
    assert_eq!(symbols(&search("_").await), Vec::<&str>::new());
    assert_eq!(
        symbols(&search("nothing like it").await),
        Vec::<&str>::new()
    );
    app.served.stop().await;
});

store_test!(list_instruments_pages_follow_aip_158, |db| {
    seed(db).await;
    let mut app = TestApp::spawn(db).await;

    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .client
            .list_instruments(ListInstrumentsRequest {
                q: String::new(),
                page_size: 4,
                page_token: token,
            })
            .await
            .expect("page")
            .into_inner();
        pages.push(symbols(&page).join(","));
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
        assert!(pages.len() < 10, "pagination does not end");
    }
    assert_eq!(pages, ["AAPL,AMD,AMZN,MSFT", "QQQ,SPX"]);

    // A search pages the same way.
    let first = app
        .client
        .list_instruments(ListInstrumentsRequest {
            q: "a".into(),
            page_size: 2,
            page_token: String::new(),
        })
        .await
        .expect("first page")
        .into_inner();
    assert_eq!(symbols(&first), ["AAPL", "AMD"]);
    let second = app
        .client
        .list_instruments(ListInstrumentsRequest {
            q: "a".into(),
            page_size: 2,
            page_token: first.next_page_token,
        })
        .await
        .expect("second page")
        .into_inner();
    // AMZN by prefix, MSFT by "Corporation"; no other name has an "a", so no further page.
    assert_eq!(symbols(&second), ["AMZN", "MSFT"]);
    assert_eq!(second.next_page_token, "");

    let negative = app
        .client
        .list_instruments(ListInstrumentsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative page size");
    assert_invalid(&negative, "page_size");
    let foreign = app
        .client
        .list_instruments(ListInstrumentsRequest {
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await
        .expect_err("foreign token");
    assert_invalid(&foreign, "page_token");
    app.served.stop().await;
});
