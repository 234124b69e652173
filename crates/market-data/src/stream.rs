//! `StreamQuotes`: the current quotes of the requested symbols, then their updates from the
//! [`QuoteBus`] as they are ingested.
//!
//! The stream is a plain `Stream` value that tonic polls: when the client goes away tonic drops
//! it, which drops the bus subscription, so nothing outlives the call. It also ends cleanly when
//! the server shuts down (`closing` is cancelled). A client that reads too slowly does not make
//! the server buffer: its subscription skips ahead and the next update says how many it missed.
//! With a symbol filter that count includes missed updates of other symbols (the bus cannot tell
//! which it dropped), so it is an upper bound.

use std::collections::HashSet;
use std::pin::Pin;

use bourse_proto::market_data::v1::{Quote, QuoteUpdate, quote_result};
use bourse_runtime::tier::Tier;
use bourse_store::Db;
use futures::{Stream, StreamExt as _, stream};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::bus::{QuoteBus, QuoteSubscription};
use crate::error::MarketDataError;
use crate::quotes::{MAX_BATCH_SYMBOLS, QuoteReader, quote_from_row};
use crate::store;
use crate::symbol::Symbol;

/// The most quotes an all-symbols stream opens with; the updates that follow cover every symbol.
pub const MAX_SNAPSHOT_QUOTES: i64 = 10_000;

/// The response stream of `StreamQuotes`.
pub type QuoteStream = Pin<Box<dyn Stream<Item = Result<QuoteUpdate, Status>> + Send + 'static>>;

/// Where a stream reads from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamSources<'a> {
    pub(crate) db: &'a Db,
    pub(crate) quotes: &'a QuoteReader,
    pub(crate) bus: &'a QuoteBus,
    pub(crate) closing: &'a CancellationToken,
}

/// Opens a quote stream for `requested` symbols (every symbol when empty), read at `tier`'s
/// freshness. An invalid symbol is `INVALID_ARGUMENT` naming `symbols`.
pub(crate) async fn open(
    sources: StreamSources<'_>,
    tier: Tier,
    requested: &[String],
) -> Result<QuoteStream, MarketDataError> {
    let symbols = requested
        .iter()
        .map(|raw| raw.parse::<Symbol>())
        .collect::<Result<HashSet<Symbol>, _>>()
        .map_err(|source| MarketDataError::InvalidSymbol {
            field: "symbols",
            source,
        })?;
    // Subscribe before reading the snapshot, so no update falls between the two.
    let subscription = sources.bus.subscribe();
    let snapshot = if symbols.is_empty() {
        store::first_quotes(sources.db, MAX_SNAPSHOT_QUOTES)
            .await?
            .into_iter()
            .map(quote_from_row)
            .collect()
    } else {
        current_quotes(sources.quotes, tier, &symbols).await?
    };
    let filter =
        (!symbols.is_empty()).then(|| symbols.into_iter().map(|s| s.as_str().to_owned()).collect());

    let snapshot = stream::iter(snapshot).map(|quote| {
        Ok(QuoteUpdate {
            quote: Some(quote),
            skipped: 0,
        })
    });
    let updates = stream::unfold((subscription, filter), |(mut subscription, filter)| async {
        let update = next_update(&mut subscription, filter.as_ref()).await?;
        Some((Ok(update), (subscription, filter)))
    });
    Ok(Box::pin(
        snapshot
            .chain(updates)
            .take_until(sources.closing.clone().cancelled_owned()),
    ))
}

/// The latest quotes of `symbols` through the cache, in symbol order; unknown symbols have none
/// yet (their first update will follow if they start trading).
async fn current_quotes(
    quotes: &QuoteReader,
    tier: Tier,
    symbols: &HashSet<Symbol>,
) -> Result<Vec<Quote>, MarketDataError> {
    let mut ordered: Vec<String> = symbols.iter().map(|s| s.as_str().to_owned()).collect();
    ordered.sort_unstable();
    let mut current = Vec::with_capacity(ordered.len());
    for chunk in ordered.chunks(MAX_BATCH_SYMBOLS) {
        for result in quotes.batch_get(tier, chunk).await? {
            if let Some(quote_result::Result::Quote(quote)) = result.result {
                current.push(quote);
            }
        }
    }
    Ok(current)
}

/// The next update of a followed symbol, counting every update missed on the way; `None` when
/// the bus has closed.
async fn next_update(
    subscription: &mut QuoteSubscription,
    filter: Option<&HashSet<String>>,
) -> Option<QuoteUpdate> {
    let mut skipped = 0_u64;
    loop {
        let received = subscription.next().await?;
        skipped = skipped.saturating_add(received.skipped);
        if filter.is_none_or(|symbols| symbols.contains(&received.quote.symbol)) {
            if skipped > 0 {
                metrics::counter!(SKIPPED_TOTAL).increment(skipped);
            }
            return Some(QuoteUpdate {
                quote: Some(Quote::clone(&received.quote)),
                skipped,
            });
        }
    }
}

/// Updates dropped for slow stream consumers.
const SKIPPED_TOTAL: &str = "bourse_quote_stream_skipped_total";

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt as _;

    #[tokio::test]
    async fn a_filtered_update_carries_every_update_missed_before_it() {
        let bus = QuoteBus::new(2);
        let mut subscription = bus.subscribe();
        let publish = |symbol: &str, last: f64| {
            bus.publish(Quote {
                symbol: symbol.to_owned(),
                last,
                ..Quote::default()
            });
        };
        for n in 0..5 {
            publish("MSFT", f64::from(n));
        }
        publish("AAPL", 10.0);
        // The bus kept the newest two (MSFT 4, AAPL 10): MSFT 0..=3 were missed, and MSFT 4 is
        // read but filtered out, so the AAPL update reports the 4 missed ones.
        let filter: HashSet<String> = HashSet::from(["AAPL".to_owned()]);
        let update = next_update(&mut subscription, Some(&filter))
            .now_or_never()
            .flatten()
            .expect("an AAPL update");
        assert_eq!(update.quote.map(|q| q.last), Some(10.0));
        assert_eq!(update.skipped, 4);

        publish("AAPL", 11.0);
        let update = next_update(&mut subscription, Some(&filter))
            .now_or_never()
            .flatten()
            .expect("an AAPL update");
        assert_eq!(
            (update.quote.map(|q| q.last), update.skipped),
            (Some(11.0), 0)
        );
    }
}
