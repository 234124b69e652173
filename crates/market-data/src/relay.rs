//! Quote fan-out between processes over Redis pub/sub.
//!
//! A [`QuoteBus`] reaches its own process only. When Redis is configured, the ingest path also
//! publishes every quote on one Redis channel ([`RelayPublisher`]), and every market-data
//! process runs one [`run_subscriber`] that re-publishes what arrives into its local bus and
//! refreshes its L1 copy of the quote (L1 is per process; the publisher already wrote Redis L2).
//! So a `bourse feed simulate` process and several `bourse serve market-data` processes stream
//! the same updates.
//!
//! Without Redis there is no fan-out between processes: streams of a market-data process carry
//! only quotes ingested in that process, while the store (and so `GetQuote`) still sees every
//! write. The binary says so once at start-up.
//!
//! A message is the publishing bus's 8-byte big-endian [`QuoteBus::origin`] followed by the
//! prost-encoded `Quote`; a subscriber skips its own process's messages, which its bus has
//! already carried. Redis pub/sub is at-most-once: updates published while a subscriber is
//! reconnecting are not replayed (the stored quote, and the next update, are still right).

use std::future::Future;
use std::time::Duration;

use bourse_cache::{Cache, DataClass};
use bourse_proto::market_data::v1::Quote;
use bytes::Bytes;
use futures::StreamExt as _;
use prost::Message as _;
use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::bus::QuoteBus;

/// The channel name after the cache key prefix: `bourse:quotes` by default.
pub const CHANNEL_SUFFIX: &str = "quotes";
/// How long one connect or publish may take before Redis counts as down.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
/// First wait before reconnecting; doubled after each failure up to [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Where the processes of one deployment meet.
#[derive(Clone)]
pub struct RelayConfig {
    /// Holds credentials: never printed (see the `Debug` impl).
    pub redis_url: String,
    pub channel: String,
}

impl RelayConfig {
    /// The relay on `redis_url`, on the channel `{key_prefix}quotes`: deployments (and tests)
    /// that share a Redis but not a cache key prefix do not see each other's quotes.
    pub fn new(redis_url: impl Into<String>, key_prefix: &str) -> Self {
        Self {
            redis_url: redis_url.into(),
            channel: format!("{key_prefix}{CHANNEL_SUFFIX}"),
        }
    }
}

impl std::fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayConfig")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Why the relay cannot start.
#[derive(Debug, thiserror::Error)]
#[error("invalid Redis URL for the quote relay: {0}")]
pub struct InvalidRelayUrl(String);

/// Publishes quotes on the relay channel from the ingest path. Never fails the ingest: while
/// Redis is down updates are not relayed (one warning) and it reconnects with backoff.
pub struct RelayPublisher {
    client: redis::Client,
    channel: String,
    /// The origin of the local bus, so its own subscriber can skip these messages.
    origin: u64,
    link: Mutex<PublisherLink>,
}

/// The dedicated publishing connection and its health.
struct PublisherLink {
    conn: Option<MultiplexedConnection>,
    /// While down: no attempt before this instant.
    retry_at: Option<Instant>,
    backoff: Duration,
}

impl RelayPublisher {
    /// A publisher for updates of `bus`; connects on first use.
    pub fn new(config: &RelayConfig, bus: &QuoteBus) -> Result<Self, InvalidRelayUrl> {
        let client = redis::Client::open(config.redis_url.as_str())
            .map_err(|e| InvalidRelayUrl(e.to_string()))?;
        Ok(Self {
            client,
            channel: config.channel.clone(),
            origin: bus.origin(),
            link: Mutex::new(PublisherLink {
                conn: None,
                retry_at: None,
                backoff: INITIAL_BACKOFF,
            }),
        })
    }

    /// Publishes `quotes` in one pipelined round trip; returns whether they were relayed.
    pub async fn publish(&self, quotes: &[Quote]) -> bool {
        if quotes.is_empty() {
            return true;
        }
        let mut link = self.link.lock().await;
        if link.retry_at.is_some_and(|at| Instant::now() < at) {
            return false;
        }
        let mut pipeline = redis::pipe();
        for quote in quotes {
            pipeline
                .cmd("PUBLISH")
                .arg(&self.channel)
                .arg(encode(self.origin, quote))
                .ignore();
        }
        let attempt = async {
            let conn = match &link.conn {
                Some(conn) => conn.clone(),
                None => self.client.get_multiplexed_async_connection().await?,
            };
            let mut sending = conn.clone();
            pipeline.query_async::<()>(&mut sending).await?;
            Ok::<_, redis::RedisError>(conn)
        };
        match tokio::time::timeout(REDIS_TIMEOUT, attempt).await {
            Ok(Ok(conn)) => {
                if link.retry_at.take().is_some() {
                    tracing::info!(channel = %self.channel, "quote relay: publishing to Redis again");
                }
                link.conn = Some(conn);
                link.backoff = INITIAL_BACKOFF;
                true
            }
            failed => {
                let reason = match failed {
                    Ok(Err(error)) => error.to_string(),
                    _ => "timed out".to_owned(),
                };
                if link.retry_at.is_none() {
                    tracing::warn!(
                        channel = %self.channel,
                        %reason,
                        "quote relay: Redis unreachable, updates reach this process only until it answers"
                    );
                }
                link.conn = None;
                link.retry_at = Some(Instant::now() + link.backoff);
                link.backoff = (link.backoff * 2).min(MAX_BACKOFF);
                false
            }
        }
    }
}

impl std::fmt::Debug for RelayPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayPublisher")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Subscribes to the relay channel and re-publishes other processes' quotes into `bus`,
/// refreshing this process's L1 copy of each, until `shutdown` resolves. Run one per process
/// (not per service instance): `bourse up`'s instances share one bus.
///
/// A dropped connection is re-established with a doubling backoff; each change between
/// connected and not is logged once.
pub async fn run_subscriber(
    config: RelayConfig,
    bus: QuoteBus,
    cache: Cache,
    shutdown: impl Future<Output = ()>,
) -> Result<(), InvalidRelayUrl> {
    let client = redis::Client::open(config.redis_url.as_str())
        .map_err(|e| InvalidRelayUrl(e.to_string()))?;
    let channel = config.channel;
    tokio::pin!(shutdown);
    let mut backoff = INITIAL_BACKOFF;
    let mut reported_down = false;
    loop {
        let connect = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let connected = tokio::select! {
            () = &mut shutdown => return Ok(()),
            connected = tokio::time::timeout(REDIS_TIMEOUT, connect) => connected,
        };
        match connected {
            Ok(Ok(pubsub)) => {
                tracing::info!(%channel, "quote relay: subscribed to Redis");
                backoff = INITIAL_BACKOFF;
                let mut messages = pubsub.into_on_message();
                loop {
                    tokio::select! {
                        () = &mut shutdown => return Ok(()),
                        message = messages.next() => match message {
                            Some(message) => relay_in(message.get_payload_bytes(), &bus, &cache).await,
                            None => break,
                        },
                    }
                }
                tracing::warn!(%channel, "quote relay: Redis connection lost, reconnecting");
                // Already said: the reconnection attempts that follow stay quiet until one works.
                reported_down = true;
            }
            failed => {
                if !reported_down {
                    let reason = match failed {
                        Ok(Err(error)) => error.to_string(),
                        _ => "timed out".to_owned(),
                    };
                    tracing::warn!(
                        %channel,
                        %reason,
                        retry_in = ?backoff,
                        "quote relay: cannot subscribe to Redis, streams carry this process's updates only until it answers"
                    );
                    reported_down = true;
                }
                tokio::select! {
                    () = &mut shutdown => return Ok(()),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Handles one relayed message: another process's quote goes to the local L1 and bus.
async fn relay_in(payload: &[u8], bus: &QuoteBus, cache: &Cache) {
    let Some((origin, encoded)) = decode(payload) else {
        tracing::debug!(
            bytes = payload.len(),
            "quote relay: malformed message ignored"
        );
        return;
    };
    if origin == bus.origin() {
        return;
    }
    let Ok(quote) = Quote::decode(encoded) else {
        tracing::debug!("quote relay: undecodable quote ignored");
        return;
    };
    cache
        .set_local(
            DataClass::Quote,
            &quote.symbol,
            Bytes::copy_from_slice(encoded),
        )
        .await;
    bus.publish(quote);
}

/// `origin` (8 bytes, big-endian) then the prost-encoded quote.
fn encode(origin: u64, quote: &Quote) -> Vec<u8> {
    let mut message = Vec::with_capacity(8 + quote.encoded_len());
    message.extend_from_slice(&origin.to_be_bytes());
    quote.encode(&mut message).unwrap_or_default();
    message
}

fn decode(message: &[u8]) -> Option<(u64, &[u8])> {
    let (origin, quote) = message.split_first_chunk::<8>()?;
    Some((u64::from_be_bytes(*origin), quote))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_with_their_origin() {
        let quote = Quote {
            symbol: "AAPL".into(),
            last: 187.5,
            ..Quote::default()
        };
        let message = encode(42, &quote);
        let (origin, encoded) = decode(&message).expect("well-formed");
        assert_eq!(origin, 42);
        assert_eq!(Quote::decode(encoded).expect("a quote"), quote);
        assert_eq!(decode(&[1, 2, 3]), None);
    }

    #[tokio::test]
    async fn relayed_quotes_of_other_processes_reach_the_bus_and_l1_and_our_own_do_not() {
        use bourse_cache::{CacheConfig, Tier};
        use futures::FutureExt as _;

        let (bus, cache) = (QuoteBus::new(8), Cache::in_process(CacheConfig::default()));
        let mut subscription = bus.subscribe();
        let quote = |last| Quote {
            symbol: "AAPL".into(),
            last,
            ..Quote::default()
        };

        relay_in(&encode(bus.origin(), &quote(1.0)), &bus, &cache).await;
        assert_eq!(
            subscription.next().now_or_never(),
            None,
            "our own update is not repeated"
        );
        assert_eq!(
            cache.get(DataClass::Quote, Tier::Premium, "AAPL").await,
            None
        );

        relay_in(&encode(bus.origin() ^ 1, &quote(2.0)), &bus, &cache).await;
        let received = subscription
            .next()
            .now_or_never()
            .flatten()
            .expect("relayed");
        assert_eq!(received.quote.last, 2.0);
        let cached = cache.get(DataClass::Quote, Tier::Premium, "AAPL").await;
        let cached = cached.map(|bytes| Quote::decode(bytes).expect("a quote"));
        assert_eq!(cached.map(|q| q.last), Some(2.0));
    }

    #[test]
    fn the_channel_follows_the_key_prefix_and_the_url_is_not_printed() {
        let config = RelayConfig::new("redis://:secret@host:6379", "bourse:");
        assert_eq!(config.channel, "bourse:quotes");
        assert!(!format!("{config:?}").contains("secret"));
    }
}
