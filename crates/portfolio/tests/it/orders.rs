//! ListOrders filters and pages, GetOrder, CancelOrder.

use bourse_portfolio::book;
use bourse_portfolio::decimal::Price;
use bourse_portfolio::error::PortfolioError;
use bourse_proto::portfolio::v1::{
    CancelOrderRequest, GetOrderRequest, ListOrdersRequest, Order, OrderSide, OrderStatus,
    OrderType,
};
use bourse_test_support::store_test;
use chrono::SubsecRound;
use tonic::Code;

use crate::trading::market;
use crate::{TestApp, as_account};

impl TestApp {
    /// Every order of `request`'s selection, following pages of `page_size`.
    async fn all_orders(&mut self, mut request: ListOrdersRequest) -> Vec<Order> {
        let mut seen = Vec::new();
        loop {
            let page = self
                .client
                .list_orders(as_account("alice", request.clone()))
                .await
                .expect("page")
                .into_inner();
            assert!(page.orders.len() <= 2, "page size honoured");
            seen.extend(page.orders);
            if page.next_page_token.is_empty() {
                return seen;
            }
            request.page_token = page.next_page_token;
        }
    }

    async fn cancel(&mut self, portfolio_id: &str, order_id: &str) -> Result<Order, tonic::Status> {
        let request = CancelOrderRequest {
            portfolio_id: portfolio_id.into(),
            order_id: order_id.into(),
        };
        Ok(self
            .client
            .cancel_order(as_account("alice", request))
            .await?
            .into_inner())
    }
}

fn ids(orders: &[Order]) -> Vec<&str> {
    orders.iter().map(|order| order.id.as_str()).collect()
}

store_test!(list_orders_filters_and_pages_newest_first, |db| {
    let mut app = TestApp::spawn(db).await;
    let id = app.create_portfolio("alice", "1000").await;
    let noise = app.create_portfolio("alice", "1000").await;
    app.quotes.set("AAPL", 10.0, None, None);
    app.quotes.set("MSFT", 20.0, None, None);
    let mut placed = Vec::new();
    for (symbol, quantity) in [("AAPL", "1"), ("MSFT", "1"), ("AAPL", "500"), ("AAPL", "2")] {
        let order = app
            .place("alice", &id, market(symbol, OrderSide::Buy, quantity), "")
            .await
            .expect("placed");
        placed.push(order);
    }
    app.place("alice", &noise, market("AAPL", OrderSide::Buy, "1"), "")
        .await
        .expect("other portfolio");
    assert_eq!(placed[2].status(), OrderStatus::Rejected);
    let newest_first: Vec<Order> = placed.iter().rev().cloned().collect();
    let base = ListOrdersRequest {
        portfolio_id: id.clone(),
        page_size: 2,
        ..ListOrdersRequest::default()
    };

    let all = app.all_orders(base.clone()).await;
    assert_eq!(
        all, newest_first,
        "every order once, newest first, with fills"
    );

    let aapl = app
        .all_orders(ListOrdersRequest {
            symbol: "aapl".into(),
            ..base.clone()
        })
        .await;
    assert_eq!(ids(&aapl), [&placed[3].id, &placed[2].id, &placed[0].id]);

    let filled_aapl = app
        .all_orders(ListOrdersRequest {
            symbol: "AAPL".into(),
            status: OrderStatus::Filled.into(),
            ..base.clone()
        })
        .await;
    assert_eq!(ids(&filled_aapl), [&placed[3].id, &placed[0].id]);

    // start_time inclusive, end_time exclusive.
    let window = app
        .all_orders(ListOrdersRequest {
            start_time: placed[1].create_time,
            end_time: placed[3].create_time,
            ..base.clone()
        })
        .await;
    assert_eq!(ids(&window), [&placed[2].id, &placed[1].id]);

    let status = app
        .client
        .list_orders(as_account(
            "alice",
            ListOrdersRequest {
                page_token: "bogus".into(),
                ..base
            },
        ))
        .await
        .expect_err("bad token");
    assert_eq!(status.code(), Code::InvalidArgument);
    app.served.stop().await;
});

store_test!(only_open_orders_can_be_canceled, |db| {
    let mut app = TestApp::spawn(db).await;
    let id = app.create_portfolio("alice", "1000").await;
    app.quotes.set("AAPL", 10.0, None, None);
    let filled = app
        .place("alice", &id, market("AAPL", OrderSide::Buy, "1"), "")
        .await
        .expect("filled");
    let status = app.cancel(&id, &filled.id).await.expect_err("filled");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let limit = Order {
        r#type: OrderType::Limit.into(),
        limit_price: "5.00".into(),
        ..market("AAPL", OrderSide::Buy, "1")
    };
    let resting = app.place("alice", &id, limit, "").await.expect("rests");
    assert_eq!(resting.status(), OrderStatus::Accepted);
    assert_eq!(resting.limit_price, "5");
    let canceled = app.cancel(&id, &resting.id).await.expect("cancels");
    assert_eq!(canceled.status(), OrderStatus::Canceled);
    let status = app.cancel(&id, &resting.id).await.expect_err("twice");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = app.cancel(&id, "no-such-order").await.expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);

    let fetched = app
        .client
        .get_order(as_account(
            "alice",
            GetOrderRequest {
                portfolio_id: id.clone(),
                order_id: resting.id.clone(),
            },
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(fetched, canceled);
    let portfolio = app.portfolio("alice", &id).await.expect("portfolio");
    assert_eq!(portfolio.cash, "990.00", "canceling moves no cash");
    app.served.stop().await;
});

store_test!(a_resting_order_fills_through_the_same_book, |db| {
    let mut app = TestApp::spawn(db).await;
    let id = app.create_portfolio("alice", "100").await;
    let limit = |quantity: &str, price: &str| Order {
        r#type: OrderType::Limit.into(),
        limit_price: price.into(),
        ..market("AAPL", OrderSide::Buy, quantity)
    };
    let resting = app
        .place("alice", &id, limit("4", "20"), "")
        .await
        .expect("rests");
    let unaffordable = app
        .place("alice", &id, limit("5", "20"), "")
        .await
        .expect("rests");
    let price = Price::parse("19.995").expect("price");

    let now = chrono::Utc::now().naive_utc().trunc_subsecs(6);
    let filled = book::fill_open_order(db, &resting.id, price, now)
        .await
        .expect("filled");
    assert_eq!(filled.order.status, "filled");
    assert_eq!(filled.order.filled_quantity, "4");
    assert_eq!(filled.order.average_fill_price.as_deref(), Some("19.995"));
    assert_eq!(filled.fills.len(), 1);
    // 4 * 19.995 = 79.98
    let portfolio = app.portfolio("alice", &id).await.expect("portfolio");
    assert_eq!(portfolio.cash, "20.02");
    let positions = app.positions("alice", &id).await.expect("positions");
    assert_eq!(
        (
            positions[0].quantity.as_str(),
            positions[0].average_cost.as_str()
        ),
        ("4", "19.995")
    );

    let error = book::fill_open_order(db, &resting.id, price, now)
        .await
        .expect_err("filled already");
    assert!(
        matches!(error, PortfolioError::FailedPrecondition(_)),
        "{error:?}"
    );

    let rejected = book::fill_open_order(db, &unaffordable.id, price, now)
        .await
        .expect("answered");
    assert_eq!(rejected.order.status, "rejected");
    assert!(rejected.fills.is_empty());
    let after = app.portfolio("alice", &id).await.expect("portfolio");
    assert_eq!(after.cash, "20.02", "a rejected fill moves no cash");
    assert_eq!(
        app.positions("alice", &id).await.expect("positions"),
        positions
    );
    app.served.stop().await;
});
