//! ListRiskReports: stored reports come back exactly, scoped to the caller's account, and only
//! for a portfolio that exists.

use bourse_proto::risk::v1::{ListRiskReportsRequest, LossMeasure, RiskParameters, RiskReport};
use bourse_proto::time::naive_to_timestamp;
use bourse_risk::store::{self, ReportRow};
use bourse_runtime::caller::with_account;
use bourse_test_support::store_test;
use chrono::DateTime;
use tonic::Code;

use crate::{ACCOUNT, TestApp};

fn listing(account: &str, portfolio_id: &str) -> tonic::Request<ListRiskReportsRequest> {
    let mut request = tonic::Request::new(ListRiskReportsRequest {
        portfolio_id: portfolio_id.to_owned(),
        page_size: 0,
        page_token: String::new(),
    });
    with_account(&mut request, account).expect("valid account");
    request
}

store_test!(stored_reports_round_trip_for_their_account_only, |db| {
    let mut app = TestApp::spawn(db).await;
    let portfolio = app.portfolio_with("1000", &[]).await;
    let computed_at = DateTime::from_timestamp(1_700_000_000, 0)
        .expect("valid")
        .naive_utc();
    let report = RiskReport {
        id: "r-1".into(),
        portfolio_id: portfolio.id.clone(),
        parameters: Some(RiskParameters {
            method: "historical".into(),
            confidence: 0.99,
            ..Default::default()
        }),
        computed_at: Some(naive_to_timestamp(computed_at)),
        observations: 503,
        value_at_risk: Some(LossMeasure {
            fraction: 0.0321,
            amount: 3_210.0,
        }),
        notes: vec!["quantiles interpolate linearly".into()],
        ..Default::default()
    };
    let row = ReportRow::new(&report, ACCOUNT, computed_at).expect("row");
    store::insert_report(db, &row).await.expect("store report");

    let listed = app
        .client
        .list_risk_reports(listing(ACCOUNT, &portfolio.id))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.reports, vec![report]);
    assert!(listed.next_page_token.is_empty());

    let other = app
        .client
        .list_risk_reports(listing("mallory", &portfolio.id))
        .await
        .expect_err("another account's portfolio");
    assert_eq!(other.code(), Code::NotFound);

    let status = app
        .client
        .list_risk_reports(ListRiskReportsRequest::default())
        .await
        .expect_err("no account");
    assert_eq!(status.code(), Code::Unauthenticated);
    app.stop().await;
});
