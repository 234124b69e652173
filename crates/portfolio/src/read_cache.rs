//! Cached portfolio reads (`ListPositions`, `GetValuation`), keyed by the portfolio's version.
//!
//! Every write bumps `portfolios.version` in its transaction. A cached entry carries the version
//! it was read at, and a reader first looks the current version up (one primary-key read) and
//! serves an entry only when the versions agree: a reader that sees version N in the store never
//! serves N−1, even from another instance's L1 copy. Writers also call [`invalidate_portfolio`]
//! after commit and before answering (event-based invalidation), which frees the entries at once
//! on this instance and in Redis.
//!
//! Positions live in [`DataClass::Portfolio`]. A valuation also depends on quotes, so it lives
//! in [`DataClass::Quote`] and is served for at most the quote TTL of the reader's tier.
//! `GetPortfolio` is not cached: its freshness check would be the same primary-key read as the
//! read itself.
//!
//! An entry is the 8-byte big-endian version followed by the protobuf encoding of the answer.

use bourse_cache::{Bytes, Cache, DataClass, Tier};
use prost::Message;

fn positions_key(portfolio_id: &str) -> String {
    format!("positions/{portfolio_id}")
}

fn valuation_key(portfolio_id: &str) -> String {
    format!("valuation/{portfolio_id}")
}

/// What is cached per portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachedRead {
    /// The `ListPositions` answer.
    Positions,
    /// The `GetValuation` answer.
    Valuation,
}

impl CachedRead {
    fn class(self) -> DataClass {
        match self {
            Self::Positions => DataClass::Portfolio,
            Self::Valuation => DataClass::Quote,
        }
    }

    fn key(self, portfolio_id: &str) -> String {
        match self {
            Self::Positions => positions_key(portfolio_id),
            Self::Valuation => valuation_key(portfolio_id),
        }
    }
}

/// The cached answer of `read` for `portfolio_id` if it was read at `version` and is fresh
/// enough for `tier`.
pub async fn get<M: Message + Default>(
    cache: &Cache,
    read: CachedRead,
    tier: Tier,
    portfolio_id: &str,
    version: i64,
) -> Option<M> {
    let bytes = cache
        .get(read.class(), tier, &read.key(portfolio_id))
        .await?;
    let (stored, body) = bytes.split_first_chunk::<8>()?;
    if i64::from_be_bytes(*stored) != version {
        return None;
    }
    M::decode(body).ok()
}

/// Caches `answer` of `read` for `portfolio_id`, read at `version` (or later).
pub async fn put<M: Message>(
    cache: &Cache,
    read: CachedRead,
    portfolio_id: &str,
    version: i64,
    answer: &M,
) {
    let mut bytes = Vec::with_capacity(8 + answer.encoded_len());
    bytes.extend_from_slice(&version.to_be_bytes());
    answer.encode_raw(&mut bytes);
    cache
        .set(read.class(), &read.key(portfolio_id), Bytes::from(bytes))
        .await;
}

/// Drops every cached read of `portfolio_id`. Call after a write to the portfolio (its orders,
/// positions or cash) has committed and before the write's RPC answers.
pub async fn invalidate_portfolio(cache: &Cache, portfolio_id: &str) {
    for read in [CachedRead::Positions, CachedRead::Valuation] {
        cache
            .invalidate(read.class(), &read.key(portfolio_id))
            .await;
    }
}
