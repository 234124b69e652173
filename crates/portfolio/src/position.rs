//! The average-cost method: how one fill changes cash and a position, or why it cannot.
//!
//! Pure arithmetic, so the booking transaction only reads, calls [`book_fill`] and writes.
//! Buys raise the quantity and move the average cost to
//! `(q * avg + fill_q * price) / (q + fill_q)`; sells lower the quantity and realize
//! `(price - avg) * sold_q`, leaving the average cost alone. A position closed to zero keeps its
//! realized P&L and resets its average cost. Short positions (when the portfolio allows them)
//! mirror this: selling extends the short at a blended average, buying covers it and realizes
//! `(avg - price) * covered_q`.

use rust_decimal::Decimal;

use crate::decimal::{Money, Price, Quantity, round_average_cost};
use crate::order::OrderSide;

/// A position's state before or after a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PositionState {
    /// Signed: negative for a short position.
    pub quantity: Decimal,
    pub average_cost: Decimal,
    pub realized_pnl: Money,
}

/// What a fill does to the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booking {
    pub cash: Money,
    pub position: PositionState,
}

/// Why the book cannot take a fill; stored as the order's reject reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("insufficient cash: the order costs {needed}, the portfolio has {available}")]
    InsufficientCash { needed: String, available: String },
    #[error("insufficient shares: selling {selling}, the position holds {held}")]
    InsufficientShares { selling: String, held: String },
    #[error("no quote available for {0}")]
    NoQuote(String),
    #[error("order value too large")]
    TooLarge,
}

/// Books a fill of `quantity` at `price` against `cash` and `position`.
pub fn book_fill(
    side: OrderSide,
    quantity: Quantity,
    price: Price,
    cash: Money,
    position: PositionState,
    allow_short: bool,
) -> Result<Booking, Rejection> {
    let q = quantity.get();
    let p = price.get();
    let amount = Money::round(q.checked_mul(p).ok_or(Rejection::TooLarge)?);
    let held = position.quantity;
    match side {
        OrderSide::Buy => {
            if amount > cash {
                return Err(Rejection::InsufficientCash {
                    needed: amount.canonical(),
                    available: cash.canonical(),
                });
            }
            let cash = Money::round(cash.get() - amount.get());
            let position = if held >= Decimal::ZERO {
                extend(position, q, p)?
            } else {
                reduce(position, q, p)?
            };
            Ok(Booking { cash, position })
        }
        OrderSide::Sell => {
            if !allow_short && q > held {
                return Err(Rejection::InsufficientShares {
                    selling: quantity.canonical(),
                    held: crate::decimal::canonical(held.max(Decimal::ZERO)),
                });
            }
            let cash = Money::round(
                cash.get()
                    .checked_add(amount.get())
                    .ok_or(Rejection::TooLarge)?,
            );
            let position = if held <= Decimal::ZERO {
                extend(position, -q, p)?
            } else {
                reduce(position, -q, p)?
            };
            Ok(Booking { cash, position })
        }
    }
}

/// Adds `delta` (same sign as the position, or from flat) at `price`: blends the average cost.
fn extend(
    position: PositionState,
    delta: Decimal,
    price: Decimal,
) -> Result<PositionState, Rejection> {
    let quantity = position.quantity + delta;
    let cost = position
        .quantity
        .abs()
        .checked_mul(position.average_cost)
        .and_then(|old| {
            delta
                .abs()
                .checked_mul(price)
                .and_then(|new| old.checked_add(new))
        })
        .ok_or(Rejection::TooLarge)?;
    Ok(PositionState {
        quantity,
        average_cost: round_average_cost(cost / quantity.abs()),
        realized_pnl: position.realized_pnl,
    })
}

/// Applies `delta` against the position's sign at `price`: realizes P&L on the closed part;
/// a remainder past zero opens the other side at `price`.
fn reduce(
    position: PositionState,
    delta: Decimal,
    price: Decimal,
) -> Result<PositionState, Rejection> {
    let closed = delta.abs().min(position.quantity.abs());
    // Long: sold above cost is a gain. Short: bought back below the short price is a gain.
    let per_share = if position.quantity > Decimal::ZERO {
        price - position.average_cost
    } else {
        position.average_cost - price
    };
    let realized = Money::round(per_share.checked_mul(closed).ok_or(Rejection::TooLarge)?);
    let quantity = position.quantity + delta;
    let average_cost = if quantity.is_zero() {
        Decimal::ZERO
    } else if quantity.is_sign_positive() == position.quantity.is_sign_positive() {
        position.average_cost
    } else {
        price
    };
    Ok(PositionState {
        quantity,
        average_cost,
        realized_pnl: Money::round(position.realized_pnl.get() + realized.get()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).expect("quantity")
    }

    fn p(text: &str) -> Price {
        Price::parse(text).expect("price")
    }

    fn money(text: &str) -> Money {
        Money::parse_non_negative(text).expect("money")
    }

    fn book(
        state: (Money, PositionState),
        side: OrderSide,
        quantity: &str,
        price: &str,
    ) -> (Money, PositionState) {
        let booking =
            book_fill(side, q(quantity), p(price), state.0, state.1, false).expect("booked");
        (booking.cash, booking.position)
    }

    #[test]
    fn average_cost_and_realized_pnl_follow_the_hand_computation() {
        let start = (money("10000"), PositionState::default());
        let s = book(start, OrderSide::Buy, "10", "100");
        let s = book(s, OrderSide::Buy, "10", "110");
        assert_eq!(s.1.average_cost.to_string(), "105");
        assert_eq!(s.0.canonical(), "7900.00");
        let s = book(s, OrderSide::Sell, "5", "120");
        assert_eq!(s.1.realized_pnl.canonical(), "75.00");
        assert_eq!(s.1.average_cost.to_string(), "105");
        assert_eq!(s.0.canonical(), "8500.00");
        let s = book(s, OrderSide::Sell, "15", "100");
        assert_eq!(s.1.quantity, Decimal::ZERO);
        assert_eq!(
            s.1.average_cost,
            Decimal::ZERO,
            "a closed position resets its cost"
        );
        assert_eq!(s.1.realized_pnl.canonical(), "0.00", "75 - 15 * 5");
        assert_eq!(s.0.canonical(), "10000.00");
    }

    #[test]
    fn cash_amounts_round_half_up_to_the_cent() {
        // 3 * 33.335 = 100.005 -> 100.01
        let s = book(
            (money("1000"), PositionState::default()),
            OrderSide::Buy,
            "3",
            "33.335",
        );
        assert_eq!(s.0.canonical(), "899.99");
        assert_eq!(s.1.average_cost.to_string(), "33.335");
    }

    #[test]
    fn rejections_name_what_is_missing() {
        let none = PositionState::default();
        assert_eq!(
            book_fill(
                OrderSide::Buy,
                q("2"),
                p("100"),
                money("199.99"),
                none,
                false
            ),
            Err(Rejection::InsufficientCash {
                needed: "200.00".into(),
                available: "199.99".into()
            })
        );
        assert_eq!(
            book_fill(OrderSide::Sell, q("1"), p("100"), money("0"), none, false),
            Err(Rejection::InsufficientShares {
                selling: "1".into(),
                held: "0".into()
            })
        );
    }

    #[test]
    fn shorts_realize_when_covered() {
        let none = PositionState::default();
        let short = book_fill(OrderSide::Sell, q("10"), p("50"), money("0"), none, true)
            .expect("short allowed");
        assert_eq!(short.cash.canonical(), "500.00");
        assert_eq!(short.position.quantity.to_string(), "-10");
        assert_eq!(short.position.average_cost.to_string(), "50");
        let covered = book_fill(
            OrderSide::Buy,
            q("4"),
            p("40"),
            short.cash,
            short.position,
            true,
        )
        .expect("cover");
        assert_eq!(covered.position.realized_pnl.canonical(), "40.00");
        assert_eq!(covered.position.quantity.to_string(), "-6");
        assert_eq!(covered.cash.canonical(), "340.00");
    }
}
