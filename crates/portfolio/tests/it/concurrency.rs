//! Concurrent PlaceOrder calls on one portfolio: no lost update, no overdraft.

use bourse_portfolio::book;
use bourse_proto::portfolio::v1::{OrderSide, OrderStatus, PlaceOrderRequest};
use bourse_test_support::store_test;
use rust_decimal::Decimal;

use crate::trading::market;
use crate::{TestApp, as_account};

const ORDERS: usize = 100;

store_test!(
    concurrent_market_orders_keep_cash_and_position_exact,
    |db| {
        let mut app = TestApp::spawn(db).await;
        // Quantities 1, 2 or 3 at 12.34: 200 shares in all (2,468.00), cash for about a third.
        let start: Decimal = "800.00".parse().expect("decimal");
        let price: Decimal = "12.34".parse().expect("decimal");
        let id = app.create_portfolio("alice", "800.00").await;
        app.quotes.set("AAPL", 12.30, Some(12.29), Some(12.34));

        let mut tasks = Vec::new();
        for n in 0..ORDERS {
            let mut client = app.client.clone();
            let request = PlaceOrderRequest {
                portfolio_id: id.clone(),
                order: Some(market("AAPL", OrderSide::Buy, &(1 + n % 3).to_string())),
                idempotency_key: String::new(),
            };
            tasks.push(tokio::spawn(async move {
                client.place_order(as_account("alice", request)).await
            }));
        }
        let mut filled_quantity = Decimal::ZERO;
        let (mut filled, mut rejected) = (0, 0);
        for task in tasks {
            let order = task.await.expect("task").expect("answered").into_inner();
            match order.status() {
                OrderStatus::Filled => {
                    filled += 1;
                    assert_eq!(order.average_fill_price, "12.34");
                    filled_quantity += order.filled_quantity.parse::<Decimal>().expect("decimal");
                }
                OrderStatus::Rejected => {
                    rejected += 1;
                    assert!(order.reject_reason.contains("insufficient cash"));
                }
                other => panic!("order neither filled nor rejected: {other:?}"),
            }
        }
        assert_eq!(filled + rejected, ORDERS);
        assert!(
            filled > 0 && rejected > 0,
            "{filled} filled, {rejected} rejected"
        );

        let portfolio = app.portfolio("alice", &id).await.expect("portfolio");
        let cash: Decimal = portfolio.cash.parse().expect("decimal");
        assert!(cash >= Decimal::ZERO, "never overdrawn: {cash}");
        assert_eq!(
            start - cash,
            filled_quantity * price,
            "spent exactly the fills"
        );
        // The book stopped only when the next order did not fit: at most 3 shares' worth left.
        assert!(cash < price * Decimal::from(3), "{cash} left unspent");
        assert_eq!(portfolio.version, i64::try_from(ORDERS).expect("small"));
        let positions = app.positions("alice", &id).await.expect("positions");
        assert_eq!(positions.len(), 1);
        assert_eq!(
            positions[0].quantity.parse::<Decimal>().expect("decimal"),
            filled_quantity,
            "the position holds every filled share"
        );
        assert_eq!(positions[0].average_cost, "12.34");
        app.served.stop().await;
    }
);

store_test!(racing_retries_with_one_key_fill_once, |db| {
    let mut app = TestApp::spawn(db).await;
    let id = app.create_portfolio("alice", "1000").await;
    app.quotes.set("AAPL", 10.0, None, None);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let mut client = app.client.clone();
        let request = PlaceOrderRequest {
            portfolio_id: id.clone(),
            order: Some(market("AAPL", OrderSide::Buy, "3")),
            idempotency_key: "same".into(),
        };
        tasks.push(tokio::spawn(async move {
            client.place_order(as_account("alice", request)).await
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        let order = task.await.expect("task").expect("answered").into_inner();
        assert_eq!(order.status(), OrderStatus::Filled);
        ids.push(order.id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every racer got the one order");
    let portfolio = app.portfolio("alice", &id).await.expect("portfolio");
    assert_eq!(portfolio.cash, "970.00", "filled once");
    app.served.stop().await;
});

store_test!(
    keys_older_than_the_retention_are_pruned_and_reusable,
    |db| {
        let mut app = TestApp::spawn(db).await;
        let id = app.create_portfolio("alice", "1000").await;
        app.quotes.set("AAPL", 10.0, None, None);
        let first = app
            .place("alice", &id, market("AAPL", OrderSide::Buy, "1"), "k")
            .await
            .expect("placed");
        let now = chrono::Utc::now().naive_utc();
        let kept = book::prune_idempotency_keys(db, now + chrono::TimeDelta::hours(23))
            .await
            .expect("prune");
        assert_eq!(kept, 0, "keys younger than 24 h are kept");
        let pruned = book::prune_idempotency_keys(db, now + chrono::TimeDelta::hours(25))
            .await
            .expect("prune");
        assert_eq!(pruned, 1);
        let again = app
            .place("alice", &id, market("AAPL", OrderSide::Buy, "2"), "k")
            .await
            .expect("the key is free again");
        assert_ne!(again.id, first.id);
        assert_eq!(again.status(), OrderStatus::Filled);
        app.served.stop().await;
    }
);
