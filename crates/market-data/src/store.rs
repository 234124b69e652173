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

/// Which of `symbols` have an instrument, in no particular order. One round-trip.
pub async fn known_instruments(db: &Db, symbols: &[&str]) -> Result<Vec<String>, StoreError> {
    Ok(with_conn!(db, |conn| {
        instruments::table
            .filter(instruments::symbol.eq_any(symbols))
            .select(instruments::symbol)
            .load(conn)
            .await?
    }))
}

/// The newest `count` bars of (`symbol`, `interval`) starting before `before` (no bound when
/// `None`), newest first: one backward range scan of the primary key. An import derives the
/// latest quote from the newest daily bars; BatchGetRecentBars serves a symbol's recent history.
pub async fn newest_bars(
    db: &Db,
    symbol: &str,
    interval: &str,
    before: Option<NaiveDateTime>,
    count: i64,
) -> Result<Vec<BarRow>, StoreError> {
    Ok(with_conn!(db, |conn| {
        let mut query = bars::table
            .filter(bars::symbol.eq(symbol))
            .filter(bars::interval.eq(interval))
            .order(bars::ts.desc())
            .limit(count)
            .select(BarRow::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(bars::ts.lt(before));
        }
        query.load(conn).await?
    }))
}

/// Runs an upsert statement over `rows` in one transaction, so a call is applied whole or not at
/// all: in batches on PostgreSQL, and row by row on SQLite (diesel cannot batch an `ON CONFLICT`
/// insert there) on the blocking pool, which is as fast for an embedded database. `$stmt` builds
/// the statement for a slice or a single row. A slice must not hold two rows with the same key
/// (PostgreSQL refuses to update one row twice in a statement).
macro_rules! upsert_rows {
    ($db:expr, $rows:expr, |$values:ident| $stmt:expr) => {{
        let rows = $rows;
        with_conn!(
            $db,
            postgres | conn | {
                diesel_async::AsyncConnection::transaction::<_, StoreError, _>(
                    conn,
                    async |conn| {
                        for $values in rows.chunks(INSERT_CHUNK) {
                            diesel_async::RunQueryDsl::execute($stmt, &mut *conn).await?;
                        }
                        Ok(())
                    },
                )
                .await?;
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
/// On PostgreSQL it first creates the partitions the rows belong in ([`ensure_bar_partitions`]).
pub async fn upsert_bars(db: &Db, rows: &[BarRow]) -> Result<(), StoreError> {
    ensure_bar_partitions(db, rows).await?;
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

/// The symbols of the active instruments, in symbol order: what the simulated feed trades.
pub async fn active_symbols(db: &Db) -> Result<Vec<String>, StoreError> {
    Ok(with_conn!(db, |conn| {
        instruments::table
            .filter(instruments::active.eq(true))
            .order(instruments::symbol)
            .select(instruments::symbol)
            .load(conn)
            .await?
    }))
}

/// The first `limit` stored quotes in symbol order, in one round-trip: every quote when there
/// are at most `limit`. Warms the cache at start-up and opens an all-symbols quote stream.
pub async fn first_quotes(db: &Db, limit: i64) -> Result<Vec<QuoteRow>, StoreError> {
    Ok(with_conn!(db, |conn| {
        quotes::table
            .order(quotes::symbol)
            .limit(limit)
            .select(QuoteRow::as_select())
            .load(conn)
            .await?
    }))
}

// Instruments, bar history and corporate actions, as ListBars and the instrument RPCs read
// them (imports for this part kept here, next to the queries that need them).
use bourse_store::BarClass;
use bourse_store::schema::corporate_actions;

diesel::define_sql_function! {
    /// SQL `lower(text)`, the same on both backends for ASCII.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A row of `corporate_actions`: a split (`ratio` = new shares per old) or a cash dividend
/// (`amount` per share), effective from `ex_date`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = corporate_actions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct CorporateActionRow {
    pub id: String,
    pub symbol: String,
    pub ex_date: NaiveDateTime,
    /// `split` or `dividend`.
    pub kind: String,
    pub ratio: Option<f64>,
    pub amount: Option<f64>,
}

/// A corporate action as bar adjustment needs it: with the raw close of the last bar before
/// the ex-date, which a dividend's adjustment factor is relative to. Fields in select order.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct ActionWithPriorClose {
    pub ex_date: NaiveDateTime,
    pub kind: String,
    pub ratio: Option<f64>,
    pub amount: Option<f64>,
    /// Close of the last bar of the series being read with `ts < ex_date`; `None` when the
    /// series has no bar before the ex-date.
    pub prior_close: Option<f64>,
}

/// The instrument `symbol`, if stored.
pub async fn instrument(db: &Db, symbol: &str) -> Result<Option<InstrumentRow>, StoreError> {
    Ok(with_conn!(db, |conn| {
        instruments::table
            .find(symbol)
            .select(InstrumentRow::as_select())
            .first(conn)
            .await
            .optional()?
    }))
}

/// Up to `limit` instruments whose symbol starts with `q` or whose name contains it (ignoring
/// ASCII case), with symbols after `after`, in symbol order. `q` is matched literally: `%`
/// and `_` are not wildcards.
pub async fn search_instruments(
    db: &Db,
    q: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<InstrumentRow>, StoreError> {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let symbol_prefix = format!("{}%", escaped.to_ascii_uppercase());
    let name_part = format!("%{}%", escaped.to_ascii_lowercase());
    let after = after.unwrap_or("");
    Ok(with_conn!(db, |conn| {
        let mut query = instruments::table
            .filter(instruments::symbol.gt(after))
            .order(instruments::symbol.asc())
            .limit(limit)
            .select(InstrumentRow::as_select())
            .into_boxed();
        if !q.is_empty() {
            query = query.filter(
                instruments::symbol
                    .like(&symbol_prefix)
                    .escape('\\')
                    .or(lower(instruments::name).like(&name_part).escape('\\')),
            );
        }
        query.load(conn).await?
    }))
}

/// Whether any bar of (`symbol`, `interval`) has `from <= ts < to`: one index probe.
pub async fn has_bars_between(
    db: &Db,
    symbol: &str,
    interval: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<bool, StoreError> {
    Ok(with_conn!(db, |conn| {
        diesel::select(diesel::dsl::exists(
            bars::table
                .filter(bars::symbol.eq(symbol))
                .filter(bars::interval.eq(interval))
                .filter(bars::ts.ge(from))
                .filter(bars::ts.lt(to))
                .select(bars::ts),
        ))
        .get_result(conn)
        .await?
    }))
}

/// The first `limit` bars of (`symbol`, `interval`) with `from <= ts < to`, oldest first: one
/// range scan of the primary key.
pub async fn bars_between(
    db: &Db,
    symbol: &str,
    interval: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> Result<Vec<BarRow>, StoreError> {
    Ok(with_conn!(db, |conn| {
        bars::table
            .filter(bars::symbol.eq(symbol))
            .filter(bars::interval.eq(interval))
            .filter(bars::ts.ge(from))
            .filter(bars::ts.lt(to))
            .order(bars::ts.asc())
            .limit(limit)
            .select(BarRow::as_select())
            .load(conn)
            .await?
    }))
}

/// The corporate actions of `symbol` with an ex-date after `after`, oldest first, each with the
/// close of the last (`symbol`, `interval`) bar before its ex-date. One round-trip.
pub async fn actions_after(
    db: &Db,
    symbol: &str,
    interval: &str,
    after: NaiveDateTime,
) -> Result<Vec<ActionWithPriorClose>, StoreError> {
    Ok(with_conn!(db, |conn| {
        let prior_close = bars::table
            .filter(bars::symbol.eq(corporate_actions::symbol))
            .filter(bars::interval.eq(interval))
            .filter(bars::ts.lt(corporate_actions::ex_date))
            .order(bars::ts.desc())
            .select(bars::close)
            .limit(1)
            .single_value();
        corporate_actions::table
            .filter(corporate_actions::symbol.eq(symbol))
            .filter(corporate_actions::ex_date.gt(after))
            .order(corporate_actions::ex_date.asc())
            .select((
                corporate_actions::ex_date,
                corporate_actions::kind,
                corporate_actions::ratio,
                corporate_actions::amount,
                prior_close,
            ))
            .load(conn)
            .await?
    }))
}

/// Inserts or replaces corporate actions by (symbol, ex_date, kind).
pub async fn upsert_corporate_actions(
    db: &Db,
    rows: &[CorporateActionRow],
) -> Result<(), StoreError> {
    upsert_rows!(db, rows, |values| {
        diesel::insert_into(corporate_actions::table)
            .values(values)
            .on_conflict((
                corporate_actions::symbol,
                corporate_actions::ex_date,
                corporate_actions::kind,
            ))
            .do_update()
            .set((
                corporate_actions::ratio.eq(excluded(corporate_actions::ratio)),
                corporate_actions::amount.eq(excluded(corporate_actions::amount)),
            ))
    })
}

/// Makes sure the PostgreSQL partitions that `rows` belong in exist, one call per interval
/// class present (cheap when they already do), and one month or year ahead of the newest row so
/// that the partition a live feed writes into next exists before its first bar arrives. Rows
/// never fail for want of a partition (the default partitions take them), but rows parked there
/// make every later partition creation scan them. SQLite: does nothing.
pub async fn ensure_bar_partitions(db: &Db, rows: &[BarRow]) -> Result<(), StoreError> {
    if !matches!(db, Db::Postgres(_)) {
        return Ok(());
    }
    for class in [BarClass::Intraday, BarClass::Daily] {
        let mut range: Option<(NaiveDateTime, NaiveDateTime)> = None;
        for row in rows
            .iter()
            .filter(|row| BarClass::of_interval(&row.interval) == Some(class))
        {
            range = Some(match range {
                None => (row.ts, row.ts),
                Some((from, to)) => (from.min(row.ts), to.max(row.ts)),
            });
        }
        let Some((from, to)) = range else { continue };
        let ahead = match class {
            BarClass::Intraday => chrono::Months::new(1),
            BarClass::Daily => chrono::Months::new(12),
        };
        let to = to.checked_add_months(ahead).unwrap_or(to);
        db.ensure_bar_partitions_for(class, from, to).await?;
    }
    Ok(())
}
