//! What a provider adapter hands the ingest path: [`Tick`]s, through [`MarketFeed`].

use std::future::Future;

use chrono::{NaiveDateTime, Timelike as _};

use crate::symbol::Symbol;

/// One observation of one symbol from a provider: its latest quote, and the 1-minute bar it just
/// completed, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub symbol: Symbol,
    /// When the provider observed the quote (UTC).
    pub ts: NaiveDateTime,
    pub last: f64,
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub bid_size: Option<f64>,
    pub ask_size: Option<f64>,
    pub day_open: Option<f64>,
    pub day_high: Option<f64>,
    pub day_low: Option<f64>,
    pub prev_close: Option<f64>,
    /// Volume traded so far today.
    pub volume: f64,
    /// The 1-minute bar that closed with this tick.
    pub bar: Option<MinuteBar>,
}

/// A completed 1-minute OHLCV bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinuteBar {
    /// Start of the minute: whole minutes only.
    pub start: NaiveDateTime,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub vwap: Option<f64>,
    pub trades: Option<i64>,
}

impl MinuteBar {
    /// Positive prices with `low <= open, close <= high`, on a whole minute.
    pub fn is_consistent(&self) -> bool {
        let prices = [self.open, self.high, self.low, self.close];
        prices.iter().all(|p| p.is_finite() && *p > 0.0)
            && self.low <= self.open.min(self.close)
            && self.high >= self.open.max(self.close)
            && self.volume >= 0.0
            && self.start.second() == 0
            && self.start.nanosecond() == 0
    }
}

/// A source of live market data: what a provider adapter implements. The adapter owns the
/// connection to its provider and turns what it sends into rounds of [`Tick`]s.
pub trait MarketFeed: Send {
    /// Why the feed cannot go on (connection lost for good, credentials refused...).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The provider's name, for logs.
    fn name(&self) -> &str;

    /// The next round of ticks, waiting for it as long as it takes; `Ok(None)` when the feed has
    /// ended. Ticks of one round are stored together.
    fn next_round(&mut self)
    -> impl Future<Output = Result<Option<Vec<Tick>>, Self::Error>> + Send;
}
