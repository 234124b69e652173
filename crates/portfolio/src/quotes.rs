//! Where market orders get their fill price: the current quote of a symbol.
//!
//! The service asks a [`QuoteSource`] in the tier the request arrived on, so a premium request
//! is priced by the premium market-data pool. [`StaticQuotes`] is a fixed, settable source for
//! tests and for embedding the book without a market-data service.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bourse_proto::market_data::v1::Quote;
use bourse_runtime::tier::Tier;

/// Why a quote could not be fetched (not: the symbol has no quote, which is `Ok(None)`).
#[derive(Debug, thiserror::Error)]
pub enum QuoteError {
    /// The market-data service failed or could not be reached.
    #[error("market data unavailable: {0}")]
    Unavailable(String),
    /// The market-data service did not answer in time.
    #[error("market data timed out: {0}")]
    DeadlineExceeded(String),
}

/// The current quote of a symbol, as seen by the tier `tier`.
#[tonic::async_trait]
pub trait QuoteSource: Send + Sync + std::fmt::Debug + 'static {
    /// The latest quote of `symbol`, `None` when the symbol has none.
    async fn quote(&self, tier: Tier, symbol: &str) -> Result<Option<Quote>, QuoteError>;

    /// The latest quotes of every symbol of `symbols` in ONE call (valuation marks a whole
    /// portfolio with it), keyed by symbol; a symbol without a quote is absent. `deadline` is
    /// what is left of the caller's own deadline, passed on to the market-data call.
    async fn quotes(
        &self,
        tier: Tier,
        deadline: Option<std::time::Duration>,
        symbols: &[String],
    ) -> Result<HashMap<String, Quote>, QuoteError>;
}

/// A quote source answering from an in-memory table, the same for every tier. For tests and
/// embedding; clones share the table, so a test can move prices while the service runs.
#[derive(Debug, Clone, Default)]
pub struct StaticQuotes {
    quotes: Arc<Mutex<HashMap<String, Quote>>>,
}

impl StaticQuotes {
    /// An empty table: every symbol has no quote.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `symbol`'s quote to `last`, with optional bid and ask.
    pub fn set(&self, symbol: &str, last: f64, bid: Option<f64>, ask: Option<f64>) {
        let quote = Quote {
            symbol: symbol.to_owned(),
            last,
            bid,
            ask,
            ..Quote::default()
        };
        self.quotes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(symbol.to_owned(), quote);
    }
}

#[tonic::async_trait]
impl QuoteSource for StaticQuotes {
    async fn quote(&self, _tier: Tier, symbol: &str) -> Result<Option<Quote>, QuoteError> {
        Ok(self
            .quotes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(symbol)
            .cloned())
    }

    async fn quotes(
        &self,
        _tier: Tier,
        _deadline: Option<std::time::Duration>,
        symbols: &[String],
    ) -> Result<HashMap<String, Quote>, QuoteError> {
        let table = self.quotes.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(symbols
            .iter()
            .filter_map(|symbol| Some((symbol.clone(), table.get(symbol)?.clone())))
            .collect())
    }
}
