//! `TestApp` methods for the book's endpoints, acting for an account.

use bourse_proto::portfolio::v1::{
    CreatePortfolioRequest, GetPortfolioRequest, ListPositionsRequest, Order, OrderSide, OrderType,
    PlaceOrderRequest, Portfolio, Position,
};
use tonic::Status;

use crate::{TestApp, as_account};

/// A market order body.
pub(crate) fn market(symbol: &str, side: OrderSide, quantity: &str) -> Order {
    Order {
        symbol: symbol.to_owned(),
        side: side.into(),
        quantity: quantity.to_owned(),
        r#type: OrderType::Market.into(),
        ..Order::default()
    }
}

impl TestApp {
    /// Creates a portfolio of `account` holding `cash`; answers its id.
    pub(crate) async fn create_portfolio(&mut self, account: &str, cash: &str) -> String {
        let request = CreatePortfolioRequest {
            portfolio: Some(Portfolio {
                name: "book".into(),
                cash: cash.into(),
                ..Portfolio::default()
            }),
        };
        self.client
            .create_portfolio(as_account(account, request))
            .await
            .expect("create portfolio")
            .into_inner()
            .id
    }

    pub(crate) async fn portfolio(&mut self, account: &str, id: &str) -> Result<Portfolio, Status> {
        let request = GetPortfolioRequest {
            portfolio_id: id.into(),
        };
        Ok(self
            .client
            .get_portfolio(as_account(account, request))
            .await?
            .into_inner())
    }

    pub(crate) async fn place(
        &mut self,
        account: &str,
        portfolio_id: &str,
        order: Order,
        idempotency_key: &str,
    ) -> Result<Order, Status> {
        let request = PlaceOrderRequest {
            portfolio_id: portfolio_id.into(),
            order: Some(order),
            idempotency_key: idempotency_key.into(),
        };
        Ok(self
            .client
            .place_order(as_account(account, request))
            .await?
            .into_inner())
    }

    pub(crate) async fn positions(
        &mut self,
        account: &str,
        portfolio_id: &str,
    ) -> Result<Vec<Position>, Status> {
        let request = ListPositionsRequest {
            portfolio_id: portfolio_id.into(),
        };
        Ok(self
            .client
            .list_positions(as_account(account, request))
            .await?
            .into_inner()
            .positions)
    }
}
