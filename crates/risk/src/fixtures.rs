//! Test-only access to the vendored real data and the reference case of
//! `scripts/risk_reference.py`: an equal-weight portfolio of the 20 stocks over the last 504
//! daily returns, benchmark SPX.

use crate::returns::{portfolio_returns, simple_returns};

const STOCKS: &str = include_str!("../../market-data/data/sp500_20_stocks_daily_close.csv");
const INDEX: &str = include_str!("../../market-data/data/sp500_index_daily_close.csv");

/// Trading days of returns in the reference case.
pub(crate) const LOOKBACK: usize = 504;

/// Closing-price columns of a `Date,SYM,...` CSV, oldest first, last `rows` rows only.
fn columns(csv: &str, rows: usize) -> Vec<Vec<f64>> {
    let lines: Vec<&str> = csv.lines().skip(1).filter(|l| !l.is_empty()).collect();
    let tail = &lines[lines.len() - rows..];
    let width = tail[0].split(',').count() - 1;
    let mut cols = vec![Vec::with_capacity(rows); width];
    for line in tail {
        for (col, field) in cols.iter_mut().zip(line.split(',').skip(1)) {
            col.push(field.parse::<f64>().expect("vendored CSV holds numbers"));
        }
    }
    cols
}

/// The 20 stocks' daily returns over the reference window, one series per stock.
pub(crate) fn stock_returns() -> Vec<Vec<f64>> {
    columns(STOCKS, LOOKBACK + 1)
        .iter()
        .map(|c| simple_returns(c).expect("vendored closes are positive"))
        .collect()
}

/// The equal-weight portfolio's daily returns over the reference window.
pub(crate) fn equal_weight_portfolio() -> Vec<f64> {
    let holdings = stock_returns();
    let w = vec![1.0 / holdings.len() as f64; holdings.len()];
    portfolio_returns(&holdings, &w).expect("consistent shapes")
}

/// SPX daily returns over the reference window.
pub(crate) fn benchmark_returns() -> Vec<f64> {
    let cols = columns(INDEX, LOOKBACK + 1);
    simple_returns(&cols[0]).expect("vendored closes are positive")
}

/// Asserts `actual` equals the numpy reference `expected` within 1e-9 relative.
#[track_caller]
pub(crate) fn assert_rel(actual: f64, expected: f64, what: &str) {
    let rel = ((actual - expected) / expected).abs();
    assert!(
        rel <= 1e-9,
        "{what}: got {actual:e}, numpy says {expected:e} (relative error {rel:e})"
    );
}
