//! The window of history an analysis runs on: the newest `lookback + 1` dates on which every
//! holding and the benchmark have a close.
//!
//! Market data may hold a date for one symbol and not for another (a listing, a halt, a
//! different exchange calendar). Such dates are left out for all symbols, so every return in the
//! window spans the same two dates for every series; the report notes how many were left out.
//! A symbol with fewer closes than the window needs, or none at all, makes the analysis fail
//! with FAILED_PRECONDITION naming each short symbol and its number of closes: the window is
//! never silently shortened.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use crate::error::RiskError;
use crate::upstream::History;

/// Extra closes fetched beyond the window, so a few dates missing for some symbols can be left
/// out without making the window short.
pub const SLACK: usize = 20;

/// The closes each symbol needs for `lookback` returns, plus the slack to fetch.
pub fn closes_to_fetch(lookback: usize) -> usize {
    lookback + 1 + SLACK
}

/// Closes on common dates, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// `lookback + 1` dates.
    pub dates: Vec<NaiveDateTime>,
    /// One series per requested symbol, in request order, each `dates.len()` long.
    pub closes: Vec<Vec<f64>>,
    /// The benchmark's closes on the same dates.
    pub benchmark: Vec<f64>,
    /// Dates inside the window that some, but not all, symbols had a close for.
    pub dates_left_out: usize,
}

/// The newest `lookback + 1` dates common to `symbols` and `benchmark` in `history`.
pub fn align(
    history: &HashMap<String, History>,
    symbols: &[String],
    benchmark: &str,
    lookback: usize,
) -> Result<Window, RiskError> {
    let needed = lookback + 1;
    let mut series: Vec<&str> = symbols.iter().map(String::as_str).collect();
    if !series.contains(&benchmark) {
        series.push(benchmark);
    }
    let mut short = Vec::new();
    let mut by_symbol: Vec<HashMap<NaiveDateTime, f64>> = Vec::with_capacity(series.len());
    let mut seen: BTreeMap<NaiveDateTime, usize> = BTreeMap::new();
    for symbol in &series {
        let closes: &[(NaiveDateTime, f64)] = match history.get(*symbol) {
            Some(History::Closes(closes)) => closes,
            Some(History::Unknown) | None => &[],
        };
        if closes.len() < needed {
            let label = if matches!(history.get(*symbol), Some(History::Closes(_))) {
                format!("{symbol} has {}", closes.len())
            } else {
                format!("{symbol} is unknown")
            };
            short.push(label);
        }
        for (ts, _) in closes {
            *seen.entry(*ts).or_default() += 1;
        }
        by_symbol.push(closes.iter().copied().collect());
    }
    if !short.is_empty() {
        return Err(RiskError::Precondition(format!(
            "insufficient history: a lookback of {lookback} returns needs {needed} daily closes \
             of every holding and of the benchmark; {}",
            short.join(", ")
        )));
    }
    let common: Vec<NaiveDateTime> = seen
        .iter()
        .filter(|(_, n)| **n == series.len())
        .map(|(ts, _)| *ts)
        .collect();
    if common.len() < needed {
        return Err(RiskError::Precondition(format!(
            "insufficient history: a lookback of {lookback} returns needs {needed} dates on \
             which every holding and the benchmark have a close; only {} such dates are in the \
             newest {} closes of each",
            common.len(),
            closes_to_fetch(lookback)
        )));
    }
    let dates = common[common.len() - needed..].to_vec();
    let dates_left_out = seen.range(dates[0]..).count() - dates.len();
    let column = |prices: &HashMap<NaiveDateTime, f64>| -> Vec<f64> {
        dates.iter().map(|ts| prices[ts]).collect()
    };
    let mut closes: Vec<Vec<f64>> = by_symbol.iter().map(column).collect();
    let benchmark_closes = match symbols.iter().position(|s| s == benchmark) {
        Some(i) => closes[i].clone(),
        None => closes.pop().unwrap_or_default(),
    };
    Ok(Window {
        dates,
        closes,
        benchmark: benchmark_closes,
        dates_left_out,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeDelta};

    use super::*;

    fn day(n: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("valid date")
            + TimeDelta::days(n)
    }

    fn series(days: impl IntoIterator<Item = i64>, price: f64) -> History {
        History::Closes(
            days.into_iter()
                .map(|d| (day(d), price + d as f64))
                .collect(),
        )
    }

    #[test]
    fn takes_the_newest_common_dates_and_counts_the_ones_left_out() {
        let history = HashMap::from([
            ("A".to_owned(), series(0..10, 100.0)),
            // B has no close on day 7.
            ("B".to_owned(), series((0..10).filter(|d| *d != 7), 50.0)),
            ("SPX".to_owned(), series(0..10, 1000.0)),
        ]);
        let symbols = ["A", "B"].map(String::from);
        let window = align(&history, &symbols, "SPX", 3).expect("enough history");
        assert_eq!(window.dates, vec![day(5), day(6), day(8), day(9)]);
        assert_eq!(window.closes[1], vec![55.0, 56.0, 58.0, 59.0]);
        assert_eq!(window.benchmark, vec![1005.0, 1006.0, 1008.0, 1009.0]);
        assert_eq!(window.dates_left_out, 1);
    }

    #[test]
    fn a_benchmark_that_is_also_a_holding_is_read_once() {
        let history = HashMap::from([("A".to_owned(), series(0..5, 10.0))]);
        let window = align(&history, &["A".to_owned()], "A", 4).expect("enough");
        assert_eq!(window.closes.len(), 1);
        assert_eq!(window.benchmark, window.closes[0]);
    }

    #[test]
    fn names_every_short_or_unknown_symbol_with_its_count() {
        let history = HashMap::from([
            ("A".to_owned(), series(0..10, 100.0)),
            ("B".to_owned(), series(0..3, 50.0)),
            ("C".to_owned(), History::Unknown),
            ("SPX".to_owned(), series(0..10, 1000.0)),
        ]);
        let symbols = ["A", "B", "C"].map(String::from);
        let error = align(&history, &symbols, "SPX", 5).expect_err("B and C are short");
        let message = error.to_string();
        assert!(message.contains("needs 6 daily closes"), "{message}");
        assert!(message.contains("B has 3"), "{message}");
        assert!(message.contains("C is unknown"), "{message}");
        assert!(!message.contains("A has"), "{message}");
        assert_eq!(error.code(), tonic::Code::FailedPrecondition);
    }

    #[test]
    fn too_few_common_dates_is_refused_not_shortened() {
        let history = HashMap::from([
            ("A".to_owned(), series(0..6, 100.0)),
            ("B".to_owned(), series(3..9, 50.0)),
            ("SPX".to_owned(), series(0..9, 1000.0)),
        ]);
        let symbols = ["A", "B"].map(String::from);
        let error = align(&history, &symbols, "SPX", 5).expect_err("only 3 common dates");
        assert!(error.to_string().contains("only 3 such dates"), "{error}");
    }
}
