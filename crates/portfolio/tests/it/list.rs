//! ListPortfolios: scoped to the caller's account, paginated newest first.

use bourse_proto::portfolio::v1::ListPortfoliosRequest;
use bourse_test_support::store_test;
use tonic::Code;

use crate::{TestApp, as_account, seed_portfolio};

store_test!(lists_only_the_callers_portfolios_across_pages, |db| {
    let mut mine = Vec::new();
    for n in 0..5 {
        mine.push(seed_portfolio(db, "alice", n).await);
    }
    seed_portfolio(db, "bob", 10).await;
    let mut app = TestApp::spawn(db).await;

    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = ListPortfoliosRequest {
            page_size: 2,
            page_token: page_token.clone(),
        };
        let page = app
            .client
            .list_portfolios(as_account("alice", request))
            .await
            .expect("page")
            .into_inner();
        assert!(page.portfolios.len() <= 2);
        seen.extend(page.portfolios.into_iter().map(|p| p.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    mine.reverse();
    assert_eq!(
        seen, mine,
        "every portfolio of alice once, newest first, none of bob's"
    );
    app.served.stop().await;
});

store_test!(
    refuses_requests_without_an_account_and_foreign_tokens,
    |db| {
        let mut app = TestApp::spawn(db).await;
        let status = app
            .client
            .list_portfolios(ListPortfoliosRequest::default())
            .await
            .expect_err("no account");
        assert_eq!(status.code(), Code::Unauthenticated);

        let request = ListPortfoliosRequest {
            page_size: 0,
            page_token: "not-a-token".into(),
        };
        let status = app
            .client
            .list_portfolios(as_account("alice", request))
            .await
            .expect_err("bad token");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().starts_with("page_token"),
            "{}",
            status.message()
        );
        app.served.stop().await;
    }
);
