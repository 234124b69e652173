//! The generic micro-batcher: one task per tier pool gathers single requests from a queue into
//! one backend call.
//!
//! The task takes the first queued item and drains whatever else is already queued. When that
//! was all (light traffic), it flushes at once, so a lone request gets no added latency.
//! Otherwise it keeps gathering until the batch is full or the tier's wait, counted from the
//! first item's arrival, has passed. Each flush runs as its own task, at most `max_in_flight` at
//! a time, so a slow call does not stop the next batch from gathering; when all of them are busy,
//! items queue and the next batch takes every queued item (up to the size limit). Equal items in
//! a batch are asked for once and every waiter gets the answer.
//!
//! Tokio's timer has a resolution of one millisecond: a wait under 1 ms ends at the next timer
//! tick, so it is a bound rather than an exact pause.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use bourse_runtime::tier::Tier;
use futures::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::{Instant, timeout_at};
use tonic::Status;

use crate::batch::{BATCH_SIZE, BATCH_WAIT_SECONDS, BATCHES_TOTAL};

/// What a flush returns: one result per item, in the order asked, or one status for the call.
pub type BatchFuture<O> = BoxFuture<'static, Result<Vec<Result<O, Status>>, Status>>;

/// The backend call a batcher flushes into.
pub trait BatchCall: Send + Sync + 'static {
    /// One request's part of the call, e.g. a symbol. Equal items are asked for once.
    type Item: Clone + Eq + Hash + Send + Sync + 'static;
    /// One request's answer, e.g. a quote.
    type Output: Clone + Send + 'static;

    /// Calls the backend for distinct `items`; the answer must hold one result per item, in
    /// order.
    fn call(&self, items: Vec<Self::Item>) -> BatchFuture<Self::Output>;
}

/// How one batcher gathers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPolicy {
    /// The most items in one call.
    pub max_size: usize,
    /// The longest an item waits for company once another item is queued with it.
    pub wait: Duration,
    /// The most calls in flight at once; past it, items queue (and later batches grow).
    pub max_in_flight: usize,
}

/// The metric labels of one batcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLabels {
    /// `quotes` or `sentiment`.
    pub batch: &'static str,
    /// The tier pool the batcher calls.
    pub tier: Tier,
}

/// An item waiting for its batch.
struct Pending<I, O> {
    item: I,
    arrived: Instant,
    reply: oneshot::Sender<Result<O, Status>>,
}

/// The handle requests submit their items through; cheap to clone. The gathering task ends
/// when the last handle is dropped.
pub struct Batcher<C: BatchCall> {
    queue: mpsc::Sender<Pending<C::Item, C::Output>>,
}

impl<C: BatchCall> Clone for Batcher<C> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<C: BatchCall> fmt::Debug for Batcher<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batcher")
            .field(
                "queued",
                &(self.queue.max_capacity() - self.queue.capacity()),
            )
            .finish()
    }
}

impl<C: BatchCall> Batcher<C> {
    /// Starts the gathering task for `call`. Must run inside a Tokio runtime.
    pub fn spawn(call: C, policy: BatchPolicy, labels: BatchLabels) -> Self {
        let policy = BatchPolicy {
            max_size: policy.max_size.max(1),
            max_in_flight: policy.max_in_flight.max(1),
            ..policy
        };
        // Room for every in-flight batch plus the one gathering: beyond that, submitters wait.
        let (queue, receiver) = mpsc::channel(policy.max_size * (policy.max_in_flight + 1));
        tokio::spawn(gather(receiver, Arc::new(call), policy, labels));
        Self { queue }
    }

    /// The answer for `item`, and how long the request waited for it (gathering plus the call),
    /// which is its backend time.
    pub async fn submit(&self, item: C::Item) -> Result<(C::Output, Duration), Status> {
        let arrived = Instant::now();
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            item,
            arrived,
            reply,
        };
        self.queue.send(pending).await.map_err(|_| stopped())?;
        let output = answer.await.map_err(|_| stopped())??;
        Ok((output, arrived.elapsed()))
    }
}

fn stopped() -> Status {
    Status::unavailable("the batcher stopped")
}

/// Gathers batches until every handle is dropped.
async fn gather<C: BatchCall>(
    mut queue: mpsc::Receiver<Pending<C::Item, C::Output>>,
    call: Arc<C>,
    policy: BatchPolicy,
    labels: BatchLabels,
) {
    let in_flight = Arc::new(Semaphore::new(policy.max_in_flight));
    loop {
        // A free call slot first: while every slot is busy, items queue up and the next batch
        // takes them all.
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = queue.recv().await else {
            return;
        };
        let until = first.arrived + policy.wait;
        let mut batch = Vec::with_capacity(policy.max_size);
        batch.push(first);
        drain(&mut queue, &mut batch, policy.max_size);
        // Alone in the queue: flush now. In company: gather until full or the wait is over.
        if batch.len() > 1 {
            while batch.len() < policy.max_size {
                match timeout_at(until, queue.recv()).await {
                    Ok(Some(next)) => {
                        batch.push(next);
                        drain(&mut queue, &mut batch, policy.max_size);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
        tokio::spawn(flush(call.clone(), batch, permit, labels));
    }
}

/// Moves what is already queued into `batch`, up to `max_size` items.
fn drain<I, O>(
    queue: &mut mpsc::Receiver<Pending<I, O>>,
    batch: &mut Vec<Pending<I, O>>,
    max_size: usize,
) {
    while batch.len() < max_size {
        match queue.try_recv() {
            Ok(pending) => batch.push(pending),
            Err(_) => break,
        }
    }
}

/// Calls the backend once for the distinct items of `batch` and answers every waiter.
async fn flush<C: BatchCall>(
    call: Arc<C>,
    batch: Vec<Pending<C::Item, C::Output>>,
    _permit: OwnedSemaphorePermit,
    labels: BatchLabels,
) {
    let metric_labels = [("batch", labels.batch), ("tier", labels.tier.as_str())];
    let flushed = Instant::now();
    let mut distinct: Vec<C::Item> = Vec::with_capacity(batch.len());
    let mut slots: HashMap<C::Item, usize> = HashMap::with_capacity(batch.len());
    let mut waiters = Vec::with_capacity(batch.len());
    for Pending {
        item,
        arrived,
        reply,
    } in batch
    {
        // The request went away while queued: nobody to ask for.
        if reply.is_closed() {
            continue;
        }
        metrics::histogram!(BATCH_WAIT_SECONDS, &metric_labels)
            .record((flushed - arrived).as_secs_f64());
        let slot = *slots.entry(item).or_insert_with_key(|item| {
            distinct.push(item.clone());
            distinct.len() - 1
        });
        waiters.push((slot, reply));
    }
    if distinct.is_empty() {
        return;
    }
    let asked = distinct.len();
    metrics::histogram!(BATCH_SIZE, &metric_labels).record(asked as f64);
    metrics::counter!(BATCHES_TOTAL, &metric_labels).increment(1);

    let results = match call.call(distinct).await {
        Ok(results) if results.len() == asked => Ok(results),
        Ok(results) => {
            tracing::error!(
                asked,
                answered = results.len(),
                batch = labels.batch,
                "batch call answered the wrong number of results"
            );
            Err(Status::internal(
                "the batch call answered the wrong number of results",
            ))
        }
        Err(status) => Err(status),
    };
    for (slot, reply) in waiters {
        let answer = match &results {
            Ok(results) => results
                .get(slot)
                .cloned()
                .unwrap_or_else(|| Err(Status::internal("missing batch result"))),
            Err(status) => Err(status.clone()),
        };
        // The request may have gone away meanwhile; its answer is then dropped.
        let _ = reply.send(answer);
    }
}

#[cfg(test)]
mod tests;
