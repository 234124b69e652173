//! Validated inputs of the risk calculations and the errors the pure numerics can report.
//!
//! Parse, don't validate: a [`Confidence`] is always in (0.5, 1) and a [`Horizon`] always in
//! 1..=250 trading days, so the calculations in [`crate::var`] never re-check them.

/// Why a calculation refused to produce a number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalcError {
    /// Fewer observations than the method needs: never a silent number from too little data.
    #[error("insufficient history: {needed} observations needed, {got} available")]
    InsufficientHistory { needed: usize, got: usize },
    /// A confidence level outside the open interval (0.5, 1).
    #[error("confidence must be in (0.5, 1), got {0}")]
    InvalidConfidence(f64),
    /// A horizon outside 1..=250 trading days.
    #[error("horizon must be 1 to 250 days, got {0}")]
    InvalidHorizon(i64),
    /// Inputs whose shapes do not agree (weights vs. columns, series of unequal length).
    #[error("mismatched input: {0}")]
    Mismatch(String),
    /// A price that is not finite and positive, or a return that is not finite.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// A statistic that is undefined for the data, e.g. a ratio over zero dispersion.
    #[error("undefined: {0}")]
    Undefined(&'static str),
}

/// A VaR / ES confidence level, strictly between 0.5 and 1 (e.g. 0.95, 0.99).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Confidence(f64);

impl Confidence {
    /// Parses a confidence level; anything outside (0.5, 1), NaN included, is rejected.
    pub fn new(value: f64) -> Result<Self, CalcError> {
        if value > 0.5 && value < 1.0 {
            Ok(Self(value))
        } else {
            Err(CalcError::InvalidConfidence(value))
        }
    }

    /// The confidence level c itself.
    pub fn value(self) -> f64 {
        self.0
    }

    /// The tail probability 1 - c whose return quantile is the VaR.
    pub fn tail(self) -> f64 {
        1.0 - self.0
    }
}

/// A risk horizon in trading days, 1 to 250.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Horizon(usize);

impl Horizon {
    /// The longest horizon accepted, about one trading year.
    pub const MAX_DAYS: usize = 250;

    /// Parses a horizon in trading days; 0, negatives and more than 250 are rejected.
    pub fn new(days: i64) -> Result<Self, CalcError> {
        match usize::try_from(days) {
            Ok(d) if (1..=Self::MAX_DAYS).contains(&d) => Ok(Self(d)),
            _ => Err(CalcError::InvalidHorizon(days)),
        }
    }

    /// The horizon in trading days.
    pub fn days(self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_rejects_values_outside_the_open_interval() {
        for bad in [0.5, 1.0, 0.0, -0.1, 1.5, f64::NAN] {
            assert!(Confidence::new(bad).is_err(), "{bad} accepted");
        }
        let c = Confidence::new(0.99).expect("0.99 is valid");
        assert!((c.tail() - 0.01).abs() < 1e-15);
    }

    #[test]
    fn horizon_rejects_zero_negative_and_too_long() {
        for bad in [0, -1, 251] {
            assert_eq!(Horizon::new(bad), Err(CalcError::InvalidHorizon(bad)));
        }
        assert_eq!(Horizon::new(250).map(Horizon::days), Ok(250));
    }
}
