//! `Db::record_pool_metrics` publishes what the pool holds.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bourse_store::{Db, POOL_CONNECTIONS_GAUGE};
use bourse_test_support::store_test;
use metrics::{
    Counter, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};

/// Last value of each gauge, keyed by `name{label=value,...}`.
#[derive(Debug, Default, Clone)]
struct Gauges(Arc<Mutex<BTreeMap<String, f64>>>);

struct Slot {
    gauges: Gauges,
    key: String,
}

impl GaugeFn for Slot {
    fn increment(&self, value: f64) {
        self.gauges.update(&self.key, |gauge| *gauge += value);
    }
    fn decrement(&self, value: f64) {
        self.gauges.update(&self.key, |gauge| *gauge -= value);
    }
    fn set(&self, value: f64) {
        self.gauges.update(&self.key, |gauge| *gauge = value);
    }
}

impl Gauges {
    fn update(&self, key: &str, change: impl FnOnce(&mut f64)) {
        let mut map = self.0.lock().expect("gauges lock");
        change(map.entry(key.to_owned()).or_default());
    }

    fn get(&self, key: &str) -> Option<f64> {
        self.0.lock().expect("gauges lock").get(key).copied()
    }
}

impl Recorder for Gauges {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let labels: Vec<String> = key
            .labels()
            .map(|label| format!("{}={}", label.key(), label.value()))
            .collect();
        Gauge::from_arc(Arc::new(Slot {
            gauges: self.clone(),
            key: format!("{}{{{}}}", key.name(), labels.join(",")),
        }))
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn record(db: &Db) -> (f64, f64) {
    let gauges = Gauges::default();
    metrics::with_local_recorder(&gauges, || db.record_pool_metrics());
    let backend = db.backend();
    let read = |state: &str| {
        let key = format!("{POOL_CONNECTIONS_GAUGE}{{backend={backend},state={state}}}");
        gauges
            .get(&key)
            .unwrap_or_else(|| panic!("{key} was recorded"))
    };
    (read("idle"), read("in_use"))
}

store_test!(pool_gauges_follow_checkouts, |db| {
    db.ping().await.expect("ping");
    let (idle, in_use) = record(db);
    assert_eq!(in_use, 0.0, "nothing is checked out");
    assert!(
        idle >= 1.0,
        "the connection checked at connect is idle: {idle}"
    );

    let held = match db {
        Db::Postgres(pool) => {
            let conn = pool.get().await.expect("check out");
            let (_, in_use) = record(db);
            drop(conn);
            in_use
        }
        Db::Sqlite(pool) => {
            let conn = pool.get().await.expect("check out");
            let (_, in_use) = record(db);
            drop(conn);
            in_use
        }
    };
    assert_eq!(held, 1.0, "one connection checked out");
    assert_eq!(record(db).1, 0.0, "returned to the pool");
});
