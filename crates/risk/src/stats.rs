//! Descriptive statistics of return series: moments, volatility, Sharpe, Sortino, maximum
//! drawdown, beta and correlation.
//!
//! Conventions:
//! - mean is the arithmetic mean; standard deviation, variance and covariance are the sample
//!   versions (`ddof = 1`, divide by `n - 1`);
//! - skewness and excess kurtosis are the *biased* (population-moment) estimators
//!   `g1 = m3 / m2^1.5` and `g2 = m4 / m2^2 - 3` with `m_k = mean((r - mean)^k)`, as
//!   `scipy.stats.skew` / `scipy.stats.kurtosis` with their defaults (`bias=True`, `fisher=True`);
//! - annualization uses [`TRADING_DAYS`] = 252: volatility `= std * sqrt(252)`;
//! - the risk-free rate is an annual rate, de-annualized per period as `rf / 252` (simple, not
//!   compounded); Sharpe `= mean(r - rf_p) / std(r - rf_p) * sqrt(252)`;
//! - Sortino `= mean(r - rf_p) / DD * sqrt(252)` with downside deviation
//!   `DD = sqrt(sum(min(r - rf_p, 0)^2) / n)`: target return `rf_p`, divided by *all* `n`
//!   observations (not only the negative ones, and not `n - 1`);
//! - maximum drawdown is measured on the wealth index `W_0 = 1, W_t = prod(1 + r_1..r_t)` as the
//!   positive fraction `1 - W_trough / W_peak`; indices are into that index, so 0 is the start
//!   of the window and `t` is the close after return `t - 1`; ties go to the earliest index;
//! - beta `= cov(r, b) / var(b)`, correlation is Pearson's, both against benchmark returns `b`
//!   over the same dates.

use crate::params::CalcError;

/// Trading days per year used to annualize.
pub const TRADING_DAYS: f64 = 252.0;

/// Arithmetic mean; `None` for an empty series.
pub fn mean(r: &[f64]) -> Option<f64> {
    (!r.is_empty()).then(|| r.iter().sum::<f64>() / r.len() as f64)
}

/// Sample covariance (`ddof = 1`) of two series of equal length, at least 2.
pub fn sample_covariance(a: &[f64], b: &[f64]) -> Result<f64, CalcError> {
    if a.len() != b.len() {
        return Err(CalcError::Mismatch(format!(
            "{} vs {} observations",
            a.len(),
            b.len()
        )));
    }
    if a.len() < 2 {
        return Err(CalcError::InsufficientHistory {
            needed: 2,
            got: a.len(),
        });
    }
    let (ma, mb) = (mean(a).unwrap_or(0.0), mean(b).unwrap_or(0.0));
    let s: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    Ok(s / (a.len() - 1) as f64)
}

/// Sample standard deviation (`ddof = 1`), at least 2 observations.
pub fn sample_std(r: &[f64]) -> Result<f64, CalcError> {
    sample_covariance(r, r).map(f64::sqrt)
}

/// Biased sample skewness and excess kurtosis `(g1, g2)`; at least 4 observations and non-zero
/// dispersion.
pub fn skewness_excess_kurtosis(r: &[f64]) -> Result<(f64, f64), CalcError> {
    if r.len() < 4 {
        return Err(CalcError::InsufficientHistory {
            needed: 4,
            got: r.len(),
        });
    }
    let m = mean(r).unwrap_or(0.0);
    let n = r.len() as f64;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for x in r {
        let d = x - m;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
    if m2 <= 0.0 {
        return Err(CalcError::Undefined("skewness of a constant series"));
    }
    Ok((m3 / m2.powf(1.5), m4 / (m2 * m2) - 3.0))
}

/// Annualized volatility: sample standard deviation times `sqrt(252)`.
pub fn annualized_volatility(r: &[f64]) -> Result<f64, CalcError> {
    Ok(sample_std(r)? * TRADING_DAYS.sqrt())
}

fn excess(r: &[f64], rf_annual: f64) -> Vec<f64> {
    let rf = rf_annual / TRADING_DAYS;
    r.iter().map(|x| x - rf).collect()
}

/// Annualized Sharpe ratio against an annual risk-free rate.
pub fn sharpe_ratio(r: &[f64], rf_annual: f64) -> Result<f64, CalcError> {
    let ex = excess(r, rf_annual);
    let sd = sample_std(&ex)?;
    if sd <= 0.0 {
        return Err(CalcError::Undefined("Sharpe ratio with zero volatility"));
    }
    Ok(mean(&ex).unwrap_or(0.0) / sd * TRADING_DAYS.sqrt())
}

/// Annualized Sortino ratio against an annual risk-free rate (see the module docs for the
/// downside-deviation convention).
pub fn sortino_ratio(r: &[f64], rf_annual: f64) -> Result<f64, CalcError> {
    if r.len() < 2 {
        return Err(CalcError::InsufficientHistory {
            needed: 2,
            got: r.len(),
        });
    }
    let ex = excess(r, rf_annual);
    let dd = (ex.iter().map(|x| x.min(0.0).powi(2)).sum::<f64>() / ex.len() as f64).sqrt();
    if dd <= 0.0 {
        return Err(CalcError::Undefined(
            "Sortino ratio without downside returns",
        ));
    }
    Ok(mean(&ex).unwrap_or(0.0) / dd * TRADING_DAYS.sqrt())
}

/// The deepest peak-to-trough fall of the wealth index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drawdown {
    /// `1 - W_trough / W_peak`, a positive fraction (0 when the index never falls).
    pub depth: f64,
    /// Index into the wealth index of the peak (0 = start of the window).
    pub peak: usize,
    /// Index into the wealth index of the trough.
    pub trough: usize,
}

/// Maximum drawdown of the wealth index built from `r`.
pub fn max_drawdown(r: &[f64]) -> Result<Drawdown, CalcError> {
    if r.is_empty() {
        return Err(CalcError::InsufficientHistory { needed: 1, got: 0 });
    }
    let mut best = Drawdown {
        depth: 0.0,
        peak: 0,
        trough: 0,
    };
    let (mut wealth, mut high, mut high_at) = (1.0_f64, 1.0_f64, 0_usize);
    for (i, x) in r.iter().enumerate() {
        wealth *= 1.0 + x;
        if wealth > high {
            (high, high_at) = (wealth, i + 1);
        }
        let depth = 1.0 - wealth / high;
        if depth > best.depth {
            best = Drawdown {
                depth,
                peak: high_at,
                trough: i + 1,
            };
        }
    }
    Ok(best)
}

/// Beta of `r` against benchmark returns `b`: `cov(r, b) / var(b)`.
pub fn beta(r: &[f64], b: &[f64]) -> Result<f64, CalcError> {
    let var_b = sample_covariance(b, b)?;
    if var_b <= 0.0 {
        return Err(CalcError::Undefined("beta against a constant benchmark"));
    }
    Ok(sample_covariance(r, b)? / var_b)
}

/// Pearson correlation of `r` and `b`.
pub fn correlation(r: &[f64], b: &[f64]) -> Result<f64, CalcError> {
    let denom = (sample_covariance(r, r)? * sample_covariance(b, b)?).sqrt();
    if denom <= 0.0 {
        return Err(CalcError::Undefined("correlation with a constant series"));
    }
    Ok(sample_covariance(r, b)? / denom)
}

#[cfg(test)]
mod tests {
    //! Reference values: `python3 scripts/risk_reference.py` (numpy 2.4.6, scipy 1.17.1).
    use super::*;
    use crate::fixtures::{assert_rel, benchmark_returns, equal_weight_portfolio};

    #[test]
    fn volatility_sharpe_sortino_match_numpy() {
        let r = equal_weight_portfolio();
        assert_rel(
            annualized_volatility(&r).expect("reference case is valid"),
            0.16835335534232043,
            "volatility",
        );
        assert_rel(
            sharpe_ratio(&r, 0.0).expect("reference case is valid"),
            1.1795658215625564,
            "sharpe rf 0",
        );
        assert_rel(
            sharpe_ratio(&r, 0.04).expect("reference case is valid"),
            0.9419703194196609,
            "sharpe rf 4%",
        );
        assert_rel(
            sortino_ratio(&r, 0.0).expect("reference case is valid"),
            1.716050978521528,
            "sortino rf 0",
        );
        assert_rel(
            sortino_ratio(&r, 0.04).expect("reference case is valid"),
            1.3558104916629987,
            "sortino rf 4%",
        );
    }

    #[test]
    fn moments_match_scipy() {
        let (s, k) =
            skewness_excess_kurtosis(&equal_weight_portfolio()).expect("reference case is valid");
        assert_rel(s, -0.19989597791597263, "skewness");
        assert_rel(k, 1.3834817449147172, "excess kurtosis");
    }

    #[test]
    fn max_drawdown_matches_numpy_with_indices() {
        let dd = max_drawdown(&equal_weight_portfolio()).expect("reference case is valid");
        assert_rel(dd.depth, 0.14712227931904198, "max drawdown");
        assert_eq!((dd.peak, dd.trough), (315, 443));
        let flat = max_drawdown(&[0.01, 0.02]).expect("reference case is valid");
        assert_eq!(
            flat,
            Drawdown {
                depth: 0.0,
                peak: 0,
                trough: 0
            }
        );
    }

    #[test]
    fn beta_and_correlation_against_spx_match_numpy() {
        let (r, b) = (equal_weight_portfolio(), benchmark_returns());
        assert_rel(
            beta(&r, &b).expect("reference case is valid"),
            0.7876892835520011,
            "beta",
        );
        assert_rel(
            correlation(&r, &b).expect("reference case is valid"),
            0.9080212238047476,
            "correlation",
        );
        assert!(beta(&r, &b[1..]).is_err());
    }

    #[test]
    fn too_little_data_is_an_error_not_a_number() {
        assert!(matches!(
            sample_std(&[0.01]),
            Err(CalcError::InsufficientHistory { needed: 2, got: 1 })
        ));
        assert!(skewness_excess_kurtosis(&[0.1, 0.2, 0.3]).is_err());
        assert!(sharpe_ratio(&[0.01, 0.01], 0.0).is_err());
    }
}
