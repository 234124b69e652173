//! Analysis requests, parsed: the parameters with their defaults applied and the positions
//! checked, so past this point nothing about a request can be invalid.

use bourse_proto::risk::v1::risk_position::Size;
use bourse_proto::risk::v1::{
    AnalyzePortfolioRequest, AnalyzePositionsRequest, RiskParameters, RiskPosition,
};

use crate::error::RiskError;
use crate::montecarlo::DEFAULT_PATHS;
use crate::params::{Confidence, Horizon};
use crate::var::historical_min_observations;

/// Default confidence level.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// Default lookback: two trading years of daily returns.
pub const DEFAULT_LOOKBACK: usize = 504;
/// Longest lookback: ten trading years.
pub const MAX_LOOKBACK: usize = 2_520;
/// Most simulated paths of one analysis.
pub const MAX_PATHS: usize = 200_000;
/// Default benchmark: the S&P 500 index of the demo data set.
pub const DEFAULT_BENCHMARK: &str = "SPX";
/// Most positions of one ad-hoc analysis.
pub const MAX_POSITIONS: usize = 500;

/// How VaR and expected shortfall are estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VarMethod {
    Historical,
    Parametric,
    CornishFisher,
    MonteCarlo,
    Bootstrap,
}

impl VarMethod {
    fn parse(value: &str) -> Result<Self, RiskError> {
        Ok(match value {
            "" | "historical" => Self::Historical,
            "parametric" => Self::Parametric,
            "cornish_fisher" => Self::CornishFisher,
            "monte_carlo" => Self::MonteCarlo,
            "bootstrap" => Self::Bootstrap,
            other => {
                return Err(RiskError::invalid(
                    "method",
                    format!(
                        "unknown method {other:?}: expected historical, parametric, \
                         cornish_fisher, monte_carlo or bootstrap"
                    ),
                ));
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Historical => "historical",
            Self::Parametric => "parametric",
            Self::CornishFisher => "cornish_fisher",
            Self::MonteCarlo => "monte_carlo",
            Self::Bootstrap => "bootstrap",
        }
    }

    /// Whether the method draws random paths.
    pub fn is_simulated(self) -> bool {
        matches!(self, Self::MonteCarlo | Self::Bootstrap)
    }
}

/// The parameters of one analysis, valid and with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub method: VarMethod,
    pub confidence: Confidence,
    pub horizon: Horizon,
    /// Daily returns used (closes: one more).
    pub lookback: usize,
    pub benchmark: String,
    pub paths: usize,
    pub seed: u64,
    /// Annual risk-free rate.
    pub risk_free_rate: f64,
}

/// The analysis parameters of a request as sent, before defaults.
#[derive(Debug)]
pub struct RawParams<'a> {
    pub method: &'a str,
    pub confidence: Option<f64>,
    pub horizon_days: Option<i32>,
    pub lookback_days: Option<i32>,
    pub benchmark: &'a str,
    pub paths: Option<i32>,
    pub seed: Option<u64>,
    pub risk_free_rate: f64,
}

impl<'a> From<&'a AnalyzePortfolioRequest> for RawParams<'a> {
    fn from(r: &'a AnalyzePortfolioRequest) -> Self {
        Self {
            method: &r.method,
            confidence: r.confidence,
            horizon_days: r.horizon_days,
            lookback_days: r.lookback_days,
            benchmark: &r.benchmark,
            paths: r.paths,
            seed: r.seed,
            risk_free_rate: r.risk_free_rate,
        }
    }
}

impl<'a> From<&'a AnalyzePositionsRequest> for RawParams<'a> {
    fn from(r: &'a AnalyzePositionsRequest) -> Self {
        Self {
            method: &r.method,
            confidence: r.confidence,
            horizon_days: r.horizon_days,
            lookback_days: r.lookback_days,
            benchmark: &r.benchmark,
            paths: r.paths,
            seed: r.seed,
            risk_free_rate: r.risk_free_rate,
        }
    }
}

impl Params {
    /// Applies the defaults and checks every field, naming the first bad one.
    pub fn parse(raw: &RawParams<'_>) -> Result<Self, RiskError> {
        let method = VarMethod::parse(raw.method)?;
        let confidence = Confidence::new(raw.confidence.unwrap_or(DEFAULT_CONFIDENCE))
            .map_err(|e| RiskError::invalid("confidence", e.to_string()))?;
        let horizon = Horizon::new(raw.horizon_days.map_or(1, i64::from))
            .map_err(|e| RiskError::invalid("horizon_days", e.to_string()))?;
        let lookback = match raw.lookback_days {
            None => DEFAULT_LOOKBACK,
            Some(days) => usize::try_from(days)
                .ok()
                .filter(|d| (2..=MAX_LOOKBACK).contains(d))
                .ok_or_else(|| {
                    RiskError::invalid(
                        "lookback_days",
                        format!("must be 2 to {MAX_LOOKBACK} trading days, got {days}"),
                    )
                })?,
        };
        let paths = match raw.paths {
            None => DEFAULT_PATHS,
            Some(paths) => {
                let needed = historical_min_observations(confidence);
                usize::try_from(paths)
                    .ok()
                    .filter(|p| (needed..=MAX_PATHS).contains(p))
                    .ok_or_else(|| {
                        RiskError::invalid(
                            "paths",
                            format!(
                                "must be {needed} to {MAX_PATHS} at confidence {}, got {paths}",
                                confidence.value()
                            ),
                        )
                    })?
            }
        };
        let benchmark = match raw.benchmark.trim() {
            "" => DEFAULT_BENCHMARK.to_owned(),
            symbol => parse_symbol("benchmark", symbol)?,
        };
        if !(raw.risk_free_rate.is_finite() && raw.risk_free_rate.abs() < 1.0) {
            return Err(RiskError::invalid(
                "risk_free_rate",
                format!(
                    "must be an annual rate between -1 and 1, got {}",
                    raw.risk_free_rate
                ),
            ));
        }
        Ok(Self {
            method,
            confidence,
            horizon,
            lookback,
            benchmark,
            paths,
            seed: raw.seed.unwrap_or(0),
            risk_free_rate: raw.risk_free_rate,
        })
    }

    /// The parameters as echoed in a report.
    pub fn to_proto(&self) -> RiskParameters {
        let simulated = self.method.is_simulated();
        RiskParameters {
            method: self.method.as_str().to_owned(),
            confidence: self.confidence.value(),
            horizon_days: self.horizon.days() as i32,
            lookback_days: self.lookback as i32,
            benchmark: self.benchmark.clone(),
            paths: if simulated { self.paths as i32 } else { 0 },
            seed: if simulated { self.seed } else { 0 },
            risk_free_rate: self.risk_free_rate,
        }
    }

    /// A canonical text of every parameter that changes the result: part of cache keys.
    pub fn key(&self) -> String {
        let p = self.to_proto();
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}",
            p.method,
            p.confidence,
            p.horizon_days,
            p.lookback_days,
            p.benchmark,
            p.paths,
            p.seed,
            p.risk_free_rate
        )
    }

    /// What BatchAnalyze groups requests by.
    pub fn group(&self) -> GroupKey {
        GroupKey {
            confidence_bits: self.confidence.value().to_bits(),
            horizon: self.horizon.days(),
            method: self.method,
            lookback: self.lookback,
        }
    }
}

/// (confidence, horizon, method, lookback): requests that share it are computed together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    confidence_bits: u64,
    horizon: usize,
    method: VarMethod,
    lookback: usize,
}

/// A symbol as sent, checked for shape only (market data decides whether it exists): 1 to 32
/// characters of letters, digits, `.`, `-`, `^` or `=`, upper-cased.
pub fn parse_symbol(field: &str, value: &str) -> Result<String, RiskError> {
    let symbol = value.trim().to_ascii_uppercase();
    let valid = !symbol.is_empty()
        && symbol.len() <= 32
        && symbol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'^' | b'='));
    if valid {
        Ok(symbol)
    } else {
        Err(RiskError::invalid(
            field,
            format!("{value:?} is not a symbol"),
        ))
    }
}

/// How big a holding is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HoldingSize {
    /// Shares, valued at the last close of the window.
    Quantity(f64),
    /// A fraction of the portfolio value.
    Weight(f64),
}

/// One holding to analyze.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    pub symbol: String,
    pub size: HoldingSize,
}

/// Parses a decimal number of shares; zero, non-finite and non-numeric are refused.
pub fn parse_quantity(field: &str, value: &str) -> Result<f64, RiskError> {
    match value.trim().parse::<f64>() {
        Ok(q) if q.is_finite() && q != 0.0 => Ok(q),
        _ => Err(RiskError::invalid(
            field,
            format!("{value:?} is not a non-zero decimal number of shares"),
        )),
    }
}

/// The positions of an ad-hoc analysis: all quantities or all weights, no symbol twice, and a
/// positive `portfolio_value` exactly when they are weights.
pub fn parse_positions(
    positions: &[RiskPosition],
    portfolio_value: f64,
) -> Result<(Vec<Holding>, Option<f64>), RiskError> {
    if positions.is_empty() {
        return Err(RiskError::invalid(
            "positions",
            "at least one position is needed",
        ));
    }
    if positions.len() > MAX_POSITIONS {
        return Err(RiskError::invalid(
            "positions",
            format!("at most {MAX_POSITIONS} positions, got {}", positions.len()),
        ));
    }
    let mut holdings: Vec<Holding> = Vec::with_capacity(positions.len());
    for (i, position) in positions.iter().enumerate() {
        let symbol = parse_symbol(&format!("positions[{i}].symbol"), &position.symbol)?;
        if holdings.iter().any(|h| h.symbol == symbol) {
            return Err(RiskError::invalid(
                format!("positions[{i}].symbol"),
                format!("{symbol} is given twice"),
            ));
        }
        let size = match &position.size {
            Some(Size::Quantity(q)) => {
                HoldingSize::Quantity(parse_quantity(&format!("positions[{i}].quantity"), q)?)
            }
            Some(Size::Weight(w)) if w.is_finite() && *w != 0.0 => HoldingSize::Weight(*w),
            Some(Size::Weight(w)) => {
                return Err(RiskError::invalid(
                    format!("positions[{i}].weight"),
                    format!("must be a finite, non-zero fraction, got {w}"),
                ));
            }
            None => {
                return Err(RiskError::invalid(
                    format!("positions[{i}]"),
                    "give a quantity or a weight",
                ));
            }
        };
        holdings.push(Holding { symbol, size });
    }
    let weights = matches!(holdings[0].size, HoldingSize::Weight(_));
    if let Some(i) = holdings
        .iter()
        .position(|h| matches!(h.size, HoldingSize::Weight(_)) != weights)
    {
        return Err(RiskError::invalid(
            format!("positions[{i}]"),
            "give every position as a quantity or every position as a weight, not both",
        ));
    }
    let value = match (weights, portfolio_value) {
        (true, v) if v.is_finite() && v > 0.0 => Some(v),
        (true, v) => {
            return Err(RiskError::invalid(
                "portfolio_value",
                format!("positions given as weights need a positive portfolio value, got {v}"),
            ));
        }
        (false, 0.0) => None,
        (false, _) => {
            return Err(RiskError::invalid(
                "portfolio_value",
                "positions given as quantities are valued at the last close; leave \
                 portfolio_value unset",
            ));
        }
    };
    Ok((holdings, value))
}
