//! One endpoint of a pool: its own lazily connecting channel, the calls in flight on it (the
//! load the balancer compares), and whether it is ejected.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use tonic::transport::Channel;

/// One backend instance of a pool.
#[derive(Debug)]
pub struct Replica {
    /// `host:port` or `ip:port`; unchanged across re-resolutions, so the replica keeps its
    /// state and connection.
    pub(crate) address: String,
    /// Which configured endpoint this replica came from (its position in the pool's list).
    pub(crate) target: usize,
    /// The replica's own connection; clones share it.
    pub(crate) channel: Channel,
    in_flight: AtomicUsize,
    failures: AtomicU32,
    ejected: AtomicBool,
}

impl Replica {
    /// A healthy, idle replica at `address`.
    pub fn new(address: String, target: usize, channel: Channel) -> Self {
        Self {
            address,
            target,
            channel,
            in_flight: AtomicUsize::new(0),
            failures: AtomicU32::new(0),
            ejected: AtomicBool::new(false),
        }
    }

    /// Calls in flight on this replica.
    pub fn load(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Whether the balancer may pick this replica.
    pub fn is_healthy(&self) -> bool {
        !self.ejected.load(Ordering::Relaxed)
    }

    /// Counts a call as in flight until the returned guard is dropped.
    pub fn start_call(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// Records a transport failure or UNAVAILABLE answer; true when this one ejected the
    /// replica (the `eject_after`-th in a row).
    pub fn record_failure(&self, eject_after: u32) -> bool {
        let failures = self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        failures >= eject_after && self.eject()
    }

    /// Records an answer from the service: the failure streak is over.
    pub fn record_success(&self) {
        self.failures.store(0, Ordering::Relaxed);
    }

    /// Takes the replica out of rotation; true when it was healthy until now.
    pub fn eject(&self) -> bool {
        !self.ejected.swap(true, Ordering::Relaxed)
    }

    /// Puts the replica back after a successful health check; true when it was ejected.
    pub fn restore(&self) -> bool {
        self.failures.store(0, Ordering::Relaxed);
        self.ejected.swap(false, Ordering::Relaxed)
    }
}

/// A call in flight on a replica; dropping it (the call finished or was abandoned) lowers the
/// replica's load.
#[derive(Debug)]
pub struct InFlight(Arc<Replica>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Power of two choices: of two distinct random candidates, the less loaded. Cheap, needs no
/// global ordering, and avoids the herding of always picking the least loaded.
pub(crate) fn power_of_two_choices(candidates: &[Arc<Replica>]) -> Option<Arc<Replica>> {
    let chosen = match candidates.len() {
        0 => return None,
        1 => &candidates[0],
        n => {
            let first = rand::random_range(0..n);
            let mut second = rand::random_range(0..n - 1);
            if second >= first {
                second += 1;
            }
            let (a, b) = (&candidates[first], &candidates[second]);
            if b.load() < a.load() { b } else { a }
        }
    };
    Some(chosen.clone())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;

    /// A replica whose channel never connects (nothing is called in these tests).
    pub(crate) fn replica(address: &str) -> Arc<Replica> {
        let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:1")
            .connect_timeout(Duration::from_millis(10))
            .connect_lazy();
        Arc::new(Replica::new(address.to_owned(), 0, channel))
    }

    #[tokio::test]
    async fn the_idle_replica_always_wins_against_a_loaded_one() {
        let (idle, busy) = (replica("idle:1"), replica("busy:1"));
        let _load = [busy.start_call(), busy.start_call()];
        let candidates = [busy.clone(), idle.clone()];
        for _ in 0..200 {
            let chosen = power_of_two_choices(&candidates).expect("two candidates");
            assert!(Arc::ptr_eq(&chosen, &idle));
        }
    }

    #[tokio::test]
    async fn load_falls_when_the_call_ends() {
        let replica = replica("a:1");
        let call = replica.start_call();
        assert_eq!(replica.load(), 1);
        drop(call);
        assert_eq!(replica.load(), 0);
    }

    #[tokio::test]
    async fn one_candidate_is_chosen_and_none_gives_nothing() {
        let only = replica("only:1");
        let chosen = power_of_two_choices(std::slice::from_ref(&only)).expect("one candidate");
        assert!(Arc::ptr_eq(&chosen, &only));
        assert!(power_of_two_choices(&[]).is_none());
    }

    #[tokio::test]
    async fn ejected_after_consecutive_failures_and_restored_by_a_health_check() {
        let replica = replica("a:1");
        assert!(!replica.record_failure(3));
        replica.record_success();
        assert!(!replica.record_failure(3));
        assert!(!replica.record_failure(3));
        assert!(replica.is_healthy(), "a success reset the streak");
        assert!(
            replica.record_failure(3),
            "the third failure in a row ejects"
        );
        assert!(!replica.is_healthy());
        assert!(!replica.record_failure(3), "already ejected");
        assert!(replica.restore());
        assert!(replica.is_healthy());
        assert!(!replica.record_failure(3), "restoring reset the streak");
    }
}
