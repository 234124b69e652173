//! Resting orders: filling what is left of an open order, for the limit-order watcher.

use bourse_store::schema::{fills, orders, portfolios, positions};
use bourse_store::{Db, with_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::{corrupt, position_state};
use crate::decimal::{Money, Price, Quantity, canonical, from_stored, round_price};
use crate::error::PortfolioError;
use crate::order::{OrderSide, OrderStatus};
use crate::order_store::{FillRow, OrderRecord, OrderRow, PositionRow};
use crate::position::{Booking, book_fill};
use crate::store::PortfolioRow;

/// Fills what is left of an open (resting) order at `price`: the limit-order path's booking,
/// the same as a market order's, under the same portfolio lock. When the book can no longer
/// take it (cash or shares went elsewhere while it rested) the order becomes REJECTED with the
/// reason and nothing else changes. FAILED_PRECONDITION when the order is no longer open;
/// NOT_FOUND when it does not exist. Not scoped to an account: for the service's own watcher.
pub async fn fill_open_order(
    db: &Db,
    order_id: &str,
    price: Price,
    now: NaiveDateTime,
) -> Result<OrderRecord, PortfolioError> {
    let not_found = || PortfolioError::NotFound(format!("order {order_id}"));
    let portfolio_id: String = with_conn!(db, |conn| {
        orders::table
            .find(order_id)
            .select(orders::portfolio_id)
            .first(conn)
            .await
            .optional()?
    })
    .ok_or_else(not_found)?;
    let portfolio_id = portfolio_id.as_str();
    with_conn!(db, |conn| {
        conn.transaction::<_, PortfolioError, _>(async |conn| {
            lock_portfolio!(conn, any account, portfolio_id, now);
            let mut row: OrderRow = orders::table
                .find(order_id)
                .select(OrderRow::as_select())
                .first(conn)
                .await
                .optional()?
                .ok_or_else(not_found)?;
            let open = OrderStatus::from_stored(&row.status)
                .is_some_and(|status| OrderStatus::OPEN.contains(&status));
            if !open {
                return Err(PortfolioError::FailedPrecondition(format!(
                    "order {order_id} is {}, not open",
                    row.status
                )));
            }
            let side = OrderSide::from_stored(&row.side)
                .ok_or_else(|| corrupt("order side", &row.side))?;
            let ordered =
                from_stored(&row.quantity).ok_or_else(|| corrupt("quantity", &row.quantity))?;
            let filled = from_stored(&row.filled_quantity)
                .ok_or_else(|| corrupt("filled quantity", &row.filled_quantity))?;
            let remaining = Quantity::new(ordered - filled)
                .ok_or_else(|| corrupt("remaining quantity", &row.filled_quantity))?;
            let portfolio: PortfolioRow = portfolios::table
                .find(portfolio_id)
                .select(PortfolioRow::as_select())
                .first(conn)
                .await?;
            let position: Option<PositionRow> = positions::table
                .find((portfolio_id, &row.symbol))
                .select(PositionRow::as_select())
                .first(conn)
                .await
                .optional()?;
            let cash = Money::from_stored(&portfolio.cash)
                .ok_or_else(|| corrupt("cash", &portfolio.cash))?;
            let state = position
                .as_ref()
                .map(position_state)
                .transpose()?
                .unwrap_or_default();
            let mut fills: Vec<FillRow> = fills::table
                .filter(fills::order_id.eq(order_id))
                .order(fills::seq)
                .select(FillRow::as_select())
                .load(conn)
                .await?;
            row.updated_at = now;
            match book_fill(side, remaining, price, cash, state, portfolio.allow_short) {
                Err(why) => {
                    row.status = OrderStatus::Rejected.as_str().to_owned();
                    row.reject_reason = Some(why.to_string());
                }
                Ok(booking) => {
                    let fill = FillRow {
                        order_id: order_id.to_owned(),
                        seq: i32::try_from(fills.len()).unwrap_or(i32::MAX),
                        price: price.canonical(),
                        quantity: remaining.canonical(),
                        time: now,
                    };
                    diesel::insert_into(fills::table)
                        .values(&fill)
                        .execute(conn)
                        .await?;
                    write_booking!(
                        conn,
                        portfolio_id,
                        &row.symbol,
                        position.is_some(),
                        &booking,
                        now
                    );
                    let earlier = row
                        .average_fill_price
                        .as_deref()
                        .and_then(from_stored)
                        .unwrap_or_default();
                    let average = (earlier * filled + price.get() * remaining.get()) / ordered;
                    row.status = OrderStatus::Filled.as_str().to_owned();
                    row.filled_quantity = canonical(ordered);
                    row.average_fill_price = Some(canonical(round_price(average)));
                    fills.push(fill);
                }
            }
            diesel::update(orders::table.find(order_id))
                .set((
                    orders::status.eq(&row.status),
                    orders::reject_reason.eq(&row.reject_reason),
                    orders::filled_quantity.eq(&row.filled_quantity),
                    orders::average_fill_price.eq(&row.average_fill_price),
                    orders::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok(OrderRecord { order: row, fills })
        })
        .await
    })
}
