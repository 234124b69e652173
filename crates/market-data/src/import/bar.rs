//! One bar of an import: what a caller sends ([`BarInput`]), the checks it must pass, and what
//! the import path stores ([`ValidBar`]).

use bourse_proto::market_data::v1::ImportBar;
use bourse_proto::time::from_timestamp;
use bourse_store::BarClass;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime};

use super::RowError;
use crate::interval::BarInterval;
use crate::store::BarRow;
use crate::symbol::Symbol;

/// The earliest bar time accepted: older rows are typing mistakes, and on PostgreSQL every year
/// between the oldest and newest bar of a batch may get a partition.
const EARLIEST_YEAR: i32 = 1900;
/// Bars from this year on are refused for the same reason.
const LATEST_YEAR_EXCLUSIVE: i32 = 2100;

/// A bar as received, before any check.
#[derive(Debug, Clone, PartialEq)]
pub struct BarInput {
    /// The caller's line or row number, echoed in errors.
    pub line: u64,
    pub symbol: String,
    /// One of `1m`, `5m`, `15m`, `1h`, `1d`, `1w`, `1mo` ([`BarInterval`]).
    pub interval: String,
    /// Start of the bar's interval, UTC.
    pub ts: NaiveDateTime,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
    pub vwap: Option<f64>,
    pub trades: Option<i64>,
}

/// A bar that passed every check of [`BarInput::validate`], the only way to make one; its
/// symbol's instrument is checked later, against the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidBar {
    /// The caller's line number, for an error found later (an unknown instrument).
    pub(crate) line: u64,
    pub(crate) row: BarRow,
}

impl ValidBar {
    /// The row as it will be stored.
    pub fn row(&self) -> &BarRow {
        &self.row
    }
}

impl BarInput {
    /// Checks the bar: a valid symbol (normalised to upper case), a known interval, a start time
    /// on the interval's boundary ([`BarInterval::bucket_start`]: a multiple of the interval for
    /// intraday bars, midnight UTC for `1d`, Monday for `1w`, the first of the month for `1mo`)
    /// between 1900 and 2100, finite positive prices with
    /// `low <= min(open, close)` and `high >= max(open, close)`, a finite volume `>= 0`, a vwap
    /// within `[low, high]` and a trade count `>= 0`. The first failing field is reported.
    pub fn validate(self) -> Result<ValidBar, RowError> {
        let fail = |field: &'static str, reason: String| RowError {
            line: self.line,
            symbol: self.symbol.clone(),
            field,
            reason,
        };
        let symbol: Symbol = self
            .symbol
            .parse()
            .map_err(|e| fail("symbol", format!("{e}")))?;
        let Some(interval) = BarInterval::ALL
            .into_iter()
            .find(|i| i.as_str() == self.interval)
        else {
            return Err(fail(
                "interval",
                format!(
                    "{:?} is not one of 1m, 5m, 15m, 1h, 1d, 1w, 1mo",
                    self.interval
                ),
            ));
        };
        check_ts(interval, self.ts).map_err(|reason| fail("ts", reason))?;
        for (field, price) in [
            ("open", self.open),
            ("high", self.high),
            ("low", self.low),
            ("close", self.close),
        ] {
            if !(price.is_finite() && price > 0.0) {
                return Err(fail(
                    field,
                    format!("{price} is not a finite price above 0"),
                ));
            }
        }
        let (body_low, body_high) = (self.open.min(self.close), self.open.max(self.close));
        if self.low > body_low {
            return Err(fail(
                "low",
                format!("{} is above min(open, close) = {body_low}", self.low),
            ));
        }
        if self.high < body_high {
            return Err(fail(
                "high",
                format!("{} is below max(open, close) = {body_high}", self.high),
            ));
        }
        if !(self.volume.is_finite() && self.volume >= 0.0) {
            return Err(fail(
                "volume",
                format!("{} is not a finite volume >= 0", self.volume),
            ));
        }
        if let Some(vwap) = self.vwap
            && !(vwap.is_finite() && self.low <= vwap && vwap <= self.high)
        {
            return Err(fail(
                "vwap",
                format!(
                    "{vwap} is outside [low, high] = [{}, {}]",
                    self.low, self.high
                ),
            ));
        }
        if let Some(trades) = self.trades
            && trades < 0
        {
            return Err(fail("trades", format!("{trades} is negative")));
        }
        Ok(ValidBar {
            line: self.line,
            row: BarRow {
                symbol: symbol.as_str().to_owned(),
                interval: interval.as_str().to_owned(),
                ts: self.ts,
                open: self.open,
                high: self.high,
                low: self.low,
                close: self.close,
                volume: self.volume,
                vwap: self.vwap,
                trades: self.trades,
            },
        })
    }

    /// The bar of an `ImportBars` message. A missing bar or time, or a time chrono cannot
    /// represent, is an error on that field; `line` 0 (unset) becomes `position`, the bar's
    /// 1-based position in the stream.
    pub fn from_message(message: ImportBar, position: u64) -> Result<Self, RowError> {
        let line = if message.line == 0 {
            position
        } else {
            message.line
        };
        let fail = |field: &'static str, reason: &str| RowError {
            line,
            symbol: message.symbol.clone(),
            field,
            reason: reason.to_owned(),
        };
        let bar = message.bar.as_ref().ok_or_else(|| fail("bar", "missing"))?;
        let ts = bar.ts.as_ref().ok_or_else(|| fail("ts", "missing"))?;
        let ts = from_timestamp(ts)
            .ok_or_else(|| fail("ts", "not a representable time"))?
            .naive_utc();
        Ok(Self {
            line,
            ts,
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
            vwap: bar.vwap,
            trades: bar.trades,
            symbol: message.symbol,
            interval: message.interval,
        })
    }
}

/// The partition class of a valid bar's interval.
pub(crate) fn class_of(row: &BarRow) -> BarClass {
    BarClass::of_interval(&row.interval).unwrap_or(BarClass::Daily)
}

/// Parses a bar time: RFC 3339 (`2024-03-15T14:30:00Z`, any offset, converted to UTC) or a date
/// (`2024-03-15`, midnight UTC).
pub fn parse_ts(text: &str) -> Result<NaiveDateTime, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.naive_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_time(NaiveTime::MIN))
        .map_err(|_| format!("{text:?} is neither RFC 3339 nor YYYY-MM-DD"))
}

/// Whether `ts` is in range and on a boundary of `interval`: two bars of one period must have
/// the same key, or an upsert would store them twice.
fn check_ts(interval: BarInterval, ts: NaiveDateTime) -> Result<(), String> {
    if !(EARLIEST_YEAR..LATEST_YEAR_EXCLUSIVE).contains(&ts.year()) {
        return Err(format!(
            "{ts} is outside the years {EARLIEST_YEAR}..{LATEST_YEAR_EXCLUSIVE}"
        ));
    }
    let start = interval.bucket_start(ts);
    if start != ts {
        return Err(format!(
            "{ts} is not the start of a {interval} bar (that bar starts at {start})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        parse_ts(text).expect("test time")
    }

    fn bar() -> BarInput {
        BarInput {
            line: 7,
            symbol: "aapl".to_owned(),
            interval: "1d".to_owned(),
            ts: at("2024-03-15"),
            open: 10.0,
            high: 12.0,
            low: 9.0,
            close: 11.0,
            volume: 1_000.0,
            vwap: Some(10.5),
            trades: Some(42),
        }
    }

    fn field_of(input: BarInput) -> &'static str {
        input.validate().expect_err("invalid").field
    }

    #[test]
    fn accepts_a_consistent_bar_and_normalises_the_symbol() {
        let valid = bar().validate().expect("valid");
        assert_eq!(valid.row().symbol, "AAPL");
        assert_eq!(valid.line, 7);
        // Doji bars (all four prices equal) and zero volume are fine.
        let flat = BarInput {
            open: 5.0,
            high: 5.0,
            low: 5.0,
            close: 5.0,
            volume: 0.0,
            vwap: None,
            trades: Some(0),
            ..bar()
        };
        assert!(flat.validate().is_ok());
    }

    #[test]
    fn names_the_first_bad_field() {
        let cases = [
            (
                "symbol",
                BarInput {
                    symbol: "A B".into(),
                    ..bar()
                },
            ),
            (
                "interval",
                BarInput {
                    interval: "2d".into(),
                    ..bar()
                },
            ),
            (
                "ts",
                BarInput {
                    ts: at("2024-03-15T14:30:00Z"),
                    ..bar()
                },
            ),
            (
                "ts",
                BarInput {
                    ts: at("1850-01-01"),
                    ..bar()
                },
            ),
            (
                "open",
                BarInput {
                    open: f64::NAN,
                    ..bar()
                },
            ),
            (
                "close",
                BarInput {
                    close: -1.0,
                    ..bar()
                },
            ),
            (
                "high",
                BarInput {
                    high: f64::INFINITY,
                    ..bar()
                },
            ),
            ("low", BarInput { low: 0.0, ..bar() }),
            ("low", BarInput { low: 10.5, ..bar() }),
            (
                "high",
                BarInput {
                    high: 10.9,
                    ..bar()
                },
            ),
            (
                "volume",
                BarInput {
                    volume: -1.0,
                    ..bar()
                },
            ),
            (
                "vwap",
                BarInput {
                    vwap: Some(12.5),
                    ..bar()
                },
            ),
            (
                "trades",
                BarInput {
                    trades: Some(-3),
                    ..bar()
                },
            ),
        ];
        for (field, input) in cases {
            assert_eq!(field_of(input.clone()), field, "{input:?}");
        }
        let error = BarInput {
            high: 10.9,
            ..bar()
        }
        .validate()
        .expect_err("bad high");
        assert_eq!((error.line, error.symbol.as_str()), (7, "aapl"));
        assert!(
            error.reason.contains("max(open, close) = 11"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn bar_times_sit_on_their_interval_boundary() {
        let with = |interval: &str, ts: &str| BarInput {
            interval: interval.into(),
            ts: at(ts),
            ..bar()
        };
        for (interval, ts) in [
            ("1m", "2024-03-15T14:31:00Z"),
            ("5m", "2024-03-15T14:35:00Z"),
            ("15m", "2024-03-15T14:45:00Z"),
            ("1h", "2024-03-15T14:00:00Z"),
            ("1w", "2024-03-11"),
            ("1d", "2024-03-16"),
            ("1mo", "2024-03-01"),
        ] {
            assert!(with(interval, ts).validate().is_ok(), "{interval} {ts}");
        }
        for (interval, ts) in [
            ("1m", "2024-03-15T14:31:30Z"),
            ("5m", "2024-03-15T14:33:00Z"),
            ("1h", "2024-03-15T14:30:00Z"),
            ("1d", "2024-03-15T21:00:00Z"),
            ("1w", "2024-03-13"),
            ("1mo", "2024-03-15"),
        ] {
            assert_eq!(field_of(with(interval, ts)), "ts", "{interval} {ts}");
        }
    }

    #[test]
    fn parses_rfc3339_in_any_offset_and_plain_dates() {
        assert_eq!(at("2024-03-15T10:30:00-04:00"), at("2024-03-15T14:30:00Z"));
        assert_eq!(at("2024-03-15").to_string(), "2024-03-15 00:00:00");
        assert!(parse_ts("15/03/2024").is_err());
        assert!(parse_ts("2024-02-30").is_err());
    }
}
