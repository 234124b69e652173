//! The one ingest path for live market data: a provider adapter implements [`MarketFeed`], and
//! [`run_feed`] hands each round of its [`Tick`]s to the [`Ingestor`], which
//!
//! 1. drops ticks a provider should never send (non-positive prices, inconsistent bars) or
//!    that name no stored instrument, and keeps the last tick per symbol of a round;
//! 2. upserts the round's quotes in one statement, and its completed 1-minute bars in another
//!    (creating the PostgreSQL partition of a month the first time one of its bars arrives);
//! 3. writes the new quotes through the cache, so a reader never sees an older quote after
//!    `ingest` returns;
//! 4. publishes them on the process's [`QuoteBus`] and, with Redis, on the relay channel for the
//!    other processes ([`crate::relay`]).
//!
//! The simulator (`crate::feed`) goes through exactly this path, as a real adapter would.
//!
//! Cached bars are not invalidated here: the bars cache's TTLs (60 s shared, 30 s premium) bound
//! how long a `ListBars` answer can miss the newest 1-minute bar.

mod tick;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bourse_cache::{Cache, DataClass};
use bourse_proto::market_data::v1::Quote;
use bourse_store::{BarClass, Db, StoreError};
use bytes::Bytes;
use chrono::{Datelike as _, NaiveDateTime};
use prost::Message as _;

use crate::bus::QuoteBus;
use crate::quotes::{MAX_BATCH_SYMBOLS, quote_from_row};
use crate::relay::RelayPublisher;
use crate::store::{self, BarRow, QuoteRow};
use crate::symbol::Symbol;

pub use tick::{MarketFeed, MinuteBar, Tick};

/// The interval of the bars a feed completes.
pub const BAR_INTERVAL: &str = "1m";
/// What one [`Ingestor::ingest`] call stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub quotes: usize,
    pub bars: usize,
    /// Ticks dropped as malformed, or superseded by a later tick of the same symbol.
    pub rejected: usize,
}

/// Why a round could not be stored. Nothing of it reached the cache or the bus.
#[derive(Debug, thiserror::Error)]
#[error("storing ingested quotes and bars")]
pub struct IngestError(#[from] StoreError);

/// The ingest path: store, cache, bus and relay. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ingestor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    cache: Cache,
    bus: QuoteBus,
    /// Publishes to other processes; `None` without Redis.
    relay: Option<RelayPublisher>,
    /// (year, month) of the bar partitions already ensured by this ingestor.
    months_ready: Mutex<HashSet<(i32, u32)>>,
    /// Symbols known to have an instrument (quotes and bars reference it). Symbols not found
    /// are asked about again in each round that names them, so a new listing is picked up.
    instruments: Mutex<HashSet<Symbol>>,
}

impl Ingestor {
    /// An ingestor writing to `db`, refreshing `cache` and publishing on `bus`.
    pub fn new(db: Db, cache: Cache, bus: QuoteBus) -> Self {
        Self::build(db, cache, bus, None)
    }

    /// [`Ingestor::new`] that also relays every quote to other processes through Redis.
    pub fn with_relay(db: Db, cache: Cache, bus: QuoteBus, relay: RelayPublisher) -> Self {
        Self::build(db, cache, bus, Some(relay))
    }

    fn build(db: Db, cache: Cache, bus: QuoteBus, relay: Option<RelayPublisher>) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                cache,
                bus,
                relay,
                months_ready: Mutex::new(HashSet::new()),
                instruments: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// The bus this ingestor publishes on.
    pub fn bus(&self) -> &QuoteBus {
        &self.inner.bus
    }

    /// Stores one round of ticks and announces the new quotes (see the module docs).
    pub async fn ingest(&self, round: Vec<Tick>) -> Result<IngestReport, IngestError> {
        let inner = &*self.inner;
        let received = round.len();
        let ticks = self
            .of_known_instruments(last_valid_tick_per_symbol(round))
            .await?;
        let bars: Vec<BarRow> = ticks.iter().filter_map(bar_row).collect();
        let quotes: Vec<QuoteRow> = ticks.into_iter().map(quote_row).collect();
        let report = IngestReport {
            quotes: quotes.len(),
            bars: bars.len(),
            rejected: received - quotes.len(),
        };
        if report.rejected > 0 {
            metrics::counter!(REJECTED_TOTAL).increment(report.rejected as u64);
        }
        if quotes.is_empty() {
            return Ok(report);
        }

        store::upsert_quotes(&inner.db, &quotes).await?;
        if !bars.is_empty() {
            self.ensure_partitions(&bars).await?;
            store::upsert_bars(&inner.db, &bars).await?;
        }

        let quotes: Vec<Quote> = quotes.into_iter().map(quote_from_row).collect();
        let encoded: Vec<(&str, Bytes)> = quotes
            .iter()
            .map(|q| (q.symbol.as_str(), Bytes::from(q.encode_to_vec())))
            .collect();
        inner.cache.set_many(DataClass::Quote, &encoded).await;
        if let Some(relay) = &inner.relay {
            relay.publish(&quotes).await;
        }
        for quote in quotes {
            inner.bus.publish(quote);
        }
        metrics::counter!(QUOTES_TOTAL).increment(report.quotes as u64);
        metrics::counter!(BARS_TOTAL).increment(report.bars as u64);
        Ok(report)
    }

    /// Drops the ticks of symbols that have no stored instrument, asking the store only about
    /// symbols not seen before (one round trip per 1,000 of them).
    async fn of_known_instruments(&self, ticks: Vec<Tick>) -> Result<Vec<Tick>, StoreError> {
        let unseen: Vec<&str> = {
            let known = lock(&self.inner.instruments);
            ticks
                .iter()
                .filter(|t| !known.contains(&t.symbol))
                .map(|t| t.symbol.as_str())
                .collect()
        };
        if unseen.is_empty() {
            return Ok(ticks);
        }
        let mut found = Vec::with_capacity(unseen.len());
        for chunk in unseen.chunks(MAX_BATCH_SYMBOLS) {
            found.extend(store::known_instruments(&self.inner.db, chunk).await?);
        }
        let mut known = lock(&self.inner.instruments);
        known.extend(found.iter().filter_map(|s| s.parse::<Symbol>().ok()));
        let (kept, unknown): (Vec<Tick>, Vec<Tick>) =
            ticks.into_iter().partition(|t| known.contains(&t.symbol));
        if !unknown.is_empty() {
            tracing::debug!(
                symbols = ?unknown.iter().map(|t| t.symbol.as_str()).collect::<Vec<_>>(),
                "ingest: ticks of unknown instruments dropped"
            );
        }
        Ok(kept)
    }

    /// Creates the monthly partition of every month first seen in `bars` (PostgreSQL).
    async fn ensure_partitions(&self, bars: &[BarRow]) -> Result<(), StoreError> {
        let new_months: Vec<((i32, u32), NaiveDateTime)> = {
            let ready = lock(&self.inner.months_ready);
            let mut seen = HashMap::new();
            for bar in bars {
                let month = (bar.ts.year(), bar.ts.month());
                if !ready.contains(&month) {
                    seen.entry(month).or_insert(bar.ts);
                }
            }
            seen.into_iter().collect()
        };
        for (month, ts) in new_months {
            self.inner
                .db
                .ensure_bar_partitions_for(BarClass::Intraday, ts, ts)
                .await?;
            lock(&self.inner.months_ready).insert(month);
        }
        Ok(())
    }
}

/// Locks one of the ingestor's sets. They are only ever extended, so a panic while one was
/// held cannot have left it inconsistent: a poisoned lock is used as it is.
fn lock<T>(set: &Mutex<T>) -> MutexGuard<'_, T> {
    set.lock().unwrap_or_else(PoisonError::into_inner)
}

const QUOTES_TOTAL: &str = "bourse_ingest_quotes_total";
const BARS_TOTAL: &str = "bourse_ingest_bars_total";
const REJECTED_TOTAL: &str = "bourse_ingest_rejected_total";

/// Drops malformed ticks, then keeps the last tick of each symbol, in order of first
/// appearance (one statement cannot upsert a row twice).
fn last_valid_tick_per_symbol(round: Vec<Tick>) -> Vec<Tick> {
    let mut position: HashMap<Symbol, usize> = HashMap::with_capacity(round.len());
    let mut kept: Vec<Tick> = Vec::with_capacity(round.len());
    for tick in round {
        let valid = tick.last.is_finite()
            && tick.last > 0.0
            && tick.volume.is_finite()
            && tick.volume >= 0.0
            && tick.bar.as_ref().is_none_or(MinuteBar::is_consistent);
        if !valid {
            tracing::debug!(symbol = %tick.symbol, "ingest: malformed tick dropped");
            continue;
        }
        match position.get(&tick.symbol) {
            Some(&at) => kept[at] = tick,
            None => {
                position.insert(tick.symbol.clone(), kept.len());
                kept.push(tick);
            }
        }
    }
    kept
}

fn quote_row(tick: Tick) -> QuoteRow {
    QuoteRow {
        symbol: tick.symbol.as_str().to_owned(),
        last: tick.last,
        bid: tick.bid,
        ask: tick.ask,
        bid_size: tick.bid_size,
        ask_size: tick.ask_size,
        day_open: tick.day_open,
        day_high: tick.day_high,
        day_low: tick.day_low,
        prev_close: tick.prev_close,
        volume: tick.volume,
        ts: tick.ts,
    }
}

fn bar_row(tick: &Tick) -> Option<BarRow> {
    let bar = tick.bar?;
    Some(BarRow {
        symbol: tick.symbol.as_str().to_owned(),
        interval: BAR_INTERVAL.to_owned(),
        ts: bar.start,
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
        volume: bar.volume,
        vwap: bar.vwap,
        trades: bar.trades,
    })
}

/// What [`run_feed`] did before it returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedSummary {
    pub rounds: u64,
    pub quotes: u64,
    pub bars: u64,
    /// Rounds the store refused (logged); the feed carried on with the next one.
    pub failed_rounds: u64,
}

/// Ingests `feed` round by round until it ends or `shutdown` resolves; a round being stored
/// when shutdown comes is finished first. A round the store refuses is logged (once per run of
/// failures) and skipped: the next round carries newer quotes anyway. Only the feed's own error
/// ends the run with an error.
pub async fn run_feed<F: MarketFeed>(
    mut feed: F,
    ingestor: &Ingestor,
    shutdown: impl Future<Output = ()>,
) -> Result<FeedSummary, F::Error> {
    tokio::pin!(shutdown);
    let mut summary = FeedSummary::default();
    let mut failing = false;
    loop {
        let round = tokio::select! {
            () = &mut shutdown => break,
            round = feed.next_round() => round?,
        };
        let Some(round) = round else { break };
        summary.rounds += 1;
        match ingestor.ingest(round).await {
            Ok(report) => {
                if failing {
                    tracing::info!(feed = feed.name(), "ingest: storing rounds again");
                    failing = false;
                }
                summary.quotes += report.quotes as u64;
                summary.bars += report.bars as u64;
            }
            Err(error) => {
                summary.failed_rounds += 1;
                if !failing {
                    tracing::warn!(
                        feed = feed.name(),
                        error = %error,
                        source = %StoreErrorChain(&error),
                        "ingest: a round could not be stored; skipping rounds until the store accepts them"
                    );
                    failing = true;
                }
            }
        }
    }
    tracing::info!(feed = feed.name(), ?summary, "feed stopped");
    Ok(summary)
}

/// Displays the source chain of an error on one line.
struct StoreErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for StoreErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, "{error}; ")?;
            source = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 3, 15)
            .and_then(|d| d.and_hms_opt(h, m, s))
            .expect("valid time")
    }

    fn tick(symbol: &str, last: f64) -> Tick {
        Tick {
            symbol: symbol.parse().expect("symbol"),
            ts: at(14, 30, 5),
            last,
            bid: None,
            ask: None,
            bid_size: None,
            ask_size: None,
            day_open: None,
            day_high: None,
            day_low: None,
            prev_close: None,
            volume: 10.0,
            bar: None,
        }
    }

    #[test]
    fn keeps_the_last_valid_tick_of_each_symbol_in_first_seen_order() {
        let bad_bar = MinuteBar {
            start: at(14, 29, 0),
            open: 10.0,
            high: 9.0,
            low: 8.0,
            close: 9.5,
            volume: 1.0,
            vwap: None,
            trades: None,
        };
        let round = vec![
            tick("AAPL", 1.0),
            tick("MSFT", 2.0),
            tick("AAPL", 3.0),
            tick("BAD", -1.0),
            tick("NAN", f64::NAN),
            Tick {
                bar: Some(bad_bar),
                ..tick("BARS", 9.5)
            },
        ];
        let kept: Vec<(String, f64)> = last_valid_tick_per_symbol(round)
            .into_iter()
            .map(|t| (t.symbol.to_string(), t.last))
            .collect();
        assert_eq!(kept, [("AAPL".to_owned(), 3.0), ("MSFT".to_owned(), 2.0)]);
    }

    #[test]
    fn a_bar_must_start_on_a_whole_minute() {
        let bar = MinuteBar {
            start: at(14, 29, 0),
            open: 10.0,
            high: 11.0,
            low: 9.0,
            close: 10.5,
            volume: 100.0,
            vwap: None,
            trades: Some(3),
        };
        assert!(bar.is_consistent());
        assert!(
            !MinuteBar {
                start: at(14, 29, 1),
                ..bar
            }
            .is_consistent()
        );
    }
}
