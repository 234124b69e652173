//! Cache warming: a market-data server loads the stored quotes into the cache as it starts, so
//! the first requests after a deploy or restart do not all go to the store at once.
//!
//! Nothing says yet which symbols are asked for most (a fresh process has served nothing), so
//! it warms every quote when there are at most [`WARM_QUOTES`] of them, otherwise the first
//! [`WARM_QUOTES`] by symbol: one store round trip and one pipelined cache write. The server
//! runs it next to serving, so start-up is not delayed.

use bourse_cache::{Cache, DataClass};
use bourse_store::{Db, StoreError};
use bytes::Bytes;
use prost::Message as _;

use crate::quotes::quote_from_row;
use crate::store;

/// The most quotes warmed at start-up.
pub const WARM_QUOTES: i64 = 10_000;

/// Loads up to `limit` stored quotes into the cache; returns how many.
pub async fn warm_quotes(db: &Db, cache: &Cache, limit: i64) -> Result<usize, StoreError> {
    let encoded: Vec<(String, Bytes)> = store::first_quotes(db, limit)
        .await?
        .into_iter()
        .map(|row| {
            let quote = quote_from_row(row);
            let bytes = Bytes::from(quote.encode_to_vec());
            (quote.symbol, bytes)
        })
        .collect();
    let entries: Vec<(&str, Bytes)> = encoded
        .iter()
        .map(|(symbol, bytes)| (symbol.as_str(), bytes.clone()))
        .collect();
    cache.set_many(DataClass::Quote, &entries).await;
    Ok(entries.len())
}

/// [`warm_quotes`] with [`WARM_QUOTES`], logging the outcome: a failure only costs cache misses.
pub(crate) async fn warm_quotes_logged(db: Db, cache: Cache) {
    match warm_quotes(&db, &cache, WARM_QUOTES).await {
        Ok(warmed) => tracing::info!(warmed, "quote cache warmed"),
        Err(error) => tracing::warn!(%error, "quote cache not warmed: serving from the store"),
    }
}
