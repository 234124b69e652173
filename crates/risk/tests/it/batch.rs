//! BatchAnalyze: results in request order, per-item errors, the same numbers as single calls.

use bourse_proto::risk::v1::batch_analyze_item::Request as Item;
use bourse_proto::risk::v1::batch_analyze_result::Result as Outcome;
use bourse_proto::risk::v1::risk_position::Size;
use bourse_proto::risk::v1::{
    AnalyzePortfolioRequest, AnalyzePositionsRequest, BatchAnalyzeItem, BatchAnalyzeRequest,
    RiskPosition,
};
use bourse_test_support::store_test;
use tonic::Code;

use crate::{TestApp, as_account};

fn positions(method: &str, symbols: &[&str], lookback: i32) -> AnalyzePositionsRequest {
    AnalyzePositionsRequest {
        positions: symbols
            .iter()
            .map(|s| RiskPosition {
                symbol: (*s).into(),
                size: Some(Size::Quantity("10".into())),
            })
            .collect(),
        method: method.into(),
        lookback_days: Some(lookback),
        ..Default::default()
    }
}

fn item(request: Item) -> BatchAnalyzeItem {
    BatchAnalyzeItem {
        request: Some(request),
    }
}

store_test!(batch_answers_in_order_with_per_item_errors, |db| {
    let mut app = TestApp::spawn(db).await;
    let portfolio = app.portfolio_with("5000", &[("KO", "20")]).await;
    let requests = vec![
        item(Item::Positions(positions(
            "historical",
            &["AAPL", "MSFT"],
            504,
        ))),
        item(Item::Portfolio(AnalyzePortfolioRequest {
            portfolio_id: "no-such-portfolio".into(),
            ..Default::default()
        })),
        item(Item::Positions(positions(
            "monte_carlo",
            &["XOM", "CVX", "KO"],
            250,
        ))),
        item(Item::Portfolio(AnalyzePortfolioRequest {
            portfolio_id: portfolio.id.clone(),
            method: "parametric".into(),
            ..Default::default()
        })),
        item(Item::Positions(positions("historical", &["NOSUCH"], 504))),
        item(Item::Positions(positions(
            "parametric",
            &["AAPL", "MSFT"],
            504,
        ))),
    ];
    let results = app
        .client
        .batch_analyze(as_account(BatchAnalyzeRequest {
            requests: requests.clone(),
        }))
        .await
        .expect("batch")
        .into_inner()
        .results;
    let outcomes: Vec<Outcome> = results
        .into_iter()
        .map(|r| r.result.expect("a result"))
        .collect();
    assert_eq!(outcomes.len(), 6);
    let report = |i: usize| match &outcomes[i] {
        Outcome::Report(report) => report.clone(),
        Outcome::Error(error) => panic!("request {i} failed: {error:?}"),
    };
    let error = |i: usize| match &outcomes[i] {
        Outcome::Error(error) => error.clone(),
        Outcome::Report(report) => panic!("request {i} succeeded: {report:?}"),
    };
    assert_eq!(error(1).code, "NOT_FOUND");
    assert_eq!(error(4).code, "FAILED_PRECONDITION");
    assert!(error(4).message.contains("NOSUCH"), "{:?}", error(4));
    assert_eq!(report(2).observations, 250);
    assert_eq!(report(3).portfolio_id, portfolio.id);
    assert_eq!(
        report(5).parameters.expect("parameters").method,
        "parametric"
    );

    // The same numbers as the request made alone.
    let Some(Item::Positions(first)) = requests[0].request.clone() else {
        unreachable!("the first request is ad-hoc positions");
    };
    let alone = app
        .client
        .analyze_positions(as_account(first))
        .await
        .expect("single analysis")
        .into_inner();
    assert_eq!(alone.value_at_risk, report(0).value_at_risk);
    assert_eq!(alone.holdings, report(0).holdings);

    let too_many = app
        .client
        .batch_analyze(as_account(BatchAnalyzeRequest {
            requests: vec![item(Item::Positions(positions("historical", &["AAPL"], 504))); 101],
        }))
        .await
        .expect_err("over the limit");
    assert_eq!(too_many.code(), Code::InvalidArgument);
    assert!(too_many.message().starts_with("requests"), "{too_many:?}");
    app.stop().await;
});
