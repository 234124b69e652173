//! ListBars: OHLCV history of one symbol, in time order, one AIP-158 page at a time.
//!
//! - **Window.** `start` (inclusive, default: all history) and `end` (exclusive, default: now),
//!   or `period` ending now; both forms at once is INVALID_ARGUMENT naming `period`.
//! - **Source.** A bar is read from the first of [`BarInterval::sources`] that has bars in the
//!   window: the interval itself when stored, else aggregated on read from finer stored bars
//!   ([`crate::aggregate`]). Aggregated bars start on interval boundaries: a window starting
//!   mid-bar begins at the next whole bar, and the last bar may be partial (the bar in
//!   progress when `end` is now).
//! - **Adjustment** is applied to the source bars before aggregating ([`crate::adjust`]).
//! - **Pages.** Default 1,000 bars, at most 10,000 (larger sizes are lowered). The page token is
//!   the store's keyset [`Cursor`]: the start of the last bar returned, plus the request's
//!   identity (symbol, interval, adjustment and the `start`, `end` and `period` as sent), the
//!   window resolved on the first page and the source chosen for it, so every page of one
//!   listing reads the same window from the same source. A token presented with other
//!   parameters is INVALID_ARGUMENT naming `page_token`.
//! - **Bounded reads.** A stored interval is read with `LIMIT page_size + 1`. An aggregated
//!   page reads at most `(page_size + 1) × max_source_bars` source rows (e.g. 60 minutes per
//!   hour), enough for `page_size` complete bars; the last, possibly cut, bucket of a full read
//!   is left for the next page. A page may then hold fewer bars than asked for, as AIP-158
//!   allows.
//! - **Cache.** Pages are cached under [`bars_cache_key`] as encoded `ListBarsResponse`s in
//!   [`DataClass::Bars`], whose entries live for that class's short TTL. Entries are not
//!   invalidated when bars arrive: a page may trail new bars by at most that TTL.

use bourse_cache::{Cache, DataClass};
use bourse_proto::market_data::v1::{Bar, ListBarsRequest, ListBarsResponse};
use bourse_proto::time::{from_timestamp, naive_to_timestamp};
use bourse_runtime::tier::Tier;
use bourse_store::Db;
use bourse_store::page::{Cursor, PageError, PageRequest};
use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use prost::Message;

use crate::adjust::adjust;
use crate::aggregate::aggregate;
use crate::error::MarketDataError;
use crate::instruments::page_error;
use crate::interval::{Adjustment, BarInterval, Period, earliest};
use crate::store::{self, BarRow};
use crate::symbol::Symbol;

/// Bars per page when the request does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 1_000;
/// The largest page; larger requests are lowered to it (AIP-158).
pub const MAX_PAGE_SIZE: i64 = 10_000;

/// A ListBars request, parsed: past this point it cannot be invalid.
#[derive(Debug, Clone, PartialEq)]
pub struct BarsQuery {
    pub symbol: Symbol,
    pub interval: BarInterval,
    pub adjustment: Adjustment,
    /// Inclusive start of the window.
    pub start: NaiveDateTime,
    /// Exclusive end of the window.
    pub end: NaiveDateTime,
    /// Bars on this page.
    pub page_size: i64,
    /// Where this page continues the listing; `None` on the first page.
    pub resume: Option<Resume>,
    /// The parameters a page token is bound to, as sent.
    identity: String,
}

/// The part of a page token that says where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// Start of the last bar returned.
    pub after: NaiveDateTime,
    /// The stored interval the listing reads.
    pub source: BarInterval,
}

impl BarsQuery {
    /// Parses a request; `now` is the default end (and the end of a `period`).
    pub fn parse(request: &ListBarsRequest, now: NaiveDateTime) -> Result<Self, MarketDataError> {
        let symbol =
            request
                .symbol
                .parse::<Symbol>()
                .map_err(|source| MarketDataError::InvalidSymbol {
                    field: "symbol",
                    source,
                })?;
        let interval = BarInterval::parse("interval", &request.interval)?;
        let adjustment = Adjustment::parse(&request.adjustment)?;
        let start = time_field("start", request.start.as_ref().map(from_timestamp))?;
        let end = time_field("end", request.end.as_ref().map(from_timestamp))?;
        let (mut start_at, mut end_at) = if request.period.is_empty() {
            (start.unwrap_or_else(earliest), end.unwrap_or(now))
        } else {
            if start.is_some() || end.is_some() {
                return Err(MarketDataError::InvalidArgument {
                    field: "period",
                    reason: "give either period or start/end, not both".to_owned(),
                });
            }
            (Period::parse(&request.period)?.start(now), now)
        };
        if start_at > end_at {
            return Err(MarketDataError::InvalidArgument {
                field: "start",
                reason: format!("{start_at} is after end {end_at}"),
            });
        }
        let page = PageRequest::parse(
            request.page_size,
            &request.page_token,
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
        .map_err(page_error)?;
        let micros = |t: Option<NaiveDateTime>| {
            t.map_or_else(
                || "-".to_owned(),
                |t| t.and_utc().timestamp_micros().to_string(),
            )
        };
        let identity = format!(
            "{symbol}|{interval}|{}|{}|{}|{}",
            adjustment.as_str(),
            micros(start),
            micros(end),
            request.period
        );
        let resume = match page.after {
            None => None,
            Some(cursor) => {
                let token = Token::decode(&cursor.id, &identity)?;
                (start_at, end_at) = (token.start, token.end);
                Some(Resume {
                    after: cursor.time,
                    source: token.source,
                })
            }
        };
        Ok(Self {
            symbol,
            interval,
            adjustment,
            start: start_at,
            end: end_at,
            page_size: page.size,
            resume,
            identity,
        })
    }

    /// The token of the page after the one ending with the bar starting at `last`.
    fn next_token(&self, last: NaiveDateTime, source: BarInterval) -> String {
        Cursor {
            time: last,
            id: format!(
                "{}|{}|{}|{}",
                self.identity,
                self.start.and_utc().timestamp_micros(),
                self.end.and_utc().timestamp_micros(),
                source
            ),
        }
        .encode()
    }
}

/// The cursor id of a bars page token, checked against the request it comes with.
struct Token {
    start: NaiveDateTime,
    end: NaiveDateTime,
    source: BarInterval,
}

impl Token {
    fn decode(id: &str, identity: &str) -> Result<Self, MarketDataError> {
        let refused = || page_error(PageError::InvalidToken);
        // identity | start | end | source, where only the identity may contain '|'.
        let mut parts = id.rsplitn(4, '|');
        let (Some(source), Some(end), Some(start), Some(bound_to)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        if bound_to != identity {
            return Err(refused());
        }
        let time = |micros: &str| {
            micros
                .parse::<i64>()
                .ok()
                .and_then(DateTime::from_timestamp_micros)
                .map(|t| t.naive_utc())
        };
        Ok(Self {
            start: time(start).ok_or_else(refused)?,
            end: time(end).ok_or_else(refused)?,
            source: BarInterval::parse("page_token", source).map_err(|_| refused())?,
        })
    }
}

/// A timestamp field of the request (`None` when absent), given as converted by
/// [`from_timestamp`] (`Some(None)` when out of range).
pub(crate) fn time_field(
    field: &'static str,
    value: Option<Option<DateTime<Utc>>>,
) -> Result<Option<NaiveDateTime>, MarketDataError> {
    value
        .map(|converted| {
            converted
                .map(|t| t.naive_utc())
                .ok_or(MarketDataError::InvalidArgument {
                    field,
                    reason: "not a valid timestamp".to_owned(),
                })
        })
        .transpose()
}

/// The cache key of one ListBars page: the request's identity, page size and token. It starts
/// with `SYMBOL|`, so a cache that can drop keys by prefix could invalidate a symbol's pages.
pub fn bars_cache_key(query: &BarsQuery, page_token: &str) -> String {
    format!("{}|{}|{}", query.identity, query.page_size, page_token)
}

/// Reads bar pages through the two-level cache.
#[derive(Debug, Clone)]
pub struct BarReader {
    db: Db,
    cache: Cache,
}

impl BarReader {
    pub fn new(db: Db, cache: Cache) -> Self {
        Self { db, cache }
    }

    /// One page of bars for `request`, at `tier`'s freshness.
    pub async fn list(
        &self,
        tier: Tier,
        request: &ListBarsRequest,
    ) -> Result<ListBarsResponse, MarketDataError> {
        let query = BarsQuery::parse(request, Utc::now().naive_utc())?;
        let key = bars_cache_key(&query, &request.page_token);
        if let Some(bytes) = self.cache.get(DataClass::Bars, tier, &key).await
            && let Ok(page) = ListBarsResponse::decode(bytes)
        {
            return Ok(page);
        }
        let page = read_page(&self.db, &query).await?;
        self.cache
            .set(DataClass::Bars, &key, Bytes::from(page.encode_to_vec()))
            .await;
        Ok(page)
    }
}

/// Reads one page from storage. NOT_FOUND when the symbol has no instrument.
pub async fn read_page(db: &Db, query: &BarsQuery) -> Result<ListBarsResponse, MarketDataError> {
    let symbol = query.symbol.as_str();
    if store::instrument(db, symbol).await?.is_none() {
        return Err(MarketDataError::UnknownSymbol(symbol.to_owned()));
    }
    let mut response = ListBarsResponse {
        symbol: symbol.to_owned(),
        interval: query.interval.as_str().to_owned(),
        adjustment: query.adjustment.as_str().to_owned(),
        bars: Vec::new(),
        next_page_token: String::new(),
    };
    let source = match query.resume {
        Some(resume) => Some(resume.source),
        None => choose_source(db, query).await?,
    };
    let Some(source) = source else {
        return Ok(response);
    };
    let (bars, more) = if source == query.interval {
        stored_page(db, query).await?
    } else {
        aggregated_page(db, query, source).await?
    };
    if more && let Some(last) = bars.last() {
        response.next_page_token = query.next_token(last.ts, source);
    }
    response.bars = bars.into_iter().map(bar_from_row).collect();
    Ok(response)
}

/// The first source interval with bars in the window, `None` when there are none. A stored-only
/// interval (`1m`, `1d`) is not probed: its page query answers the same question.
async fn choose_source(db: &Db, query: &BarsQuery) -> Result<Option<BarInterval>, MarketDataError> {
    let sources = query.interval.sources();
    if let [only] = sources {
        return Ok(Some(*only));
    }
    for &source in sources {
        let from = if source == query.interval {
            query.start
        } else {
            query.interval.ceil_bucket(query.start)
        };
        let symbol = query.symbol.as_str();
        if store::has_bars_between(db, symbol, source.as_str(), from, query.end).await? {
            return Ok(Some(source));
        }
    }
    Ok(None)
}

/// A page of stored bars of the requested interval, and whether more follow.
async fn stored_page(db: &Db, query: &BarsQuery) -> Result<(Vec<BarRow>, bool), MarketDataError> {
    let from = match query.resume {
        // Timestamps are stored to the microsecond: this is "strictly after".
        Some(resume) => query.start.max(resume.after + TimeDelta::microseconds(1)),
        None => query.start,
    };
    let interval = query.interval.as_str();
    let limit = query.page_size + 1;
    let mut rows =
        store::bars_between(db, query.symbol.as_str(), interval, from, query.end, limit).await?;
    adjust_rows(
        db,
        &query.symbol,
        query.adjustment,
        query.interval,
        &mut rows,
    )
    .await?;
    let more = rows.len() as i64 > query.page_size;
    rows.truncate(usize::try_from(query.page_size).unwrap_or(usize::MAX));
    Ok((rows, more))
}

/// A page of bars aggregated from `source`, and whether more follow.
async fn aggregated_page(
    db: &Db,
    query: &BarsQuery,
    source: BarInterval,
) -> Result<(Vec<BarRow>, bool), MarketDataError> {
    let interval = query.interval;
    let mut from = interval.ceil_bucket(query.start);
    if let Some(resume) = query.resume {
        from = from.max(interval.next_bucket(resume.after));
    }
    let symbol = query.symbol.as_str();
    let limit = (query.page_size + 1).saturating_mul(interval.max_source_bars(source));
    let mut rows = store::bars_between(db, symbol, source.as_str(), from, query.end, limit).await?;
    let full_read = rows.len() as i64 >= limit;
    adjust_rows(db, &query.symbol, query.adjustment, source, &mut rows).await?;
    let mut bars = aggregate(interval, rows);
    let more = if full_read {
        // The read stopped at the limit, maybe inside a bar: leave that bar to the next page.
        if let Some(cut) = bars.pop()
            && bars.is_empty()
        {
            // Only when source bars are not aligned to their interval can one bar hold more
            // rows than the bound: read that one bar whole, bounded by its time range.
            let to = interval.next_bucket(cut.ts).min(query.end);
            let mut rows =
                store::bars_between(db, symbol, source.as_str(), cut.ts, to, i64::MAX).await?;
            adjust_rows(db, &query.symbol, query.adjustment, source, &mut rows).await?;
            bars = aggregate(interval, rows);
        }
        true
    } else {
        bars.len() as i64 > query.page_size
    };
    bars.truncate(usize::try_from(query.page_size).unwrap_or(usize::MAX));
    Ok((bars, more))
}

/// Applies `adjustment` to `rows` (oldest first) of (`symbol`, `source`), reading the actions
/// they need: the one place bars are adjusted on read, for ListBars and BatchGetRecentBars.
pub(crate) async fn adjust_rows(
    db: &Db,
    symbol: &Symbol,
    adjustment: Adjustment,
    source: BarInterval,
    rows: &mut [BarRow],
) -> Result<(), MarketDataError> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    if adjustment == Adjustment::Raw {
        return Ok(());
    }
    let actions = store::actions_after(db, symbol.as_str(), source.as_str(), first.ts).await?;
    adjust(rows, &actions, adjustment);
    Ok(())
}

/// The wire form of a bar.
pub fn bar_from_row(row: BarRow) -> Bar {
    Bar {
        ts: Some(naive_to_timestamp(row.ts)),
        open: row.open,
        high: row.high,
        low: row.low,
        close: row.close,
        volume: row.volume,
        vwap: row.vwap,
        trades: row.trades,
    }
}
