//! The demo data set that `bourse up` loads into an empty store.
//!
//! - 20 real S&P 500 stocks and the S&P 500 index: ten years of daily closes vendored under
//!   `data/` (see its README for sources and licences). Those sources carry closes only, so their
//!   bars have open = high = low = close and volume 0, and the instrument names say "close-only".
//! - 29 synthetic stocks, generated reproducibly (seeded) by a one-factor geometric Brownian
//!   motion on the same trading calendar, with full OHLCV, named "Synthetic ...".
//!
//! The data set is a list of import rows: [`crate::load_demo`] stores it through the import path
//! like any other import, which also derives each symbol's latest quote from its last two bars.

use chrono::{NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

use crate::import::{BarInput, InstrumentInput};

const STOCKS_CSV: &str = include_str!("../data/sp500_20_stocks_daily_close.csv");
const INDEX_CSV: &str = include_str!("../data/sp500_index_daily_close.csv");

/// The seed of the synthetic series: the same seed, the same demo data on every machine.
pub const DEMO_SEED: u64 = 0xB05E;
/// How many synthetic stocks the demo adds to the real ones.
pub const SYNTHETIC_STOCKS: usize = 29;
/// The symbol of the benchmark index in the demo data.
pub const INDEX_SYMBOL: &str = "SPX";

/// Name, exchange and sector of the vendored stocks.
const REAL_STOCKS: [(&str, &str, &str, &str); 20] = [
    ("AAPL", "Apple Inc.", "XNAS", "Information Technology"),
    (
        "AMD",
        "Advanced Micro Devices, Inc.",
        "XNAS",
        "Information Technology",
    ),
    ("BAC", "Bank of America Corporation", "XNYS", "Financials"),
    (
        "BBY",
        "Best Buy Co., Inc.",
        "XNYS",
        "Consumer Discretionary",
    ),
    ("CVX", "Chevron Corporation", "XNYS", "Energy"),
    ("GE", "General Electric Company", "XNYS", "Industrials"),
    (
        "HD",
        "The Home Depot, Inc.",
        "XNYS",
        "Consumer Discretionary",
    ),
    ("JNJ", "Johnson & Johnson", "XNYS", "Health Care"),
    ("JPM", "JPMorgan Chase & Co.", "XNYS", "Financials"),
    ("KO", "The Coca-Cola Company", "XNYS", "Consumer Staples"),
    ("LLY", "Eli Lilly and Company", "XNYS", "Health Care"),
    ("MRK", "Merck & Co., Inc.", "XNYS", "Health Care"),
    (
        "MSFT",
        "Microsoft Corporation",
        "XNAS",
        "Information Technology",
    ),
    ("PEP", "PepsiCo, Inc.", "XNAS", "Consumer Staples"),
    ("PFE", "Pfizer Inc.", "XNYS", "Health Care"),
    (
        "PG",
        "The Procter & Gamble Company",
        "XNYS",
        "Consumer Staples",
    ),
    ("RRC", "Range Resources Corporation", "XNYS", "Energy"),
    (
        "UNH",
        "UnitedHealth Group Incorporated",
        "XNYS",
        "Health Care",
    ),
    ("WMT", "Walmart Inc.", "XNYS", "Consumer Staples"),
    ("XOM", "Exxon Mobil Corporation", "XNYS", "Energy"),
];

const SYNTHETIC_SECTORS: [&str; 6] = [
    "Information Technology",
    "Financials",
    "Health Care",
    "Energy",
    "Industrials",
    "Consumer Staples",
];

/// The whole demo data set, as import rows numbered from 1 in each list.
#[derive(Debug, Clone)]
pub struct DemoData {
    pub instruments: Vec<InstrumentInput>,
    pub bars: Vec<BarInput>,
}

/// Why the vendored files could not be read (a packaging defect, never user input).
#[derive(Debug, thiserror::Error)]
#[error("vendored demo data, line {line}: {reason}")]
pub struct DemoDataError {
    line: usize,
    reason: String,
}

/// Builds the demo data set: real closes plus seeded synthetic OHLCV.
pub fn build() -> Result<DemoData, DemoDataError> {
    let stocks = read_closes(STOCKS_CSV)?;
    let index = read_closes(INDEX_CSV)?;

    let mut instruments = Vec::new();
    let mut bars = Vec::new();
    for (column, (symbol, name, exchange, sector)) in REAL_STOCKS.iter().enumerate() {
        if stocks.symbols.get(column).map(String::as_str) != Some(*symbol) {
            return Err(DemoDataError {
                line: 1,
                reason: format!("expected column {symbol}"),
            });
        }
        instruments.push(instrument(
            symbol,
            &format!("{name} (close-only)"),
            exchange,
            "equity",
            Some(sector),
        ));
        bars.extend(close_only_bars(symbol, &stocks, column));
    }
    instruments.push(instrument(
        INDEX_SYMBOL,
        "S&P 500 Index (close-only)",
        "INDEX",
        "index",
        None,
    ));
    bars.extend(close_only_bars(INDEX_SYMBOL, &index, 0));

    let mut rng = StdRng::seed_from_u64(DEMO_SEED);
    for n in 1..=SYNTHETIC_STOCKS {
        let symbol = format!("SYN{n:02}");
        let sector = SYNTHETIC_SECTORS[n % SYNTHETIC_SECTORS.len()];
        let name = format!("Synthetic {sector} {n:02}");
        instruments.push(instrument(&symbol, &name, "SYNTH", "equity", Some(sector)));
        bars.extend(synthetic_bars(&symbol, &stocks.dates, &mut rng));
    }

    for (line, row) in (1..).zip(&mut instruments) {
        row.line = line;
    }
    for (line, row) in (1..).zip(&mut bars) {
        row.line = line;
    }
    Ok(DemoData { instruments, bars })
}

fn instrument(
    symbol: &str,
    name: &str,
    exchange: &str,
    asset_class: &str,
    sector: Option<&str>,
) -> InstrumentInput {
    InstrumentInput {
        line: 0,
        symbol: symbol.to_owned(),
        name: name.to_owned(),
        exchange: exchange.to_owned(),
        currency: "USD".to_owned(),
        asset_class: asset_class.to_owned(),
        sector: sector.map(str::to_owned),
        active: true,
    }
}

/// A close-price table: one date per row, one column per symbol.
struct Closes {
    symbols: Vec<String>,
    dates: Vec<NaiveDateTime>,
    /// `rows[d][s]`: the close of symbol `s` on date `d`, absent where the source has a gap.
    rows: Vec<Vec<Option<f64>>>,
}

fn read_closes(csv_text: &str) -> Result<Closes, DemoDataError> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let error = |line: usize, reason: String| DemoDataError { line, reason };
    let headers = reader.headers().map_err(|e| error(1, e.to_string()))?;
    let symbols = headers
        .iter()
        .skip(1)
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let (mut dates, mut rows) = (Vec::new(), Vec::new());
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| error(line, e.to_string()))?;
        let date = record.get(0).unwrap_or_default();
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|e| error(line, format!("date: {e}")))?;
        let closes = record
            .iter()
            .skip(1)
            .map(|v| {
                if v.is_empty() {
                    Ok(None)
                } else {
                    v.parse::<f64>().map(Some)
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| error(line, format!("close: {e}")))?;
        dates.push(date.and_time(chrono::NaiveTime::MIN));
        rows.push(closes);
    }
    Ok(Closes {
        symbols,
        dates,
        rows,
    })
}

fn close_only_bars<'a>(
    symbol: &'a str,
    closes: &'a Closes,
    column: usize,
) -> impl Iterator<Item = BarInput> + 'a {
    closes
        .dates
        .iter()
        .zip(&closes.rows)
        .filter_map(move |(ts, row)| {
            let close = row.get(column).copied().flatten()?;
            Some(BarInput {
                line: 0,
                symbol: symbol.to_owned(),
                interval: "1d".to_owned(),
                ts: *ts,
                open: close,
                high: close,
                low: close,
                close,
                volume: 0.0,
                vwap: None,
                trades: None,
            })
        })
}

/// Daily bars of a one-factor GBM: a market factor (drift 7 %, volatility 18 % a year) scaled by a
/// per-symbol beta, plus idiosyncratic noise.
fn synthetic_bars(symbol: &str, dates: &[NaiveDateTime], rng: &mut StdRng) -> Vec<BarInput> {
    let days_per_year = 252.0_f64;
    let beta = rng.random_range(0.6..1.6);
    let idio_vol = rng.random_range(0.15..0.45) / days_per_year.sqrt();
    let market_vol = 0.18 / days_per_year.sqrt();
    let drift = 0.07 / days_per_year;
    let mut close: f64 = rng.random_range(10.0..400.0);
    let base_volume: f64 = rng.random_range(2.0e5..5.0e6);

    let mut normal = || -> f64 { rng.sample(StandardNormal) };
    dates
        .iter()
        .map(|ts| {
            let daily_vol = (beta * market_vol).hypot(idio_vol);
            let ret = drift - 0.5 * daily_vol * daily_vol
                + beta * market_vol * normal()
                + idio_vol * normal();
            let open = close * (0.3 * daily_vol * normal()).exp();
            close *= ret.exp();
            let high = open.max(close) * (0.5 * daily_vol * normal()).abs().exp();
            let low = open.min(close) * (-(0.5 * daily_vol * normal()).abs()).exp();
            let volume = (base_volume * (0.4 * normal()).exp()).round();
            BarInput {
                line: 0,
                symbol: symbol.to_owned(),
                interval: "1d".to_owned(),
                ts: *ts,
                open: round_cents(open),
                high: round_cents(high),
                low: round_cents(low),
                close: round_cents(close),
                volume,
                vwap: None,
                trades: None,
            }
        })
        .map(|mut bar| {
            // Rounding may push open or close a cent outside the range; keep OHLC consistent.
            bar.high = bar.high.max(bar.open).max(bar.close);
            bar.low = bar.low.min(bar.open).min(bar.close);
            bar
        })
        .collect()
}

fn round_cents(price: f64) -> f64 {
    (price * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn every_row_passes_the_import_checks() {
        let demo = build().expect("vendored data parses");
        assert_eq!(demo.instruments.len(), 50);
        assert!(
            demo.bars.len() > 50 * 2 * 250,
            "at least two years of daily bars per symbol"
        );
        let now = Utc::now().naive_utc();
        for instrument in demo.instruments {
            instrument.clone().validate(now).expect("valid instrument");
        }
        for bar in &demo.bars {
            bar.clone().validate().expect("valid bar");
        }
        let lines: Vec<u64> = demo.bars.iter().map(|b| b.line).collect();
        assert!(
            lines.iter().zip(1..).all(|(line, n)| *line == n),
            "rows numbered from 1"
        );
    }

    #[test]
    fn the_last_real_bar_is_the_last_vendored_close() {
        let demo = build().expect("vendored data parses");
        let aapl: Vec<&BarInput> = demo.bars.iter().filter(|b| b.symbol == "AAPL").collect();
        let [.., prev, last] = aapl.as_slice() else {
            panic!("AAPL has bars")
        };
        // The last two rows of the vendored file: 2022-12-27 and 2022-12-28.
        assert_eq!(
            last.ts.date(),
            NaiveDate::from_ymd_opt(2022, 12, 28).expect("date")
        );
        let close_on = |line: &str| -> f64 {
            line.split(',')
                .nth(1)
                .expect("AAPL column")
                .parse()
                .expect("number")
        };
        let mut tail = STOCKS_CSV.lines().rev();
        assert_eq!(last.close, close_on(tail.next().expect("last row")));
        assert_eq!(prev.close, close_on(tail.next().expect("row before")));
        assert_eq!(
            (last.open, last.high, last.low),
            (last.close, last.close, last.close)
        );
    }

    #[test]
    fn synthetic_data_is_reproducible() {
        let a = build().expect("builds");
        let b = build().expect("builds");
        let syn = |d: &DemoData| {
            d.bars
                .iter()
                .filter(|b| b.symbol == "SYN07")
                .map(|b| b.close)
                .collect::<Vec<_>>()
        };
        assert_eq!(syn(&a), syn(&b));
        assert!(!syn(&a).is_empty());
    }
}
