//! The `PortfolioService` gRPC implementation.

use bourse_proto::portfolio::v1::portfolio_service_server::PortfolioService;
use bourse_proto::portfolio::v1::{
    CancelOrderRequest, CreatePortfolioRequest, DeletePortfolioRequest, GetOrderRequest,
    GetPortfolioRequest, GetValuationRequest, ListOrdersRequest, ListOrdersResponse,
    ListPortfoliosRequest, ListPortfoliosResponse, ListPositionsRequest, ListPositionsResponse,
    Order, PlaceOrderRequest, Portfolio, Valuation,
};
use bourse_runtime::caller::account_of;
use bourse_store::Db;
use bourse_store::page::PageRequest;
use tonic::{Request, Response, Status};

use crate::error::PortfolioError;
use crate::store;

/// Default and largest page of `ListPortfolios`.
const PORTFOLIO_PAGE: (i64, i64) = (50, 500);

/// The portfolio service, cheap to clone.
#[derive(Debug, Clone)]
pub struct PortfolioBook {
    db: Db,
}

impl PortfolioBook {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn pending<T>(rpc: &'static str) -> Result<Response<T>, Status> {
    Err(PortfolioError::NotImplemented(rpc).into())
}

#[tonic::async_trait]
impl PortfolioService for PortfolioBook {
    async fn list_portfolios(
        &self,
        request: Request<ListPortfoliosRequest>,
    ) -> Result<Response<ListPortfoliosResponse>, Status> {
        let account = account_of(&request)?;
        let message = request.get_ref();
        let page = PageRequest::parse(
            message.page_size,
            &message.page_token,
            PORTFOLIO_PAGE.0,
            PORTFOLIO_PAGE.1,
        )
        .map_err(PortfolioError::from)?;
        let (rows, next_page_token) = store::list_portfolios(&self.db, &account, &page).await?;
        Ok(Response::new(ListPortfoliosResponse {
            portfolios: rows.into_iter().map(Portfolio::from).collect(),
            next_page_token,
        }))
    }

    async fn create_portfolio(
        &self,
        _: Request<CreatePortfolioRequest>,
    ) -> Result<Response<Portfolio>, Status> {
        pending("CreatePortfolio lands with the portfolio issue (#4)")
    }

    async fn get_portfolio(
        &self,
        _: Request<GetPortfolioRequest>,
    ) -> Result<Response<Portfolio>, Status> {
        pending("GetPortfolio lands with the portfolio issue (#4)")
    }

    async fn delete_portfolio(
        &self,
        _: Request<DeletePortfolioRequest>,
    ) -> Result<Response<pbjson_types::Empty>, Status> {
        pending("DeletePortfolio lands with the portfolio issue (#4)")
    }

    async fn place_order(&self, _: Request<PlaceOrderRequest>) -> Result<Response<Order>, Status> {
        pending("PlaceOrder lands with the portfolio issue (#4)")
    }

    async fn get_order(&self, _: Request<GetOrderRequest>) -> Result<Response<Order>, Status> {
        pending("GetOrder lands with the portfolio issue (#4)")
    }

    async fn list_orders(
        &self,
        _: Request<ListOrdersRequest>,
    ) -> Result<Response<ListOrdersResponse>, Status> {
        pending("ListOrders lands with the portfolio issue (#4)")
    }

    async fn cancel_order(
        &self,
        _: Request<CancelOrderRequest>,
    ) -> Result<Response<Order>, Status> {
        pending("CancelOrder lands with the portfolio issue (#4)")
    }

    async fn list_positions(
        &self,
        _: Request<ListPositionsRequest>,
    ) -> Result<Response<ListPositionsResponse>, Status> {
        pending("ListPositions lands with the portfolio issue (#4)")
    }

    async fn get_valuation(
        &self,
        _: Request<GetValuationRequest>,
    ) -> Result<Response<Valuation>, Status> {
        pending("GetValuation lands with the portfolio issue (#4)")
    }
}
