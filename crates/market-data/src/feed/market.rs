//! [`SimulatedMarket`]: the clock-free model behind the simulated feed (see [`crate::feed`]).
//! The same seed, starting quotes and start time give the same ticks.

use std::time::Duration;

use chrono::{NaiveDateTime, Timelike as _};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use rand_distr::StandardNormal;

use super::DEFAULT_START_PRICE;
use crate::ingest::{MinuteBar, Tick};
use crate::symbol::Symbol;

/// Years of trading time in one second: 252 sessions of 6.5 hours.
const YEARS_PER_SECOND: f64 = 1.0 / (252.0 * 6.5 * 3600.0);
/// The market factor's drift and volatility, per year.
const MARKET_DRIFT: f64 = 0.07;
const MARKET_VOL: f64 = 0.18;
/// Half the quoted spread, as a fraction of the price (at least one cent).
const HALF_SPREAD: f64 = 0.000_25;

/// Where a symbol's walk starts.
#[derive(Debug, Clone, PartialEq)]
pub struct StartingQuote {
    pub symbol: Symbol,
    pub last: f64,
}

/// The clock-free simulation: call [`SimulatedMarket::step`] once per tick.
#[derive(Debug)]
pub struct SimulatedMarket {
    rng: StdRng,
    /// Simulated time of the latest step.
    now: NaiveDateTime,
    step: chrono::TimeDelta,
    /// The step in years of trading time.
    dt: f64,
    /// How much volume trades per step on average, relative to a symbol's daily volume.
    volume_share: f64,
    symbols: Vec<SymbolState>,
}

#[derive(Debug)]
struct SymbolState {
    symbol: Symbol,
    beta: f64,
    idio_vol: f64,
    daily_volume: f64,
    /// The walk's price, unrounded; quotes show it in cents.
    price: f64,
    last: f64,
    prev_close: f64,
    day_open: Option<f64>,
    day_high: f64,
    day_low: f64,
    day_volume: f64,
    bar: Option<BarBuilder>,
}

#[derive(Debug, Clone, Copy)]
struct BarBuilder {
    start: NaiveDateTime,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    notional: f64,
    trades: i64,
}

impl SimulatedMarket {
    /// A market walking from `starts` (in any order) from `start` onwards, one step per
    /// `tick_interval`.
    pub fn new(
        mut starts: Vec<StartingQuote>,
        seed: u64,
        tick_interval: Duration,
        start: NaiveDateTime,
    ) -> Self {
        // The draws per symbol follow symbol order, so the input order does not matter.
        starts.sort_by(|a, b| a.symbol.cmp(&b.symbol));
        starts.dedup_by(|a, b| a.symbol == b.symbol);
        let mut rng = StdRng::seed_from_u64(seed);
        let symbols = starts
            .into_iter()
            .map(|start| {
                let price = Some(start.last)
                    .filter(|p| p.is_finite() && *p > 0.0)
                    .unwrap_or(DEFAULT_START_PRICE);
                let last = round_cents(price).max(0.01);
                SymbolState {
                    symbol: start.symbol,
                    beta: rng.random_range(0.6..1.6),
                    idio_vol: rng.random_range(0.15..0.45),
                    daily_volume: rng.random_range(2.0e5..5.0e6),
                    price,
                    last,
                    // The stored last closed the previous session, exactly as stored.
                    prev_close: price,
                    day_open: None,
                    day_high: last,
                    day_low: last,
                    day_volume: 0.0,
                    bar: None,
                }
            })
            .collect();
        let seconds = tick_interval.as_secs_f64();
        Self {
            rng,
            now: start,
            step: chrono::TimeDelta::from_std(tick_interval).unwrap_or(chrono::TimeDelta::MAX),
            dt: seconds * YEARS_PER_SECOND,
            volume_share: seconds / (6.5 * 3600.0),
            symbols,
        }
    }

    /// How many symbols are simulated.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// Whether there is nothing to simulate.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// Moves simulated time on by one tick interval and returns one tick per symbol, each
    /// carrying the 1-minute bar it closed, if any.
    pub fn step(&mut self) -> Vec<Tick> {
        let previous = self.now;
        self.now = self.now.checked_add_signed(self.step).unwrap_or(self.now);
        let (now, dt, volume_share) = (self.now, self.dt, self.volume_share);
        let new_day = now.date() != previous.date();
        let rng = &mut self.rng;
        let market_shock: f64 = rng.sample(StandardNormal);
        let minute = now
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now);

        self.symbols
            .iter_mut()
            .map(|s| {
                if new_day {
                    s.prev_close = s.last;
                    s.day_open = None;
                    s.day_volume = 0.0;
                }
                let market = s.beta * MARKET_VOL;
                let variance = market * market + s.idio_vol * s.idio_vol;
                let own_shock: f64 = rng.sample(StandardNormal);
                let log_return = (MARKET_DRIFT - 0.5 * variance) * dt
                    + dt.sqrt() * (market * market_shock + s.idio_vol * own_shock);
                s.price *= log_return.exp();
                s.last = round_cents(s.price).max(0.01);
                let lognormal: f64 = (0.5 * rng.sample::<f64, _>(StandardNormal)).exp();
                let volume = (s.daily_volume * volume_share * lognormal).round();
                let trades = rng.random_range(1..=20_i64);
                let size = |rng: &mut StdRng| 100.0 * f64::from(rng.random_range(1..=50_u32));
                let (bid_size, ask_size) = (size(rng), size(rng));

                let day_open = match s.day_open {
                    Some(open) => open,
                    None => {
                        (s.day_high, s.day_low) = (s.last, s.last);
                        *s.day_open.insert(s.last)
                    }
                };
                s.day_high = s.day_high.max(s.last);
                s.day_low = s.day_low.min(s.last);
                s.day_volume += volume;

                let completed = match &mut s.bar {
                    Some(bar) if bar.start == minute => {
                        bar.add(s.last, volume, trades);
                        None
                    }
                    open => open.replace(BarBuilder::new(minute, s.last, volume, trades)),
                };
                let half_spread = (s.last * HALF_SPREAD).max(0.01);
                Tick {
                    symbol: s.symbol.clone(),
                    ts: now,
                    last: s.last,
                    bid: Some(round_cents(s.last - half_spread).max(0.01)),
                    ask: Some(round_cents(s.last + half_spread)),
                    bid_size: Some(bid_size),
                    ask_size: Some(ask_size),
                    day_open: Some(day_open),
                    day_high: Some(s.day_high),
                    day_low: Some(s.day_low),
                    prev_close: Some(s.prev_close),
                    volume: s.day_volume,
                    bar: completed.map(BarBuilder::finish),
                }
            })
            .collect()
    }
}

impl BarBuilder {
    fn new(start: NaiveDateTime, price: f64, volume: f64, trades: i64) -> Self {
        Self {
            start,
            open: price,
            high: price,
            low: price,
            close: price,
            volume,
            notional: price * volume,
            trades,
        }
    }

    fn add(&mut self, price: f64, volume: f64, trades: i64) {
        self.high = self.high.max(price);
        self.low = self.low.min(price);
        self.close = price;
        self.volume += volume;
        self.notional += price * volume;
        self.trades += trades;
    }

    fn finish(self) -> MinuteBar {
        // The VWAP lies within [low, high]; clamping only absorbs floating-point error.
        let vwap = (self.volume > 0.0)
            .then(|| (self.notional / self.volume).clamp(self.low, self.high))
            .map(|v| (v * 10_000.0).round() / 10_000.0);
        MinuteBar {
            start: self.start,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
            vwap,
            trades: Some(self.trades),
        }
    }
}

fn round_cents(price: f64) -> f64 {
    (price * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn start() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 3, 15)
            .and_then(|d| d.and_hms_opt(23, 58, 30))
            .expect("valid time")
    }

    fn starts() -> Vec<StartingQuote> {
        [
            ("AAPL", 180.0),
            ("PENNY", 0.05),
            ("MSFT", 400.0),
            ("SPX", 5_100.0),
        ]
        .into_iter()
        .map(|(symbol, last)| StartingQuote {
            symbol: symbol.parse().expect("symbol"),
            last,
        })
        .collect()
    }

    fn run(seed: u64, steps: usize) -> Vec<Tick> {
        let mut market = SimulatedMarket::new(starts(), seed, Duration::from_secs(1), start());
        (0..steps).flat_map(|_| market.step()).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_ticks_and_another_seed_does_not() {
        let a = run(7, 200);
        assert_eq!(a, run(7, 200));
        let mut reversed = starts();
        reversed.reverse();
        let mut market = SimulatedMarket::new(reversed, 7, Duration::from_secs(1), start());
        let b: Vec<Tick> = (0..200).flat_map(|_| market.step()).collect();
        assert_eq!(a, b, "the order of the starting quotes does not matter");
        assert_ne!(a, run(8, 200));
    }

    #[test]
    fn prices_stay_positive_and_quotes_are_consistent() {
        for tick in run(11, 3_000) {
            let (bid, ask) = (tick.bid.expect("bid"), tick.ask.expect("ask"));
            assert!(tick.last >= 0.01, "{tick:?}");
            assert!(bid > 0.0 && bid <= tick.last && tick.last < ask, "{tick:?}");
            let (high, low) = (tick.day_high.expect("high"), tick.day_low.expect("low"));
            assert!(low <= tick.last && tick.last <= high, "{tick:?}");
            assert!(low <= tick.day_open.expect("open") && tick.day_open <= Some(high));
        }
    }

    #[test]
    fn a_one_minute_bar_closes_every_simulated_minute_and_is_ohlc_consistent() {
        let steps = 600; // ten minutes of one-second ticks, across midnight
        let ticks = run(3, steps);
        let aapl: Vec<&Tick> = ticks
            .iter()
            .filter(|t| t.symbol.as_str() == "AAPL")
            .collect();
        let bars: Vec<MinuteBar> = aapl.iter().filter_map(|t| t.bar).collect();
        // Ticks from 23:58:31 to 00:08:30: minutes 23:58 .. 00:07 close, 00:08 is still open.
        assert_eq!(bars.len(), 10);
        for pair in bars.windows(2) {
            assert_eq!(pair[1].start - pair[0].start, chrono::TimeDelta::minutes(1));
        }
        for bar in &bars {
            assert!(bar.is_consistent(), "{bar:?}");
            let vwap = bar.vwap.expect("volume traded");
            assert!(bar.low <= vwap + 1e-4 && vwap <= bar.high + 1e-4, "{bar:?}");
        }
        // A full minute holds 60 ticks: its volume is the sum of theirs.
        let full = bars[1];
        let in_minute: Vec<&&Tick> = aapl
            .iter()
            .filter(|t| t.ts >= full.start && t.ts < full.start + chrono::TimeDelta::minutes(1))
            .collect();
        assert_eq!(in_minute.len(), 60);
        let closes: Vec<f64> = in_minute.iter().map(|t| t.last).collect();
        assert_eq!(full.open, closes[0]);
        assert_eq!(full.close, closes[59]);
        assert_eq!(full.high, closes.iter().copied().fold(f64::MIN, f64::max));
        assert_eq!(full.low, closes.iter().copied().fold(f64::MAX, f64::min));
    }

    #[test]
    fn a_new_day_starts_a_new_session() {
        let ticks = run(5, 120);
        let aapl: Vec<&Tick> = ticks
            .iter()
            .filter(|t| t.symbol.as_str() == "AAPL")
            .collect();
        let first_of_day = aapl
            .windows(2)
            .find(|w| w[1].ts.date() != w[0].ts.date())
            .expect("the walk crosses midnight");
        let (before, after) = (first_of_day[0], first_of_day[1]);
        assert_eq!(after.prev_close, Some(before.last));
        assert_eq!(after.day_open, Some(after.last));
        assert!(after.volume < before.volume, "day volume restarts");
        assert_eq!(
            aapl[0].prev_close,
            Some(180.0),
            "the stored last is the first prev close"
        );
    }

    #[test]
    fn moves_are_correlated_as_the_one_factor_model_says() {
        let mut market = SimulatedMarket::new(starts(), 13, Duration::from_secs(1), start());
        let params = |symbol: &str| {
            let s = market.symbols.iter().find(|s| s.symbol.as_str() == symbol);
            s.map(|s| (s.beta * MARKET_VOL, s.idio_vol))
                .expect("simulated")
        };
        let ((market_x, own_x), (market_y, own_y)) = (params("MSFT"), params("SPX"));
        // corr = βx·βy·σm² / (σx·σy), from the model's definition.
        let expected = market_x * market_y / (market_x.hypot(own_x) * market_y.hypot(own_y));

        let steps = 20_000;
        let (mut x, mut y) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        let (mut last_x, mut last_y) = (400.0_f64, 5_100.0_f64);
        for _ in 0..steps {
            for tick in market.step() {
                match tick.symbol.as_str() {
                    "MSFT" => x.push((tick.last / std::mem::replace(&mut last_x, tick.last)).ln()),
                    "SPX" => y.push((tick.last / std::mem::replace(&mut last_y, tick.last)).ln()),
                    _ => {}
                }
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mx, my) = (mean(&x), mean(&y));
        let cov: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let var = |v: &[f64], m: f64| v.iter().map(|a| (a - m).powi(2)).sum::<f64>();
        let sample = cov / (var(&x, mx) * var(&y, my)).sqrt();
        // Standard error of a sample correlation ≈ (1 − ρ²)/√n ≈ 0.007 here; allow 4 of them
        // (rounding prices to cents adds a little independent noise, lowering it slightly).
        assert!(
            (sample - expected).abs() < 0.03,
            "sample correlation {sample}, model {expected}"
        );
        assert!(
            expected > 0.05,
            "the factor correlates the symbols: {expected}"
        );
    }
}
