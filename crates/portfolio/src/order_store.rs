//! Rows of `orders`, `fills` and `positions`, their contract form, and the read queries.
//!
//! Every query is scoped to the caller's account through the portfolio or order row, so another
//! account's data reads as absent.

use std::collections::HashMap;

use bourse_proto::portfolio::v1 as pb;
use bourse_proto::time::naive_to_timestamp;
use bourse_store::page::{Cursor, PageRequest};
use bourse_store::schema::{fills, orders, portfolios, positions};
use bourse_store::{Db, with_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::error::PortfolioError;
use crate::order::{OrderSide, OrderStatus, OrderType, TimeInForce};

/// A row of `orders`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OrderRow {
    pub id: String,
    pub portfolio_id: String,
    pub symbol: String,
    pub side: String,
    pub order_type: String,
    pub quantity: String,
    pub limit_price: Option<String>,
    pub time_in_force: String,
    pub status: String,
    pub reject_reason: Option<String>,
    pub filled_quantity: String,
    pub average_fill_price: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A row of `fills`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = fills)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct FillRow {
    pub order_id: String,
    pub seq: i32,
    pub price: String,
    pub quantity: String,
    pub time: NaiveDateTime,
}

/// A row of `positions`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = positions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PositionRow {
    pub portfolio_id: String,
    pub symbol: String,
    pub quantity: String,
    pub average_cost: String,
    pub realized_pnl: String,
    pub updated_at: NaiveDateTime,
}

/// An order with its fills, in fill order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub order: OrderRow,
    pub fills: Vec<FillRow>,
}

impl From<OrderRecord> for pb::Order {
    fn from(record: OrderRecord) -> Self {
        let row = record.order;
        let side = OrderSide::from_stored(&row.side).map_or(0, |s| s.to_proto().into());
        let order_type = OrderType::from_stored(&row.order_type).map_or(0, |t| t.to_proto().into());
        let time_in_force =
            TimeInForce::from_stored(&row.time_in_force).map_or(0, |t| t.to_proto().into());
        let status = OrderStatus::from_stored(&row.status).map_or(0, |s| s.to_proto().into());
        pb::Order {
            id: row.id,
            portfolio_id: row.portfolio_id,
            symbol: row.symbol,
            side,
            quantity: row.quantity,
            r#type: order_type,
            limit_price: row.limit_price.unwrap_or_default(),
            time_in_force,
            status,
            reject_reason: row.reject_reason.unwrap_or_default(),
            fills: record
                .fills
                .into_iter()
                .map(|fill| pb::Fill {
                    price: fill.price,
                    quantity: fill.quantity,
                    time: Some(naive_to_timestamp(fill.time)),
                })
                .collect(),
            filled_quantity: row.filled_quantity,
            average_fill_price: row.average_fill_price.unwrap_or_default(),
            create_time: Some(naive_to_timestamp(row.created_at)),
            update_time: Some(naive_to_timestamp(row.updated_at)),
            idempotency_key: row.idempotency_key.unwrap_or_default(),
        }
    }
}

impl From<PositionRow> for pb::Position {
    fn from(row: PositionRow) -> Self {
        pb::Position {
            symbol: row.symbol,
            quantity: row.quantity,
            average_cost: row.average_cost,
            realized_pnl: row.realized_pnl,
            update_time: Some(naive_to_timestamp(row.updated_at)),
        }
    }
}

/// What `ListOrders` selects, besides the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub symbol: Option<String>,
    /// Created at or after.
    pub start: Option<NaiveDateTime>,
    /// Created before.
    pub end: Option<NaiveDateTime>,
}

/// Attaches each order's fills, loaded in one query.
async fn with_fills(db: &Db, rows: Vec<OrderRow>) -> Result<Vec<OrderRecord>, PortfolioError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let all: Vec<FillRow> = with_conn!(db, |conn| {
        fills::table
            .filter(fills::order_id.eq_any(&ids))
            .order((fills::order_id, fills::seq))
            .select(FillRow::as_select())
            .load(conn)
            .await?
    });
    let mut by_order: HashMap<String, Vec<FillRow>> = HashMap::new();
    for fill in all {
        by_order
            .entry(fill.order_id.clone())
            .or_default()
            .push(fill);
    }
    Ok(rows
        .into_iter()
        .map(|order| OrderRecord {
            fills: by_order.remove(&order.id).unwrap_or_default(),
            order,
        })
        .collect())
}

/// `order_id` of `portfolio_id`, if the caller's account owns it.
pub async fn get_order(
    db: &Db,
    account: &str,
    portfolio_id: &str,
    order_id: &str,
) -> Result<OrderRecord, PortfolioError> {
    let row: Option<OrderRow> = with_conn!(db, |conn| {
        orders::table
            .inner_join(portfolios::table)
            .filter(orders::id.eq(order_id))
            .filter(orders::portfolio_id.eq(portfolio_id))
            .filter(portfolios::account.eq(account))
            .select(OrderRow::as_select())
            .first(conn)
            .await
            .optional()?
    });
    let row = row.ok_or_else(|| PortfolioError::NotFound(format!("order {order_id}")))?;
    let mut records = with_fills(db, vec![row]).await?;
    records
        .pop()
        .ok_or_else(|| PortfolioError::NotFound(format!("order {order_id}")))
}

/// The order placed with `key` on `portfolio_id`, if any (and the caller owns it).
pub async fn find_by_idempotency_key(
    db: &Db,
    account: &str,
    portfolio_id: &str,
    key: &str,
) -> Result<Option<OrderRecord>, PortfolioError> {
    let row: Option<OrderRow> = with_conn!(db, |conn| {
        orders::table
            .inner_join(portfolios::table)
            .filter(orders::portfolio_id.eq(portfolio_id))
            .filter(orders::idempotency_key.eq(key))
            .filter(portfolios::account.eq(account))
            .select(OrderRow::as_select())
            .first(conn)
            .await
            .optional()?
    });
    match row {
        Some(row) => Ok(with_fills(db, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// Fails with NOT_FOUND unless the caller's account owns `portfolio_id`.
pub async fn ensure_owned(
    db: &Db,
    account: &str,
    portfolio_id: &str,
) -> Result<(), PortfolioError> {
    let found: i64 = with_conn!(db, |conn| {
        portfolios::table
            .filter(portfolios::id.eq(portfolio_id))
            .filter(portfolios::account.eq(account))
            .count()
            .get_result(conn)
            .await?
    });
    if found == 0 {
        return Err(PortfolioError::NotFound(format!(
            "portfolio {portfolio_id}"
        )));
    }
    Ok(())
}

/// One page of a portfolio's orders, newest first, and the next page token.
pub async fn list_orders(
    db: &Db,
    account: &str,
    portfolio_id: &str,
    filter: &OrderFilter,
    page: &PageRequest,
) -> Result<(Vec<OrderRecord>, String), PortfolioError> {
    ensure_owned(db, account, portfolio_id).await?;
    let rows: Vec<OrderRow> = with_conn!(db, |conn| {
        let mut query = orders::table
            .filter(orders::portfolio_id.eq(portfolio_id))
            .order((orders::created_at.desc(), orders::id.desc()))
            .limit(page.limit())
            .select(OrderRow::as_select())
            .into_boxed();
        if let Some(status) = filter.status {
            query = query.filter(orders::status.eq(status.as_str()));
        }
        if let Some(symbol) = &filter.symbol {
            query = query.filter(orders::symbol.eq(symbol));
        }
        if let Some(start) = filter.start {
            query = query.filter(orders::created_at.ge(start));
        }
        if let Some(end) = filter.end {
            query = query.filter(orders::created_at.lt(end));
        }
        if let Some(after) = &page.after {
            query = query.filter(
                orders::created_at.lt(after.time).or(orders::created_at
                    .eq(after.time)
                    .and(orders::id.lt(&after.id))),
            );
        }
        query.load(conn).await?
    });
    let (rows, token) = page.finish(rows, |row| Cursor {
        time: row.created_at,
        id: row.id.clone(),
    });
    Ok((with_fills(db, rows).await?, token))
}

/// A portfolio's open positions (quantity not zero), ordered by symbol.
pub async fn list_positions(
    db: &Db,
    account: &str,
    portfolio_id: &str,
) -> Result<Vec<PositionRow>, PortfolioError> {
    ensure_owned(db, account, portfolio_id).await?;
    Ok(with_conn!(db, |conn| {
        positions::table
            .filter(positions::portfolio_id.eq(portfolio_id))
            // Quantities are stored canonical, so a closed position is exactly "0".
            .filter(positions::quantity.ne("0"))
            .order(positions::symbol)
            .select(PositionRow::as_select())
            .load(conn)
            .await?
    }))
}
