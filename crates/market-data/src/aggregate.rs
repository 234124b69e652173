//! Building coarser bars from finer ones on read (the store keeps the finest bars it is given).
//!
//! A bar of the target interval is made of every source bar whose start lies in it:
//! open = first open, high = max, low = min, close = last close, volume = sum,
//! vwap = the volume-weighted mean of the parts' vwaps when every part has one (and the
//! volume is not zero), trades = the sum when every part has a count.

use chrono::NaiveDateTime;

use crate::interval::BarInterval;
use crate::store::BarRow;

/// One target bar being built.
struct Bucket {
    bar: BarRow,
    /// Σ vwap × volume while every part has a vwap.
    price_volume: Option<f64>,
}

impl Bucket {
    fn start(interval: BarInterval, ts: NaiveDateTime, first: BarRow) -> Self {
        let price_volume = first.vwap.map(|vwap| vwap * first.volume);
        Self {
            bar: BarRow {
                interval: interval.as_str().to_owned(),
                ts,
                ..first
            },
            price_volume,
        }
    }

    fn add(&mut self, part: BarRow) {
        let bar = &mut self.bar;
        bar.high = bar.high.max(part.high);
        bar.low = bar.low.min(part.low);
        bar.close = part.close;
        bar.volume += part.volume;
        self.price_volume = self
            .price_volume
            .zip(part.vwap)
            .map(|(sum, vwap)| sum + vwap * part.volume);
        bar.trades = bar.trades.zip(part.trades).map(|(a, b)| a + b);
    }

    fn finish(self) -> BarRow {
        let volume = self.bar.volume;
        BarRow {
            vwap: self
                .price_volume
                .filter(|_| volume > 0.0)
                .map(|sum| sum / volume),
            ..self.bar
        }
    }
}

/// The bars of `interval` made from `rows` (oldest first), oldest first.
pub fn aggregate(interval: BarInterval, rows: Vec<BarRow>) -> Vec<BarRow> {
    let mut bars = Vec::new();
    let mut current: Option<Bucket> = None;
    for row in rows {
        let ts = interval.bucket_start(row.ts);
        match &mut current {
            Some(bucket) if bucket.bar.ts == ts => bucket.add(row),
            _ => {
                if let Some(done) = current.replace(Bucket::start(interval, ts, row)) {
                    bars.push(done.finish());
                }
            }
        }
    }
    bars.extend(current.map(Bucket::finish));
    bars
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn bar(minute: u32, prices: [f64; 4], volume: f64, vwap: Option<f64>) -> BarRow {
        let [open, high, low, close] = prices;
        BarRow {
            symbol: "ACME".to_owned(),
            interval: "1m".to_owned(),
            ts: NaiveDate::from_ymd_opt(2024, 5, 6)
                .and_then(|d| d.and_hms_opt(14, minute, 0))
                .expect("valid time"),
            open,
            high,
            low,
            close,
            volume,
            vwap,
            trades: Some(10),
        }
    }

    #[test]
    fn five_minute_bars_from_minutes() {
        let rows = vec![
            bar(0, [10.0, 11.0, 9.5, 10.5], 100.0, Some(10.2)),
            bar(3, [10.5, 12.0, 10.0, 11.0], 300.0, Some(11.0)),
            bar(5, [11.0, 11.5, 10.8, 11.2], 50.0, None),
        ];
        let bars = aggregate(BarInterval::Minute5, rows);
        assert_eq!(bars.len(), 2);
        let first = &bars[0];
        assert_eq!(first.interval, "5m");
        assert_eq!(
            (first.open, first.high, first.low, first.close, first.volume),
            (10.0, 12.0, 9.5, 11.0, 400.0)
        );
        // (10.2 × 100 + 11.0 × 300) / 400
        let vwap = first.vwap.expect("every part has a vwap");
        assert!((vwap - 10.8).abs() < 1e-12, "{vwap}");
        assert_eq!(first.trades, Some(20));
        assert_eq!(bars[1].vwap, None, "a part without vwap");
    }
}
