//! The holdings' covariance and correlation matrices, and the factor Monte Carlo simulates with.
//!
//! Conventions:
//! - the covariance is the sample covariance (`ddof = 1`, divide by `n - 1`) of the holdings'
//!   daily returns over the same dates, as `numpy.cov(..., ddof=1)`;
//! - the correlation is Pearson's, `rho_ij = Sigma_ij / (sd_i sd_j)` with `sd_i = sqrt(Sigma_ii)`,
//!   as `numpy.corrcoef` (to rounding): off-diagonal entries are clipped to [-1, 1] against
//!   rounding, the matrix is exactly symmetric and its diagonal exactly 1. A holding with zero variance has no correlation
//!   ([`CalcError::Undefined`]), never a NaN;
//! - the simulation factor `F` with `F F' = Sigma` is the Cholesky factor `L` when `Sigma` is
//!   positive definite. When it is not (e.g. a holding listed twice, or fewer days than
//!   holdings), or when Cholesky "succeeds" with a pivot keeping less than [`PIVOT_TOLERANCE`] of
//!   its holding's variance, the factor falls back to an eigen decomposition with eigenvalues at
//!   or below `n * eps * max eigenvalue` clipped to 0: the nearest positive semi-definite matrix
//!   in the Frobenius norm. The result says which ([`Factorization`]).

use nalgebra::{DMatrix, SymmetricEigen};

use crate::params::CalcError;
use crate::stats::{mean, sample_covariance};

/// How the covariance matrix was factored for simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factorization {
    /// The covariance was positive definite: an exact Cholesky factor.
    Cholesky,
    /// The covariance was not positive definite: eigen decomposition with this many
    /// non-positive (numerically zero or negative) eigenvalues clipped to 0, i.e. the nearest
    /// positive semi-definite matrix.
    EigenClipped {
        /// How many eigenvalues were at or below zero.
        clipped: usize,
    },
}

/// Smallest share of a holding's variance its Cholesky pivot must keep (`l_ii^2 / Sigma_ii`).
pub const PIVOT_TOLERANCE: f64 = 1e-10;

/// The sample means and covariance matrix of holdings' returns: what the Gaussian methods
/// (component VaR, Monte Carlo) and the correlation matrix need, computed once per analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    /// Each holding's mean daily return.
    pub means: Vec<f64>,
    /// [`covariance_matrix`] of the holdings.
    pub cov: DMatrix<f64>,
}

impl Moments {
    /// The moments of `holdings[i][t]`; series of unequal length or shorter than 2 are refused.
    pub fn of(holdings: &[Vec<f64>]) -> Result<Self, CalcError> {
        Ok(Self {
            means: holdings.iter().map(|r| mean(r).unwrap_or(0.0)).collect(),
            cov: covariance_matrix(holdings)?,
        })
    }

    /// Refuses weights that are not one per holding (or no holdings at all).
    pub fn check_weights(&self, weights: &[f64]) -> Result<(), CalcError> {
        if self.means.len() != weights.len() || weights.is_empty() {
            return Err(CalcError::Mismatch(format!(
                "{} return series, {} weights",
                self.means.len(),
                weights.len()
            )));
        }
        Ok(())
    }
}

/// Sample covariance matrix (`ddof = 1`) of holdings' returns `holdings[i][t]`.
pub fn covariance_matrix(holdings: &[Vec<f64>]) -> Result<DMatrix<f64>, CalcError> {
    let n = holdings.len();
    let mut cov = DMatrix::zeros(n, n);
    for i in 0..n {
        for j in 0..=i {
            let c = sample_covariance(&holdings[i], &holdings[j])?;
            cov[(i, j)] = c;
            cov[(j, i)] = c;
        }
    }
    Ok(cov)
}

/// Pearson correlation matrix from a covariance matrix, as `numpy.corrcoef`.
///
/// The matrix must be square; a holding with zero (or non-finite) variance makes every
/// correlation with it undefined.
pub fn correlation_matrix(cov: &DMatrix<f64>) -> Result<DMatrix<f64>, CalcError> {
    if !cov.is_square() {
        return Err(CalcError::Mismatch(format!(
            "covariance matrix of {} x {}",
            cov.nrows(),
            cov.ncols()
        )));
    }
    let n = cov.nrows();
    let mut sd = Vec::with_capacity(n);
    for i in 0..n {
        let v = cov[(i, i)];
        if !(v.is_finite() && v > 0.0) {
            return Err(CalcError::Undefined(
                "correlation with a holding of zero variance",
            ));
        }
        sd.push(v.sqrt());
    }
    // One division by the product (numpy divides by the row's std, then the column's, which
    // agrees to rounding but is not exactly symmetric): `sd_i sd_j == sd_j sd_i`, so this is.
    Ok(DMatrix::from_fn(n, n, |i, j| {
        if i == j {
            1.0
        } else {
            (cov[(i, j)] / (sd[i] * sd[j])).clamp(-1.0, 1.0)
        }
    }))
}

/// A factor `F` with `F F' = cov` (or its nearest PSD matrix) and how it was obtained.
pub fn factor_covariance(cov: &DMatrix<f64>) -> (DMatrix<f64>, Factorization) {
    if let Some(chol) = cov.clone().cholesky() {
        let l = chol.l();
        // Rounding lets Cholesky "succeed" on singular matrices with pivots near zero; such a
        // factor is numerically meaningless, so require every pivot to keep a relative share of
        // its variance.
        let well_conditioned =
            (0..l.nrows()).all(|i| l[(i, i)] * l[(i, i)] > PIVOT_TOLERANCE * cov[(i, i)]);
        if well_conditioned {
            return (l, Factorization::Cholesky);
        }
    }
    let eigen = SymmetricEigen::new(cov.clone());
    let largest = eigen.eigenvalues.amax();
    let floor = largest * cov.nrows() as f64 * f64::EPSILON;
    let clipped = eigen.eigenvalues.iter().filter(|l| **l <= floor).count();
    let roots = eigen
        .eigenvalues
        .map(|l| if l <= floor { 0.0 } else { l.sqrt() });
    let factor = eigen.eigenvectors * DMatrix::from_diagonal(&roots);
    (factor, Factorization::EigenClipped { clipped })
}

#[cfg(test)]
mod tests {
    //! Reference values: `python3 scripts/risk_reference.py` (numpy 2.4.6) on the 20 stocks'
    //! last 504 daily returns of the vendored data; columns 0 AAPL, 1 AMD, 2 BAC, 4 CVX, 8 JPM,
    //! 19 XOM.
    use super::*;
    use crate::fixtures::{assert_rel, stock_returns};

    #[test]
    fn covariance_matches_numpy_cov() {
        let cov = covariance_matrix(&stock_returns()).expect("equal lengths");
        assert_eq!(cov.shape(), (20, 20));
        assert_rel(cov[(0, 0)], 0.00037642685395804356, "var(AAPL)");
        assert_rel(cov[(2, 8)], 0.00026980009981111944, "cov(BAC, JPM)");
        assert_eq!(cov, cov.transpose());
    }

    #[test]
    fn correlation_matches_numpy_corrcoef() {
        let cov = covariance_matrix(&stock_returns()).expect("equal lengths");
        let corr = correlation_matrix(&cov).expect("every stock moves");
        assert_rel(corr[(0, 1)], 0.6424634621196103, "corr(AAPL, AMD)");
        assert_rel(corr[(2, 8)], 0.8965832724288135, "corr(BAC, JPM)");
        assert_rel(corr[(4, 19)], 0.8870379295217995, "corr(CVX, XOM)");
        for i in 0..20 {
            assert_eq!(corr[(i, i)], 1.0, "diagonal {i}");
            for j in 0..20 {
                assert_eq!(corr[(i, j)], corr[(j, i)], "symmetry ({i}, {j})");
                assert!(corr[(i, j)].abs() <= 1.0);
            }
        }
    }

    #[test]
    fn correlation_with_a_constant_holding_is_undefined() {
        let mut holdings = stock_returns();
        holdings.truncate(2);
        holdings.push(vec![0.0; holdings[0].len()]);
        let cov = covariance_matrix(&holdings).expect("equal lengths");
        assert!(matches!(
            correlation_matrix(&cov),
            Err(CalcError::Undefined(_))
        ));
        assert!(matches!(
            correlation_matrix(&DMatrix::zeros(2, 3)),
            Err(CalcError::Mismatch(_))
        ));
    }

    #[test]
    fn non_positive_definite_covariance_falls_back_to_clipped_eigen() {
        // A holding listed twice makes the covariance singular: Cholesky fails.
        let mut holdings = stock_returns();
        holdings.truncate(3);
        holdings.push(holdings[0].clone());
        let cov = covariance_matrix(&holdings).expect("equal lengths");
        let (factor, how) = factor_covariance(&cov);
        assert!(matches!(how, Factorization::EigenClipped { clipped } if clipped >= 1));
        let rebuilt = &factor * factor.transpose();
        assert!((rebuilt - &cov).amax() < 1e-12 * cov.amax().max(1e-300) + 1e-15);

        // An indefinite matrix is replaced by its nearest PSD matrix: eigenvalues (3, -1) -> (3, 0).
        let indefinite = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
        let (factor, how) = factor_covariance(&indefinite);
        assert_eq!(how, Factorization::EigenClipped { clipped: 1 });
        let psd = &factor * factor.transpose();
        assert!((psd - DMatrix::from_element(2, 2, 1.5)).amax() < 1e-12);
    }

    #[test]
    fn positive_definite_covariance_gets_an_exact_cholesky_factor() {
        let cov = covariance_matrix(&stock_returns()).expect("equal lengths");
        let (factor, how) = factor_covariance(&cov);
        assert_eq!(how, Factorization::Cholesky);
        assert!((&factor * factor.transpose() - &cov).amax() < 1e-15 * cov.amax() * 20.0);
    }
}
