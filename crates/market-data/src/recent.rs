//! BatchGetRecentBars: the newest bars of many symbols in one call, for analyses that read a
//! whole portfolio's history at once (the risk service reads the newest daily `all`-adjusted
//! bars of every holding).
//!
//! - **Whole call.** At most [`MAX_SYMBOLS`] symbols, `count` in 1..=[`MAX_COUNT`] and at
//!   most [`MAX_BARS`] bars in all (`symbols` × `count`); the interval must be a stored one
//!   (`1m` or `1d`, default `1d`: no aggregation), the adjustment is parsed as ListBars parses
//!   it (default `split`) and `end` is exclusive (default now). Any of these failing is
//!   INVALID_ARGUMENT naming the field, and nothing is read.
//! - **Per symbol**, one result in request order: an unparsable symbol is an `INVALID_ARGUMENT`
//!   item error, a symbol without an instrument `NOT_FOUND`; otherwise the newest `count`
//!   bars starting before `end`, oldest first (fewer when the history is shorter, none when
//!   there is none), adjusted exactly as ListBars adjusts them ([`adjust_rows`]): they equal
//!   the last `count` bars of a ListBars call with the same symbol, interval, adjustment and
//!   end. A bar's adjustment depends only on the actions after it, so adjusting the tail alone
//!   gives the tail of the adjusted list.
//! - **Cache.** Each symbol's series is cached under [`recent_cache_key`] as an encoded
//!   `BarSeries` in [`DataClass::Bars`], like ListBars pages (same short TTL, no
//!   invalidation); an omitted `end` is keyed as `now`, so repeated "latest" calls hit. Only
//!   series are cached, never item errors. A symbol repeated in one request is read once.

use std::collections::{HashMap, HashSet};

use bourse_cache::{Cache, DataClass};
use bourse_proto::common::v1::ItemError;
use bourse_proto::market_data::v1::{
    BarSeries, BatchGetRecentBarsRequest, RecentBarsResult, recent_bars_result,
};
use bourse_proto::time::from_timestamp;
use bourse_runtime::tier::Tier;
use bourse_store::Db;
use bytes::Bytes;
use chrono::{NaiveDateTime, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use prost::Message;

use crate::bars::{adjust_rows, bar_from_row, time_field};
use crate::error::MarketDataError;
use crate::interval::{Adjustment, BarInterval};
use crate::store;
use crate::symbol::Symbol;

/// The most symbols one call may ask for (AIP-231: batches are bounded).
pub const MAX_SYMBOLS: usize = 500;
/// The most bars one call may ask for per symbol.
pub const MAX_COUNT: i64 = 10_000;
/// The most bars one call may ask for in all (`symbols` × `count`): bounds the response to
/// well under the server's message size limit.
pub const MAX_BARS: i64 = 200_000;
/// How many symbols missing from the cache are read from storage at once.
const READ_CONCURRENCY: usize = 4;

/// The parameters of a BatchGetRecentBars call that apply to every symbol, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentBarsQuery {
    /// A stored interval: its [`BarInterval::sources`] is itself alone.
    pub interval: BarInterval,
    /// Applied to every series as ListBars applies it.
    pub adjustment: Adjustment,
    /// Bars per symbol, in 1..=[`MAX_COUNT`].
    pub count: i64,
    /// Exclusive end: the newest bar returned starts before it.
    pub end: NaiveDateTime,
    /// `end` as the cache key spells it: `now` when the request gave none.
    end_key: String,
}

impl RecentBarsQuery {
    /// Parses everything of `request` but its symbols, refusing calls over the bounds; `now`
    /// is the default end.
    pub fn parse(
        request: &BatchGetRecentBarsRequest,
        now: NaiveDateTime,
    ) -> Result<Self, MarketDataError> {
        let symbols = request.symbols.len();
        if symbols > MAX_SYMBOLS {
            return Err(MarketDataError::InvalidArgument {
                field: "symbols",
                reason: format!("at most {MAX_SYMBOLS} symbols per call, got {symbols}"),
            });
        }
        let count = i64::from(request.count);
        if !(1..=MAX_COUNT).contains(&count) {
            return Err(MarketDataError::InvalidArgument {
                field: "count",
                reason: format!("must be 1 to {MAX_COUNT}, got {count}"),
            });
        }
        let total = i64::try_from(symbols)
            .unwrap_or(i64::MAX)
            .saturating_mul(count);
        if total > MAX_BARS {
            return Err(MarketDataError::InvalidArgument {
                field: "count",
                reason: format!(
                    "{symbols} symbols × {count} bars is {total} bars, at most {MAX_BARS} per \
                     call: ask for fewer bars or split the symbols over several calls"
                ),
            });
        }
        let interval = BarInterval::parse("interval", &request.interval)?;
        if interval.sources() != [interval] {
            return Err(MarketDataError::InvalidArgument {
                field: "interval",
                reason: format!("{interval} is not stored, expected 1m or 1d"),
            });
        }
        let adjustment = Adjustment::parse(&request.adjustment)?;
        let end = time_field("end", request.end.as_ref().map(from_timestamp))?;
        let end_key = end.map_or_else(
            || "now".to_owned(),
            |t| t.and_utc().timestamp_micros().to_string(),
        );
        Ok(Self {
            interval,
            adjustment,
            count,
            end: end.unwrap_or(now),
            end_key,
        })
    }
}

/// The cache key of one symbol's series: `SYMBOL|recent|interval|adjustment|count|end`. It
/// starts with `SYMBOL|` like the ListBars keys, and `recent` is no interval, so the two never
/// collide.
pub fn recent_cache_key(symbol: &Symbol, query: &RecentBarsQuery) -> String {
    format!(
        "{symbol}|recent|{}|{}|{}|{}",
        query.interval,
        query.adjustment.as_str(),
        query.count,
        query.end_key
    )
}

/// Reads the recent bars of many symbols through the two-level cache.
#[derive(Debug, Clone)]
pub struct RecentBarsReader {
    db: Db,
    cache: Cache,
}

impl RecentBarsReader {
    pub fn new(db: Db, cache: Cache) -> Self {
        Self { db, cache }
    }

    /// One result per requested symbol, in request order, at `tier`'s freshness. Cache misses
    /// are looked up in one instrument query, then read a few symbols at a time.
    pub async fn batch_get(
        &self,
        tier: Tier,
        request: &BatchGetRecentBarsRequest,
    ) -> Result<Vec<RecentBarsResult>, MarketDataError> {
        let query = RecentBarsQuery::parse(request, Utc::now().naive_utc())?;
        let parsed: Vec<Result<Symbol, String>> = request
            .symbols
            .iter()
            .map(|raw| raw.parse::<Symbol>().map_err(|e| format!("symbols: {e}")))
            .collect();
        // Each distinct valid symbol once, with its cache key.
        let mut distinct: Vec<(Symbol, String)> = Vec::new();
        let mut seen: HashSet<&Symbol> = HashSet::new();
        for symbol in parsed.iter().filter_map(|p| p.as_ref().ok()) {
            if seen.insert(symbol) {
                distinct.push((symbol.clone(), recent_cache_key(symbol, &query)));
            }
        }
        let keys: Vec<&str> = distinct.iter().map(|(_, key)| key.as_str()).collect();
        let cached = self.cache.get_many(DataClass::Bars, tier, &keys).await;

        let mut found: HashMap<Symbol, BarSeries> = HashMap::with_capacity(distinct.len());
        let mut misses: Vec<(Symbol, String)> = Vec::new();
        for ((symbol, key), hit) in distinct.into_iter().zip(cached) {
            match hit.and_then(|bytes| BarSeries::decode(bytes).ok()) {
                Some(series) => {
                    found.insert(symbol, series);
                }
                None => misses.push((symbol, key)),
            }
        }
        if !misses.is_empty() {
            let names: Vec<&str> = misses.iter().map(|(s, _)| s.as_str()).collect();
            let known: HashSet<String> = store::known_instruments(&self.db, &names)
                .await?
                .into_iter()
                .collect();
            misses.retain(|(symbol, _)| known.contains(symbol.as_str()));
            let (db, query) = (&self.db, &query);
            let read: Vec<(Symbol, String, BarSeries)> = stream::iter(misses)
                .map(|(symbol, key)| async move {
                    let series = read_series(db, &symbol, query).await?;
                    Ok::<_, MarketDataError>((symbol, key, series))
                })
                .buffered(READ_CONCURRENCY)
                .try_collect()
                .await?;
            let encoded: Vec<(&str, Bytes)> = read
                .iter()
                .map(|(_, key, series)| (key.as_str(), Bytes::from(series.encode_to_vec())))
                .collect();
            self.cache.set_many(DataClass::Bars, &encoded).await;
            found.extend(read.into_iter().map(|(symbol, _, series)| (symbol, series)));
        }

        Ok(request
            .symbols
            .iter()
            .zip(&parsed)
            .map(|(raw, parsed)| {
                let result = match parsed {
                    Err(message) => item_error("INVALID_ARGUMENT", message.clone()),
                    Ok(symbol) => match found.get(symbol) {
                        Some(series) => recent_bars_result::Result::Series(series.clone()),
                        None => item_error("NOT_FOUND", format!("unknown symbol {symbol}")),
                    },
                };
                RecentBarsResult {
                    symbol: raw.clone(),
                    result: Some(result),
                }
            })
            .collect())
    }
}

/// The newest `count` bars of one symbol known to have an instrument, oldest first, adjusted.
pub async fn read_series(
    db: &Db,
    symbol: &Symbol,
    query: &RecentBarsQuery,
) -> Result<BarSeries, MarketDataError> {
    let interval = query.interval;
    let mut rows = store::newest_bars(
        db,
        symbol.as_str(),
        interval.as_str(),
        Some(query.end),
        query.count,
    )
    .await?;
    rows.reverse();
    adjust_rows(db, symbol, query.adjustment, interval, &mut rows).await?;
    Ok(BarSeries {
        bars: rows.into_iter().map(bar_from_row).collect(),
    })
}

fn item_error(code: &str, message: String) -> recent_bars_result::Result {
    recent_bars_result::Result::Error(ItemError {
        code: code.to_owned(),
        message,
    })
}
