//! Daily simple returns from adjusted closes, and the returns of a weighted portfolio.
//!
//! Conventions:
//! - a simple return is `r_t = p_t / p_{t-1} - 1` on adjusted closing prices, so `n` closes give
//!   `n - 1` returns, oldest first;
//! - a portfolio's return is `sum_i w_i r_{i,t}` with constant weights, i.e. the portfolio is
//!   rebalanced to its weights every day (the usual convention of VaR on current holdings);
//! - h-day returns for historical VaR are overlapping and compounded:
//!   `prod(1 + r_t .. r_{t+h-1}) - 1`, giving `n - h + 1` of them from `n` daily returns.

use crate::params::CalcError;

/// Daily simple returns of one price series, oldest first.
///
/// Every close must be finite and positive: a zero or missing price is an error, not a return.
pub fn simple_returns(closes: &[f64]) -> Result<Vec<f64>, CalcError> {
    if let Some(bad) = closes.iter().find(|p| !(p.is_finite() && **p > 0.0)) {
        return Err(CalcError::InvalidValue(format!("close {bad}")));
    }
    Ok(closes.windows(2).map(|w| w[1] / w[0] - 1.0).collect())
}

/// Daily portfolio returns from per-holding return series (`holdings[i][t]`) and weights `w_i`.
///
/// All series must have the same length and there must be one weight per series.
pub fn portfolio_returns(holdings: &[Vec<f64>], weights: &[f64]) -> Result<Vec<f64>, CalcError> {
    if holdings.len() != weights.len() || holdings.is_empty() {
        return Err(CalcError::Mismatch(format!(
            "{} return series, {} weights",
            holdings.len(),
            weights.len()
        )));
    }
    let n = holdings[0].len();
    if holdings.iter().any(|h| h.len() != n) {
        return Err(CalcError::Mismatch(
            "return series of unequal length".into(),
        ));
    }
    Ok((0..n)
        .map(|t| holdings.iter().zip(weights).map(|(h, w)| w * h[t]).sum())
        .collect())
}

/// Overlapping, compounded h-day returns; `h = 1` returns the input unchanged.
pub fn overlapping_returns(daily: &[f64], h: usize) -> Result<Vec<f64>, CalcError> {
    if h == 0 || daily.len() < h {
        return Err(CalcError::InsufficientHistory {
            needed: h.max(1),
            got: daily.len(),
        });
    }
    if h == 1 {
        return Ok(daily.to_vec());
    }
    Ok(daily
        .windows(h)
        .map(|w| w.iter().map(|r| 1.0 + r).product::<f64>() - 1.0)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn simple_returns_of_a_known_series() {
        let r = simple_returns(&[100.0, 110.0, 99.0]).expect("valid prices");
        assert!((r[0] - 0.1).abs() < 1e-15 && (r[1] + 0.1).abs() < 1e-15);
        assert!(simple_returns(&[100.0, 0.0]).is_err());
        assert!(simple_returns(&[100.0, f64::NAN]).is_err());
    }

    #[test]
    fn overlapping_returns_compound_each_window() {
        let r = overlapping_returns(&[0.1, -0.1, 0.2], 2).expect("enough data");
        assert_eq!(r.len(), 2);
        assert!((r[0] - (1.1 * 0.9 - 1.0)).abs() < 1e-15);
        assert!((r[1] - (0.9 * 1.2 - 1.0)).abs() < 1e-15);
        assert!(matches!(
            overlapping_returns(&[0.1], 2),
            Err(CalcError::InsufficientHistory { needed: 2, got: 1 })
        ));
    }

    #[test]
    fn portfolio_returns_match_numpy_on_vendored_data() {
        let r = fixtures::equal_weight_portfolio();
        assert_eq!(r.len(), 504);
        fixtures::assert_rel(r[0], -0.005091179034650306, "first return");
        fixtures::assert_rel(r[503], -0.012904987269724355, "last return");
        assert!(portfolio_returns(&[vec![0.0; 3]], &[0.5, 0.5]).is_err());
    }
}
