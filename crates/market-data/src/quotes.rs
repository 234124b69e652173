//! Latest quotes: read through the two-level cache, from storage on a miss.

use std::collections::HashMap;

use bourse_cache::{Cache, DataClass};
use bourse_proto::common::v1::ItemError;
use bourse_proto::market_data::v1::{Quote, QuoteResult, quote_result};
use bourse_proto::time::naive_to_timestamp;
use bourse_runtime::tier::Tier;
use bourse_store::Db;
use bytes::Bytes;
use prost::Message;

use crate::error::MarketDataError;
use crate::store::{self, QuoteRow};
use crate::symbol::Symbol;

/// The most symbols one batch call may ask for (AIP-231: batches are bounded).
pub const MAX_BATCH_SYMBOLS: usize = 1_000;

/// Reads quotes for one tier's freshness, caching what it reads from storage.
#[derive(Debug, Clone)]
pub struct QuoteReader {
    db: Db,
    cache: Cache,
}

impl QuoteReader {
    pub fn new(db: Db, cache: Cache) -> Self {
        Self { db, cache }
    }

    /// The latest quote of one symbol.
    pub async fn get(&self, tier: Tier, symbol: &Symbol) -> Result<Quote, MarketDataError> {
        if let Some(quote) = self.cached(tier, symbol.as_str()).await {
            return Ok(quote);
        }
        let row = store::quotes_for(&self.db, &[symbol.as_str()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| MarketDataError::UnknownSymbol(symbol.to_string()))?;
        let quote = quote_from_row(row);
        self.cache
            .set(
                DataClass::Quote,
                symbol.as_str(),
                Bytes::from(quote.encode_to_vec()),
            )
            .await;
        Ok(quote)
    }

    /// The latest quotes of many symbols, one result per requested symbol in request order.
    /// Cache misses are read from storage in one round-trip; unknown or malformed symbols are
    /// reported in their own result.
    pub async fn batch_get(
        &self,
        tier: Tier,
        requested: &[String],
    ) -> Result<Vec<QuoteResult>, MarketDataError> {
        if requested.len() > MAX_BATCH_SYMBOLS {
            return Err(MarketDataError::InvalidArgument {
                field: "symbols",
                reason: format!(
                    "at most {MAX_BATCH_SYMBOLS} symbols per call, got {}",
                    requested.len()
                ),
            });
        }
        let parsed: Vec<Result<Symbol, String>> = requested
            .iter()
            .map(|raw| raw.parse::<Symbol>().map_err(|e| format!("symbols: {e}")))
            .collect();
        let valid: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .map(Symbol::as_str)
            .collect();

        let mut found: HashMap<String, Quote> = HashMap::with_capacity(valid.len());
        let cached = self.cache.get_many(DataClass::Quote, tier, &valid).await;
        let mut misses = Vec::new();
        for (symbol, hit) in valid.iter().zip(cached) {
            match hit.and_then(|bytes| Quote::decode(bytes).ok()) {
                Some(quote) => {
                    found.insert((*symbol).to_owned(), quote);
                }
                None => misses.push(*symbol),
            }
        }
        if !misses.is_empty() {
            let rows = store::quotes_for(&self.db, &misses).await?;
            let encoded: Vec<(String, Bytes)> = rows
                .into_iter()
                .map(|row| {
                    let quote = quote_from_row(row);
                    let bytes = Bytes::from(quote.encode_to_vec());
                    let symbol = quote.symbol.clone();
                    found.insert(symbol.clone(), quote);
                    (symbol, bytes)
                })
                .collect();
            let entries: Vec<(&str, Bytes)> = encoded
                .iter()
                .map(|(s, b)| (s.as_str(), b.clone()))
                .collect();
            self.cache.set_many(DataClass::Quote, &entries).await;
        }

        Ok(requested
            .iter()
            .zip(parsed)
            .map(|(raw, parsed)| {
                let result = match parsed {
                    Err(message) => item_error("INVALID_ARGUMENT", message),
                    Ok(symbol) => match found.get(symbol.as_str()) {
                        Some(quote) => quote_result::Result::Quote(quote.clone()),
                        None => item_error("NOT_FOUND", format!("unknown symbol {symbol}")),
                    },
                };
                QuoteResult {
                    symbol: raw.clone(),
                    result: Some(result),
                }
            })
            .collect())
    }

    async fn cached(&self, tier: Tier, symbol: &str) -> Option<Quote> {
        let bytes = self.cache.get(DataClass::Quote, tier, symbol).await?;
        Quote::decode(bytes).ok()
    }
}

fn item_error(code: &str, message: String) -> quote_result::Result {
    quote_result::Result::Error(ItemError {
        code: code.to_owned(),
        message,
    })
}

/// The wire form of a stored quote, with the derived change fields.
pub fn quote_from_row(row: QuoteRow) -> Quote {
    let change = row.prev_close.map(|prev| row.last - prev);
    let change_percent = row
        .prev_close
        .filter(|prev| *prev != 0.0)
        .map(|prev| 100.0 * (row.last - prev) / prev);
    Quote {
        symbol: row.symbol,
        last: row.last,
        bid: row.bid,
        ask: row.ask,
        bid_size: row.bid_size,
        ask_size: row.ask_size,
        day_open: row.day_open,
        day_high: row.day_high,
        day_low: row.day_low,
        prev_close: row.prev_close,
        change,
        change_percent,
        volume: row.volume,
        ts: Some(naive_to_timestamp(row.ts)),
    }
}
