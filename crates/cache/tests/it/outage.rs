//! Redis going away mid-run, through a proxy the test controls: calls stay prompt and are served
//! from L1, the state change is logged and measured once, and Redis is used again once it is back.

use std::time::{Duration, Instant};

use bourse_cache::{Cache, DataClass, L2Status, Tier, metric};

use crate::logs::CapturedLogs;
use crate::proxy::{Mode, RedisProxy};
use crate::recorder::TestRecorder;
use crate::support::{TestRedis, bytes, config, now_unix_ms};

/// Scheduling slack on a loaded 2-core machine, on top of the configured L2 timeout.
const SLACK: Duration = Duration::from_millis(400);

#[tokio::test]
async fn a_crashed_redis_degrades_to_l1_and_is_used_again_when_back() {
    survives_an_outage(Mode::Close, "outage_close").await;
}

#[tokio::test]
async fn a_hung_redis_costs_one_timeout_and_is_used_again_when_back() {
    survives_an_outage(Mode::Blackhole, "outage_blackhole").await;
}

async fn survives_an_outage(outage: Mode, test: &str) {
    let Some(mut redis) = TestRedis::from_env(test).await else {
        return;
    };
    let recorder = TestRecorder::default();
    let _metrics = metrics::set_default_local_recorder(&recorder);
    let (logs, _logging) = CapturedLogs::start();
    let proxy = RedisProxy::start(redis.addr()).await;
    let config = config(Some(proxy.url()), test);
    let timeout = config.l2_timeout;
    let prefix = config.key_prefix.clone();
    let key = |name: &str| TestRedis::key(&prefix, DataClass::Quote, name);
    let cache = Cache::connect(config)
        .await
        .expect("Redis is reachable through the proxy");
    cache.set(DataClass::Quote, "AAPL", bytes("189.50")).await;
    assert!(
        redis.get_raw(&key("AAPL")).await.is_some(),
        "written to Redis through the proxy"
    );
    assert_eq!(recorder.gauge(metric::L2_UP), Some(1.0));

    proxy.set_mode(outage);

    // The first calls that need Redis find it gone and return misses within the timeout. They
    // run concurrently, so all of them fail, and still the outage is logged once.
    let started = Instant::now();
    let missing = || cache.get(DataClass::Quote, Tier::Shared, "MSFT");
    let first_calls = tokio::join!(missing(), missing(), missing(), missing(), missing());
    assert_eq!(first_calls, (None, None, None, None, None));
    assert!(
        started.elapsed() < timeout + SLACK,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(cache.l2_status().await, L2Status::Down);
    assert_eq!(recorder.gauge(metric::L2_UP), Some(0.0));

    // While down, calls do not wait on Redis at all: L1 answers what it has, the rest misses.
    let started = Instant::now();
    for _ in 0..10 {
        let hit = cache.get(DataClass::Quote, Tier::Shared, "AAPL").await;
        assert_eq!(hit, Some(bytes("189.50")));
        assert_eq!(cache.get(DataClass::Quote, Tier::Shared, "IBM").await, None);
        let many = cache
            .get_many(DataClass::Quote, Tier::Shared, &["AAPL", "IBM"])
            .await;
        assert_eq!(many, [Some(bytes("189.50")), None]);
        cache.set(DataClass::Quote, "NVDA", bytes("131.20")).await;
        cache.invalidate(DataClass::Quote, "ORCL").await;
    }
    assert!(
        started.elapsed() < timeout,
        "10 rounds while down took {:?}",
        started.elapsed()
    );
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "NVDA").await,
        Some(bytes("131.20"))
    );
    let get_errors = [("class", "quote"), ("op", "get")];
    let failed = recorder.counter(metric::ERRORS_TOTAL, &get_errors);
    assert_eq!(failed, 5, "only the first (concurrent) calls failed");
    let lost_invalidations = [("class", "quote"), ("op", "invalidate")];
    assert_eq!(
        recorder.counter(metric::ERRORS_TOTAL, &lost_invalidations),
        10
    );

    // Reconnection keeps being tried, without a log line per attempt.
    let attempts = || async { recorder.counter(metric::L2_RECONNECT_ATTEMPTS_TOTAL, &[]) };
    wait_until("3 reconnection attempts", || async {
        attempts().await >= 3
    })
    .await;
    assert_eq!(
        logs.count("WARN"),
        1,
        "one warning for the whole outage, no line per attempt"
    );
    assert_eq!(
        logs.count("Redis (L2 cache) unreachable"),
        1,
        "and it says so"
    );

    // Another instance writes straight to Redis; while down, this one does not look there.
    redis
        .put_entry(&key("TSLA"), now_unix_ms(), b"248.00")
        .await;
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "TSLA").await,
        None
    );
    assert_eq!(
        cache.l2_status().await,
        L2Status::Down,
        "no recovery while Redis is away"
    );

    proxy.set_mode(Mode::Forward);
    let cache_ref = &cache;
    wait_until("L2 up again", || async move {
        cache_ref.l2_status().await == L2Status::Up
    })
    .await;

    assert_eq!(recorder.gauge(metric::L2_UP), Some(1.0));
    redis
        .put_entry(&key("TSLA"), now_unix_ms(), b"248.00")
        .await;
    let hit = cache.get(DataClass::Quote, Tier::Shared, "TSLA").await;
    assert_eq!(hit, Some(bytes("248.00")), "Redis is read again");
    cache.set(DataClass::Quote, "AMZN", bytes("185.00")).await;
    assert!(
        redis.get_raw(&key("AMZN")).await.is_some(),
        "Redis is written again"
    );
    assert_eq!(
        logs.count("WARN"),
        1,
        "still the one warning from when it went away"
    );
    assert_eq!(
        logs.count("Redis (L2 cache) reachable again"),
        1,
        "one line when it came back"
    );
    redis.cleanup(&prefix).await;
}

/// Waits (bounded) for something the cache's background reconnection does. It runs on real time:
/// the test talks to a real Redis, so tokio's clock cannot be paused here.
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        while !condition().await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "gave up after 5 s waiting for {what}");
}
