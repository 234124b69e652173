//! Portfolio storage: one set of diesel queries for PostgreSQL and SQLite.

use bourse_proto::portfolio::v1::Portfolio;
use bourse_proto::time::naive_to_timestamp;
use bourse_store::page::{Cursor, PageRequest};
use bourse_store::schema::portfolios;
use bourse_store::{Db, with_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::decimal::Money;
use crate::error::PortfolioError;

/// A row of `portfolios`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = portfolios)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct PortfolioRow {
    pub id: String,
    pub account: String,
    pub name: String,
    pub base_currency: String,
    pub cash: String,
    pub allow_short: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl From<PortfolioRow> for Portfolio {
    fn from(row: PortfolioRow) -> Self {
        Portfolio {
            id: row.id,
            name: row.name,
            base_currency: row.base_currency,
            cash: row.cash,
            allow_short: row.allow_short,
            create_time: Some(naive_to_timestamp(row.created_at)),
            update_time: Some(naive_to_timestamp(row.updated_at)),
            version: row.version,
        }
    }
}

/// One page of `account`'s portfolios, newest first, and the next page token.
pub async fn list_portfolios(
    db: &Db,
    account: &str,
    page: &PageRequest,
) -> Result<(Vec<PortfolioRow>, String), PortfolioError> {
    let rows: Vec<PortfolioRow> = with_conn!(db, |conn| {
        let mut query = portfolios::table
            .filter(portfolios::account.eq(account))
            .order((portfolios::created_at.desc(), portfolios::id.desc()))
            .limit(page.limit())
            .select(PortfolioRow::as_select())
            .into_boxed();
        if let Some(after) = &page.after {
            query = query.filter(
                portfolios::created_at
                    .lt(after.time)
                    .or(portfolios::created_at
                        .eq(after.time)
                        .and(portfolios::id.lt(&after.id))),
            );
        }
        query.load(conn).await?
    });
    Ok(page.finish(rows, |row| Cursor {
        time: row.created_at,
        id: row.id.clone(),
    }))
}

/// Inserts a portfolio row.
pub async fn insert_portfolio(db: &Db, row: &PortfolioRow) -> Result<(), PortfolioError> {
    with_conn!(db, |conn| {
        diesel::insert_into(portfolios::table)
            .values(row)
            .execute(conn)
            .await?
    });
    Ok(())
}

/// Longest portfolio name accepted.
const MAX_NAME: usize = 200;

impl PortfolioRow {
    /// A new portfolio of `account` from a `CreatePortfolio` body: name required, base
    /// currency three upper-case letters (default USD), cash a deposit ≥ 0 (default 0).
    pub fn create(
        account: &str,
        portfolio: &Portfolio,
        now: NaiveDateTime,
    ) -> Result<Self, PortfolioError> {
        let invalid =
            |field: &'static str, reason: String| PortfolioError::InvalidArgument { field, reason };
        let name = portfolio.name.trim();
        if name.is_empty() {
            return Err(invalid("portfolio.name", "is required".into()));
        }
        if name.chars().count() > MAX_NAME {
            return Err(invalid(
                "portfolio.name",
                format!("at most {MAX_NAME} characters"),
            ));
        }
        let base_currency = match portfolio.base_currency.trim() {
            "" => "USD",
            code if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) => code,
            code => {
                return Err(invalid(
                    "portfolio.base_currency",
                    format!("{code:?} is not an ISO 4217 code (three upper-case letters)"),
                ));
            }
        };
        let cash = match portfolio.cash.trim() {
            "" => Money::ZERO,
            text => Money::parse_non_negative(text)
                .map_err(|error| invalid("portfolio.cash", error.to_string()))?,
        };
        Ok(Self {
            id: uuid::Uuid::now_v7().to_string(),
            account: account.to_owned(),
            name: name.to_owned(),
            base_currency: base_currency.to_owned(),
            cash: cash.canonical(),
            allow_short: portfolio.allow_short,
            version: 0,
            created_at: now,
            updated_at: now,
        })
    }
}

/// The caller's portfolio `id`; NOT_FOUND when it does not exist or is another account's.
pub async fn get_portfolio(
    db: &Db,
    account: &str,
    id: &str,
) -> Result<PortfolioRow, PortfolioError> {
    let row: Option<PortfolioRow> = with_conn!(db, |conn| {
        portfolios::table
            .filter(portfolios::id.eq(id))
            .filter(portfolios::account.eq(account))
            .select(PortfolioRow::as_select())
            .first(conn)
            .await
            .optional()?
    });
    row.ok_or_else(|| PortfolioError::NotFound(format!("portfolio {id}")))
}
