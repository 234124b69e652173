//! Value at Risk and expected shortfall of a return series: historical, parametric Gaussian and
//! Cornish-Fisher, plus the Gaussian marginal and component VaR of each holding.
//!
//! Conventions (the contract's, kept everywhere):
//! - VaR and ES are *positive losses* as a fraction of portfolio value (multiply by the value for
//!   an amount); a VaR can be negative when even the tail quantile is a gain;
//! - **historical**: VaR `= -Q(1 - c)` where `Q` is the empirical quantile with linear
//!   interpolation between order statistics (numpy's default `method="linear"`, Hyndman-Fan type
//!   7): sorted `x`, position `(n - 1) p`, interpolated with numpy's lerp. ES `= -mean(r | r <=
//!   Q)`. Horizons `h > 1` use overlapping compounded h-day returns (see [`crate::returns`]),
//!   not square-root-of-time. Needs at least `ceil(1 / (1 - c))` h-day returns, so that the tail
//!   holds at least one observation;
//! - **parametric Gaussian**: `mu` = mean, `sigma` = sample std (`ddof = 1`) of daily returns,
//!   `z = Phi^-1(1 - c)` (negative), square-root-of-time scaling:
//!   VaR `= -(mu h + z sigma sqrt(h))`, ES `= -(mu h) + sigma sqrt(h) phi(z) / (1 - c)`;
//!   needs at least 2 returns;
//! - **Cornish-Fisher** (modified VaR): `z` replaced by
//!   `z_cf(z) = z + (z^2 - 1) S / 6 + (z^3 - 3z) K / 24 - (2z^3 - 5z) S^2 / 36` with the biased
//!   sample skewness `S` and excess kurtosis `K` of *daily* returns ([`crate::stats`]), then the
//!   parametric formula with square-root-of-time: VaR `= -(mu h + z_cf(q) sigma sqrt(h))`,
//!   `q = Phi^-1(alpha)`, `alpha = 1 - c`. Its ES is the mean of that VaR quantile over the tail
//!   levels, `(1 / alpha) * integral_0^alpha VaR(u) du`, i.e. with `Z` standard normal
//!   ES `= -(mu h + sigma sqrt(h) E[z_cf(Z) | Z < q])`, in closed form from the truncated
//!   normal moments `M1 = E[Z | Z < q] = -phi(q) / alpha`, `M2 = E[Z^2 | Z < q] = 1 - q phi(q) /
//!   alpha`, `M3 = E[Z^3 | Z < q] = -(q^2 + 2) phi(q) / alpha`:
//!   `E[z_cf(Z) | Z < q] = M1 + (M2 - 1) S / 6 + (M3 - 3 M1) K / 24 - (2 M3 - 5 M1) S^2 / 36`.
//!   With `S = K = 0` both reduce to the Gaussian VaR and ES. Caveat: the expansion is an
//!   approximation, and only a quantile function (so only a meaningful tail mean) while `z_cf`
//!   is increasing in `z` for all `z`. That needs moderate skewness relative to the excess
//!   kurtosis: never for `K < 0`, about `|S| <= 0.8` at `K = 1`, `|S| <= 1.1` at `K = 2`,
//!   `|S| <= 1.9` at `K = 6` (the reference portfolio has `S = -0.20`, `K = 1.38`). Outside
//!   that domain historical or simulated ES is the better guide. Needs at least 4 returns;
//! - **component VaR** (Gaussian, Euler allocation): with covariance `Sigma` (`ddof = 1`) and
//!   `sigma_p = sqrt(w' Sigma w)`, marginal VaR
//!   `m_i = dVaR/dw_i = -(mu_i h + z sqrt(h) (Sigma w)_i / sigma_p)`, component `w_i m_i`; the
//!   components sum exactly to the parametric portfolio VaR.

use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::covariance::Moments;
use crate::params::{CalcError, Confidence, Horizon};
use crate::returns::overlapping_returns;
use crate::stats::{mean, sample_std, skewness_excess_kurtosis};

/// A VaR and its expected shortfall at the same confidence and horizon, as positive losses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VarEstimate {
    /// Value at Risk, a fraction of portfolio value.
    pub var: f64,
    /// Expected shortfall (CVaR), a fraction of portfolio value.
    pub es: f64,
}

/// The empirical quantile at probability `p` in [0, 1] with linear interpolation (numpy's
/// default). `sorted` must be ascending and non-empty.
pub fn quantile_linear(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let pos = p * (n - 1) as f64;
    let lo = (pos.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    // numpy's _lerp: a + diff t, computed from the upper end when t >= 0.5.
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// The minimum number of h-day returns historical VaR accepts at `c`.
pub fn historical_min_observations(c: Confidence) -> usize {
    // A small epsilon guards e.g. 1 / (1 - 0.99) = 100.000000000001.
    (1.0 / c.tail() - 1e-9).ceil() as usize
}

/// Historical VaR and ES from daily returns (overlapping h-day returns for `h > 1`).
pub fn historical(daily: &[f64], c: Confidence, h: Horizon) -> Result<VarEstimate, CalcError> {
    let mut r = overlapping_returns(daily, h.days())?;
    let needed = historical_min_observations(c);
    if r.len() < needed {
        return Err(CalcError::InsufficientHistory {
            needed: needed + h.days() - 1,
            got: daily.len(),
        });
    }
    if r.iter().any(|x| !x.is_finite()) {
        return Err(CalcError::InvalidValue("non-finite return".into()));
    }
    r.sort_by(f64::total_cmp);
    let q = quantile_linear(&r, c.tail());
    let tail: Vec<f64> = r.iter().copied().take_while(|x| *x <= q).collect();
    let es = -mean(&tail).unwrap_or(q);
    Ok(VarEstimate { var: -q, es })
}

fn standard_normal() -> Normal {
    // Mean 0 and std 1 are always valid parameters.
    Normal::standard()
}

/// Gaussian VaR and ES of a distribution with daily mean `mu` and std `sigma`.
pub fn gaussian(mu: f64, sigma: f64, c: Confidence, h: Horizon) -> VarEstimate {
    let n = standard_normal();
    let z = n.inverse_cdf(c.tail());
    let h = h.days() as f64;
    VarEstimate {
        var: -(mu * h + z * sigma * h.sqrt()),
        es: -(mu * h) + sigma * h.sqrt() * n.pdf(z) / c.tail(),
    }
}

/// Parametric Gaussian VaR and ES from daily returns.
pub fn parametric(daily: &[f64], c: Confidence, h: Horizon) -> Result<VarEstimate, CalcError> {
    let sigma = sample_std(daily)?;
    Ok(gaussian(mean(daily).unwrap_or(0.0), sigma, c, h))
}

/// The Cornish-Fisher adjusted quantile of a standard distribution with skewness `s` and excess
/// kurtosis `k`, from the Gaussian quantile `z`.
pub fn cornish_fisher_z(z: f64, s: f64, k: f64) -> f64 {
    z + (z * z - 1.0) * s / 6.0 + (z.powi(3) - 3.0 * z) * k / 24.0
        - (2.0 * z.powi(3) - 5.0 * z) * s * s / 36.0
}

/// Cornish-Fisher (modified) VaR and its expected shortfall from daily returns.
///
/// The ES is the tail mean of the Cornish-Fisher quantile (see the module documentation), so
/// with zero skewness and excess kurtosis it is exactly the Gaussian ES.
pub fn cornish_fisher(daily: &[f64], c: Confidence, h: Horizon) -> Result<VarEstimate, CalcError> {
    let (s, k) = skewness_excess_kurtosis(daily)?;
    let sigma = sample_std(daily)?;
    let mu = mean(daily).unwrap_or(0.0);
    let n = standard_normal();
    let alpha = c.tail();
    let q = n.inverse_cdf(alpha);
    let h = h.days() as f64;
    let drift = mu * h;
    let scale = sigma * h.sqrt();
    // Moments of the standard normal truncated to its tail Z < q.
    let density = n.pdf(q) / alpha;
    let m1 = -density;
    let m2 = 1.0 - q * density;
    let m3 = -(q * q + 2.0) * density;
    let tail_z = m1 + (m2 - 1.0) * s / 6.0 + (m3 - 3.0 * m1) * k / 24.0
        - (2.0 * m3 - 5.0 * m1) * s * s / 36.0;
    Ok(VarEstimate {
        var: -(drift + cornish_fisher_z(q, s, k) * scale),
        es: -(drift + tail_z * scale),
    })
}

/// Each holding's marginal and component Gaussian VaR.
#[derive(Debug, Clone, PartialEq)]
pub struct VarContributions {
    /// The portfolio's parametric VaR, equal to the sum of `component`.
    pub portfolio: f64,
    /// `dVaR / dw_i`, per unit of weight.
    pub marginal: Vec<f64>,
    /// `w_i * marginal_i`, the holding's share of portfolio VaR.
    pub component: Vec<f64>,
}

/// Marginal and component Gaussian VaR of holdings with `moments` and weights `w`.
pub fn component_var(
    moments: &Moments,
    weights: &[f64],
    c: Confidence,
    h: Horizon,
) -> Result<VarContributions, CalcError> {
    moments.check_weights(weights)?;
    let n = weights.len();
    let cov = &moments.cov;
    let mut sigma_w = vec![0.0; n];
    for i in 0..n {
        for j in 0..n {
            sigma_w[i] += cov[(i, j)] * weights[j];
        }
    }
    let var_p: f64 = weights.iter().zip(&sigma_w).map(|(w, s)| w * s).sum();
    if var_p <= 0.0 {
        return Err(CalcError::Undefined(
            "component VaR of a riskless portfolio",
        ));
    }
    let sigma_p = var_p.sqrt();
    let z = standard_normal().inverse_cdf(c.tail());
    let hd = h.days() as f64;
    let marginal: Vec<f64> = moments
        .means
        .iter()
        .zip(&sigma_w)
        .map(|(m, s)| -(m * hd + z * hd.sqrt() * s / sigma_p))
        .collect();
    let component: Vec<f64> = marginal.iter().zip(weights).map(|(m, w)| m * w).collect();
    Ok(VarContributions {
        portfolio: component.iter().sum(),
        marginal,
        component,
    })
}

#[cfg(test)]
mod tests {
    //! Reference values: `python3 scripts/risk_reference.py` (numpy 2.4.6, scipy 1.17.1) on the
    //! equal-weight 20-stock portfolio, last 504 daily returns of the vendored data.
    use super::*;
    use crate::fixtures::{assert_rel, equal_weight_portfolio, stock_returns};

    fn params(c: f64, h: i64) -> (Confidence, Horizon) {
        (
            Confidence::new(c).expect("valid confidence"),
            Horizon::new(h).expect("valid horizon"),
        )
    }

    #[test]
    fn quantile_matches_numpy_linear_on_small_cases() {
        // np.quantile([1, 2, 3, 4], [0, .1, .5, .9, 1]) == [1, 1.3, 2.5, 3.7, 4]
        let x = [1.0, 2.0, 3.0, 4.0];
        for (p, q) in [(0.0, 1.0), (0.1, 1.3), (0.5, 2.5), (0.9, 3.7), (1.0, 4.0)] {
            assert!((quantile_linear(&x, p) - q).abs() < 1e-12, "p={p}");
        }
        assert_eq!(quantile_linear(&[7.0], 0.05), 7.0);
    }

    #[test]
    fn historical_var_es_match_numpy() {
        let r = equal_weight_portfolio();
        let cases = [
            (0.95, 1, 0.016605330419648068, 0.023622531395294646),
            (0.95, 10, 0.04878805580350513, 0.07109317034373476),
            (0.99, 1, 0.027321804855419084, 0.0332543998393976),
            (0.99, 10, 0.08985365106220482, 0.09956690097411794),
        ];
        for (c, h, var, es) in cases {
            let (cc, hh) = params(c, h);
            let got = historical(&r, cc, hh).expect("504 returns suffice");
            assert_rel(got.var, var, &format!("historical VaR c={c} h={h}"));
            assert_rel(got.es, es, &format!("historical ES c={c} h={h}"));
        }
    }

    #[test]
    fn parametric_var_es_match_numpy() {
        let r = equal_weight_portfolio();
        let cases = [
            (0.95, 1, 0.016656076635031644, 0.021087583784688974),
            (0.95, 10, 0.0472828004673933, 0.06129645652763112),
            (0.99, 1, 0.02388350340691383, 0.027477270652689616),
            (0.99, 10, 0.07013793068861919, 0.0815024205657808),
        ];
        for (c, h, var, es) in cases {
            let (cc, hh) = params(c, h);
            let got = parametric(&r, cc, hh).expect("504 returns suffice");
            assert_rel(got.var, var, &format!("parametric VaR c={c} h={h}"));
            assert_rel(got.es, es, &format!("parametric ES c={c} h={h}"));
        }
    }

    #[test]
    fn cornish_fisher_var_matches_numpy() {
        let r = equal_weight_portfolio();
        let cases = [
            (0.95, 1, 0.016954632411465304),
            (0.95, 10, 0.04822691672952368),
            (0.99, 1, 0.028713033320909347),
            (0.99, 10, 0.08541024524476214),
        ];
        for (c, h, var) in cases {
            let (cc, hh) = params(c, h);
            let got = cornish_fisher(&r, cc, hh).expect("504 returns suffice");
            assert_rel(got.var, var, &format!("Cornish-Fisher VaR c={c} h={h}"));
        }
        // No skew, no excess kurtosis: Cornish-Fisher is the Gaussian quantile.
        assert_eq!(cornish_fisher_z(-1.5, 0.0, 0.0), -1.5);
    }

    #[test]
    fn cornish_fisher_es_matches_numerical_integration() {
        // Independent of the closed form: scipy.integrate.quad of the CF VaR quantile over
        // u in (0, 1 - c), divided by 1 - c (epsabs=0, epsrel=1e-13, limit=1000). quad's own
        // error estimate is below 1e-13 relative for every case (4.4e-14 to 9.5e-14), so the
        // 1e-9 tolerance measures this code, not the quadrature.
        let r = equal_weight_portfolio();
        let cases = [
            (0.95, 1, 0.02432998750708948),
            (0.95, 10, 0.07154983738422514),
            (0.99, 1, 0.03654830142715463),
            (0.99, 10, 0.1101875385385711),
        ];
        for (c, h, es) in cases {
            let (cc, hh) = params(c, h);
            let got = cornish_fisher(&r, cc, hh).expect("504 returns suffice");
            assert_rel(got.es, es, &format!("Cornish-Fisher ES c={c} h={h}"));
            assert!(got.es > got.var, "ES beyond VaR at c={c} h={h}");
        }
    }

    #[test]
    fn cornish_fisher_without_skew_or_excess_kurtosis_is_gaussian() {
        // Symmetric, so skewness 0; two values at +-a among n = 6 give m2 = 2a^2 / 6 and
        // m4 = 2a^4 / 6, so m4 / m2^2 = 6 / 2 = 3: excess kurtosis 0.
        let r = [-1.0, 0.0, 0.0, 0.0, 0.0, 1.0].map(|x| 0.01 * x + 0.0005);
        let (s, k) = skewness_excess_kurtosis(&r).expect("six values, not all equal");
        assert!(s.abs() < 1e-12 && k.abs() < 1e-12, "s={s} k={k}");
        let sigma = sample_std(&r).expect("six values");
        let mu = mean(&r).expect("non-empty");
        for (c, h) in [(0.95, 1), (0.99, 10)] {
            let (cc, hh) = params(c, h);
            let cf = cornish_fisher(&r, cc, hh).expect("six values suffice");
            let g = gaussian(mu, sigma, cc, hh);
            assert!(
                (cf.var - g.var).abs() < 1e-12 * g.var.abs(),
                "{cf:?} vs {g:?}"
            );
            assert!((cf.es - g.es).abs() < 1e-12 * g.es.abs(), "{cf:?} vs {g:?}");
        }
    }

    #[test]
    fn component_var_matches_numpy_and_sums_to_portfolio_var() {
        let holdings = stock_returns();
        let w = vec![0.05; 20];
        let (c, h) = params(0.99, 10);
        let moments = Moments::of(&holdings).expect("equal lengths");
        let got = component_var(&moments, &w, c, h).expect("consistent shapes");
        let marginal = [0.09851152725182884, 0.1570303331695718, 0.08991360551423891];
        let component = [
            0.004925576362591442,
            0.00785151665847859,
            0.004495680275711946,
        ];
        for i in 0..3 {
            assert_rel(got.marginal[i], marginal[i], "marginal VaR");
            assert_rel(got.component[i], component[i], "component VaR");
        }
        // Euler allocation: the components add up to the portfolio's parametric VaR.
        let portfolio = parametric(&equal_weight_portfolio(), c, h)
            .expect("enough data")
            .var;
        assert_rel(got.portfolio, portfolio, "sum of component VaR");
        assert_rel(
            got.portfolio,
            0.07013793068861918,
            "sum of component VaR (numpy)",
        );
    }

    #[test]
    fn too_little_history_is_refused() {
        let (c, h) = params(0.99, 1);
        assert_eq!(historical_min_observations(c), 100);
        assert!(matches!(
            historical(&[0.01; 99], c, h),
            Err(CalcError::InsufficientHistory {
                needed: 100,
                got: 99
            })
        ));
        assert!(historical(&[0.01; 100], c, h).is_ok());
        let (c, h) = params(0.95, 10);
        assert!(matches!(
            historical(&[0.01; 28], c, h),
            Err(CalcError::InsufficientHistory {
                needed: 29,
                got: 28
            })
        ));
        assert!(parametric(&[0.01], c, h).is_err());
        assert!(cornish_fisher(&[0.01, 0.02, 0.03], c, h).is_err());
    }
}
