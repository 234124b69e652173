//! The limit-order watcher: a background task that fills resting limit orders when the quote
//! crosses their limit, and expires DAY orders at the end of the UTC day.
//!
//! It follows market-data's `StreamQuotes` for exactly the symbols that have open limit orders,
//! re-reading that set every [`WatcherConfig::refresh`] (or at once when [`LimitWatcher::wake`]
//! is called after a limit order was placed) and re-subscribing when it changed. The stream
//! opens with the symbols' current quotes, so an order whose limit is already crossed fills on
//! subscription. Fills go through [`book::fill_open_order`], the market orders' booking under
//! the same portfolio lock; a racing fill or cancel of the same order is a harmless
//! FAILED_PRECONDITION. Several instances may watch the same store: the lock makes each fill
//! happen once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bourse_cache::Cache;
use bourse_proto::market_data::v1::{Quote, QuoteUpdate};
use bourse_store::schema::{orders, portfolios};
use bourse_store::{Db, with_conn};
use chrono::{NaiveDateTime, NaiveTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use futures::{Stream, StreamExt};
use tokio::sync::{Notify, watch};

use crate::book;
use crate::decimal::Price;
use crate::error::PortfolioError;
use crate::order::{OrderSide, OrderStatus, OrderType, TimeInForce};
use crate::quotes::QuoteError;
use crate::read_cache;

/// Why an expired DAY order was canceled (stored as its reason).
pub const DAY_EXPIRY_REASON: &str = "day order expired at the end of the UTC day";

/// A stream of quote updates for a set of symbols.
pub type QuoteUpdates =
    std::pin::Pin<Box<dyn Stream<Item = Result<QuoteUpdate, tonic::Status>> + Send>>;

/// Where the watcher gets quote updates: market-data's `StreamQuotes`.
#[tonic::async_trait]
pub trait QuoteFeed: Send + Sync + std::fmt::Debug + 'static {
    /// Follows `symbols` (never empty): their current quotes, then every update.
    async fn follow(&self, symbols: Vec<String>) -> Result<QuoteUpdates, QuoteError>;
}

/// How the watcher polls.
#[derive(Debug, Clone, Copy)]
pub struct WatcherConfig {
    /// How often the set of open limit orders is re-read (and DAY orders expired).
    pub refresh: Duration,
}

impl Default for WatcherConfig {
    fn default() -> Self {
        Self {
            refresh: Duration::from_secs(1),
        }
    }
}

/// An open limit order, as the watcher needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestingOrder {
    pub id: String,
    pub portfolio_id: String,
    pub symbol: String,
    pub side: OrderSide,
    pub limit: Price,
}

/// The price a resting order fills at under `quote`, if the quote crosses its limit: a buy
/// when the ask (else the last) is at or below the limit, a sell when the bid (else the last)
/// is at or above it; it fills at that quote price (never worse than the limit).
pub fn crossing_price(order: &RestingOrder, quote: &Quote) -> Option<Price> {
    let touch = match order.side {
        OrderSide::Buy => quote.ask,
        OrderSide::Sell => quote.bid,
    };
    let price = touch
        .and_then(Price::from_quote)
        .or_else(|| Price::from_quote(quote.last))?;
    let crosses = match order.side {
        OrderSide::Buy => price <= order.limit,
        OrderSide::Sell => price >= order.limit,
    };
    crosses.then_some(price)
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Every open limit order in the store.
pub async fn open_limit_orders(db: &Db) -> Result<Vec<RestingOrder>, PortfolioError> {
    let open = OrderStatus::OPEN.map(OrderStatus::as_str);
    let rows: Vec<(String, String, String, String, Option<String>)> = with_conn!(db, |conn| {
        orders::table
            .filter(orders::order_type.eq(OrderType::Limit.as_str()))
            .filter(orders::status.eq_any(open))
            .select((
                orders::id,
                orders::portfolio_id,
                orders::symbol,
                orders::side,
                orders::limit_price,
            ))
            .load(conn)
            .await?
    });
    rows.into_iter()
        .map(|(id, portfolio_id, symbol, side, limit)| {
            let corrupt = || PortfolioError::Corrupt(format!("limit order {id}"));
            Ok(RestingOrder {
                side: OrderSide::from_stored(&side).ok_or_else(corrupt)?,
                limit: limit
                    .as_deref()
                    .and_then(|text| Price::parse(text).ok())
                    .ok_or_else(corrupt)?,
                id,
                portfolio_id,
                symbol,
            })
        })
        .collect()
}

/// Cancels, with [`DAY_EXPIRY_REASON`], every open DAY order created before the start of
/// `now`'s UTC day, under each portfolio's lock (its version moves, so cached reads refresh).
/// Returns the portfolios that changed.
pub async fn expire_day_orders(db: &Db, now: NaiveDateTime) -> Result<Vec<String>, PortfolioError> {
    let midnight = now.date().and_time(NaiveTime::MIN);
    let open = OrderStatus::OPEN.map(OrderStatus::as_str);
    let day = TimeInForce::Day.as_str();
    let portfolio_ids: Vec<String> = with_conn!(db, |conn| {
        orders::table
            .filter(orders::time_in_force.eq(day))
            .filter(orders::status.eq_any(open))
            .filter(orders::created_at.lt(midnight))
            .select(orders::portfolio_id)
            .distinct()
            .load(conn)
            .await?
    });
    for portfolio_id in &portfolio_ids {
        with_conn!(db, |conn| {
            conn.transaction::<_, PortfolioError, _>(async |conn| {
                // The portfolio lock of every write (see `book`): bump the version first.
                diesel::update(portfolios::table.find(portfolio_id))
                    .set((
                        portfolios::version.eq(portfolios::version + 1),
                        portfolios::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                let ids: Vec<String> = orders::table
                    .filter(orders::portfolio_id.eq(portfolio_id))
                    .filter(orders::time_in_force.eq(day))
                    .filter(orders::status.eq_any(open))
                    .filter(orders::created_at.lt(midnight))
                    .select(orders::id)
                    .load(conn)
                    .await?;
                diesel::update(orders::table.filter(orders::id.eq_any(ids)))
                    .set((
                        orders::status.eq(OrderStatus::Canceled.as_str()),
                        orders::reject_reason.eq(DAY_EXPIRY_REASON),
                        orders::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await
        })?;
    }
    Ok(portfolio_ids)
}

/// The limit-order watcher's state, built once at start-up.
#[derive(Debug, Clone)]
pub struct LimitWatcher {
    db: Db,
    feed: Arc<dyn QuoteFeed>,
    cache: Option<Cache>,
    config: WatcherConfig,
    wake: Arc<Notify>,
}

impl LimitWatcher {
    pub fn new(
        db: Db,
        feed: Arc<dyn QuoteFeed>,
        cache: Option<Cache>,
        config: WatcherConfig,
    ) -> Self {
        Self {
            db,
            feed,
            cache,
            config,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Makes the watcher re-read the open orders now (call after accepting a limit order).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    async fn invalidate(&self, portfolio_id: &str) {
        if let Some(cache) = &self.cache {
            read_cache::invalidate_portfolio(cache, portfolio_id).await;
        }
    }

    /// Fills every order of `resting` that `quote` crosses.
    async fn on_quote(&self, resting: &HashMap<String, Vec<RestingOrder>>, quote: &Quote) {
        for order in resting.get(&quote.symbol).into_iter().flatten() {
            let Some(price) = crossing_price(order, quote) else {
                continue;
            };
            match book::fill_open_order(&self.db, &order.id, price, now()).await {
                Ok(record) => {
                    self.invalidate(&order.portfolio_id).await;
                    tracing::info!(order = %order.id, status = %record.order.status, price = %price.canonical(), "limit order crossed");
                }
                // Filled, canceled or deleted meanwhile (here or by another instance).
                Err(PortfolioError::FailedPrecondition(_) | PortfolioError::NotFound(_)) => {}
                Err(error) => tracing::warn!(order = %order.id, %error, "limit order fill failed"),
            }
        }
    }

    /// Runs until `stop` turns true. Errors (store or market data down) are logged and retried
    /// at the next refresh.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut following = BTreeSet::new();
        let mut updates: Option<QuoteUpdates> = None;
        let mut resting: HashMap<String, Vec<RestingOrder>> = HashMap::new();
        let mut refresh = tokio::time::interval(self.config.refresh);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = refresh.tick() => {}
                () = self.wake.notified() => {}
                update = next(&mut updates) => {
                    match update {
                        Some(Ok(QuoteUpdate { quote: Some(quote), .. })) => {
                            self.on_quote(&resting, &quote).await;
                        }
                        Some(Ok(_)) => {}
                        Some(Err(status)) => {
                            tracing::warn!(%status, "quote stream failed; re-subscribing");
                            updates = None;
                            following.clear();
                        }
                        None => {
                            updates = None;
                            following.clear();
                        }
                    }
                    continue;
                }
            }
            match expire_day_orders(&self.db, now()).await {
                Ok(changed) => {
                    for portfolio_id in changed {
                        self.invalidate(&portfolio_id).await;
                    }
                }
                Err(error) => tracing::warn!(%error, "expiring day orders failed"),
            }
            let orders = match open_limit_orders(&self.db).await {
                Ok(orders) => orders,
                Err(error) => {
                    tracing::warn!(%error, "reading open limit orders failed");
                    continue;
                }
            };
            resting.clear();
            for order in orders {
                resting.entry(order.symbol.clone()).or_default().push(order);
            }
            let symbols: BTreeSet<String> = resting.keys().cloned().collect();
            if symbols == following && (updates.is_some() || symbols.is_empty()) {
                continue;
            }
            updates = None;
            following.clear();
            if symbols.is_empty() {
                continue;
            }
            match self.feed.follow(symbols.iter().cloned().collect()).await {
                Ok(stream) => {
                    updates = Some(stream);
                    following = symbols;
                }
                Err(error) => tracing::warn!(%error, "subscribing to quotes failed"),
            }
        }
    }
}

/// The next update of `updates`, or never when there is no stream.
async fn next(updates: &mut Option<QuoteUpdates>) -> Option<Result<QuoteUpdate, tonic::Status>> {
    match updates {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}
