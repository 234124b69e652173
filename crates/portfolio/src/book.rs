//! The book's writes: placing, canceling, deleting, each in one transaction.
//!
//! Concurrency: every write transaction starts by bumping the portfolio's `version` with
//! `UPDATE portfolios ... WHERE id = ? AND account = ?`. That first statement is the lock:
//! on PostgreSQL it takes the portfolio row's lock until commit, on SQLite it takes the
//! database write lock (waiting under `busy_timeout`, as a first write in a transaction
//! does). Cash and positions are read only after it, so two orders on one portfolio are
//! serialized and neither can book against a balance the other has already spent. The same
//! statements run on both backends; no retry loop is needed because no transaction reads
//! before it holds the lock.
//!
//! Idempotency keys live on their order (`orders.idempotency_key`, unique per portfolio),
//! and are cleared by [`prune_idempotency_keys`] once older than [`IDEMPOTENCY_RETENTION`].

use bourse_store::schema::{fills, orders, portfolios, positions};
use bourse_store::{Db, with_conn};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::decimal::{Money, Price, canonical, from_stored};
use crate::error::PortfolioError;
use crate::order::{NewOrder, OrderStatus, OrderType};
use crate::order_store::{self, FillRow, OrderRecord, OrderRow, PositionRow};
use crate::position::{Booking, PositionState, Rejection, book_fill};
use crate::store::PortfolioRow;

/// How long an idempotency key is honoured at least; older keys may be pruned and reused.
pub const IDEMPOTENCY_RETENTION: TimeDelta = TimeDelta::hours(24);

/// The first statement of every write transaction: bumps the portfolio's version and so takes
/// the lock (see the module documentation). NOT_FOUND when the caller's account has no such
/// portfolio. A macro, as `with_conn!` bodies are compiled once per backend.
macro_rules! lock_portfolio {
    ($conn:expr, any account, $portfolio_id:expr, $now:expr) => {{
        let locked = diesel::update(portfolios::table.filter(portfolios::id.eq($portfolio_id)))
            .set((
                portfolios::version.eq(portfolios::version + 1),
                portfolios::updated_at.eq($now),
            ))
            .execute(&mut *$conn)
            .await?;
        if locked == 0 {
            return Err(PortfolioError::NotFound(format!(
                "portfolio {}",
                $portfolio_id
            )));
        }
    }};
    ($conn:expr, $account:expr, $portfolio_id:expr, $now:expr) => {{
        let locked = diesel::update(
            portfolios::table
                .filter(portfolios::id.eq($portfolio_id))
                .filter(portfolios::account.eq($account)),
        )
        .set((
            portfolios::version.eq(portfolios::version + 1),
            portfolios::updated_at.eq($now),
        ))
        .execute(&mut *$conn)
        .await?;
        if locked == 0 {
            return Err(PortfolioError::NotFound(format!(
                "portfolio {}",
                $portfolio_id
            )));
        }
    }};
}

/// Writes a booking's position (insert or update) and cash. Inside a transaction holding the
/// portfolio lock.
macro_rules! write_booking {
    ($conn:expr, $portfolio_id:expr, $symbol:expr, $position_exists:expr, $booking:expr, $now:expr) => {{
        let booking: &Booking = $booking;
        let quantity = canonical(booking.position.quantity);
        let average_cost = canonical(booking.position.average_cost);
        let realized_pnl = booking.position.realized_pnl.canonical();
        if $position_exists {
            diesel::update(positions::table.find(($portfolio_id, $symbol)))
                .set((
                    positions::quantity.eq(&quantity),
                    positions::average_cost.eq(&average_cost),
                    positions::realized_pnl.eq(&realized_pnl),
                    positions::updated_at.eq($now),
                ))
                .execute(&mut *$conn)
                .await?;
        } else {
            let row = PositionRow {
                portfolio_id: $portfolio_id.to_owned(),
                symbol: $symbol.to_owned(),
                quantity,
                average_cost,
                realized_pnl,
                updated_at: $now,
            };
            diesel::insert_into(positions::table)
                .values(&row)
                .execute(&mut *$conn)
                .await?;
        }
        diesel::update(portfolios::table.find($portfolio_id))
            .set(portfolios::cash.eq(booking.cash.canonical()))
            .execute(&mut *$conn)
            .await?;
    }};
}

/// What an order does to the book, decided under the portfolio lock.
struct Plan {
    status: OrderStatus,
    reject_reason: Option<String>,
    fill: Option<(Price, Booking)>,
}

impl Plan {
    fn rejected(why: Rejection) -> Self {
        Self {
            status: OrderStatus::Rejected,
            reject_reason: Some(why.to_string()),
            fill: None,
        }
    }
}

fn corrupt(what: &str, value: &str) -> PortfolioError {
    PortfolioError::Corrupt(format!("{what} {value:?}"))
}

fn position_state(row: &PositionRow) -> Result<PositionState, PortfolioError> {
    Ok(PositionState {
        quantity: from_stored(&row.quantity)
            .ok_or_else(|| corrupt("position quantity", &row.quantity))?,
        average_cost: from_stored(&row.average_cost)
            .ok_or_else(|| corrupt("average cost", &row.average_cost))?,
        realized_pnl: Money::from_stored(&row.realized_pnl)
            .ok_or_else(|| corrupt("realized P&L", &row.realized_pnl))?,
    })
}

/// Decides the order's fate: limit orders rest, market orders fill at `price` or are rejected.
fn plan(
    order: &NewOrder,
    price: Option<Price>,
    portfolio: &PortfolioRow,
    position: Option<&PositionRow>,
) -> Result<Plan, PortfolioError> {
    if order.order_type == OrderType::Limit {
        return Ok(Plan {
            status: OrderStatus::Accepted,
            reject_reason: None,
            fill: None,
        });
    }
    let Some(price) = price else {
        return Ok(Plan::rejected(Rejection::NoQuote(order.symbol.clone())));
    };
    let cash =
        Money::from_stored(&portfolio.cash).ok_or_else(|| corrupt("cash", &portfolio.cash))?;
    let state = position
        .map(position_state)
        .transpose()?
        .unwrap_or_default();
    Ok(
        match book_fill(
            order.side,
            order.quantity,
            price,
            cash,
            state,
            portfolio.allow_short,
        ) {
            Ok(booking) => Plan {
                status: OrderStatus::Filled,
                reject_reason: None,
                fill: Some((price, booking)),
            },
            Err(why) => Plan::rejected(why),
        },
    )
}

/// The first order placed with the key, if `order` asks for the same thing; else
/// FAILED_PRECONDITION.
pub fn replay(found: OrderRecord, order: &NewOrder) -> Result<OrderRecord, PortfolioError> {
    if found.order.request_hash.as_deref() == Some(order.request_hash().as_str()) {
        Ok(found)
    } else {
        Err(PortfolioError::FailedPrecondition(format!(
            "idempotency key {:?} was already used with a different order",
            order.idempotency_key.as_deref().unwrap_or_default()
        )))
    }
}

/// Places `order` on the caller's portfolio in one transaction: the order, its fill, the
/// position and the cash, or a rejected order and nothing else. `price` is the fill price of
/// a market order (`None`: no quote, the order is rejected). A key already used on the
/// portfolio (including by a racing request) returns the first order or FAILED_PRECONDITION.
pub async fn place_order(
    db: &Db,
    account: &str,
    portfolio_id: &str,
    order: &NewOrder,
    price: Option<Price>,
    now: NaiveDateTime,
) -> Result<OrderRecord, PortfolioError> {
    let request_hash = order.request_hash();
    let outcome = with_conn!(db, |conn| {
        conn.transaction::<_, PortfolioError, _>(async |conn| {
            lock_portfolio!(conn, account, portfolio_id, now);
            let portfolio: PortfolioRow = portfolios::table
                .find(portfolio_id)
                .select(PortfolioRow::as_select())
                .first(conn)
                .await?;
            let position: Option<PositionRow> = positions::table
                .find((portfolio_id, &order.symbol))
                .select(PositionRow::as_select())
                .first(conn)
                .await
                .optional()?;
            let plan = plan(order, price, &portfolio, position.as_ref())?;
            let row = OrderRow {
                id: uuid::Uuid::now_v7().to_string(),
                portfolio_id: portfolio_id.to_owned(),
                symbol: order.symbol.clone(),
                side: order.side.as_str().to_owned(),
                order_type: order.order_type.as_str().to_owned(),
                quantity: order.quantity.canonical(),
                limit_price: order.limit_price.map(Price::canonical),
                time_in_force: order.time_in_force.as_str().to_owned(),
                status: plan.status.as_str().to_owned(),
                reject_reason: plan.reject_reason,
                filled_quantity: if plan.fill.is_some() {
                    order.quantity.canonical()
                } else {
                    "0".to_owned()
                },
                average_fill_price: plan.fill.map(|(price, _)| price.canonical()),
                idempotency_key: order.idempotency_key.clone(),
                request_hash: order.idempotency_key.as_ref().map(|_| request_hash.clone()),
                created_at: now,
                updated_at: now,
            };
            diesel::insert_into(orders::table)
                .values(&row)
                .execute(conn)
                .await?;
            let Some((price, booking)) = plan.fill else {
                return Ok(OrderRecord {
                    order: row,
                    fills: Vec::new(),
                });
            };
            let fill = FillRow {
                order_id: row.id.clone(),
                seq: 0,
                price: price.canonical(),
                quantity: order.quantity.canonical(),
                time: now,
            };
            diesel::insert_into(fills::table)
                .values(&fill)
                .execute(conn)
                .await?;
            write_booking!(
                conn,
                portfolio_id,
                &order.symbol,
                position.is_some(),
                &booking,
                now
            );
            Ok(OrderRecord {
                order: row,
                fills: vec![fill],
            })
        })
        .await
    });
    match (outcome, &order.idempotency_key) {
        (Err(PortfolioError::Store(error)), Some(key)) if error.is_unique_violation() => {
            // A racing request with the same key committed first: answer as a retry would.
            let found = order_store::find_by_idempotency_key(db, account, portfolio_id, key)
                .await?
                .ok_or(PortfolioError::Store(error))?;
            replay(found, order)
        }
        (outcome, _) => outcome,
    }
}

/// Cancels an open order (ACCEPTED or PARTIALLY_FILLED); FAILED_PRECONDITION otherwise.
pub async fn cancel_order(
    db: &Db,
    account: &str,
    portfolio_id: &str,
    order_id: &str,
    now: NaiveDateTime,
) -> Result<OrderRecord, PortfolioError> {
    with_conn!(db, |conn| {
        conn.transaction::<_, PortfolioError, _>(async |conn| {
            lock_portfolio!(conn, account, portfolio_id, now);
            let status: Option<String> = orders::table
                .filter(orders::id.eq(order_id))
                .filter(orders::portfolio_id.eq(portfolio_id))
                .select(orders::status)
                .first(conn)
                .await
                .optional()?;
            let status =
                status.ok_or_else(|| PortfolioError::NotFound(format!("order {order_id}")))?;
            let open = OrderStatus::from_stored(&status)
                .is_some_and(|status| OrderStatus::OPEN.contains(&status));
            if !open {
                return Err(PortfolioError::FailedPrecondition(format!(
                    "order {order_id} is {status}; only accepted or partially filled orders can \
                     be canceled"
                )));
            }
            diesel::update(orders::table.find(order_id))
                .set((
                    orders::status.eq(OrderStatus::Canceled.as_str()),
                    orders::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    })?;
    order_store::get_order(db, account, portfolio_id, order_id).await
}

/// Deletes the caller's portfolio with its fills, orders and positions, in one transaction.
pub async fn delete_portfolio(
    db: &Db,
    account: &str,
    portfolio_id: &str,
    now: NaiveDateTime,
) -> Result<(), PortfolioError> {
    with_conn!(db, |conn| {
        conn.transaction::<_, PortfolioError, _>(async |conn| {
            // Locking first waits out (and then excludes) orders being placed.
            lock_portfolio!(conn, account, portfolio_id, now);
            let order_ids = orders::table
                .filter(orders::portfolio_id.eq(portfolio_id))
                .select(orders::id);
            diesel::delete(fills::table.filter(fills::order_id.eq_any(order_ids)))
                .execute(conn)
                .await?;
            diesel::delete(orders::table.filter(orders::portfolio_id.eq(portfolio_id)))
                .execute(conn)
                .await?;
            diesel::delete(positions::table.filter(positions::portfolio_id.eq(portfolio_id)))
                .execute(conn)
                .await?;
            diesel::delete(portfolios::table.find(portfolio_id))
                .execute(conn)
                .await?;
            Ok(())
        })
        .await
    })
}

/// Clears the idempotency keys of orders created before `now - IDEMPOTENCY_RETENTION`, so the
/// keys may be used again; the orders themselves stay. Returns how many keys were cleared.
/// Run periodically (any interval: keys are honoured for at least the retention either way).
pub async fn prune_idempotency_keys(db: &Db, now: NaiveDateTime) -> Result<usize, PortfolioError> {
    let before = now - IDEMPOTENCY_RETENTION;
    Ok(with_conn!(db, |conn| {
        diesel::update(
            orders::table
                .filter(orders::idempotency_key.is_not_null())
                .filter(orders::created_at.lt(before)),
        )
        .set((
            orders::idempotency_key.eq(None::<String>),
            orders::request_hash.eq(None::<String>),
        ))
        .execute(conn)
        .await?
    }))
}

// After the macros, which it uses.
mod resting;
pub use resting::fill_open_order;
