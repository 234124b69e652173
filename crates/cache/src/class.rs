//! The kinds of data Bourse caches, each with its own freshness policy and key space.

use std::fmt;

/// What a cached value is. It picks the TTL (see [`crate::TtlPolicy`]), the Redis key space
/// (`{prefix}{class}:{key}`) and the `class` label on every cache metric.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    /// Latest quote of an instrument: changes many times a second.
    Quote,
    /// OHLCV bars for an instrument and interval.
    Bars,
    /// Static reference data about an instrument.
    Instrument,
    /// A customer's positions and valuations.
    Portfolio,
    /// A sentiment score for a text: deterministic, so it can live for a day.
    Sentiment,
    /// A computed risk report (VaR and friends).
    RiskReport,
}

impl DataClass {
    /// Every class, in declaration order.
    pub const ALL: [DataClass; 6] = [
        DataClass::Quote,
        DataClass::Bars,
        DataClass::Instrument,
        DataClass::Portfolio,
        DataClass::Sentiment,
        DataClass::RiskReport,
    ];

    /// The lower-case name used in Redis keys and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            DataClass::Quote => "quote",
            DataClass::Bars => "bars",
            DataClass::Instrument => "instrument",
            DataClass::Portfolio => "portfolio",
            DataClass::Sentiment => "sentiment",
            DataClass::RiskReport => "risk_report",
        }
    }

    /// Position in [`DataClass::ALL`], used to index per-class tables.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_position_in_all() {
        for (position, class) in DataClass::ALL.into_iter().enumerate() {
            assert_eq!(class.index(), position, "{class}");
        }
    }

    #[test]
    fn serde_name_is_the_label_name() {
        for class in DataClass::ALL {
            let json = serde_json::to_string(&class).expect("a unit variant serializes");
            assert_eq!(json, format!("\"{}\"", class.as_str()));
        }
    }
}
