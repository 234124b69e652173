//! L1 only (no Redis), with tokio's clock paused so TTLs are exact.

use std::time::Duration;

use bourse_cache::{Cache, CacheConfig, DataClass, L2Status, Tier, metric};
use tokio::time::advance;

use crate::recorder::TestRecorder;
use crate::support::{bytes, config};

fn in_process(test: &str) -> Cache {
    Cache::in_process(config(None, test))
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn l1_requests(recorder: &TestRecorder, tier: Tier, result: &str) -> u64 {
    let labels = [
        ("class", "quote"),
        ("tier", tier.as_str()),
        ("level", "l1"),
        ("result", result),
    ];
    recorder.counter(metric::REQUESTS_TOTAL, &labels)
}

#[tokio::test(start_paused = true)]
async fn premium_sees_a_miss_where_shared_still_hits() {
    let recorder = TestRecorder::default();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let cache = in_process("premium_sees_a_miss");
    cache.set(DataClass::Quote, "AAPL", bytes("189.50")).await;

    advance(ms(249)).await;
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Premium, "AAPL").await,
        Some(bytes("189.50"))
    );
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "AAPL").await,
        Some(bytes("189.50"))
    );

    advance(ms(1)).await; // 250 ms old: past the premium quote TTL, within the shared one.
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Premium, "AAPL").await,
        None
    );
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "AAPL").await,
        Some(bytes("189.50"))
    );

    advance(ms(749)).await;
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "AAPL").await,
        Some(bytes("189.50"))
    );
    advance(ms(1)).await; // 1 s old: past the shared TTL too.
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "AAPL").await,
        None
    );

    assert_eq!(l1_requests(&recorder, Tier::Premium, "hit"), 1);
    assert_eq!(l1_requests(&recorder, Tier::Premium, "miss"), 1);
    assert_eq!(l1_requests(&recorder, Tier::Shared, "hit"), 3);
    assert_eq!(l1_requests(&recorder, Tier::Shared, "miss"), 1);
    assert_eq!(
        recorder.gauge(metric::L2_UP),
        Some(0.0),
        "no Redis: the gauge says L2 is not up"
    );
}

#[tokio::test(start_paused = true)]
async fn ttls_come_from_the_policy_per_class_and_tier() {
    let mut config = config(None, "ttls_from_policy");
    // A premium TTL longer than the shared one: the entry must live for the longer of the two.
    config.ttl.set(DataClass::Bars, Tier::Shared, ms(1_000));
    config.ttl.set(DataClass::Bars, Tier::Premium, ms(2_000));
    let cache = Cache::in_process(config);
    cache.set(DataClass::Bars, "AAPL:1m", bytes("bars")).await;
    cache.set(DataClass::RiskReport, "p-1", bytes("var")).await;

    advance(ms(1_500)).await;
    assert_eq!(
        cache.get(DataClass::Bars, Tier::Shared, "AAPL:1m").await,
        None
    );
    assert_eq!(
        cache.get(DataClass::Bars, Tier::Premium, "AAPL:1m").await,
        Some(bytes("bars"))
    );

    // Default risk report TTLs: 300 s shared, 120 s premium.
    advance(ms(120_000 - 1_500)).await;
    assert_eq!(
        cache.get(DataClass::RiskReport, Tier::Premium, "p-1").await,
        None
    );
    assert_eq!(
        cache.get(DataClass::RiskReport, Tier::Shared, "p-1").await,
        Some(bytes("var"))
    );
}

#[tokio::test(start_paused = true)]
async fn overwriting_restarts_freshness() {
    let cache = in_process("overwriting_restarts");
    cache.set(DataClass::Quote, "MSFT", bytes("old")).await;
    advance(ms(200)).await;
    cache.set(DataClass::Quote, "MSFT", bytes("new")).await;
    advance(ms(200)).await; // 400 ms after the first write, 200 ms after the second.
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Premium, "MSFT").await,
        Some(bytes("new"))
    );
}

#[tokio::test(start_paused = true)]
async fn get_many_keeps_key_order_with_partial_hits() {
    let cache = in_process("get_many_order");
    cache.set(DataClass::Quote, "AAPL", bytes("a")).await;
    advance(ms(200)).await;
    cache
        .set_many(
            DataClass::Quote,
            &[("MSFT", bytes("m")), ("NVDA", bytes("n"))],
        )
        .await;
    advance(ms(100)).await; // AAPL is 300 ms old (stale for premium), MSFT and NVDA 100 ms.

    let keys = ["NVDA", "IBM", "AAPL", "MSFT", "NVDA"];
    let shared = cache.get_many(DataClass::Quote, Tier::Shared, &keys).await;
    let expected = [
        Some(bytes("n")),
        None,
        Some(bytes("a")),
        Some(bytes("m")),
        Some(bytes("n")),
    ];
    assert_eq!(shared, expected);
    let premium = cache.get_many(DataClass::Quote, Tier::Premium, &keys).await;
    assert_eq!(
        premium,
        [
            Some(bytes("n")),
            None,
            None,
            Some(bytes("m")),
            Some(bytes("n"))
        ]
    );
    assert!(
        cache
            .get_many(DataClass::Quote, Tier::Shared, &[])
            .await
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn invalidate_removes_one_key_of_one_class() {
    let recorder = TestRecorder::default();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let cache = in_process("invalidate");
    cache
        .set(DataClass::Portfolio, "acct-1", bytes("positions"))
        .await;
    cache
        .set(DataClass::Portfolio, "acct-2", bytes("other"))
        .await;
    cache
        .set(DataClass::RiskReport, "acct-1", bytes("report"))
        .await;

    cache.invalidate(DataClass::Portfolio, "acct-1").await;

    for tier in Tier::ALL {
        assert_eq!(cache.get(DataClass::Portfolio, tier, "acct-1").await, None);
        assert_eq!(
            cache.get(DataClass::Portfolio, tier, "acct-2").await,
            Some(bytes("other"))
        );
        assert_eq!(
            cache.get(DataClass::RiskReport, tier, "acct-1").await,
            Some(bytes("report"))
        );
    }
    let labels = [("class", "portfolio")];
    assert_eq!(recorder.counter(metric::INVALIDATIONS_TOTAL, &labels), 1);
}

#[tokio::test(start_paused = true)]
async fn classes_are_separate_key_spaces() {
    let cache = in_process("separate_key_spaces");
    cache.set(DataClass::Quote, "AAPL", bytes("quote")).await;
    cache
        .set(DataClass::Instrument, "AAPL", bytes("instrument"))
        .await;
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "AAPL").await,
        Some(bytes("quote"))
    );
    let instrument = cache.get(DataClass::Instrument, Tier::Shared, "AAPL").await;
    assert_eq!(instrument, Some(bytes("instrument")));
    assert_eq!(cache.get(DataClass::Bars, Tier::Shared, "AAPL").await, None);
}

#[tokio::test(start_paused = true)]
async fn a_zero_ttl_disables_caching_of_a_class() {
    let mut config = config(None, "zero_ttl");
    for tier in Tier::ALL {
        config.ttl.set(DataClass::Portfolio, tier, Duration::ZERO);
    }
    let cache = Cache::in_process(config);
    cache
        .set(DataClass::Portfolio, "acct-1", bytes("positions"))
        .await;
    assert_eq!(
        cache
            .get(DataClass::Portfolio, Tier::Shared, "acct-1")
            .await,
        None
    );
}

#[tokio::test]
async fn without_a_redis_url_the_cache_is_in_process_and_says_so() {
    let connected = Cache::connect(CacheConfig::default())
        .await
        .expect("no Redis to reach");
    assert_eq!(connected.l2_status().await, L2Status::Disabled);
    connected
        .set(DataClass::Sentiment, "text-hash", bytes("0.8"))
        .await;
    let hit = connected
        .get(DataClass::Sentiment, Tier::Shared, "text-hash")
        .await;
    assert_eq!(hit, Some(bytes("0.8")));

    let explicit = in_process("explicit_in_process");
    assert_eq!(explicit.l2_status().await, L2Status::Disabled);
    // Clones share the levels.
    let clone = connected.clone();
    let hit = clone
        .get(DataClass::Sentiment, Tier::Premium, "text-hash")
        .await;
    assert_eq!(hit, Some(bytes("0.8")));
}
