//! Adjusting historical bars for corporate actions on read; the store keeps bars as traded.
//!
//! - `split`: a bar that starts strictly before a split's ex-date has its prices (and vwap)
//!   divided by the split ratio (new shares per old) and its volume multiplied by it; several
//!   later splits multiply.
//! - `all`: additionally, prices before each cash dividend's ex-date are multiplied by
//!   `1 - amount / close`, where `close` is the raw close of the last bar of the same series
//!   before the ex-date (the CRSP/Yahoo convention). A dividend with no earlier bar adjusts
//!   nothing (no bar precedes it); one not smaller than that close is ignored and logged, as it
//!   would make prices zero or negative.
//!
//! Bars are adjusted before they are aggregated. Volume and trade counts are never
//! dividend-adjusted. A coarse stored bar (`1w`, `1mo`) that straddles an ex-date counts as
//! before it, as the rule above says; reading such intervals from `1d` bars avoids that.

use crate::interval::Adjustment;
use crate::store::{ActionWithPriorClose, BarRow};

/// Adjusts `rows` (oldest first) in place for `actions` (oldest first).
pub fn adjust(rows: &mut [BarRow], actions: &[ActionWithPriorClose], adjustment: Adjustment) {
    if adjustment == Adjustment::Raw || actions.is_empty() {
        return;
    }
    let mut volume_factor = 1.0;
    let mut price_factor = 1.0;
    // Walk from the newest bar back, taking in each action once the bars precede its ex-date.
    let mut pending = actions.len();
    for row in rows.iter_mut().rev() {
        while pending > 0 && actions[pending - 1].ex_date > row.ts {
            pending -= 1;
            let action = &actions[pending];
            match (action.kind.as_str(), action.ratio, action.amount) {
                ("split", Some(ratio), _) if ratio > 0.0 => {
                    volume_factor *= ratio;
                    price_factor /= ratio;
                }
                ("dividend", _, Some(amount)) if adjustment == Adjustment::All => {
                    match action.prior_close {
                        Some(close) if amount >= 0.0 && amount < close => {
                            price_factor *= 1.0 - amount / close;
                        }
                        _ => tracing::warn!(
                            symbol = %row.symbol,
                            ex_date = %action.ex_date,
                            amount,
                            prior_close = ?action.prior_close,
                            "dividend not smaller than the prior close: not adjusted for"
                        ),
                    }
                }
                _ => {}
            }
        }
        if price_factor != 1.0 || volume_factor != 1.0 {
            row.open *= price_factor;
            row.high *= price_factor;
            row.low *= price_factor;
            row.close *= price_factor;
            row.vwap = row.vwap.map(|vwap| vwap * price_factor);
            row.volume *= volume_factor;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveDateTime};

    use super::*;

    fn day(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 6, d)
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .expect("valid day")
    }

    fn bar(d: u32, close: f64) -> BarRow {
        BarRow {
            symbol: "ACME".to_owned(),
            interval: "1d".to_owned(),
            ts: day(d),
            open: close,
            high: close,
            low: close,
            close,
            volume: 1_000.0,
            vwap: Some(close),
            trades: Some(7),
        }
    }

    fn action(d: u32, kind: &str, value: f64, prior_close: f64) -> ActionWithPriorClose {
        ActionWithPriorClose {
            ex_date: day(d),
            kind: kind.to_owned(),
            ratio: (kind == "split").then_some(value),
            amount: (kind == "dividend").then_some(value),
            prior_close: Some(prior_close),
        }
    }

    #[test]
    fn splits_and_dividends_compound_backwards() {
        let actions = [
            action(4, "dividend", 2.0, 100.0),
            action(6, "split", 2.0, 98.0),
        ];
        let closes = |adjustment| {
            let mut rows = vec![bar(3, 100.0), bar(5, 98.0), bar(6, 49.0)];
            adjust(&mut rows, &actions, adjustment);
            rows.iter().map(|r| (r.close, r.volume)).collect::<Vec<_>>()
        };
        assert_eq!(
            closes(Adjustment::Raw),
            [(100.0, 1_000.0), (98.0, 1_000.0), (49.0, 1_000.0)]
        );
        assert_eq!(
            closes(Adjustment::Split),
            [(50.0, 2_000.0), (49.0, 2_000.0), (49.0, 1_000.0)]
        );
        // Day 3 is before both: 100 / 2 × (1 - 2/100) = 49.
        let all = closes(Adjustment::All);
        assert!((all[0].0 - 49.0).abs() < 1e-12, "{all:?}");
        assert_eq!(all[0].1, 2_000.0, "volume is not dividend-adjusted");
        assert_eq!(&all[1..], [(49.0, 2_000.0), (49.0, 1_000.0)]);
    }
}
