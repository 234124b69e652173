//! Orders as the book understands them: parsed from `PlaceOrderRequest` at the edge.

use bourse_proto::portfolio::v1 as pb;
use sha2::{Digest, Sha256};

use crate::decimal::{Price, Quantity};
use crate::error::PortfolioError;

/// Longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident => $proto:ident { $($variant:ident = $text:literal / $pb:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The spelling stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Reads a stored spelling.
            pub fn from_stored(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }

            /// The contract's enum value.
            pub fn to_proto(self) -> pb::$proto {
                match self { $(Self::$variant => pb::$proto::$pb),+ }
            }

            /// From the contract's enum value; `None` for UNSPECIFIED and unknown numbers.
            pub fn from_proto(value: i32) -> Option<Self> {
                match pb::$proto::try_from(value).ok()? {
                    $(pb::$proto::$pb => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

text_enum!(
    /// Buy or sell.
    OrderSide => OrderSide { Buy = "buy" / Buy, Sell = "sell" / Sell }
);
text_enum!(
    /// Market orders fill at once at the quote; limit orders rest until the quote crosses.
    OrderType => OrderType { Market = "market" / Market, Limit = "limit" / Limit }
);
text_enum!(
    /// How long a resting order stays open.
    TimeInForce => TimeInForce { Day = "day" / Day, Gtc = "gtc" / Gtc }
);
text_enum!(
    /// Where an order is in its life.
    OrderStatus => OrderStatus {
        Accepted = "accepted" / Accepted,
        PartiallyFilled = "partially_filled" / PartiallyFilled,
        Filled = "filled" / Filled,
        Canceled = "canceled" / Canceled,
        Rejected = "rejected" / Rejected,
    }
);

impl OrderStatus {
    /// Statuses of orders that may still fill, and so may be canceled.
    pub const OPEN: [OrderStatus; 2] = [OrderStatus::Accepted, OrderStatus::PartiallyFilled];
}

/// A validated `PlaceOrderRequest`: past this point it cannot be invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub symbol: String,
    pub side: OrderSide,
    pub quantity: Quantity,
    pub order_type: OrderType,
    /// Present exactly for limit orders.
    pub limit_price: Option<Price>,
    pub time_in_force: TimeInForce,
    pub idempotency_key: Option<String>,
}

fn invalid(field: &'static str, reason: impl ToString) -> PortfolioError {
    PortfolioError::InvalidArgument {
        field,
        reason: reason.to_string(),
    }
}

/// Parses a symbol: 1 to 16 of `A-Z 0-9 . - ^`, upper-cased.
pub fn parse_symbol(field: &'static str, text: &str) -> Result<String, PortfolioError> {
    let symbol = text.trim().to_ascii_uppercase();
    let valid = (1..=16).contains(&symbol.len())
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"._-^".contains(&b));
    if valid {
        Ok(symbol)
    } else {
        Err(invalid(field, format!("{text:?} is not a symbol")))
    }
}

impl NewOrder {
    /// Parses the order of a `PlaceOrderRequest`. Side is required; type defaults to market
    /// and time in force to day.
    pub fn parse(request: &pb::PlaceOrderRequest) -> Result<Self, PortfolioError> {
        let order = request
            .order
            .as_ref()
            .ok_or_else(|| invalid("order", "is required"))?;
        let symbol = parse_symbol("order.symbol", &order.symbol)?;
        let side = OrderSide::from_proto(order.side)
            .ok_or_else(|| invalid("order.side", "must be BUY or SELL"))?;
        let quantity =
            Quantity::parse(&order.quantity).map_err(|e| invalid("order.quantity", e))?;
        let order_type = match order.r#type {
            0 => OrderType::Market,
            n => OrderType::from_proto(n)
                .ok_or_else(|| invalid("order.type", "must be MARKET or LIMIT"))?,
        };
        let limit_price = match (order_type, order.limit_price.trim()) {
            (OrderType::Market, "") => None,
            (OrderType::Market, _) => {
                return Err(invalid(
                    "order.limit_price",
                    "must be empty for market orders",
                ));
            }
            (OrderType::Limit, "") => {
                return Err(invalid("order.limit_price", "is required for limit orders"));
            }
            (OrderType::Limit, text) => {
                Some(Price::parse(text).map_err(|e| invalid("order.limit_price", e))?)
            }
        };
        let time_in_force = match order.time_in_force {
            0 => TimeInForce::Day,
            n => TimeInForce::from_proto(n)
                .ok_or_else(|| invalid("order.time_in_force", "must be DAY or GTC"))?,
        };
        let key = request.idempotency_key.trim();
        if key.len() > MAX_IDEMPOTENCY_KEY {
            return Err(invalid(
                "idempotency_key",
                format!("at most {MAX_IDEMPOTENCY_KEY} characters"),
            ));
        }
        Ok(Self {
            symbol,
            side,
            quantity,
            order_type,
            limit_price,
            time_in_force,
            idempotency_key: (!key.is_empty()).then(|| key.to_owned()),
        })
    }

    /// Hex SHA-256 of the order's canonical fields: equal for two requests exactly when they ask
    /// for the same order, however the decimals were spelled.
    pub fn request_hash(&self) -> String {
        let canonical = format!(
            "v1\n{}\n{}\n{}\n{}\n{}\n{}",
            self.symbol,
            self.side.as_str(),
            self.quantity.canonical(),
            self.order_type.as_str(),
            self.limit_price.map(Price::canonical).unwrap_or_default(),
            self.time_in_force.as_str(),
        );
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(quantity: &str, side: pb::OrderSide) -> pb::PlaceOrderRequest {
        pb::PlaceOrderRequest {
            portfolio_id: "p".into(),
            order: Some(pb::Order {
                symbol: "aapl".into(),
                side: side.into(),
                quantity: quantity.into(),
                ..pb::Order::default()
            }),
            idempotency_key: "k".into(),
        }
    }

    #[test]
    fn the_hash_ignores_spelling_but_not_substance() {
        let a = NewOrder::parse(&request("10", pb::OrderSide::Buy)).expect("valid");
        let b = NewOrder::parse(&request("10.000", pb::OrderSide::Buy)).expect("valid");
        let c = NewOrder::parse(&request("11", pb::OrderSide::Buy)).expect("valid");
        let d = NewOrder::parse(&request("10", pb::OrderSide::Sell)).expect("valid");
        assert_eq!(a.symbol, "AAPL");
        assert_eq!(a.request_hash(), b.request_hash());
        assert_ne!(a.request_hash(), c.request_hash());
        assert_ne!(a.request_hash(), d.request_hash());
    }

    #[test]
    fn errors_name_the_field() {
        let error = NewOrder::parse(&request("-1", pb::OrderSide::Buy)).expect_err("negative");
        assert!(matches!(
            error,
            PortfolioError::InvalidArgument {
                field: "order.quantity",
                ..
            }
        ));
        let error =
            NewOrder::parse(&request("1", pb::OrderSide::Unspecified)).expect_err("no side");
        assert!(matches!(
            error,
            PortfolioError::InvalidArgument {
                field: "order.side",
                ..
            }
        ));
    }
}
