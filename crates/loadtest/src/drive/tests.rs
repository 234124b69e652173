//! The drivers on a paused clock, against a stand-in server with a known service time: what
//! they send, when, and what latency they record.

use std::sync::atomic::AtomicU64;

use super::*;
use crate::scenario::Prepared;

/// A server that takes `service` per request and serves `capacity` requests at a time (the rest
/// queue), recording when each request arrived.
#[derive(Debug, Clone)]
struct StandIn {
    service: Duration,
    capacity: Arc<Semaphore>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl StandIn {
    fn new(service: Duration, capacity: usize) -> Self {
        Self {
            service,
            capacity: Arc::new(Semaphore::new(capacity)),
            arrivals: Arc::default(),
        }
    }

    fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().expect("not poisoned").clone()
    }
}

impl Client for StandIn {
    async fn send(&self, _request: Prepared) -> Status {
        self.arrivals
            .lock()
            .expect("not poisoned")
            .push(Instant::now());
        let _serving = self.capacity.acquire().await.expect("never closed");
        tokio::time::sleep(self.service).await;
        Status::Http(200)
    }
}

fn scenario() -> Arc<Scenario> {
    let text = r#"{"name": "t", "requests": [
        {"name": "a", "weight": 3, "method": "GET", "path": "/a"},
        {"name": "b", "weight": 1, "method": "GET", "path": "/b"}]}"#;
    Arc::new(Scenario::parse(text).expect("valid"))
}

fn load(server: &StandIn, max_in_flight: usize) -> TierLoad<StandIn> {
    TierLoad {
        client: server.clone(),
        scenario: scenario(),
        vars: Vars::default(),
        seed: 1,
        stats: Arc::default(),
        max_in_flight,
        seq: Arc::new(AtomicU64::new(0)),
        pacing: Pacing::Timer,
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn total(load: &TierLoad<StandIn>) -> crate::stats::EndpointStats {
    load.stats.lock().expect("not poisoned").total()
}

#[tokio::test(start_paused = true)]
async fn the_open_loop_sends_at_the_requested_rate_on_schedule() {
    let server = StandIn::new(ms(10), 1_000);
    let load = load(&server, 1_000);
    let start = Instant::now();
    let schedule = Schedule {
        start,
        from: Duration::ZERO,
        duration: Duration::from_secs(5),
        rate: 200.0,
    };
    load.open_loop(schedule).await;

    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 1_000, "200 req/s for 5 s");
    for (i, arrival) in arrivals.iter().enumerate() {
        assert_eq!(
            *arrival - start,
            ms(5 * i as u64),
            "request {i} left off schedule"
        );
    }
    let total = total(&load);
    assert_eq!(total.statuses[&Status::Http(200)], 1_000);
    // Every request waited exactly the service time (the histogram keeps 3 digits).
    assert_eq!(total.latency.min(), total.latency.lowest_equivalent(10_000));
    assert_eq!(
        total.latency.max(),
        total.latency.highest_equivalent(10_000)
    );
    let stats = load.stats.lock().expect("not poisoned");
    // On a paused clock the generator is never late (lags are clamped to the 1 µs floor).
    assert_eq!(stats.lag.len(), 1_000);
    assert_eq!(stats.lag.max(), 1);
    let per_second: Vec<u64> = stats.timeline.iter().map(|window| window.sent).collect();
    assert_eq!(per_second, [200; 5]);
    // The mix follows the weights 3:1.
    let a = stats.endpoints["a"].sent();
    assert!((700..=800).contains(&a), "{a} of 1,000 were `a`");
}

#[tokio::test(start_paused = true)]
async fn the_open_loop_charges_queueing_to_latency_where_a_closed_loop_hides_it() {
    // One request at a time, 10 ms each: at most 100 req/s. Offered 200 req/s for 2 s.
    let server = StandIn::new(ms(10), 1);
    let open = load(&server, 10_000);
    let start = Instant::now();
    open.open_loop(Schedule {
        start,
        from: Duration::ZERO,
        duration: Duration::from_secs(2),
        rate: 200.0,
    })
    .await;
    // Still sent on schedule: 400 requests, none waiting for earlier answers.
    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 400);
    assert_eq!(*arrivals.last().expect("sent") - start, ms(5 * 399));
    // Request i is answered at (i + 1) × 10 ms but was due at i × 5 ms: the last one waited
    // about 2 s, and that is what the percentiles show.
    let open = total(&open).latency;
    assert!(
        open.value_at_quantile(0.99) > 1_900_000,
        "open p99 {} µs",
        open.value_at_quantile(0.99)
    );
    assert!(
        open.value_at_quantile(0.50) > 900_000,
        "open p50 {} µs",
        open.value_at_quantile(0.50)
    );

    // A closed loop on the same server slows down with it and sees only the service time.
    let server = StandIn::new(ms(10), 1);
    let closed = load(&server, 10_000);
    closed
        .closed_loop(Instant::now(), Duration::from_secs(2), 1, Duration::ZERO)
        .await;
    let closed_total = total(&closed);
    assert_eq!(closed_total.sent(), 200, "one user, 10 ms per request, 2 s");
    assert_eq!(
        closed_total.latency.max(),
        closed_total.latency.highest_equivalent(10_000)
    );
}

#[tokio::test(start_paused = true)]
async fn the_open_loop_drops_what_exceeds_its_in_flight_limit() {
    // 1 s per request, one at a time, at most 5 in flight: of the 100 requests due in the first
    // second, the first 5 are sent and the other 95 dropped.
    let server = StandIn::new(Duration::from_secs(1), 1);
    let load = load(&server, 5);
    load.open_loop(Schedule {
        start: Instant::now(),
        from: Duration::ZERO,
        duration: Duration::from_secs(1),
        rate: 100.0,
    })
    .await;
    let total = total(&load);
    assert_eq!(server.arrivals().len(), 5);
    assert_eq!(total.statuses[&Status::Dropped], 95);
    assert_eq!(total.statuses[&Status::Http(200)], 5);
    assert_eq!(total.errors(), 95);
}

#[tokio::test(start_paused = true)]
async fn closed_loop_users_think_between_requests() {
    // 10 users, 10 ms service, 90 ms think: each user sends every 100 ms, 100 req/s in all.
    let server = StandIn::new(ms(10), 100);
    let load = load(&server, 100);
    load.closed_loop(Instant::now(), Duration::from_secs(3), 10, ms(90))
        .await;
    let sent = total(&load).sent();
    assert!((299..=310).contains(&sent), "{sent} requests in 3 s");
}

#[test]
fn a_schedule_counts_and_places_its_requests_without_drift() {
    let schedule = Schedule {
        start: Instant::now(),
        from: Duration::from_secs(10),
        duration: Duration::from_secs(30),
        rate: 333.0,
    };
    assert_eq!(schedule.requests(), 9_990);
    assert_eq!(schedule.due(0), Duration::from_secs(10));
    let last = schedule.due(9_989).as_secs_f64();
    assert!((last - (10.0 + 9_989.0 / 333.0)).abs() < 1e-9, "{last}");
}
