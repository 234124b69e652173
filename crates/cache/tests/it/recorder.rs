//! A `metrics` recorder that keeps counters and gauges in memory, so tests can assert on them.
//! Installed per test thread with `metrics::set_default_local_recorder` (tests run on tokio's
//! current-thread runtime, so the cache's background tasks record into it too).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

#[derive(Debug, Default)]
pub(crate) struct TestRecorder {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    gauges: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl TestRecorder {
    /// The value of counter `name` with exactly `labels` (in any order), 0 if never incremented.
    pub(crate) fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        counters
            .get(&render(name, labels.iter().map(|(k, v)| (*k, *v))))
            .map_or(0, |value| value.load(Ordering::SeqCst))
    }

    /// The value of the unlabelled gauge `name`, if it was ever set.
    pub(crate) fn gauge(&self, name: &str) -> Option<f64> {
        let gauges = self.gauges.lock().unwrap_or_else(PoisonError::into_inner);
        gauges
            .get(&render(name, std::iter::empty()))
            .map(|bits| f64::from_bits(bits.load(Ordering::SeqCst)))
    }

    fn slot(map: &Mutex<HashMap<String, Arc<AtomicU64>>>, key: &Key) -> Arc<AtomicU64> {
        let rendered = render(key.name(), key.labels().map(|l| (l.key(), l.value())));
        let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(rendered).or_default())
    }
}

/// `name{a=1,b=2}` with labels sorted, so lookups do not depend on label order.
fn render<'a>(name: &str, labels: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut labels: Vec<String> = labels.map(|(k, v)| format!("{k}={v}")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Self::slot(&self.counters, key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Self::slot(&self.gauges, key))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
