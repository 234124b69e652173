//! Row types for every table, as a service would write them. Deriving
//! `Selectable` with `check_for_backend` on both backends makes the compiler
//! check that `schema.rs` types map to these Rust types on each.
//!
//! `treat_none_as_default_value = false` writes `None` as `NULL` instead of
//! `DEFAULT`. SQLite has no `DEFAULT` keyword: without it diesel's synchronous
//! SQLite connection splits a multi-row insert into one statement per row.

use bourse_store::schema::{
    api_keys, bars, corporate_actions, instruments, news, portfolios, quotes, risk_reports,
};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// A timestamp with microseconds, the precision both backends keep.
pub(crate) fn at(year: i32, month: u32, day: u32, micro: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|date| date.and_hms_micro_opt(13, 30, 15, micro))
        .expect("valid test timestamp")
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ApiKeyRow {
    pub(crate) id: String,
    pub(crate) account: String,
    pub(crate) tier: String,
    pub(crate) key_hash: String,
    pub(crate) prefix: String,
    pub(crate) rate_limit_per_second: Option<i32>,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    /// A premium key of `account` whose hash is derived from `n`.
    pub(crate) fn sample(n: u8, account: &str) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            account: account.to_owned(),
            tier: "premium".to_owned(),
            key_hash: format!("{n:02x}").repeat(32),
            prefix: format!("bk_{n:05}"),
            rate_limit_per_second: Some(250),
            created_at: at(2024, 2, 29, 123_456),
            revoked_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = instruments, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct InstrumentRow {
    pub(crate) symbol: String,
    pub(crate) name: String,
    pub(crate) exchange: String,
    pub(crate) currency: String,
    pub(crate) asset_class: String,
    pub(crate) sector: Option<String>,
    pub(crate) active: bool,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = quotes, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct QuoteRow {
    pub(crate) symbol: String,
    pub(crate) last: f64,
    pub(crate) bid: Option<f64>,
    pub(crate) ask: Option<f64>,
    pub(crate) bid_size: Option<f64>,
    pub(crate) ask_size: Option<f64>,
    pub(crate) day_open: Option<f64>,
    pub(crate) day_high: Option<f64>,
    pub(crate) day_low: Option<f64>,
    pub(crate) prev_close: Option<f64>,
    pub(crate) volume: f64,
    pub(crate) ts: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = bars, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct BarRow {
    pub(crate) symbol: String,
    pub(crate) interval: String,
    pub(crate) ts: NaiveDateTime,
    pub(crate) open: f64,
    pub(crate) high: f64,
    pub(crate) low: f64,
    pub(crate) close: f64,
    pub(crate) volume: f64,
    pub(crate) vwap: Option<f64>,
    pub(crate) trades: Option<i64>,
}

impl BarRow {
    /// A bar of `symbol` at `ts` whose prices are derived from `base`.
    pub(crate) fn sample(symbol: &str, interval: &str, ts: NaiveDateTime, base: f64) -> Self {
        Self {
            symbol: symbol.to_owned(),
            interval: interval.to_owned(),
            ts,
            open: base,
            high: base + 2.5,
            low: base - 1.25,
            close: base + 0.75,
            volume: 1_234_567.0,
            vwap: Some(base + 0.5),
            trades: Some(9_876_543_210),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = corporate_actions, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct CorporateActionRow {
    pub(crate) id: String,
    pub(crate) symbol: String,
    pub(crate) ex_date: NaiveDateTime,
    pub(crate) kind: String,
    pub(crate) ratio: Option<f64>,
    pub(crate) amount: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = portfolios, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct PortfolioRow {
    pub(crate) id: String,
    pub(crate) account: String,
    pub(crate) name: String,
    pub(crate) base_currency: String,
    pub(crate) cash: String,
    pub(crate) allow_short: bool,
    pub(crate) version: i64,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_reports, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct RiskReportRow {
    pub(crate) id: String,
    pub(crate) portfolio_id: Option<String>,
    pub(crate) account: String,
    pub(crate) method: String,
    pub(crate) params: String,
    pub(crate) result: String,
    pub(crate) computed_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = news, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct NewsRow {
    pub(crate) id: String,
    pub(crate) source: String,
    pub(crate) url: Option<String>,
    pub(crate) headline: String,
    pub(crate) body: Option<String>,
    pub(crate) symbols: String,
    pub(crate) published_at: NaiveDateTime,
    pub(crate) score: f64,
    pub(crate) label: String,
    pub(crate) ingested_at: NaiveDateTime,
}
