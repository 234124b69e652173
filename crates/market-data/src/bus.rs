//! [`QuoteBus`]: fan-out of quote updates from the ingest path to `StreamQuotes` subscribers,
//! within one process, in bounded memory.
//!
//! The bus is a `tokio::sync::broadcast` channel of fixed capacity: every update is written once
//! and read by every subscriber. A subscriber that reads too slowly is not buffered for without
//! limit: once it is `capacity` updates behind it skips ahead to the oldest update still held,
//! and [`QuoteSubscription::next`] reports how many it missed, which `StreamQuotes` sends as
//! `skipped` on the next message.
//!
//! A bus reaches the subscribers of its own process only. `bourse up` shares one bus between its
//! market-data instances (and its in-process feed); separate processes are joined through Redis
//! pub/sub by [`crate::relay`]. Each bus has a random [`QuoteBus::origin`] so that a process can
//! recognise, and ignore, its own updates coming back from Redis.

use std::fmt;
use std::sync::Arc;

use bourse_proto::market_data::v1::Quote;
use tokio::sync::broadcast::{self, error::RecvError};

/// How many updates a bus holds for its slowest subscriber: a few rounds of a large feed.
pub const DEFAULT_CAPACITY: usize = 4_096;

/// The in-process quote fan-out. Cheap to clone: clones publish to and subscribe on one channel.
#[derive(Clone)]
pub struct QuoteBus {
    /// Updates are shared, not copied, between subscribers.
    sender: broadcast::Sender<Arc<Quote>>,
    /// Identifies this bus's updates on the cross-process Redis channel.
    origin: u64,
}

/// One update as a subscriber sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub quote: Arc<Quote>,
    /// Updates this subscriber missed, because it was too slow, since its previous update.
    pub skipped: u64,
}

impl QuoteBus {
    /// A bus holding at most `capacity` (at least 1) updates for its slowest subscriber.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self {
            sender,
            origin: rand::random(),
        }
    }

    /// Sends `quote` to every current subscriber; without subscribers it is dropped.
    pub fn publish(&self, quote: Quote) {
        // An error only means that nobody is subscribed right now.
        let _ = self.sender.send(Arc::new(quote));
    }

    /// Follows the updates published from now on.
    pub fn subscribe(&self) -> QuoteSubscription {
        QuoteSubscription {
            receiver: self.sender.subscribe(),
        }
    }

    /// How many subscriptions are live: each open `StreamQuotes` call holds one.
    pub fn subscriber_count(&self) -> usize {
        self.sender.receiver_count()
    }

    /// The random identity of this bus (and so of this process) on the Redis channel.
    pub fn origin(&self) -> u64 {
        self.origin
    }
}

impl Default for QuoteBus {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for QuoteBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuoteBus")
            .field("origin", &format_args!("{:016x}", self.origin))
            .field("subscribers", &self.subscriber_count())
            .finish()
    }
}

/// A subscriber's position on the bus; dropping it unsubscribes.
#[derive(Debug)]
pub struct QuoteSubscription {
    receiver: broadcast::Receiver<Arc<Quote>>,
}

impl QuoteSubscription {
    /// The next update, with how many were missed before it; `None` once every publisher has
    /// gone.
    pub async fn next(&mut self) -> Option<Received> {
        let mut skipped = 0_u64;
        loop {
            match self.receiver.recv().await {
                Ok(quote) => return Some(Received { quote, skipped }),
                Err(RecvError::Lagged(missed)) => skipped = skipped.saturating_add(missed),
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(symbol: &str, last: f64) -> Quote {
        Quote {
            symbol: symbol.to_owned(),
            last,
            ..Quote::default()
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_every_update_in_order() {
        let bus = QuoteBus::new(8);
        let (mut a, mut b) = (bus.subscribe(), bus.subscribe());
        bus.publish(quote("AAPL", 1.0));
        bus.publish(quote("MSFT", 2.0));
        for subscription in [&mut a, &mut b] {
            for expected in [1.0, 2.0] {
                let received = subscription.next().await.expect("an update");
                assert_eq!((received.quote.last, received.skipped), (expected, 0));
            }
        }
    }

    #[tokio::test]
    async fn a_slow_subscriber_skips_ahead_and_is_told_how_much_it_missed() {
        let capacity = 4;
        let bus = QuoteBus::new(capacity);
        let mut slow = bus.subscribe();
        for n in 0..10 {
            bus.publish(quote("AAPL", f64::from(n)));
        }
        // Only the newest `capacity` updates were kept: 6 were missed.
        let first = slow.next().await.expect("an update");
        assert_eq!(first.skipped, 6);
        assert_eq!(first.quote.last, 6.0);
        let rest: Vec<(f64, u64)> = [slow.next().await, slow.next().await, slow.next().await]
            .into_iter()
            .map(|r| r.map(|r| (r.quote.last, r.skipped)).expect("an update"))
            .collect();
        assert_eq!(rest, [(7.0, 0), (8.0, 0), (9.0, 0)]);
    }

    #[tokio::test]
    async fn dropping_a_subscription_unsubscribes_and_publishing_without_subscribers_is_fine() {
        let bus = QuoteBus::new(4);
        bus.publish(quote("AAPL", 1.0));
        let subscription = bus.subscribe();
        assert_eq!(bus.subscriber_count(), 1);
        drop(subscription);
        assert_eq!(bus.subscriber_count(), 0);
        assert_ne!(QuoteBus::default().origin(), bus.origin(), "random origins");
    }
}
