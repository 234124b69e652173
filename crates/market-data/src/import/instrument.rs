//! One instrument of an import: what a caller sends ([`InstrumentInput`]) and the checks it must
//! pass before it is stored.

use chrono::NaiveDateTime;

use super::RowError;
use crate::store::InstrumentRow;
use crate::symbol::Symbol;

/// Asset classes as stored: the contract's `AssetClass` names, lower case, without the prefix.
pub const ASSET_CLASSES: [&str; 6] = ["equity", "etf", "index", "fund", "crypto", "fx"];

/// The longest name, exchange code and sector accepted.
const MAX_NAME: usize = 200;
const MAX_EXCHANGE: usize = 16;
const MAX_SECTOR: usize = 100;

/// An instrument as received, before any check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstrumentInput {
    /// The caller's line or row number, echoed in errors.
    pub line: u64,
    pub symbol: String,
    pub name: String,
    /// Exchange or venue code, e.g. `XNAS`.
    pub exchange: String,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// One of [`ASSET_CLASSES`] (any case).
    pub asset_class: String,
    pub sector: Option<String>,
    pub active: bool,
}

impl InstrumentInput {
    /// Checks the instrument: a valid symbol, a name of 1-200 characters, an exchange code of
    /// 1-16 characters `A-Z0-9`, a three-letter currency, a known asset class and a sector of at
    /// most 100 characters. Codes are upper-cased and the asset class lower-cased;
    /// `updated_at` is stamped on the row.
    pub fn validate(self, updated_at: NaiveDateTime) -> Result<InstrumentRow, RowError> {
        let fail = |field: &'static str, reason: String| RowError {
            line: self.line,
            symbol: self.symbol.clone(),
            field,
            reason,
        };
        let symbol: Symbol = self
            .symbol
            .parse()
            .map_err(|e| fail("symbol", format!("{e}")))?;
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(fail("name", format!("must be 1-{MAX_NAME} characters")));
        }
        let exchange = self.exchange.trim().to_ascii_uppercase();
        if exchange.is_empty()
            || exchange.len() > MAX_EXCHANGE
            || !exchange.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(fail(
                "exchange",
                format!(
                    "{:?} is not 1-{MAX_EXCHANGE} letters or digits",
                    self.exchange
                ),
            ));
        }
        let currency = self.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(fail(
                "currency",
                format!("{:?} is not a three-letter ISO 4217 code", self.currency),
            ));
        }
        let asset_class = self.asset_class.trim().to_ascii_lowercase();
        if !ASSET_CLASSES.contains(&asset_class.as_str()) {
            return Err(fail(
                "asset_class",
                format!(
                    "{:?} is not one of {}",
                    self.asset_class,
                    ASSET_CLASSES.join(", ")
                ),
            ));
        }
        let sector = self
            .sector
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if sector.is_some_and(|s| s.chars().count() > MAX_SECTOR) {
            return Err(fail(
                "sector",
                format!("longer than {MAX_SECTOR} characters"),
            ));
        }
        Ok(InstrumentRow {
            symbol: symbol.as_str().to_owned(),
            name: name.to_owned(),
            exchange,
            currency,
            asset_class,
            sector: sector.map(str::to_owned),
            active: self.active,
            updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> InstrumentInput {
        InstrumentInput {
            line: 3,
            symbol: "brk.b".into(),
            name: " Berkshire Hathaway Inc. ".into(),
            exchange: "xnys".into(),
            currency: "usd".into(),
            asset_class: "Equity".into(),
            sector: Some(String::new()),
            active: true,
        }
    }

    #[test]
    fn normalises_codes_and_empty_sectors() {
        let row = input().validate(NaiveDateTime::MIN).expect("valid");
        assert_eq!(
            (
                row.symbol.as_str(),
                row.name.as_str(),
                row.exchange.as_str()
            ),
            ("BRK.B", "Berkshire Hathaway Inc.", "XNYS")
        );
        assert_eq!(
            (row.currency.as_str(), row.asset_class.as_str()),
            ("USD", "equity")
        );
        assert_eq!(row.sector, None);
    }

    #[test]
    fn names_the_bad_field() {
        let cases = [
            (
                "symbol",
                InstrumentInput {
                    symbol: String::new(),
                    ..input()
                },
            ),
            (
                "name",
                InstrumentInput {
                    name: " ".into(),
                    ..input()
                },
            ),
            (
                "exchange",
                InstrumentInput {
                    exchange: "X NYS".into(),
                    ..input()
                },
            ),
            (
                "currency",
                InstrumentInput {
                    currency: "US".into(),
                    ..input()
                },
            ),
            (
                "asset_class",
                InstrumentInput {
                    asset_class: "bond".into(),
                    ..input()
                },
            ),
            (
                "sector",
                InstrumentInput {
                    sector: Some("x".repeat(101)),
                    ..input()
                },
            ),
        ];
        for (field, case) in cases {
            let error = case.validate(NaiveDateTime::MIN).expect_err(field);
            assert_eq!((error.field, error.line), (field, 3));
        }
    }
}
