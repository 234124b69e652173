//! The book: average cost and realized P&L to the cent, rejections, idempotency, ownership.

use bourse_proto::portfolio::v1::{
    CancelOrderRequest, CreatePortfolioRequest, DeletePortfolioRequest, GetOrderRequest,
    ListOrdersRequest, Order, OrderSide, OrderStatus, Portfolio,
};
use bourse_store::schema::{fills, orders, positions};
use bourse_store::{Db, StoreError, with_conn};
use bourse_test_support::store_test;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tonic::Code;

use crate::trading::market;
use crate::{TestApp, as_account};

/// The stored (quantity, average cost, realized P&L) of a position, closed ones included.
async fn stored_position(
    db: &Db,
    portfolio_id: &str,
    symbol: &str,
) -> Result<(String, String, String), StoreError> {
    Ok(with_conn!(db, |conn| {
        positions::table
            .find((portfolio_id, symbol))
            .select((
                positions::quantity,
                positions::average_cost,
                positions::realized_pnl,
            ))
            .first(conn)
            .await?
    }))
}

/// (orders of the portfolio, fills of any portfolio, positions of the portfolio) left stored.
async fn leftovers(db: &Db, portfolio_id: &str) -> Result<(i64, i64, i64), StoreError> {
    Ok(with_conn!(db, |conn| {
        let orders_left: i64 = orders::table
            .filter(orders::portfolio_id.eq(portfolio_id))
            .count()
            .get_result(conn)
            .await?;
        let fills_left: i64 = fills::table.count().get_result(conn).await?;
        let positions_left: i64 = positions::table
            .filter(positions::portfolio_id.eq(portfolio_id))
            .count()
            .get_result(conn)
            .await?;
        (orders_left, fills_left, positions_left)
    }))
}

/// Sets AAPL's quote, places a market order for alice and expects it filled.
async fn trade(
    app: &mut TestApp,
    id: &str,
    side: OrderSide,
    quantity: &str,
    (bid, ask, last): (Option<f64>, Option<f64>, f64),
) -> Order {
    app.quotes.set("AAPL", last, bid, ask);
    let order = app
        .place("alice", id, market("AAPL", side, quantity), "")
        .await
        .expect("placed");
    assert_eq!(order.status(), OrderStatus::Filled, "{order:?}");
    order
}

store_test!(buys_and_sells_match_the_hand_computed_book, |db| {
    let mut app = TestApp::spawn(db).await;
    let id = app.create_portfolio("alice", "10000").await;
    use OrderSide::{Buy, Sell};
    // Buys fill at the ask, sells at the bid, else at the last price.
    let first = trade(&mut app, &id, Buy, "10", (Some(99.5), Some(100.0), 99.8)).await;
    assert_eq!(first.average_fill_price, "100");
    assert_eq!(first.filled_quantity, "10");
    assert_eq!(first.fills.len(), 1);
    assert_eq!(first.fills[0].price, "100");
    trade(&mut app, &id, Buy, "10", (Some(109.0), Some(110.0), 109.5)).await;
    let sold = trade(&mut app, &id, Sell, "5", (Some(120.0), Some(121.0), 120.5)).await;
    assert_eq!(sold.average_fill_price, "120", "sells fill at the bid");
    trade(&mut app, &id, Sell, "3", (None, None, 101.37)).await;
    // 3 * 33.335 would be 16.6675: cash is booked half-up to 16.67.
    trade(&mut app, &id, Buy, "0.5", (Some(33.0), Some(33.335), 33.2)).await;

    let positions = app.positions("alice", &id).await.expect("positions");
    assert_eq!(positions.len(), 1);
    let aapl = &positions[0];
    assert_eq!(aapl.quantity, "12.5");
    // (10*100 + 10*110) / 20 = 105; (12*105 + 0.5*33.335) / 12.5 = 102.1334.
    assert_eq!(aapl.average_cost, "102.1334");
    // 5*(120-105) = 75.00; 3*(101.37-105) = -10.89.
    assert_eq!(aapl.realized_pnl, "64.11");
    // 10000 - 1000 - 1100 + 600 + 304.11 - 16.67
    let portfolio = app.portfolio("alice", &id).await.expect("portfolio");
    assert_eq!(portfolio.cash, "8787.44");
    assert_eq!(portfolio.version, 5, "one version per order");

    // Closing the position realizes 12.5*(110-102.1334) = 98.3325 -> 98.33 and keeps the P&L.
    trade(
        &mut app,
        &id,
        Sell,
        "12.5",
        (Some(110.0), Some(111.0), 110.5),
    )
    .await;
    assert_eq!(
        app.positions("alice", &id).await.expect("positions"),
        vec![]
    );
    let portfolio = app.portfolio("alice", &id).await.expect("portfolio");
    assert_eq!(
        portfolio.cash, "10162.44",
        "the start plus the realized 162.44"
    );
    let closed = stored_position(db, &id, "AAPL")
        .await
        .expect("closed position kept");
    assert_eq!(closed, ("0".into(), "0".into(), "162.44".into()));
    app.served.stop().await;
});

store_test!(rejected_orders_change_nothing_but_are_kept, |db| {
    let mut app = TestApp::spawn(db).await;
    let id = app.create_portfolio("alice", "100").await;
    app.quotes.set("AAPL", 60.0, Some(59.0), Some(60.0));
    app.quotes.set("MSFT", 300.0, None, None);
    app.place("alice", &id, market("AAPL", OrderSide::Buy, "1"), "")
        .await
        .expect("fills");
    let before = (
        app.portfolio("alice", &id).await.expect("portfolio"),
        app.positions("alice", &id).await.expect("positions"),
    );
    let attempts = [
        (market("AAPL", OrderSide::Buy, "1"), "insufficient cash"),
        (
            market("AAPL", OrderSide::Sell, "1.5"),
            "insufficient shares",
        ),
        (market("MSFT", OrderSide::Sell, "1"), "insufficient shares"),
        (market("NOPE", OrderSide::Buy, "1"), "no quote"),
    ];
    for (order, why) in attempts {
        let placed = app.place("alice", &id, order, "").await.expect("answered");
        assert_eq!(placed.status(), OrderStatus::Rejected);
        assert!(
            placed.reject_reason.contains(why),
            "{}",
            placed.reject_reason
        );
        assert!(placed.fills.is_empty());
        assert_eq!(placed.filled_quantity, "0");
    }
    let after = (
        app.portfolio("alice", &id).await.expect("portfolio"),
        app.positions("alice", &id).await.expect("positions"),
    );
    assert_eq!(after.0.cash, before.0.cash);
    assert_eq!(
        after.1, before.1,
        "positions untouched, timestamps included"
    );
    let listed = app
        .client
        .list_orders(as_account(
            "alice",
            ListOrdersRequest {
                portfolio_id: id.clone(),
                status: OrderStatus::Rejected.into(),
                ..ListOrdersRequest::default()
            },
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.orders.len(), 4, "rejected orders are stored");
    app.served.stop().await;
});

store_test!(
    a_retry_returns_the_first_result_and_a_new_body_conflicts,
    |db| {
        let mut app = TestApp::spawn(db).await;
        let id = app.create_portfolio("alice", "1000").await;
        let other = app.create_portfolio("alice", "1000").await;
        app.quotes.set("AAPL", 10.0, None, Some(10.0));
        let first = app
            .place("alice", &id, market("AAPL", OrderSide::Buy, "10"), "key-1")
            .await
            .expect("first");
        assert_eq!(first.idempotency_key, "key-1");
        app.quotes.set("AAPL", 20.0, None, Some(20.0));
        // The same order, spelled differently: answered from the book, not filled again.
        let retry = app
            .place(
                "alice",
                &id,
                market("aapl", OrderSide::Buy, "10.00"),
                "key-1",
            )
            .await
            .expect("retry");
        assert_eq!(retry, first);
        let portfolio = app.portfolio("alice", &id).await.expect("portfolio");
        assert_eq!(portfolio.cash, "900.00", "charged once");

        let status = app
            .place("alice", &id, market("AAPL", OrderSide::Buy, "11"), "key-1")
            .await
            .expect_err("different body");
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        // Keys are per portfolio, and another account cannot probe them.
        let elsewhere = app
            .place(
                "alice",
                &other,
                market("AAPL", OrderSide::Buy, "1"),
                "key-1",
            )
            .await
            .expect("own portfolio, own keys");
        assert_ne!(elsewhere.id, first.id);
        let status = app
            .place("bob", &id, market("AAPL", OrderSide::Buy, "10"), "key-1")
            .await
            .expect_err("bob");
        assert_eq!(status.code(), Code::NotFound);
        app.served.stop().await;
    }
);

store_test!(another_accounts_portfolio_and_orders_are_not_found, |db| {
    let mut app = TestApp::spawn(db).await;
    let id = app.create_portfolio("alice", "1000").await;
    app.quotes.set("AAPL", 10.0, None, None);
    let order = app
        .place("alice", &id, market("AAPL", OrderSide::Buy, "1"), "")
        .await
        .expect("placed");
    let ids = || (id.clone(), order.id.clone());
    let mut codes = Vec::new();
    codes.push(app.portfolio("bob", &id).await.map(drop));
    codes.push(app.positions("bob", &id).await.map(drop));
    codes.push(
        app.place("bob", &id, market("AAPL", OrderSide::Buy, "1"), "")
            .await
            .map(drop),
    );
    let (portfolio_id, order_id) = ids();
    let get = GetOrderRequest {
        portfolio_id: portfolio_id.clone(),
        order_id: order_id.clone(),
    };
    codes.push(app.client.get_order(as_account("bob", get)).await.map(drop));
    let cancel = CancelOrderRequest {
        portfolio_id: portfolio_id.clone(),
        order_id,
    };
    codes.push(
        app.client
            .cancel_order(as_account("bob", cancel))
            .await
            .map(drop),
    );
    let list = ListOrdersRequest {
        portfolio_id: portfolio_id.clone(),
        ..ListOrdersRequest::default()
    };
    codes.push(
        app.client
            .list_orders(as_account("bob", list))
            .await
            .map(drop),
    );
    let delete = DeletePortfolioRequest { portfolio_id };
    codes.push(
        app.client
            .delete_portfolio(as_account("bob", delete))
            .await
            .map(drop),
    );
    for (n, result) in codes.into_iter().enumerate() {
        let status = result.expect_err("bob must not reach alice's book");
        assert_eq!(status.code(), Code::NotFound, "call {n}: {status:?}");
    }
    let portfolio = app.portfolio("alice", &id).await.expect("still there");
    assert_eq!(portfolio.cash, "990.00");
    app.served.stop().await;
});

store_test!(delete_removes_the_portfolio_with_its_book, |db| {
    let mut app = TestApp::spawn(db).await;
    let id = app.create_portfolio("alice", "1000").await;
    let kept = app.create_portfolio("alice", "1000").await;
    app.quotes.set("AAPL", 10.0, None, None);
    for portfolio in [&id, &kept] {
        app.place("alice", portfolio, market("AAPL", OrderSide::Buy, "2"), "k")
            .await
            .expect("placed");
    }
    let delete = DeletePortfolioRequest {
        portfolio_id: id.clone(),
    };
    app.client
        .delete_portfolio(as_account("alice", delete.clone()))
        .await
        .expect("deleted");
    let status = app.portfolio("alice", &id).await.expect_err("gone");
    assert_eq!(status.code(), Code::NotFound);
    let status = app
        .client
        .delete_portfolio(as_account("alice", delete))
        .await
        .expect_err("twice");
    assert_eq!(status.code(), Code::NotFound);
    let counts = leftovers(db, &id).await.expect("counted");
    assert_eq!(counts, (0, 1, 0), "only the other portfolio's fill remains");
    assert_eq!(app.positions("alice", &kept).await.expect("kept").len(), 1);
    app.served.stop().await;
});

store_test!(create_portfolio_parses_its_fields, |db| {
    let mut app = TestApp::spawn(db).await;
    let create = |name: &str, currency: &str, cash: &str| CreatePortfolioRequest {
        portfolio: Some(Portfolio {
            name: name.into(),
            base_currency: currency.into(),
            cash: cash.into(),
            ..Portfolio::default()
        }),
    };
    let created = app
        .client
        .create_portfolio(as_account("alice", create("Main", "", "")))
        .await
        .expect("defaults")
        .into_inner();
    assert_eq!(
        (created.base_currency.as_str(), created.cash.as_str()),
        ("USD", "0.00")
    );
    assert_eq!(
        app.portfolio("alice", &created.id).await.expect("get"),
        created
    );
    for (request, field) in [
        (create(" ", "USD", "1"), "portfolio.name"),
        (create("x", "usd", "1"), "portfolio.base_currency"),
        (create("x", "EURO", "1"), "portfolio.base_currency"),
        (create("x", "EUR", "-1"), "portfolio.cash"),
        (create("x", "EUR", "1.001"), "portfolio.cash"),
        (create("x", "EUR", "lots"), "portfolio.cash"),
    ] {
        let status = app
            .client
            .create_portfolio(as_account("alice", request))
            .await
            .expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    let id = created.id;
    for (quantity, field) in [("0", "order.quantity"), ("1e3", "order.quantity")] {
        let status = app
            .place("alice", &id, market("AAPL", OrderSide::Buy, quantity), "")
            .await
            .expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().starts_with(field), "{}", status.message());
    }
    let status = app
        .place(
            "alice",
            &id,
            market("AAPL", OrderSide::Unspecified, "1"),
            "",
        )
        .await
        .expect_err("no side");
    assert!(
        status.message().starts_with("order.side"),
        "{}",
        status.message()
    );
    app.served.stop().await;
});
