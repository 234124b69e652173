//! AnalyzePositions and AnalyzePortfolio end to end: the numbers equal the numpy reference of
//! `scripts/risk_reference.py` (equal-weight 20 stocks, last 504 returns, SPX), stored
//! portfolios are valued and cached by version, and bad requests are refused with the field.

use bourse_proto::risk::v1::risk_position::Size;
use bourse_proto::risk::v1::{
    AnalyzePortfolioRequest, AnalyzePositionsRequest, ListRiskReportsRequest, RiskPosition,
    RiskReport,
};
use bourse_proto::time::from_timestamp;
use bourse_test_support::store_test;
use pbjson_types::Timestamp;
use tonic::Code;

use crate::{TestApp, as_account, assert_rel};

/// The 20 stocks of the vendored data set.
const STOCKS: [&str; 20] = [
    "AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO", "LLY", "MRK", "MSFT",
    "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM",
];

/// The UTC date of a report timestamp, as `YYYY-MM-DD`.
fn date(ts: Option<&Timestamp>) -> String {
    ts.and_then(from_timestamp)
        .map(|t| t.date_naive().to_string())
        .unwrap_or_default()
}

/// Equal weights of the 20 stocks on a 1,000,000 portfolio.
fn equal_weights(method: &str, confidence: f64, horizon: i32) -> AnalyzePositionsRequest {
    AnalyzePositionsRequest {
        positions: STOCKS
            .iter()
            .map(|s| RiskPosition {
                symbol: (*s).into(),
                size: Some(Size::Weight(0.05)),
            })
            .collect(),
        portfolio_value: 1_000_000.0,
        method: method.into(),
        confidence: Some(confidence),
        horizon_days: Some(horizon),
        ..Default::default()
    }
}

async fn analyze(app: &mut TestApp, request: AnalyzePositionsRequest) -> RiskReport {
    app.client
        .analyze_positions(as_account(request))
        .await
        .expect("analysis")
        .into_inner()
}

store_test!(ad_hoc_positions_match_the_numpy_reference, |db| {
    let mut app = TestApp::spawn(db).await;

    let report = analyze(&mut app, equal_weights("historical", 0.99, 10)).await;
    let var = report.value_at_risk.expect("VaR");
    let es = report.expected_shortfall.expect("ES");
    assert_rel(var.fraction, 0.08985365106220482, "historical VaR 99% 10d");
    assert_rel(es.fraction, 0.09956690097411794, "historical ES 99% 10d");
    assert_rel(var.amount, 0.08985365106220482 * 1e6, "VaR amount");
    assert_eq!(report.observations, 504);
    assert_eq!(date(report.window_start.as_ref()), "2020-12-28");
    assert_eq!(date(report.window_end.as_ref()), "2022-12-28");
    assert_rel(
        report.volatility_annualized,
        0.16835335534232043,
        "volatility",
    );
    assert_rel(report.sharpe_ratio, 1.1795658215625564, "Sharpe");
    assert_rel(report.sortino_ratio, 1.716050978521528, "Sortino");
    let drawdown = report.max_drawdown.expect("drawdown");
    assert_rel(drawdown.fraction, 0.14712227931904198, "max drawdown");
    assert_eq!(date(drawdown.peak.as_ref()), "2022-03-29");
    assert_eq!(date(drawdown.trough.as_ref()), "2022-09-30");
    let benchmark = report.benchmark.expect("benchmark");
    assert_eq!(benchmark.symbol, "SPX");
    assert_rel(benchmark.beta, 0.7876892835520011, "beta");
    assert_rel(benchmark.correlation, 0.9080212238047476, "correlation");
    let correlation = report.correlation.expect("correlation matrix");
    assert_eq!(correlation.symbols, STOCKS.map(String::from));
    assert_eq!(correlation.values.len(), 400);
    assert!((0..20).all(|i| (correlation.values[i * 21] - 1.0).abs() < 1e-12));
    let components: f64 = report.holdings.iter().map(|h| h.component_var).sum();
    assert_rel(components, var.fraction, "component VaR sums to VaR");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("scaled to the historical VaR"))
    );

    let parametric = analyze(&mut app, equal_weights("parametric", 0.99, 10)).await;
    let var = parametric.value_at_risk.expect("VaR");
    assert_rel(var.fraction, 0.07013793068861919, "parametric VaR 99% 10d");
    assert_rel(
        parametric.expected_shortfall.expect("ES").fraction,
        0.0815024205657808,
        "parametric ES 99% 10d",
    );
    // Component VaR of the Gaussian model, unscaled (numpy: first three holdings).
    assert_rel(
        parametric.holdings[0].component_var,
        0.004925576362591442,
        "AAPL component",
    );
    assert_rel(
        parametric.holdings[1].marginal_var,
        0.1570303331695718,
        "AMD marginal",
    );

    let cornish_fisher = analyze(&mut app, equal_weights("cornish_fisher", 0.95, 1)).await;
    assert_rel(
        cornish_fisher.value_at_risk.expect("VaR").fraction,
        0.016954632411465304,
        "Cornish-Fisher VaR 95% 1d",
    );
    app.stop().await;
});

store_test!(
    simulations_are_seeded_and_near_the_parametric_answer,
    |db| {
        let mut app = TestApp::spawn(db).await;
        let mut request = equal_weights("monte_carlo", 0.95, 1);
        request.seed = Some(11);
        let first = analyze(&mut app, request.clone()).await;
        let again = analyze(&mut app, request.clone()).await;
        assert_eq!(
            first.value_at_risk, again.value_at_risk,
            "same seed, same VaR"
        );
        assert_ne!(first.id, again.id, "ad-hoc analyses are each stored");
        let parameters = first.parameters.expect("parameters");
        assert_eq!((parameters.paths, parameters.seed), (10_000, 11));
        // 10,000 paths: the 95% quantile's standard error is about 1.3% of VaR here.
        let var = first.value_at_risk.expect("VaR").fraction;
        let relative = (var - 0.016656076635031644).abs() / 0.016656076635031644;
        assert!(relative < 0.05, "Monte Carlo VaR {var} vs parametric");

        request.method = "bootstrap".into();
        let bootstrap = analyze(&mut app, request).await;
        let var = bootstrap.value_at_risk.expect("VaR").fraction;
        let relative = (var - 0.016605330419648068).abs() / 0.016605330419648068;
        assert!(relative < 0.05, "bootstrap VaR {var} vs historical");
        app.stop().await;
    }
);

store_test!(
    portfolio_reports_are_cached_until_the_portfolio_changes,
    |db| {
        let mut app = TestApp::spawn(db).await;
        let portfolio = app
            .portfolio_with("100000", &[("AAPL", "100"), ("MSFT", "50")])
            .await;
        let request = || {
            as_account(AnalyzePortfolioRequest {
                portfolio_id: portfolio.id.clone(),
                method: "parametric".into(),
                ..Default::default()
            })
        };
        let first = app
            .client
            .analyze_portfolio(request())
            .await
            .expect("analysis")
            .into_inner();
        assert_eq!(first.portfolio_id, portfolio.id);
        assert_eq!(first.currency, "USD");
        // Cash left after the buys at the demo quotes, plus the holdings at the last close, which
        // the demo quotes equal: the portfolio's value is its starting cash.
        assert!(
            (first.portfolio_value - 100_000.0).abs() < 1e-6,
            "{}",
            first.portfolio_value
        );
        let weights: Vec<(String, f64)> = first
            .holdings
            .iter()
            .map(|h| (h.symbol.clone(), h.weight))
            .collect();
        assert_eq!(weights.len(), 2);
        assert!(
            (weights[0].1 - 100.0 * 125.674 / 100_000.0).abs() < 1e-12,
            "{weights:?}"
        );

        let cached = app
            .client
            .analyze_portfolio(request())
            .await
            .expect("analysis")
            .into_inner();
        assert_eq!(cached, first, "the same version answers from the cache");

        app.buy(&portfolio.id, "XOM", "10").await;
        let changed = app
            .client
            .analyze_portfolio(request())
            .await
            .expect("analysis")
            .into_inner();
        assert_ne!(changed.id, first.id, "a new version is analyzed again");
        assert_eq!(changed.holdings.len(), 3);

        let listed = app
            .client
            .list_risk_reports(as_account(ListRiskReportsRequest {
                portfolio_id: portfolio.id.clone(),
                ..Default::default()
            }))
            .await
            .expect("list")
            .into_inner();
        assert_eq!(
            listed.reports,
            vec![changed, first],
            "newest first, exactly as served"
        );
        app.stop().await;
    }
);

store_test!(bad_requests_name_the_problem, |db| {
    let mut app = TestApp::spawn(db).await;
    let status =
        |result: Result<tonic::Response<RiskReport>, tonic::Status>| result.expect_err("refused");

    let unknown = status(
        app.client
            .analyze_portfolio(as_account(AnalyzePortfolioRequest {
                portfolio_id: "no-such-portfolio".into(),
                ..Default::default()
            }))
            .await,
    );
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    let empty = app.portfolio_with("1000", &[]).await;
    let refused = status(
        app.client
            .analyze_portfolio(as_account(AnalyzePortfolioRequest {
                portfolio_id: empty.id.clone(),
                ..Default::default()
            }))
            .await,
    );
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("no positions"), "{refused:?}");

    for (confidence, horizon, field) in [
        (0.5, 1, "confidence"),
        (1.0, 1, "confidence"),
        (0.95, 0, "horizon_days"),
        (0.95, 251, "horizon_days"),
    ] {
        let refused = status(
            app.client
                .analyze_positions(as_account(equal_weights("historical", confidence, horizon)))
                .await,
        );
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert!(refused.message().starts_with(field), "{refused:?}");
    }

    let mut long = equal_weights("historical", 0.99, 1);
    long.lookback_days = Some(2_520);
    let refused = status(app.client.analyze_positions(as_account(long)).await);
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("needs 2521 daily closes"),
        "{refused:?}"
    );
    assert!(refused.message().contains("AAPL has 2516"), "{refused:?}");

    let mut unknown_symbol = equal_weights("historical", 0.99, 1);
    unknown_symbol.positions[3].symbol = "NOSUCH".into();
    let refused = status(
        app.client
            .analyze_positions(as_account(unknown_symbol))
            .await,
    );
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("NOSUCH is unknown"),
        "{refused:?}"
    );

    let mut short = equal_weights("historical", 0.99, 1);
    short.lookback_days = Some(50);
    let refused = status(app.client.analyze_positions(as_account(short)).await);
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    assert!(
        refused
            .message()
            .contains("100 observations needed, 50 available"),
        "{refused:?}"
    );

    let mut mixed = equal_weights("historical", 0.99, 1);
    mixed.positions[0].size = Some(Size::Quantity("10".into()));
    let refused = status(app.client.analyze_positions(as_account(mixed)).await);
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().starts_with("positions[1]"), "{refused:?}");

    let refused = status(
        app.client
            .analyze_positions(as_account(equal_weights("garch", 0.99, 1)))
            .await,
    );
    assert!(refused.message().starts_with("method"), "{refused:?}");

    let listing = app
        .client
        .list_risk_reports(as_account(ListRiskReportsRequest {
            portfolio_id: "no-such-portfolio".into(),
            ..Default::default()
        }))
        .await
        .expect_err("unknown portfolio");
    assert_eq!(listing.code(), Code::NotFound);
    app.stop().await;
});
