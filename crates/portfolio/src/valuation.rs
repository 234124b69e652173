//! `GetValuation`: a portfolio's positions marked to the latest quotes.
//!
//! Arithmetic is exact decimal. A quote's binary floats are read as their shortest decimal
//! spelling (`Price::from_quote`: 100.1 is 100.1, not 100.0999…). Per position, market value
//! (quantity × last), unrealized P&L (quantity × (last − average cost)) and day change
//! (quantity × (last − previous close)) are computed exactly and rounded half away from zero
//! to the cent; the totals are sums of those rounded values, so the table adds up. Weights are
//! market value / total value (cash included) rounded to 4 places ("0.2500" is 25 %); the day
//! change percent is day change / (total value − day change) × 100 to 2 places. A quote without
//! a previous close contributes no day change.

use std::collections::HashMap;

use bourse_proto::market_data::v1::Quote;
use bourse_proto::portfolio::v1::{PositionValuation, Valuation};
use bourse_proto::time::naive_to_timestamp;
use bourse_store::schema::{portfolios, positions};
use bourse_store::{Db, with_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::decimal::{Money, Price, from_stored};
use crate::error::PortfolioError;
use crate::order_store::PositionRow;
use crate::store::{self, PortfolioRow};

/// Places of a weight (a fraction of the total value).
pub const WEIGHT_SCALE: u32 = 4;

/// How often a snapshot read is retried when a write lands between its statements.
const SNAPSHOT_ATTEMPTS: usize = 5;

/// A portfolio and all its positions (closed ones too: their realized P&L counts), as of one
/// version.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub portfolio: PortfolioRow,
    pub positions: Vec<PositionRow>,
}

impl Snapshot {
    /// The symbols that need a quote: those of open positions, in symbol order.
    pub fn open_symbols(&self) -> Vec<String> {
        self.positions
            .iter()
            .filter(|row| row.quantity != "0")
            .map(|row| row.symbol.clone())
            .collect()
    }
}

/// The caller's portfolio `id` with its positions, consistent on both backends without a
/// snapshot-isolation transaction: the portfolio's version is read before and after the
/// positions and the read is retried when a write (which always bumps the version) landed in
/// between.
pub async fn snapshot(db: &Db, account: &str, id: &str) -> Result<Snapshot, PortfolioError> {
    for _ in 0..SNAPSHOT_ATTEMPTS {
        let portfolio = store::get_portfolio(db, account, id).await?;
        let rows: Vec<PositionRow> = with_conn!(db, |conn| {
            positions::table
                .filter(positions::portfolio_id.eq(id))
                .order(positions::symbol)
                .select(PositionRow::as_select())
                .load(conn)
                .await?
        });
        if portfolio_version(db, account, id).await? == portfolio.version {
            return Ok(Snapshot {
                portfolio,
                positions: rows,
            });
        }
    }
    Err(PortfolioError::FailedPrecondition(format!(
        "portfolio {id} changed during every one of {SNAPSHOT_ATTEMPTS} reads; retry"
    )))
}

/// The current version of the caller's portfolio `id`: one primary-key lookup, the freshness
/// check of every cached read. NOT_FOUND when it is not the caller's.
pub async fn portfolio_version(db: &Db, account: &str, id: &str) -> Result<i64, PortfolioError> {
    let version: Option<i64> = with_conn!(db, |conn| {
        portfolios::table
            .filter(portfolios::id.eq(id))
            .filter(portfolios::account.eq(account))
            .select(portfolios::version)
            .first(conn)
            .await
            .optional()?
    });
    version.ok_or_else(|| PortfolioError::NotFound(format!("portfolio {id}")))
}

fn corrupt(what: &str, value: &str) -> PortfolioError {
    PortfolioError::Corrupt(format!("{what} {value:?}"))
}

fn weight(market_value: Decimal, total: Decimal) -> String {
    if total.is_zero() {
        return format!("{:.*}", WEIGHT_SCALE as usize, Decimal::ZERO);
    }
    let weight = (market_value / total)
        .round_dp_with_strategy(WEIGHT_SCALE, RoundingStrategy::MidpointAwayFromZero);
    format!("{weight:.*}", WEIGHT_SCALE as usize)
}

/// Values `snapshot` at `quotes` (keyed by symbol). FAILED_PRECONDITION naming every open
/// position's symbol without a usable quote, rather than a silently wrong total.
pub fn value(
    snapshot: &Snapshot,
    quotes: &HashMap<String, Quote>,
    as_of: NaiveDateTime,
) -> Result<Valuation, PortfolioError> {
    let portfolio = &snapshot.portfolio;
    let cash =
        Money::from_stored(&portfolio.cash).ok_or_else(|| corrupt("cash", &portfolio.cash))?;
    let mut missing = Vec::new();
    let mut realized = Decimal::ZERO;
    // (row, quantity, average cost, mark, quote) of every open position that has a quote.
    let mut marked = Vec::new();
    for row in &snapshot.positions {
        realized += Money::from_stored(&row.realized_pnl)
            .ok_or_else(|| corrupt("realized P&L", &row.realized_pnl))?
            .get();
        let quantity = from_stored(&row.quantity)
            .ok_or_else(|| corrupt("position quantity", &row.quantity))?;
        if quantity.is_zero() {
            continue;
        }
        let average_cost = from_stored(&row.average_cost)
            .ok_or_else(|| corrupt("average cost", &row.average_cost))?;
        let quote = quotes.get(&row.symbol);
        match quote.and_then(|quote| Price::from_quote(quote.last).map(|mark| (mark, quote))) {
            Some((mark, quote)) => marked.push((row, quantity, average_cost, mark, quote)),
            None => missing.push(row.symbol.as_str()),
        }
    }
    if !missing.is_empty() {
        return Err(PortfolioError::FailedPrecondition(format!(
            "no quote for {}: the portfolio cannot be valued",
            missing.join(", ")
        )));
    }

    let mut lines = Vec::with_capacity(marked.len());
    let (mut market_value, mut unrealized, mut day_change) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    for (row, quantity, average_cost, mark, quote) in marked {
        let price = mark.get();
        let line_value = Money::round(quantity * price);
        let line_unrealized = Money::round(quantity * (price - average_cost));
        let line_day = quote
            .prev_close
            .and_then(Price::from_quote)
            .map_or(Money::ZERO, |close| {
                Money::round(quantity * (price - close.get()))
            });
        market_value += line_value.get();
        unrealized += line_unrealized.get();
        day_change += line_day.get();
        lines.push((row, mark, line_value, line_unrealized, line_day, quote));
    }
    let total = cash.get() + market_value;
    let positions = lines
        .into_iter()
        .map(
            |(row, mark, line_value, line_unrealized, line_day, quote)| PositionValuation {
                symbol: row.symbol.clone(),
                quantity: row.quantity.clone(),
                average_cost: row.average_cost.clone(),
                price: mark.canonical(),
                market_value: line_value.canonical(),
                unrealized_pnl: line_unrealized.canonical(),
                weight: weight(line_value.get(), total),
                day_change: line_day.canonical(),
                quote_time: quote.ts,
            },
        )
        .collect();
    let before = total - day_change;
    let day_change_percent = if before.is_zero() {
        Decimal::ZERO
    } else {
        day_change * Decimal::ONE_HUNDRED / before
    }
    .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    Ok(Valuation {
        portfolio_id: portfolio.id.clone(),
        base_currency: portfolio.base_currency.clone(),
        cash: cash.canonical(),
        market_value: Money::round(market_value).canonical(),
        total_value: Money::round(total).canonical(),
        unrealized_pnl: Money::round(unrealized).canonical(),
        realized_pnl: Money::round(realized).canonical(),
        day_change: Money::round(day_change).canonical(),
        day_change_percent: format!("{day_change_percent:.2}"),
        positions,
        as_of: Some(naive_to_timestamp(as_of)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(symbol: &str, quantity: &str, average_cost: &str, realized: &str) -> PositionRow {
        PositionRow {
            portfolio_id: "p".into(),
            symbol: symbol.into(),
            quantity: quantity.into(),
            average_cost: average_cost.into(),
            realized_pnl: realized.into(),
            updated_at: NaiveDateTime::default(),
        }
    }

    fn quote(symbol: &str, last: f64, prev_close: Option<f64>) -> (String, Quote) {
        let quote = Quote {
            symbol: symbol.into(),
            last,
            prev_close,
            ..Quote::default()
        };
        (symbol.into(), quote)
    }

    fn snapshot(cash: &str, positions: Vec<PositionRow>) -> Snapshot {
        Snapshot {
            portfolio: PortfolioRow {
                id: "p".into(),
                account: "a".into(),
                name: "n".into(),
                base_currency: "USD".into(),
                cash: cash.into(),
                allow_short: false,
                version: 3,
                created_at: NaiveDateTime::default(),
                updated_at: NaiveDateTime::default(),
            },
            positions,
        }
    }

    #[test]
    fn values_against_hand_computed_figures() {
        // AAPL: 10 @ 150 cost, last 175.5, prev 170   -> mv 1755.00, upl 255.00, day 55.00
        // MSFT: 3.5 @ 300.123 cost, last 310.1, prev 312 -> mv 1085.35 (1085.35 exact),
        //       upl 3.5 × 9.977 = 34.9195 -> 34.92, day 3.5 × -1.9 = -6.65
        // XOM closed with realized 12.34; AAPL realized 100.
        // total = 1000 + 1755 + 1085.35 = 3840.35; weights 0.4570, 0.2826.
        let snap = snapshot(
            "1000.00",
            vec![
                position("AAPL", "10", "150", "100.00"),
                position("MSFT", "3.5", "300.123", "0.00"),
                position("XOM", "0", "0", "12.34"),
            ],
        );
        let quotes = HashMap::from([
            quote("AAPL", 175.5, Some(170.0)),
            quote("MSFT", 310.1, Some(312.0)),
        ]);
        let valuation = value(&snap, &quotes, NaiveDateTime::default()).expect("valued");
        assert_eq!(valuation.market_value, "2840.35");
        assert_eq!(valuation.total_value, "3840.35");
        assert_eq!(valuation.unrealized_pnl, "289.92");
        assert_eq!(valuation.realized_pnl, "112.34");
        assert_eq!(valuation.day_change, "48.35");
        // 48.35 / (3840.35 - 48.35) × 100 = 1.27505…
        assert_eq!(valuation.day_change_percent, "1.28");
        let lines: Vec<_> = valuation
            .positions
            .iter()
            .map(|p| {
                (
                    p.symbol.as_str(),
                    p.market_value.as_str(),
                    p.unrealized_pnl.as_str(),
                    p.weight.as_str(),
                    p.day_change.as_str(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("AAPL", "1755.00", "255.00", "0.4570", "55.00"),
                ("MSFT", "1085.35", "34.92", "0.2826", "-6.65"),
            ]
        );
    }

    #[test]
    fn a_missing_quote_names_the_symbols_instead_of_a_wrong_total() {
        let snap = snapshot(
            "0.00",
            vec![
                position("AAPL", "1", "1", "0"),
                position("MSFT", "1", "1", "0"),
                position("ZZZ", "2", "1", "0"),
            ],
        );
        let quotes = HashMap::from([quote("AAPL", 10.0, None)]);
        let error = value(&snap, &quotes, NaiveDateTime::default()).expect_err("missing quotes");
        assert!(
            matches!(&error, PortfolioError::FailedPrecondition(m) if m.contains("MSFT, ZZZ")),
            "{error}"
        );
    }

    #[test]
    fn an_empty_portfolio_is_its_cash() {
        let valuation = value(
            &snapshot("12.50", Vec::new()),
            &HashMap::new(),
            NaiveDateTime::default(),
        )
        .expect("valued");
        assert_eq!(
            (
                valuation.total_value.as_str(),
                valuation.market_value.as_str(),
                valuation.day_change_percent.as_str()
            ),
            ("12.50", "0.00", "0.00")
        );
    }
}
