//! The load drivers: open loop (constant arrival rate) and closed loop (users with think time).
//!
//! The open loop computes each request's send time from the start, `start + i / rate`, and
//! measures its latency from that scheduled moment, not from when it actually left. A request
//! the generator sends late (because the server, the network or the generator itself is slow)
//! is charged the delay, so a stall shows up in the percentiles instead of being hidden by the
//! requests that were never sent during it (coordinated omission). Requests are never held back
//! waiting for answers: each one runs as its own task, up to `max_in_flight` per tier, beyond
//! which a request is counted as `dropped` instead of queued.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use crate::client::Client;
use crate::scenario::{Prepared, Scenario, Vars};
use crate::stats::{Status, TierStats};

/// One tier's load: who sends what, and where it is recorded.
#[derive(Debug, Clone)]
pub struct TierLoad<C> {
    pub client: C,
    pub scenario: Arc<Scenario>,
    pub vars: Vars,
    /// Seeds the tier's draw of requests and symbols, so runs are repeatable.
    pub seed: u64,
    pub stats: Arc<Mutex<TierStats>>,
    /// Most requests of this tier in flight at once in the open loop.
    pub max_in_flight: usize,
    /// Numbers the requests for `{seq}`, across every stretch of the run.
    pub seq: Arc<AtomicU64>,
    /// How the open loop waits for due times.
    pub pacing: Pacing,
}

/// How the open loop waits until each request is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// A dedicated OS thread sleeps until each due time and then hands the request to the
    /// runtime: tens of microseconds late, where tokio's timer rounds every wait up to its next
    /// millisecond tick (half a millisecond of lag on average, inside every latency).
    Thread,
    /// tokio's timer: millisecond resolution, but it follows a paused test clock.
    Timer,
}

impl Pacing {
    /// Starts pacing `schedule`: the receiver yields each request's index when it is due.
    fn start(self, schedule: Schedule) -> mpsc::UnboundedReceiver<u64> {
        let (due, due_times) = mpsc::unbounded_channel();
        let requests = schedule.requests();
        match self {
            Pacing::Thread => {
                let start = schedule.start.into_std();
                std::thread::spawn(move || {
                    for i in 0..requests {
                        let at = start + schedule.due(i);
                        if let Some(wait) = at.checked_duration_since(std::time::Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        // The receiver is gone when the run was abandoned.
                        if due.send(i).is_err() {
                            return;
                        }
                    }
                });
            }
            Pacing::Timer => {
                tokio::spawn(async move {
                    for i in 0..requests {
                        sleep_until(schedule.start + schedule.due(i)).await;
                        if due.send(i).is_err() {
                            return;
                        }
                    }
                });
            }
        }
        due_times
    }
}

/// A stretch of open-loop load: `rate` requests per second from `from` to `from + duration`,
/// both measured from the run's `start`.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    pub from: Duration,
    pub duration: Duration,
    pub rate: f64,
}

impl Schedule {
    /// How many requests the stretch sends: every scheduled moment before its end.
    pub fn requests(&self) -> u64 {
        (self.duration.as_secs_f64() * self.rate).ceil() as u64
    }

    /// When request `i` is due, from the run's start. Computed from `i` rather than by adding
    /// intervals, so rounding never accumulates.
    pub fn due(&self, i: u64) -> Duration {
        self.from + Duration::from_secs_f64(i as f64 / self.rate)
    }
}

impl<C: Client> TierLoad<C> {
    /// Sends on `schedule` and returns once every request has ended (answered, failed or timed
    /// out by the client).
    pub async fn open_loop(&self, schedule: Schedule) {
        if schedule.rate <= 0.0 {
            return;
        }
        // Each stretch of a ramp draws its own sequence.
        let mut rng = StdRng::seed_from_u64(self.seed ^ schedule.from.as_secs());
        let in_flight = Arc::new(Semaphore::new(self.max_in_flight));
        let mut tasks = JoinSet::new();
        let mut due_times = self.pacing.start(schedule);
        while let Some(i) = due_times.recv().await {
            let due = schedule.due(i);
            let request = self.next(&mut rng);
            let endpoint = self.scenario.requests[request.template].name.clone();
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                self.record(&endpoint, due, Status::Dropped, Duration::ZERO);
                continue;
            };
            let load = self.clone();
            tasks.spawn(async move {
                let lag = schedule.start.elapsed().saturating_sub(due);
                lock(&load.stats).record_lag(lag);
                let status = load.client.send(request).await;
                // From the scheduled moment: the time the caller would have waited.
                let latency = schedule.start.elapsed().saturating_sub(due);
                load.record(&endpoint, due, status, latency);
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    }

    /// `users` users, each sending a request, waiting for its answer, then thinking for `think`,
    /// until `duration` has passed since `start`. Users start spread over one think time.
    pub async fn closed_loop(
        &self,
        start: Instant,
        duration: Duration,
        users: u32,
        think: Duration,
    ) {
        let mut tasks = JoinSet::new();
        for user in 0..users {
            let load = self.clone();
            tasks.spawn(async move {
                let mut rng = StdRng::seed_from_u64(load.seed ^ u64::from(user).rotate_left(32));
                tokio::time::sleep(think.mul_f64(f64::from(user) / f64::from(users))).await;
                while start.elapsed() < duration {
                    let request = load.next(&mut rng);
                    let endpoint = &load.scenario.requests[request.template].name;
                    let sent = start.elapsed();
                    let status = load.client.send(request).await;
                    let latency = start.elapsed().saturating_sub(sent);
                    load.record(endpoint, sent, status, latency);
                    tokio::time::sleep(think).await;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }

    fn next(&self, rng: &mut StdRng) -> Prepared {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        self.scenario.next(rng, &self.vars, seq)
    }

    fn record(&self, endpoint: &str, due: Duration, status: Status, latency: Duration) {
        lock(&self.stats).record(endpoint, due, status, latency);
    }
}

/// A tier's recording. A poisoned lock means a recording task panicked mid-update; its numbers
/// are still the best there are.
pub fn lock(stats: &Mutex<TierStats>) -> std::sync::MutexGuard<'_, TierStats> {
    stats
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
