//! One analysis, start to finish, as a pure function of its parameters, holdings and window of
//! history: what runs on the CPU pool.
//!
//! Conventions, beyond those of the numeric modules:
//! - **Weights** are fractions of the portfolio value *including cash*: a stored portfolio's
//!   positions are valued at the last close of the window and its cash added; ad-hoc weights
//!   that do not sum to 1 leave the remainder as cash (and the report says so). VaR and ES
//!   fractions are of that value, and the amounts are the fractions times it.
//! - **Holding contributions** use the Euler allocation of the Gaussian (covariance) model:
//!   marginal VaR `dVaR/dw_i` and component VaR `w_i * marginal`, which sum to the parametric
//!   VaR. For the other methods both are scaled by `VaR_method / VaR_parametric`, so the
//!   components sum to the method's VaR and keep the covariance model's proportions; the report
//!   notes it.
//! - The holdings' means and covariance are computed once and shared by Monte Carlo, the
//!   contributions and the correlation matrix.
//! - Drawdown, volatility, Sharpe, Sortino, beta and correlation are over the daily portfolio
//!   returns of the window, whatever the method and horizon.

use bourse_proto::risk::v1::{
    BenchmarkStatistics, CorrelationMatrix, Drawdown, HoldingRisk, LossMeasure, RiskReport,
};
use bourse_proto::time::naive_to_timestamp;

use crate::covariance::{Factorization, Moments, correlation_matrix};
use crate::error::RiskError;
use crate::history::Window;
use crate::montecarlo::{SimulatedVar, bootstrap, monte_carlo};
use crate::request::{Holding, HoldingSize, Params, VarMethod};
use crate::returns::{portfolio_returns, simple_returns};
use crate::stats::{
    annualized_volatility, beta, correlation, max_drawdown, sharpe_ratio, sortino_ratio,
};
use crate::var::{VarEstimate, component_var, cornish_fisher, historical, parametric};

/// What is analyzed: holdings and the cash beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub holdings: Vec<Holding>,
    /// Cash in the portfolio's currency (quantities only; weights imply it).
    pub cash: f64,
    /// The portfolio value weights are fractions of (weights only).
    pub value: Option<f64>,
    pub currency: String,
}

impl Subject {
    /// The holdings' symbols, in order.
    pub fn symbols(&self) -> Vec<String> {
        self.holdings.iter().map(|h| h.symbol.clone()).collect()
    }
}

/// Runs the analysis. The report has no id, portfolio or computation time yet.
pub fn analyze(
    params: &Params,
    subject: &Subject,
    window: &Window,
) -> Result<RiskReport, RiskError> {
    let symbols = subject.symbols();
    let mut notes = Vec::new();
    let (weights, value) = weights(subject, window, &mut notes)?;
    let returns = symbols
        .iter()
        .zip(&window.closes)
        .map(|(symbol, closes)| {
            simple_returns(closes).map_err(RiskError::calc(format!("returns of {symbol}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let whole = format!("the portfolio of {}", list(&symbols));
    let daily = portfolio_returns(&returns, &weights).map_err(RiskError::calc(&whole))?;
    // Means and covariance once, for the simulation, the contributions and the correlations.
    let moments = Moments::of(&returns).map_err(RiskError::calc(&whole))?;

    let (c, h) = (params.confidence, params.horizon);
    let what = format!(
        "{} VaR at {} over {} days of {whole}",
        params.method.as_str(),
        c.value(),
        h.days()
    );
    let estimate = match params.method {
        VarMethod::Historical => historical(&daily, c, h),
        VarMethod::Parametric => parametric(&daily, c, h),
        VarMethod::CornishFisher => cornish_fisher(&daily, c, h),
        VarMethod::MonteCarlo => monte_carlo(&moments, &weights, c, h, params.paths, params.seed)
            .map(|simulated| simulated_estimate(simulated, &mut notes)),
        VarMethod::Bootstrap => bootstrap(&daily, c, h, params.paths, params.seed)
            .map(|simulated| simulated_estimate(simulated, &mut notes)),
    }
    .map_err(RiskError::calc(&what))?;

    let contributions = component_var(&moments, &weights, c, h).map_err(RiskError::calc(&what))?;
    let scale = if params.method == VarMethod::Parametric {
        1.0
    } else {
        notes.push(format!(
            "holding contributions are the covariance model's Euler allocation scaled to the \
             {} VaR",
            params.method.as_str()
        ));
        estimate.var / contributions.portfolio
    };
    let holdings = symbols
        .iter()
        .zip(&weights)
        .zip(contributions.marginal.iter().zip(&contributions.component))
        .map(|((symbol, weight), (marginal, component))| HoldingRisk {
            symbol: symbol.clone(),
            weight: *weight,
            marginal_var: marginal * scale,
            component_var: component * scale,
            component_var_fraction: component / contributions.portfolio,
        })
        .collect();

    let stats = |name: &str| RiskError::calc(format!("{name} of {whole}"));
    let drawdown = max_drawdown(&daily).map_err(stats("maximum drawdown"))?;
    let benchmark = simple_returns(&window.benchmark)
        .map_err(RiskError::calc(format!("returns of {}", params.benchmark)))?;
    let corr = correlation_matrix(&moments.cov).map_err(stats("correlation matrix"))?;
    if window.dates_left_out > 0 {
        notes.push(format!(
            "{} dates on which not every holding and the benchmark had a close were left out",
            window.dates_left_out
        ));
    }
    let loss = |fraction: f64| LossMeasure {
        fraction,
        amount: fraction * value,
    };
    Ok(RiskReport {
        parameters: Some(params.to_proto()),
        window_start: window.dates.first().copied().map(naive_to_timestamp),
        window_end: window.dates.last().copied().map(naive_to_timestamp),
        observations: i32::try_from(daily.len()).unwrap_or(i32::MAX),
        portfolio_value: value,
        currency: subject.currency.clone(),
        value_at_risk: Some(loss(estimate.var)),
        expected_shortfall: Some(loss(estimate.es)),
        volatility_annualized: annualized_volatility(&daily).map_err(stats("volatility"))?,
        sharpe_ratio: sharpe_ratio(&daily, params.risk_free_rate).map_err(stats("Sharpe ratio"))?,
        sortino_ratio: sortino_ratio(&daily, params.risk_free_rate)
            .map_err(stats("Sortino ratio"))?,
        max_drawdown: Some(Drawdown {
            fraction: drawdown.depth,
            peak: Some(naive_to_timestamp(window.dates[drawdown.peak])),
            trough: Some(naive_to_timestamp(window.dates[drawdown.trough])),
        }),
        benchmark: Some(BenchmarkStatistics {
            symbol: params.benchmark.clone(),
            beta: beta(&daily, &benchmark).map_err(stats("beta"))?,
            correlation: correlation(&daily, &benchmark).map_err(stats("correlation"))?,
        }),
        correlation: Some(CorrelationMatrix {
            symbols,
            values: corr.transpose().iter().copied().collect(),
        }),
        holdings,
        notes,
        ..RiskReport::default()
    })
}

/// Each holding's weight and the portfolio value they are fractions of.
fn weights(
    subject: &Subject,
    window: &Window,
    notes: &mut Vec<String>,
) -> Result<(Vec<f64>, f64), RiskError> {
    if let Some(value) = subject.value {
        let weights: Vec<f64> = subject
            .holdings
            .iter()
            .map(|h| match h.size {
                HoldingSize::Weight(w) => w,
                HoldingSize::Quantity(_) => 0.0,
            })
            .collect();
        let sum: f64 = weights.iter().sum();
        if (sum - 1.0).abs() > 1e-9 {
            notes.push(format!(
                "weights sum to {sum}; the remaining {} of the portfolio value is cash",
                1.0 - sum
            ));
        }
        return Ok((weights, value));
    }
    let market_values: Vec<f64> = subject
        .holdings
        .iter()
        .zip(&window.closes)
        .map(|(h, closes)| match h.size {
            HoldingSize::Quantity(q) => q * closes.last().copied().unwrap_or(0.0),
            HoldingSize::Weight(_) => 0.0,
        })
        .collect();
    let value = market_values.iter().sum::<f64>() + subject.cash;
    if !(value.is_finite() && value > 0.0) {
        return Err(RiskError::Precondition(format!(
            "the portfolio's value at the last close is {value}: VaR as a fraction of value \
             needs a positive value"
        )));
    }
    Ok((market_values.iter().map(|mv| mv / value).collect(), value))
}

fn simulated_estimate(simulated: SimulatedVar, notes: &mut Vec<String>) -> VarEstimate {
    if let Factorization::EigenClipped { clipped } = simulated.factorization {
        notes.push(format!(
            "the covariance matrix is not positive definite: simulated with its nearest \
             positive semi-definite matrix ({clipped} eigenvalues clipped to zero)"
        ));
    }
    simulated.estimate
}

/// Up to ten symbols, then how many more.
fn list(symbols: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = symbols
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if symbols.len() > SHOWN {
        text.push_str(&format!(" and {} more", symbols.len() - SHOWN));
    }
    text
}
