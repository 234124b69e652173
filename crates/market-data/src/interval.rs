//! The small textual parameters of bar requests, parsed into domain types: the bar interval,
//! the period shorthand and the price adjustment.
//!
//! Each parse error is a [`MarketDataError::InvalidArgument`] naming the request field, so the
//! gRPC message starts with the field name (`interval: ...`).
//!
//! Bucket arithmetic is in UTC: a `1d` bar starts at midnight UTC, a `1w` bar on Monday at
//! midnight UTC and a `1mo` bar on the first of the calendar month.

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeDelta, Timelike};

use crate::error::MarketDataError;

/// The length of one bar, as the contract spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BarInterval {
    Minute1,
    Minute5,
    Minute15,
    Hour1,
    Day1,
    Week1,
    Month1,
}

impl BarInterval {
    /// Every interval, finest first.
    pub const ALL: [BarInterval; 7] = [
        Self::Minute1,
        Self::Minute5,
        Self::Minute15,
        Self::Hour1,
        Self::Day1,
        Self::Week1,
        Self::Month1,
    ];

    /// The interval ListBars serves when the request names none.
    pub const DEFAULT: BarInterval = Self::Day1;

    /// Parses the request field `field`; an empty string is [`BarInterval::DEFAULT`].
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, MarketDataError> {
        if raw.is_empty() {
            return Ok(Self::DEFAULT);
        }
        Self::ALL
            .into_iter()
            .find(|interval| interval.as_str() == raw)
            .ok_or_else(|| MarketDataError::InvalidArgument {
                field,
                reason: format!(
                    "unknown interval {raw:?}, expected one of 1m, 5m, 15m, 1h, 1d, 1w, 1mo"
                ),
            })
    }

    /// The contract's spelling, also the value of `bars.interval`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minute1 => "1m",
            Self::Minute5 => "5m",
            Self::Minute15 => "15m",
            Self::Hour1 => "1h",
            Self::Day1 => "1d",
            Self::Week1 => "1w",
            Self::Month1 => "1mo",
        }
    }

    /// The fixed length of one bar; `None` for `1mo`, whose length depends on the month.
    pub fn duration(self) -> Option<TimeDelta> {
        match self {
            Self::Minute1 => Some(TimeDelta::minutes(1)),
            Self::Minute5 => Some(TimeDelta::minutes(5)),
            Self::Minute15 => Some(TimeDelta::minutes(15)),
            Self::Hour1 => Some(TimeDelta::hours(1)),
            Self::Day1 => Some(TimeDelta::days(1)),
            Self::Week1 => Some(TimeDelta::weeks(1)),
            Self::Month1 => None,
        }
    }

    /// The stored intervals a bar of this interval can be read from, in the order they are
    /// tried: the interval itself (a stored bar is used as it is), then the finer intervals that
    /// divide it, coarsest first (fewest rows to aggregate). Intraday bars aggregate from
    /// intraday bars, `1w` and `1mo` from `1d`; `1d` is never built from intraday bars, whose
    /// UTC days would not match exchange sessions.
    pub fn sources(self) -> &'static [BarInterval] {
        match self {
            Self::Minute1 => &[Self::Minute1],
            Self::Minute5 => &[Self::Minute5, Self::Minute1],
            Self::Minute15 => &[Self::Minute15, Self::Minute5, Self::Minute1],
            Self::Hour1 => &[Self::Hour1, Self::Minute15, Self::Minute5, Self::Minute1],
            Self::Day1 => &[Self::Day1],
            Self::Week1 => &[Self::Week1, Self::Day1],
            Self::Month1 => &[Self::Month1, Self::Day1],
        }
    }

    /// At most how many aligned bars of `source` one bar of this interval holds (31 days for a
    /// month): the bound that lets a page of aggregated bars be read with one LIMIT.
    pub fn max_source_bars(self, source: BarInterval) -> i64 {
        if self == source {
            return 1;
        }
        match (self.duration(), source.duration()) {
            (Some(bar), Some(part)) if part > TimeDelta::zero() => {
                (bar.num_seconds() / part.num_seconds()).max(1)
            }
            // Only `1mo` has no fixed length; it is built from days.
            _ => 31,
        }
    }

    /// The start of the bar that contains `ts`.
    pub fn bucket_start(self, ts: NaiveDateTime) -> NaiveDateTime {
        let day = ts.date();
        let midnight = day.and_time(chrono::NaiveTime::MIN);
        match self {
            Self::Minute1 | Self::Minute5 | Self::Minute15 | Self::Hour1 => {
                let minutes = match self {
                    Self::Minute1 => 1,
                    Self::Minute5 => 5,
                    Self::Minute15 => 15,
                    _ => 60,
                };
                let minute_of_day = ts.hour() * 60 + ts.minute();
                midnight + TimeDelta::minutes(i64::from(minute_of_day - minute_of_day % minutes))
            }
            Self::Day1 => midnight,
            Self::Week1 => {
                let back = u64::from(day.weekday().num_days_from_monday());
                day.checked_sub_days(Days::new(back))
                    .unwrap_or(day)
                    .and_time(chrono::NaiveTime::MIN)
            }
            Self::Month1 => day
                .with_day(1)
                .unwrap_or(day)
                .and_time(chrono::NaiveTime::MIN),
        }
    }

    /// The start of the bar after the one starting at `bucket_start`.
    pub fn next_bucket(self, bucket_start: NaiveDateTime) -> NaiveDateTime {
        match self.duration() {
            Some(length) => bucket_start
                .checked_add_signed(length)
                .unwrap_or(NaiveDateTime::MAX),
            None => bucket_start
                .checked_add_months(Months::new(1))
                .unwrap_or(NaiveDateTime::MAX),
        }
    }

    /// The first bar boundary at or after `ts`: aggregated bars start at boundaries, so a
    /// window starting mid-bar begins with the next whole bar.
    pub fn ceil_bucket(self, ts: NaiveDateTime) -> NaiveDateTime {
        let start = self.bucket_start(ts);
        if start == ts {
            start
        } else {
            self.next_bucket(start)
        }
    }
}

impl fmt::Display for BarInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The period shorthand of ListBars: a window ending at the request's `end` (now).
///
/// Days are calendar days (`5d` is the last 120 hours, not five sessions); months and years are
/// calendar months, clamped to the end of shorter months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day1,
    Day5,
    Month1,
    Month3,
    Month6,
    Year1,
    Year5,
    /// All stored history.
    Max,
}

impl Period {
    const ALL: [Period; 8] = [
        Self::Day1,
        Self::Day5,
        Self::Month1,
        Self::Month3,
        Self::Month6,
        Self::Year1,
        Self::Year5,
        Self::Max,
    ];

    /// Parses the request field `period`; callers treat an empty string as "no period".
    pub fn parse(raw: &str) -> Result<Self, MarketDataError> {
        Self::ALL
            .into_iter()
            .find(|period| period.as_str() == raw)
            .ok_or_else(|| MarketDataError::InvalidArgument {
                field: "period",
                reason: format!(
                    "unknown period {raw:?}, expected one of 1d, 5d, 1mo, 3mo, 6mo, 1y, 5y, max"
                ),
            })
    }

    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day1 => "1d",
            Self::Day5 => "5d",
            Self::Month1 => "1mo",
            Self::Month3 => "3mo",
            Self::Month6 => "6mo",
            Self::Year1 => "1y",
            Self::Year5 => "5y",
            Self::Max => "max",
        }
    }

    /// The inclusive start of the window that ends at `end`.
    pub fn start(self, end: NaiveDateTime) -> NaiveDateTime {
        let months = |n: u32| end.checked_sub_months(Months::new(n));
        let start = match self {
            Self::Day1 => end.checked_sub_days(Days::new(1)),
            Self::Day5 => end.checked_sub_days(Days::new(5)),
            Self::Month1 => months(1),
            Self::Month3 => months(3),
            Self::Month6 => months(6),
            Self::Year1 => months(12),
            Self::Year5 => months(60),
            Self::Max => None,
        };
        start.unwrap_or_else(earliest)
    }
}

/// The earliest time a window can start: before any bar either backend can store.
pub fn earliest() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .unwrap_or(NaiveDate::MIN)
        .and_time(chrono::NaiveTime::MIN)
}

/// How historical prices are adjusted for corporate actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Adjustment {
    /// As traded.
    Raw,
    /// Split-adjusted: prices before a split divided by its ratio, volumes multiplied by it.
    Split,
    /// Split- and dividend-adjusted (the CRSP/Yahoo "adjusted close" convention).
    All,
}

impl Adjustment {
    /// The contract's default.
    pub const DEFAULT: Adjustment = Self::Split;

    /// Parses the request field `adjustment`; an empty string is [`Adjustment::DEFAULT`].
    pub fn parse(raw: &str) -> Result<Self, MarketDataError> {
        match raw {
            "" => Ok(Self::DEFAULT),
            "raw" => Ok(Self::Raw),
            "split" => Ok(Self::Split),
            "all" => Ok(Self::All),
            other => Err(MarketDataError::InvalidArgument {
                field: "adjustment",
                reason: format!("unknown adjustment {other:?}, expected raw, split or all"),
            }),
        }
    }

    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Split => "split",
            Self::All => "all",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("valid time")
    }

    #[test]
    fn intervals_round_trip_and_name_the_field() {
        for interval in BarInterval::ALL {
            assert_eq!(
                BarInterval::parse("interval", interval.as_str()).ok(),
                Some(interval)
            );
        }
        assert_eq!(
            BarInterval::parse("interval", "").ok(),
            Some(BarInterval::Day1)
        );
        let error = BarInterval::parse("interval", "2m").expect_err("2m is no interval");
        assert!(error.to_string().starts_with("interval: "), "{error}");
    }

    #[test]
    fn buckets_align_to_utc_boundaries() {
        let ts = at(2024, 3, 14, 13, 47); // a Thursday
        assert_eq!(
            BarInterval::Minute5.bucket_start(ts),
            at(2024, 3, 14, 13, 45)
        );
        assert_eq!(
            BarInterval::Minute15.bucket_start(ts),
            at(2024, 3, 14, 13, 45)
        );
        assert_eq!(BarInterval::Hour1.bucket_start(ts), at(2024, 3, 14, 13, 0));
        assert_eq!(BarInterval::Day1.bucket_start(ts), at(2024, 3, 14, 0, 0));
        assert_eq!(BarInterval::Week1.bucket_start(ts), at(2024, 3, 11, 0, 0));
        assert_eq!(BarInterval::Month1.bucket_start(ts), at(2024, 3, 1, 0, 0));
        assert_eq!(
            BarInterval::Month1.next_bucket(at(2024, 12, 1, 0, 0)),
            at(2025, 1, 1, 0, 0)
        );
        assert_eq!(
            BarInterval::Hour1.ceil_bucket(at(2024, 3, 14, 13, 1)),
            at(2024, 3, 14, 14, 0)
        );
        assert_eq!(
            BarInterval::Hour1.ceil_bucket(at(2024, 3, 14, 13, 0)),
            at(2024, 3, 14, 13, 0)
        );
    }

    #[test]
    fn source_bounds_cover_a_whole_bar() {
        use BarInterval::*;
        assert_eq!(Hour1.max_source_bars(Minute1), 60);
        assert_eq!(Minute15.max_source_bars(Minute5), 3);
        assert_eq!(Week1.max_source_bars(Day1), 7);
        assert_eq!(Month1.max_source_bars(Day1), 31);
        assert_eq!(Day1.max_source_bars(Day1), 1);
    }

    #[test]
    fn periods_end_at_the_given_time() {
        let end = at(2024, 3, 31, 12, 0);
        assert_eq!(
            Period::parse("1d").map(|p| p.start(end)).ok(),
            Some(at(2024, 3, 30, 12, 0))
        );
        assert_eq!(
            Period::parse("1mo").map(|p| p.start(end)).ok(),
            Some(at(2024, 2, 29, 12, 0))
        );
        assert_eq!(
            Period::parse("5y").map(|p| p.start(end)).ok(),
            Some(at(2019, 3, 31, 12, 0))
        );
        assert_eq!(
            Period::parse("max").map(|p| p.start(end)).ok(),
            Some(earliest())
        );
        let error = Period::parse("2w").expect_err("2w is no period");
        assert!(error.to_string().starts_with("period: "), "{error}");
    }

    #[test]
    fn adjustment_defaults_to_split() {
        assert_eq!(Adjustment::parse("").ok(), Some(Adjustment::Split));
        assert_eq!(Adjustment::parse("all").ok(), Some(Adjustment::All));
        let error = Adjustment::parse("dividend").expect_err("not an adjustment");
        assert!(error.to_string().starts_with("adjustment: "), "{error}");
    }
}
