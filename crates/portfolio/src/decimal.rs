//! Exact decimals of the book: quantities, prices and money, parsed at the edge.
//!
//! Everything travels as decimal strings ("1234.56") and is stored as text in canonical form
//! (see [`Quantity::canonical`], [`Price::canonical`], [`Money::canonical`]), so the same
//! value always has the same spelling on both backends.
//!
//! Rounding: quantities are exact (at most [`QUANTITY_SCALE`] places, refused beyond).
//! Money is booked to the cent with half-up rounding (midpoint away from zero, the
//! commercial convention): a fill's cash amount and its realized P&L are each rounded once,
//! when booked. Average costs keep [`AVERAGE_COST_SCALE`] places, rounded half-up.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places a quantity may have.
pub const QUANTITY_SCALE: u32 = 8;
/// Decimal places of money: cents.
pub const MONEY_SCALE: u32 = 2;
/// Decimal places kept of a price taken from a quote.
pub const PRICE_SCALE: u32 = 8;
/// Decimal places kept of an average cost per share.
pub const AVERAGE_COST_SCALE: u32 = 8;
/// Largest quantity or amount accepted on the wire (keeps every product far from overflow).
const LIMIT: Decimal = Decimal::from_parts(0xA764_0000, 0x0DE0_B6B3, 0, false, 0); // 10^18

/// Why a decimal field was refused; the service names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("{0:?} is not a decimal number")]
    NotADecimal(String),
    #[error("must be greater than zero")]
    NotPositive,
    #[error("must not be negative")]
    Negative,
    #[error("at most {0} decimal places")]
    TooPrecise(u32),
    #[error("too large")]
    TooLarge,
}

/// Whether `text` is plain decimal notation: `-?digits(.digits)?` (no exponent, no `_`, no `+`).
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    let trimmed = text.trim();
    if !is_plain_decimal(trimmed) {
        return Err(DecimalError::NotADecimal(text.to_owned()));
    }
    let value = Decimal::from_str(trimmed)
        .map_err(|_| DecimalError::NotADecimal(text.to_owned()))?
        .normalize();
    if value.abs() >= LIMIT {
        return Err(DecimalError::TooLarge);
    }
    Ok(value)
}

/// `value` with exactly `scale` places, and never a negative zero.
fn fixed(value: Decimal, scale: u32) -> String {
    let mut rounded = value.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    if rounded.is_zero() {
        rounded = Decimal::ZERO;
    }
    rounded.rescale(scale);
    rounded.to_string()
}

/// `value` without trailing zeros, and never a negative zero.
fn normalized(value: Decimal) -> String {
    if value.is_zero() {
        return "0".to_owned();
    }
    value.normalize().to_string()
}

/// A number of shares: exact, greater than zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(Decimal);

impl Quantity {
    /// Parses a wire quantity: a decimal > 0 with at most [`QUANTITY_SCALE`] places.
    pub fn parse(text: &str) -> Result<Self, DecimalError> {
        let value = parse_decimal(text)?;
        if value <= Decimal::ZERO {
            return Err(DecimalError::NotPositive);
        }
        if value.scale() > QUANTITY_SCALE {
            return Err(DecimalError::TooPrecise(QUANTITY_SCALE));
        }
        Ok(Self(value))
    }

    /// A quantity computed by the book (what is left of an order); `None` unless > 0.
    pub fn new(value: Decimal) -> Option<Self> {
        (value > Decimal::ZERO).then(|| Self(value.normalize()))
    }

    pub fn get(self) -> Decimal {
        self.0
    }

    /// The stored and wire spelling: no trailing zeros ("10", "0.5").
    pub fn canonical(self) -> String {
        normalized(self.0)
    }
}

/// A price per share: greater than zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Price(Decimal);

impl Price {
    /// Parses a wire price (a limit price): a decimal > 0 with at most [`PRICE_SCALE`] places.
    pub fn parse(text: &str) -> Result<Self, DecimalError> {
        let value = parse_decimal(text)?;
        if value <= Decimal::ZERO {
            return Err(DecimalError::NotPositive);
        }
        if value.scale() > PRICE_SCALE {
            return Err(DecimalError::TooPrecise(PRICE_SCALE));
        }
        Ok(Self(value))
    }

    /// A price from a quote's binary float, read as its shortest decimal spelling (so 100.1
    /// is 100.1, not 100.0999…) and rounded to [`PRICE_SCALE`] places. `None` unless finite
    /// and positive.
    pub fn from_quote(value: f64) -> Option<Self> {
        if !value.is_finite() || value <= 0.0 {
            return None;
        }
        let value = Decimal::from_str(&value.to_string()).ok()?;
        let value = value
            .round_dp_with_strategy(PRICE_SCALE, RoundingStrategy::MidpointAwayFromZero)
            .normalize();
        (value > Decimal::ZERO && value < LIMIT).then_some(Self(value))
    }

    pub fn get(self) -> Decimal {
        self.0
    }

    /// The stored and wire spelling: no trailing zeros.
    pub fn canonical(self) -> String {
        normalized(self.0)
    }
}

/// An amount of money in the portfolio's base currency, booked to the cent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Parses a wire amount that must not be negative (a deposit): at most two places.
    pub fn parse_non_negative(text: &str) -> Result<Self, DecimalError> {
        let value = parse_decimal(text)?;
        if value < Decimal::ZERO {
            return Err(DecimalError::Negative);
        }
        if value.scale() > MONEY_SCALE {
            return Err(DecimalError::TooPrecise(MONEY_SCALE));
        }
        Ok(Self(value))
    }

    /// An amount rounded to the cent, half-up.
    pub fn round(value: Decimal) -> Self {
        Self(value.round_dp_with_strategy(MONEY_SCALE, RoundingStrategy::MidpointAwayFromZero))
    }

    /// Reads an amount this crate stored; `None` if the text was not written by it.
    pub fn from_stored(text: &str) -> Option<Self> {
        Decimal::from_str(text).ok().map(Self::round)
    }

    pub fn get(self) -> Decimal {
        self.0
    }

    /// The stored and wire spelling: exactly two places ("1000.00", "-75.00").
    pub fn canonical(self) -> String {
        fixed(self.0, MONEY_SCALE)
    }
}

/// Reads a decimal this crate stored (a position quantity or average cost).
pub fn from_stored(text: &str) -> Option<Decimal> {
    Decimal::from_str(text).ok()
}

/// The stored spelling of a signed quantity or average cost: no trailing zeros.
pub fn canonical(value: Decimal) -> String {
    normalized(value)
}

/// A computed price (an average fill price) rounded to [`PRICE_SCALE`] places, half-up.
pub fn round_price(value: Decimal) -> Decimal {
    value
        .round_dp_with_strategy(PRICE_SCALE, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

/// An average cost rounded to [`AVERAGE_COST_SCALE`] places, half-up.
pub fn round_average_cost(value: Decimal) -> Decimal {
    value
        .round_dp_with_strategy(AVERAGE_COST_SCALE, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_exact_and_positive() {
        assert_eq!(
            Quantity::parse("10.500").map(Quantity::canonical),
            Ok("10.5".into())
        );
        assert_eq!(Quantity::parse("0"), Err(DecimalError::NotPositive));
        assert_eq!(Quantity::parse("-1"), Err(DecimalError::NotPositive));
        assert_eq!(
            Quantity::parse("0.000000001"),
            Err(DecimalError::TooPrecise(QUANTITY_SCALE))
        );
        assert!(matches!(
            Quantity::parse("ten"),
            Err(DecimalError::NotADecimal(_))
        ));
        for text in ["1e3", "1_000", "+1", ".5", "5.", "", "1.2.3"] {
            assert_eq!(
                Quantity::parse(text),
                Err(DecimalError::NotADecimal(text.into())),
                "{text}"
            );
        }
        assert_eq!(
            Quantity::parse("1000000000000000000"),
            Err(DecimalError::TooLarge)
        );
    }

    #[test]
    fn money_is_booked_to_the_cent_half_up() {
        assert_eq!(
            Money::parse_non_negative("1000").map(Money::canonical),
            Ok("1000.00".into())
        );
        assert_eq!(Money::parse_non_negative("-1"), Err(DecimalError::Negative));
        assert_eq!(
            Money::parse_non_negative("0.001"),
            Err(DecimalError::TooPrecise(2))
        );
        let half = Decimal::from_str("0.125").expect("decimal");
        assert_eq!(Money::round(half).canonical(), "0.13");
        assert_eq!(Money::round(-half).canonical(), "-0.13");
        assert_eq!(
            Money::round(-Decimal::from_str("0.001").expect("d")).canonical(),
            "0.00"
        );
    }

    #[test]
    fn quote_prices_read_as_their_shortest_spelling() {
        assert_eq!(
            Price::from_quote(100.1).map(Price::canonical),
            Some("100.1".into())
        );
        assert_eq!(Price::from_quote(0.0), None);
        assert_eq!(Price::from_quote(f64::NAN), None);
        assert_eq!(Price::from_quote(1e30), None);
    }
}
