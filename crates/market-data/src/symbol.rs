//! The instrument symbol, parsed once at the edge of the service.

use std::fmt;
use std::str::FromStr;

/// An instrument symbol: 1-15 characters of `A-Z`, `0-9`, `.` and `-`.
///
/// Input is upper-cased before it is checked, so `aapl` and `AAPL` name the same instrument.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(String);

/// Why a string is not a symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSymbol {
    #[error("symbol is empty")]
    Empty,
    #[error("symbol {0:?} is longer than 15 characters")]
    TooLong(String),
    #[error("symbol {0:?} may only contain A-Z, 0-9, '.' and '-'")]
    BadCharacter(String),
}

impl Symbol {
    /// The longest symbol accepted.
    pub const MAX_LEN: usize = 15;

    /// The symbol as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Symbol {
    type Err = InvalidSymbol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        if upper.is_empty() {
            return Err(InvalidSymbol::Empty);
        }
        if upper.len() > Self::MAX_LEN {
            return Err(InvalidSymbol::TooLong(s.to_owned()));
        }
        let allowed =
            |c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.' || c == '-';
        if !upper.chars().all(allowed) {
            return Err(InvalidSymbol::BadCharacter(s.to_owned()));
        }
        Ok(Symbol(upper))
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_valid_symbols() {
        for (input, expected) in [
            ("aapl", "AAPL"),
            ("BRK.B", "BRK.B"),
            ("RDS-A", "RDS-A"),
            ("A", "A"),
        ] {
            assert_eq!(
                input.parse::<Symbol>().map(|s| s.to_string()),
                Ok(expected.to_owned())
            );
        }
        assert!("ABCDEFGHIJKLMNO".parse::<Symbol>().is_ok());
    }

    #[test]
    fn rejects_invalid_symbols() {
        assert_eq!("".parse::<Symbol>(), Err(InvalidSymbol::Empty));
        assert!(matches!(
            "ABCDEFGHIJKLMNOP".parse::<Symbol>(),
            Err(InvalidSymbol::TooLong(_))
        ));
        for bad in ["AA PL", "A/B", "AAPL;", "ÄPL", "A_B"] {
            assert!(
                matches!(bad.parse::<Symbol>(), Err(InvalidSymbol::BadCharacter(_))),
                "{bad}"
            );
        }
    }
}
