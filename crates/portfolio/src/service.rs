//! The `PortfolioService` gRPC implementation.

use bourse_proto::portfolio::v1::portfolio_service_server::PortfolioService;
use bourse_proto::portfolio::v1::{
    CancelOrderRequest, CreatePortfolioRequest, DeletePortfolioRequest, GetOrderRequest,
    GetPortfolioRequest, GetValuationRequest, ListOrdersRequest, ListOrdersResponse,
    ListPortfoliosRequest, ListPortfoliosResponse, ListPositionsRequest, ListPositionsResponse,
    Order, PlaceOrderRequest, Portfolio, Valuation,
};
use std::sync::Arc;

use bourse_proto::market_data::v1::Quote;
use bourse_proto::portfolio::v1::Position;
use bourse_proto::time::from_timestamp;
use bourse_runtime::caller::account_of;
use bourse_store::Db;
use bourse_store::page::PageRequest;
use chrono::{NaiveDateTime, SubsecRound, Utc};
use tonic::{Request, Response, Status};

use crate::book;
use crate::decimal::Price;
use crate::error::PortfolioError;
use crate::limit::LimitWatcher;
use crate::order::{NewOrder, OrderSide, OrderStatus, OrderType, parse_symbol};
use crate::order_store::{self, OrderFilter};
use crate::quotes::QuoteSource;
use crate::read_cache::{self, CachedRead};
use crate::store::{self, PortfolioRow};
use crate::valuation;
use bourse_cache::Cache;
use bourse_runtime::grpc_client::{remaining_deadline, tier_of};

/// Default and largest page of `ListPortfolios`.
const PORTFOLIO_PAGE: (i64, i64) = (50, 500);

/// Default and largest page of `ListOrders`.
const ORDER_PAGE: (i64, i64) = (50, 500);

/// The portfolio service, cheap to clone.
#[derive(Debug, Clone)]
pub struct PortfolioBook {
    db: Db,
    /// Prices market orders: the current quote, asked in the request's tier.
    quotes: Arc<dyn QuoteSource>,
    /// Caches positions and valuations per portfolio version (see `read_cache`); `None`
    /// reads the store every time.
    cache: Option<Cache>,
    /// Woken when a limit order rests, so it is watched at once; `None` without a watcher.
    watcher: Option<LimitWatcher>,
}

impl PortfolioBook {
    pub fn new(db: Db, quotes: Arc<dyn QuoteSource>) -> Self {
        Self {
            db,
            quotes,
            cache: None,
            watcher: None,
        }
    }

    /// Wakes `watcher` whenever a limit order is accepted.
    #[must_use]
    pub fn with_watcher(mut self, watcher: LimitWatcher) -> Self {
        self.watcher = Some(watcher);
        self
    }

    /// Caches `ListPositions` and `GetValuation` answers in `cache`.
    #[must_use]
    pub fn with_cache(mut self, cache: Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Drops the cached reads of `portfolio_id`: called by every write after it committed and
    /// before it answers.
    async fn invalidate(&self, portfolio_id: &str) {
        if let Some(cache) = &self.cache {
            read_cache::invalidate_portfolio(cache, portfolio_id).await;
        }
    }
}

/// Now, to the microsecond both backends store, so a time written reads back equal.
fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// The fill price of a market order: the ask for buys and the bid for sells when present and
/// positive, else the last price. `None` when the symbol has no usable quote.
fn fill_price(quote: Option<&Quote>, side: OrderSide) -> Option<Price> {
    let quote = quote?;
    let touch = match side {
        OrderSide::Buy => quote.ask,
        OrderSide::Sell => quote.bid,
    };
    touch
        .and_then(Price::from_quote)
        .or_else(|| Price::from_quote(quote.last))
}

fn optional_time(
    field: &'static str,
    time: Option<&pbjson_types::Timestamp>,
) -> Result<Option<NaiveDateTime>, PortfolioError> {
    time.map(|time| {
        from_timestamp(time)
            .map(|time| time.naive_utc())
            .ok_or_else(|| PortfolioError::InvalidArgument {
                field,
                reason: "is not a valid timestamp".into(),
            })
    })
    .transpose()
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
        request: Request<CreatePortfolioRequest>,
    ) -> Result<Response<Portfolio>, Status> {
        let account = account_of(&request)?;
        let body = request.get_ref().portfolio.clone().unwrap_or_default();
        let row = PortfolioRow::create(&account, &body, now())?;
        store::insert_portfolio(&self.db, &row).await?;
        Ok(Response::new(row.into()))
    }

    async fn get_portfolio(
        &self,
        request: Request<GetPortfolioRequest>,
    ) -> Result<Response<Portfolio>, Status> {
        let account = account_of(&request)?;
        let row = store::get_portfolio(&self.db, &account, &request.get_ref().portfolio_id).await?;
        Ok(Response::new(row.into()))
    }

    async fn delete_portfolio(
        &self,
        request: Request<DeletePortfolioRequest>,
    ) -> Result<Response<pbjson_types::Empty>, Status> {
        let account = account_of(&request)?;
        let portfolio_id = &request.get_ref().portfolio_id;
        book::delete_portfolio(&self.db, &account, portfolio_id, now()).await?;
        self.invalidate(portfolio_id).await;
        Ok(Response::new(pbjson_types::Empty {}))
    }

    async fn place_order(
        &self,
        request: Request<PlaceOrderRequest>,
    ) -> Result<Response<Order>, Status> {
        let account = account_of(&request)?;
        let tier = tier_of(&request);
        let message = request.get_ref();
        let order = NewOrder::parse(message)?;
        let portfolio_id = message.portfolio_id.as_str();
        // A retry is answered from the book, without a quote; this also answers NOT_FOUND
        // for another account's portfolio before market data is asked.
        if let Some(key) = &order.idempotency_key
            && let Some(found) =
                order_store::find_by_idempotency_key(&self.db, &account, portfolio_id, key).await?
        {
            return Ok(Response::new(book::replay(found, &order)?.into()));
        }
        order_store::ensure_owned(&self.db, &account, portfolio_id).await?;
        let price = match order.order_type {
            OrderType::Market => {
                let quote = self
                    .quotes
                    .quote(tier, &order.symbol)
                    .await
                    .map_err(PortfolioError::from)?;
                fill_price(quote.as_ref(), order.side)
            }
            OrderType::Limit => None,
        };
        let record =
            book::place_order(&self.db, &account, portfolio_id, &order, price, now()).await?;
        self.invalidate(portfolio_id).await;
        if order.order_type == OrderType::Limit
            && let Some(watcher) = &self.watcher
        {
            watcher.wake();
        }
        Ok(Response::new(record.into()))
    }

    async fn get_order(
        &self,
        request: Request<GetOrderRequest>,
    ) -> Result<Response<Order>, Status> {
        let account = account_of(&request)?;
        let message = request.get_ref();
        let record =
            order_store::get_order(&self.db, &account, &message.portfolio_id, &message.order_id)
                .await?;
        Ok(Response::new(record.into()))
    }

    async fn list_orders(
        &self,
        request: Request<ListOrdersRequest>,
    ) -> Result<Response<ListOrdersResponse>, Status> {
        let account = account_of(&request)?;
        let message = request.get_ref();
        let page = PageRequest::parse(
            message.page_size,
            &message.page_token,
            ORDER_PAGE.0,
            ORDER_PAGE.1,
        )
        .map_err(PortfolioError::from)?;
        let status =
            match message.status {
                0 => None,
                n => Some(OrderStatus::from_proto(n).ok_or_else(|| {
                    PortfolioError::InvalidArgument {
                        field: "status",
                        reason: format!("{n} is not an order status"),
                    }
                })?),
            };
        let symbol = match message.symbol.trim() {
            "" => None,
            text => Some(parse_symbol("symbol", text)?),
        };
        let filter = OrderFilter {
            status,
            symbol,
            start: optional_time("start_time", message.start_time.as_ref())?,
            end: optional_time("end_time", message.end_time.as_ref())?,
        };
        let (records, next_page_token) =
            order_store::list_orders(&self.db, &account, &message.portfolio_id, &filter, &page)
                .await?;
        Ok(Response::new(ListOrdersResponse {
            orders: records.into_iter().map(Order::from).collect(),
            next_page_token,
        }))
    }

    async fn cancel_order(
        &self,
        request: Request<CancelOrderRequest>,
    ) -> Result<Response<Order>, Status> {
        let account = account_of(&request)?;
        let message = request.get_ref();
        let record = book::cancel_order(
            &self.db,
            &account,
            &message.portfolio_id,
            &message.order_id,
            now(),
        )
        .await?;
        self.invalidate(&message.portfolio_id).await;
        Ok(Response::new(record.into()))
    }

    async fn list_positions(
        &self,
        request: Request<ListPositionsRequest>,
    ) -> Result<Response<ListPositionsResponse>, Status> {
        let account = account_of(&request)?;
        let tier = tier_of(&request);
        let portfolio_id = &request.get_ref().portfolio_id;
        // The version is read first, so what is cached under it is at least that new.
        let cached = match &self.cache {
            Some(cache) => {
                let version =
                    valuation::portfolio_version(&self.db, &account, portfolio_id).await?;
                let hit =
                    read_cache::get(cache, CachedRead::Positions, tier, portfolio_id, version)
                        .await;
                if let Some(hit) = hit {
                    return Ok(Response::new(hit));
                }
                Some((cache, version))
            }
            None => None,
        };
        let rows = order_store::list_positions(&self.db, &account, portfolio_id).await?;
        let answer = ListPositionsResponse {
            positions: rows.into_iter().map(Position::from).collect(),
        };
        if let Some((cache, version)) = cached {
            read_cache::put(cache, CachedRead::Positions, portfolio_id, version, &answer).await;
        }
        Ok(Response::new(answer))
    }

    async fn get_valuation(
        &self,
        request: Request<GetValuationRequest>,
    ) -> Result<Response<Valuation>, Status> {
        let account = account_of(&request)?;
        let tier = tier_of(&request);
        let deadline = remaining_deadline(&request);
        let portfolio_id = &request.get_ref().portfolio_id;
        if let Some(cache) = &self.cache {
            let version = valuation::portfolio_version(&self.db, &account, portfolio_id).await?;
            if let Some(cached) =
                read_cache::get(cache, CachedRead::Valuation, tier, portfolio_id, version).await
            {
                return Ok(Response::new(cached));
            }
        }
        let snapshot = valuation::snapshot(&self.db, &account, portfolio_id).await?;
        // One call for every symbol, never one per position.
        let quotes = self
            .quotes
            .quotes(tier, deadline, &snapshot.open_symbols())
            .await
            .map_err(PortfolioError::from)?;
        let answer = valuation::value(&snapshot, &quotes, now())?;
        if let Some(cache) = &self.cache {
            let version = snapshot.portfolio.version;
            read_cache::put(cache, CachedRead::Valuation, portfolio_id, version, &answer).await;
        }
        Ok(Response::new(answer))
    }
}
