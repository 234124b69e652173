//! Market-data storage: one set of diesel queries for PostgreSQL and SQLite.

use bourse_store::schema::{bars, instruments, quotes};
use bourse_store::{Db, StoreError, with_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

/// How many rows one INSERT carries: far below SQLite's and PostgreSQL's bind-parameter limits.
const INSERT_CHUNK: usize = 1_000;

/// A row of `instruments`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = instruments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct InstrumentRow {
    pub symbol: String,
    pub name: String,
    pub exchange: String,
    pub currency: String,
    pub asset_class: String,
    pub sector: Option<String>,
    pub active: bool,
    pub updated_at: NaiveDateTime,
}

/// A row of `quotes`: the latest quote of one symbol.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = quotes)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct QuoteRow {
    pub symbol: String,
    pub last: f64,
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub bid_size: Option<f64>,
    pub ask_size: Option<f64>,
    pub day_open: Option<f64>,
    pub day_high: Option<f64>,
    pub day_low: Option<f64>,
    pub prev_close: Option<f64>,
    pub volume: f64,
    pub ts: NaiveDateTime,
}

/// A row of `bars`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = bars)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct BarRow {
    pub symbol: String,
    pub interval: String,
    pub ts: NaiveDateTime,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub vwap: Option<f64>,
    pub trades: Option<i64>,
}

/// The stored quotes of `symbols`, in no particular order; unknown symbols are absent.
/// One round-trip however many symbols are asked for.
pub async fn quotes_for(db: &Db, symbols: &[&str]) -> Result<Vec<QuoteRow>, StoreError> {
    Ok(with_conn!(db, |conn| {
        quotes::table
            .filter(quotes::symbol.eq_any(symbols))
            .select(QuoteRow::as_select())
            .load(conn)
            .await?
    }))
}

/// Whether any instrument is stored: the demo loader fills only an empty store.
pub async fn has_instruments(db: &Db) -> Result<bool, StoreError> {
    Ok(with_conn!(db, |conn| {
        diesel::select(diesel::dsl::exists(
            instruments::table.select(instruments::symbol),
        ))
        .get_result(conn)
        .await?
    }))
}

/// Runs an upsert statement over `rows`: in batches on PostgreSQL, and row by row on SQLite
/// (diesel cannot batch an `ON CONFLICT` insert there) inside one transaction on the blocking
/// pool, which is as fast for an embedded database. `$stmt` builds the statement for a slice
/// or a single row.
macro_rules! upsert_rows {
    ($db:expr, $rows:expr, |$values:ident| $stmt:expr) => {{
        let rows = $rows;
        with_conn!(
            $db,
            postgres | conn | {
                for $values in rows.chunks(INSERT_CHUNK) {
                    diesel_async::RunQueryDsl::execute($stmt, &mut *conn).await?;
                }
            },
            sqlite | conn | {
                let owned = rows.to_vec();
                conn.spawn_blocking(move |conn| {
                    diesel::Connection::transaction(conn, |conn| {
                        for $values in &owned {
                            diesel::RunQueryDsl::execute($stmt, conn)?;
                        }
                        Ok::<_, diesel::result::Error>(())
                    })
                })
                .await?;
            }
        );
        Ok(())
    }};
}

/// Inserts or replaces instruments by symbol.
pub async fn upsert_instruments(db: &Db, rows: &[InstrumentRow]) -> Result<(), StoreError> {
    upsert_rows!(db, rows, |values| {
        diesel::insert_into(instruments::table)
            .values(values)
            .on_conflict(instruments::symbol)
            .do_update()
            .set((
                instruments::name.eq(excluded(instruments::name)),
                instruments::exchange.eq(excluded(instruments::exchange)),
                instruments::currency.eq(excluded(instruments::currency)),
                instruments::asset_class.eq(excluded(instruments::asset_class)),
                instruments::sector.eq(excluded(instruments::sector)),
                instruments::active.eq(excluded(instruments::active)),
                instruments::updated_at.eq(excluded(instruments::updated_at)),
            ))
    })
}

/// Inserts or replaces quotes by symbol.
pub async fn upsert_quotes(db: &Db, rows: &[QuoteRow]) -> Result<(), StoreError> {
    upsert_rows!(db, rows, |values| {
        diesel::insert_into(quotes::table)
            .values(values)
            .on_conflict(quotes::symbol)
            .do_update()
            .set((
                quotes::last.eq(excluded(quotes::last)),
                quotes::bid.eq(excluded(quotes::bid)),
                quotes::ask.eq(excluded(quotes::ask)),
                quotes::bid_size.eq(excluded(quotes::bid_size)),
                quotes::ask_size.eq(excluded(quotes::ask_size)),
                quotes::day_open.eq(excluded(quotes::day_open)),
                quotes::day_high.eq(excluded(quotes::day_high)),
                quotes::day_low.eq(excluded(quotes::day_low)),
                quotes::prev_close.eq(excluded(quotes::prev_close)),
                quotes::volume.eq(excluded(quotes::volume)),
                quotes::ts.eq(excluded(quotes::ts)),
            ))
    })
}

/// Inserts or replaces bars by (symbol, interval, ts): importing the same data twice changes
/// nothing.
pub async fn upsert_bars(db: &Db, rows: &[BarRow]) -> Result<(), StoreError> {
    upsert_rows!(db, rows, |values| {
        diesel::insert_into(bars::table)
            .values(values)
            .on_conflict((bars::symbol, bars::interval, bars::ts))
            .do_update()
            .set((
                bars::open.eq(excluded(bars::open)),
                bars::high.eq(excluded(bars::high)),
                bars::low.eq(excluded(bars::low)),
                bars::close.eq(excluded(bars::close)),
                bars::volume.eq(excluded(bars::volume)),
                bars::vwap.eq(excluded(bars::vwap)),
                bars::trades.eq(excluded(bars::trades)),
            ))
    })
}
