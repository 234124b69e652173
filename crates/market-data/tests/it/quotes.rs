//! GetQuote and BatchGetQuotes.

use bourse_proto::market_data::v1::quote_result::Result as QuoteOutcome;
use bourse_proto::market_data::v1::{BatchGetQuotesRequest, GetQuoteRequest};
use bourse_test_support::store_test;
use tonic::Code;

use crate::{TestApp, seed_quote};

store_test!(
    get_quote_returns_the_stored_quote_with_derived_change,
    |db| {
        seed_quote(db, "AAPL", 110.0, 100.0).await;
        let mut app = TestApp::spawn(db).await;

        let quote = app
            .client
            .get_quote(GetQuoteRequest {
                symbol: "aapl".into(),
            })
            .await
            .expect("quote")
            .into_inner();
        assert_eq!(quote.symbol, "AAPL");
        assert_eq!(quote.last, 110.0);
        assert_eq!(quote.bid, Some(109.99));
        assert_eq!(quote.change, Some(10.0));
        assert_eq!(quote.change_percent, Some(10.0));
        assert_eq!(quote.ts.map(|ts| ts.seconds), Some(1_710_532_800));
        app.served.stop().await;
    }
);

store_test!(get_quote_errors_name_the_problem, |db| {
    let mut app = TestApp::spawn(db).await;

    let unknown = app
        .client
        .get_quote(GetQuoteRequest {
            symbol: "NOPE".into(),
        })
        .await;
    let status = unknown.expect_err("unknown symbol");
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("NOPE"), "{}", status.message());

    let invalid = app
        .client
        .get_quote(GetQuoteRequest {
            symbol: "AA PL".into(),
        })
        .await;
    let status = invalid.expect_err("invalid symbol");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("symbol:"),
        "{}",
        status.message()
    );
    app.served.stop().await;
});

store_test!(
    batch_keeps_request_order_and_reports_misses_per_item,
    |db| {
        seed_quote(db, "MSFT", 400.0, 390.0).await;
        seed_quote(db, "AAPL", 180.0, 175.0).await;
        let mut app = TestApp::spawn(db).await;

        // Warm the cache for one symbol, so the batch mixes cache hits and storage reads.
        app.client
            .get_quote(GetQuoteRequest {
                symbol: "MSFT".into(),
            })
            .await
            .expect("warm");
        let symbols = ["MSFT", "NOPE", "aapl", "bad sym", "MSFT"]
            .map(String::from)
            .to_vec();
        let results = app
            .client
            .batch_get_quotes(BatchGetQuotesRequest {
                symbols: symbols.clone(),
            })
            .await
            .expect("batch")
            .into_inner()
            .results;

        assert_eq!(
            results.iter().map(|r| r.symbol.clone()).collect::<Vec<_>>(),
            symbols
        );
        let last = |i: usize| match &results[i].result {
            Some(QuoteOutcome::Quote(quote)) => Some(quote.last),
            _ => None,
        };
        let code = |i: usize| match &results[i].result {
            Some(QuoteOutcome::Error(error)) => Some(error.code.clone()),
            _ => None,
        };
        assert_eq!(last(0), Some(400.0));
        assert_eq!(code(1).as_deref(), Some("NOT_FOUND"));
        assert_eq!(last(2), Some(180.0));
        assert_eq!(code(3).as_deref(), Some("INVALID_ARGUMENT"));
        assert_eq!(last(4), Some(400.0));
        app.served.stop().await;
    }
);

store_test!(batch_rejects_more_than_a_thousand_symbols, |db| {
    let mut app = TestApp::spawn(db).await;
    let symbols = (0..1_001).map(|i| format!("S{i}")).collect();
    let status = app
        .client
        .batch_get_quotes(BatchGetQuotesRequest { symbols })
        .await
        .expect_err("too many symbols");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("symbols:"),
        "{}",
        status.message()
    );
    app.served.stop().await;
});
