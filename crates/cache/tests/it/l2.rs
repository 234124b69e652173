//! L1 + Redis: what one instance writes, another (with an empty L1) reads through Redis.

use bourse_cache::{Cache, DataClass, L2Status, Tier, metric};

use crate::recorder::TestRecorder;
use crate::support::{TestRedis, bytes, config, now_unix_ms};

/// Two caches on the same Redis and prefix, each with its own L1: two service instances.
async fn two_instances(redis: &TestRedis, test: &str) -> (Cache, Cache, String) {
    let config = config(Some(redis.url.clone()), test);
    let prefix = config.key_prefix.clone();
    let first = Cache::connect(config.clone())
        .await
        .expect("Redis is reachable");
    let second = Cache::connect(config).await.expect("Redis is reachable");
    assert_eq!(first.l2_status().await, L2Status::Up);
    (first, second, prefix)
}

#[tokio::test]
async fn a_second_instance_reads_what_the_first_wrote() {
    let Some(mut redis) = TestRedis::from_env("a_second_instance_reads").await else {
        return;
    };
    let recorder = TestRecorder::default();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let (writer, reader, prefix) = two_instances(&redis, "second_instance").await;

    writer.set(DataClass::Bars, "AAPL:1m", bytes("bars")).await;

    let key = TestRedis::key(&prefix, DataClass::Bars, "AAPL:1m");
    let raw = redis
        .get_raw(&key)
        .await
        .expect("the value is in Redis under the documented key");
    assert_eq!(&raw[8..], b"bars");
    let inserted = u64::from_be_bytes(raw[..8].try_into().expect("8-byte header"));
    assert!(
        now_unix_ms().abs_diff(inserted) < 5_000,
        "header is the insertion time: {inserted}"
    );
    let pttl = redis.pttl(&key).await;
    assert!(
        (59_000..=60_000).contains(&pttl),
        "PX is the longest bars TTL (60 s): {pttl}"
    );

    assert_eq!(
        reader.get(DataClass::Bars, Tier::Premium, "AAPL:1m").await,
        Some(bytes("bars"))
    );
    let l2_hits = [
        ("class", "bars"),
        ("tier", "premium"),
        ("level", "l2"),
        ("result", "hit"),
    ];
    assert_eq!(recorder.counter(metric::REQUESTS_TOTAL, &l2_hits), 1);

    // The Redis hit was copied into the reader's L1: it survives the key leaving Redis.
    redis.delete(&key).await;
    assert_eq!(
        reader.get(DataClass::Bars, Tier::Shared, "AAPL:1m").await,
        Some(bytes("bars"))
    );
    redis.cleanup(&prefix).await;
}

#[tokio::test]
async fn freshness_per_tier_uses_the_insertion_time_stored_in_redis() {
    let Some(mut redis) = TestRedis::from_env("freshness_per_tier_in_redis").await else {
        return;
    };
    let config = config(Some(redis.url.clone()), "freshness_l2");
    let prefix = config.key_prefix.clone();
    let cache = Cache::connect(config).await.expect("Redis is reachable");
    let key = TestRedis::key(&prefix, DataClass::Quote, "AAPL");
    // Written by "another process" 500 ms ago: stale for premium (250 ms), fresh for shared (1 s).
    redis.put_entry(&key, now_unix_ms() - 500, b"189.50").await;

    assert_eq!(
        cache.get(DataClass::Quote, Tier::Premium, "AAPL").await,
        None
    );
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "AAPL").await,
        Some(bytes("189.50"))
    );

    // The back-fill into L1 kept the original insertion time: with Redis emptied, premium still
    // misses while shared is served from L1.
    redis.delete(&key).await;
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Premium, "AAPL").await,
        None
    );
    assert_eq!(
        cache.get(DataClass::Quote, Tier::Shared, "AAPL").await,
        Some(bytes("189.50"))
    );

    // Older than the longest TTL: a miss for everyone, and not copied into L1.
    let old = TestRedis::key(&prefix, DataClass::Quote, "IBM");
    redis.put_entry(&old, now_unix_ms() - 5_000, b"old").await;
    assert_eq!(cache.get(DataClass::Quote, Tier::Shared, "IBM").await, None);
    redis.cleanup(&prefix).await;
}

#[tokio::test]
async fn invalidation_removes_the_value_from_redis() {
    let Some(mut redis) = TestRedis::from_env("invalidation_removes_from_redis").await else {
        return;
    };
    let (first, second, prefix) = two_instances(&redis, "invalidation_l2").await;
    first
        .set(DataClass::Portfolio, "acct-1", bytes("positions"))
        .await;
    let key = TestRedis::key(&prefix, DataClass::Portfolio, "acct-1");
    assert!(
        redis.get_raw(&key).await.is_some(),
        "written through to Redis"
    );

    second.invalidate(DataClass::Portfolio, "acct-1").await;

    assert_eq!(redis.get_raw(&key).await, None, "gone from Redis");
    let third = Cache::connect(config_with_prefix(&redis, &prefix))
        .await
        .expect("Redis is reachable");
    assert_eq!(
        third
            .get(DataClass::Portfolio, Tier::Shared, "acct-1")
            .await,
        None
    );
    assert_eq!(
        second
            .get(DataClass::Portfolio, Tier::Shared, "acct-1")
            .await,
        None
    );
    redis.cleanup(&prefix).await;
}

#[tokio::test]
async fn get_many_reads_l1_misses_from_redis_in_key_order() {
    let Some(mut redis) = TestRedis::from_env("get_many_through_redis").await else {
        return;
    };
    let (writer, reader, prefix) = two_instances(&redis, "get_many_l2").await;
    writer
        .set_many(
            DataClass::Instrument,
            &[("AAPL", bytes("apple")), ("MSFT", bytes("microsoft"))],
        )
        .await;
    reader
        .set(DataClass::Instrument, "NVDA", bytes("nvidia"))
        .await; // in the reader's L1 too
    let malformed = TestRedis::key(&prefix, DataClass::Instrument, "BAD");
    redis.put_entry(&malformed, 0, b"").await; // inserted at the epoch: far too old
    let keys = ["MSFT", "IBM", "NVDA", "AAPL", "BAD"];

    let values = reader
        .get_many(DataClass::Instrument, Tier::Premium, &keys)
        .await;

    let expected = [
        Some(bytes("microsoft")),
        None,
        Some(bytes("nvidia")),
        Some(bytes("apple")),
        None,
    ];
    assert_eq!(values, expected);
    let pttl = redis
        .pttl(&TestRedis::key(&prefix, DataClass::Instrument, "AAPL"))
        .await;
    assert!(
        (299_000..=300_000).contains(&pttl),
        "set_many sets PX too: {pttl}"
    );
    redis.cleanup(&prefix).await;
}

fn config_with_prefix(redis: &TestRedis, prefix: &str) -> bourse_cache::CacheConfig {
    let mut config = config(Some(redis.url.clone()), "unused");
    config.key_prefix = prefix.to_owned();
    config
}
