//! What a run measured: HDR latency histograms and answer counts per endpoint, and a timeline of
//! one-second windows, for one tier.
//!
//! Latency is kept in microseconds from 1 µs to 60 s at three significant digits, so a
//! percentile read back is within 0.1 % of the true value. [`TierStats::merge`] adds two
//! recordings exactly (histogram buckets and counts add), which is how per-step and per-task
//! recordings become one.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Highest latency a histogram holds, in microseconds; longer answers are clamped to it.
const HIGHEST_US: u64 = 60_000_000;
/// Significant decimal digits the histograms keep.
const SIGNIFICANT_DIGITS: u8 = 3;
/// Width of a timeline window.
pub const WINDOW: Duration = Duration::from_secs(1);

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// An HTTP answer with this status code.
    Http(u16),
    /// No answer within the request timeout.
    Timeout,
    /// The connection failed or broke before an answer.
    Transport,
    /// Never sent: the tier already had its most requests in flight.
    Dropped,
}

impl Status {
    /// 2xx and 3xx answers count as successes; everything else is an error.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Http(code) if (200..400).contains(&code))
    }

    /// Whether the request's latency is known: an answer, or a timeout (whose latency is at
    /// least the timeout, and leaving it out would hide the worst requests).
    fn has_latency(self) -> bool {
        matches!(self, Status::Http(_) | Status::Timeout)
    }

    /// The key used in reports: the status code, `timeout`, `transport` or `dropped`.
    pub fn label(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Http(code) => write!(f, "{code}"),
            Status::Timeout => f.write_str("timeout"),
            Status::Transport => f.write_str("transport"),
            Status::Dropped => f.write_str("dropped"),
        }
    }
}

/// A new, empty latency histogram.
pub fn histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts, so this cannot fail.
    Histogram::new_with_bounds(1, HIGHEST_US, SIGNIFICANT_DIGITS)
        .expect("constant histogram bounds are valid")
}

fn record_latency(histogram: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    histogram.saturating_record(micros.clamp(1, HIGHEST_US));
}

fn add(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    // Both have the same bounds (made by `histogram()`), so adding cannot fail.
    into.add(from)
        .expect("histograms with the same bounds always add");
}

/// Latency and answers of one endpoint (or of a whole tier).
#[derive(Debug, Clone)]
pub struct EndpointStats {
    /// Latency of every answered or timed-out request.
    pub latency: Histogram<u64>,
    /// How many requests ended each way.
    pub statuses: BTreeMap<Status, u64>,
}

impl Default for EndpointStats {
    fn default() -> Self {
        Self {
            latency: histogram(),
            statuses: BTreeMap::new(),
        }
    }
}

impl EndpointStats {
    fn record(&mut self, status: Status, latency: Duration) {
        if status.has_latency() {
            record_latency(&mut self.latency, latency);
        }
        *self.statuses.entry(status).or_default() += 1;
    }

    /// Adds another recording to this one.
    pub fn merge(&mut self, other: &EndpointStats) {
        add(&mut self.latency, &other.latency);
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
    }

    /// Every request, however it ended.
    pub fn sent(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Requests that got a 2xx or 3xx answer.
    pub fn succeeded(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| status.is_success())
            .map(|(_, count)| count)
            .sum()
    }

    /// Requests that did not succeed.
    pub fn errors(&self) -> u64 {
        self.sent() - self.succeeded()
    }
}

/// One timeline window: what requests scheduled in it measured.
#[derive(Debug, Clone)]
pub struct Window {
    pub latency: Histogram<u64>,
    pub sent: u64,
    pub errors: u64,
}

impl Default for Window {
    fn default() -> Self {
        Self {
            latency: histogram(),
            sent: 0,
            errors: 0,
        }
    }
}

/// Everything one tier measured.
#[derive(Debug, Clone)]
pub struct TierStats {
    /// Per endpoint (the scenario's request names).
    pub endpoints: BTreeMap<String, EndpointStats>,
    /// Window `i` holds the requests scheduled in `[i, i + 1)` seconds from the start.
    pub timeline: Vec<Window>,
    /// Open loop: how late the generator itself sent each request after its scheduled moment
    /// (timer granularity, a busy machine). Part of every latency measured, so a large lag says
    /// the generator, not the target, needs more room.
    pub lag: Histogram<u64>,
}

impl Default for TierStats {
    fn default() -> Self {
        Self {
            endpoints: BTreeMap::new(),
            timeline: Vec::new(),
            lag: histogram(),
        }
    }
}

impl TierStats {
    /// Records one request: its endpoint, when it was scheduled (from the start of the run) and
    /// how it ended.
    pub fn record(
        &mut self,
        endpoint: &str,
        scheduled: Duration,
        status: Status,
        latency: Duration,
    ) {
        match self.endpoints.get_mut(endpoint) {
            Some(stats) => stats.record(status, latency),
            None => {
                let mut stats = EndpointStats::default();
                stats.record(status, latency);
                self.endpoints.insert(endpoint.to_owned(), stats);
            }
        }
        let index = usize::try_from(scheduled.as_secs() / WINDOW.as_secs()).unwrap_or(usize::MAX);
        if self.timeline.len() <= index {
            self.timeline.resize_with(index + 1, Window::default);
        }
        let window = &mut self.timeline[index];
        window.sent += 1;
        if !status.is_success() {
            window.errors += 1;
        }
        if status.has_latency() {
            record_latency(&mut window.latency, latency);
        }
    }

    /// Records how late the generator sent a request after its scheduled moment.
    pub fn record_lag(&mut self, lag: Duration) {
        record_latency(&mut self.lag, lag);
    }

    /// Adds another recording of the same tier to this one, endpoint by endpoint and window by
    /// window.
    pub fn merge(&mut self, other: &TierStats) {
        add(&mut self.lag, &other.lag);
        for (endpoint, stats) in &other.endpoints {
            self.endpoints
                .entry(endpoint.clone())
                .or_default()
                .merge(stats);
        }
        if self.timeline.len() < other.timeline.len() {
            self.timeline
                .resize_with(other.timeline.len(), Window::default);
        }
        for (mine, theirs) in self.timeline.iter_mut().zip(&other.timeline) {
            add(&mut mine.latency, &theirs.latency);
            mine.sent += theirs.sent;
            mine.errors += theirs.errors;
        }
    }

    /// The windows from second `from` up to (not including) second `to`, merged: a stretch of
    /// the run such as a ramp step.
    pub fn span(&self, from: usize, to: usize) -> Window {
        let mut span = Window::default();
        for window in self.timeline.iter().take(to).skip(from) {
            add(&mut span.latency, &window.latency);
            span.sent += window.sent;
            span.errors += window.errors;
        }
        span
    }

    /// The tier as a whole: every endpoint merged.
    pub fn total(&self) -> EndpointStats {
        let mut total = EndpointStats::default();
        for stats in self.endpoints.values() {
            total.merge(stats);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn merging_two_recordings_equals_recording_everything_in_one() {
        let mut whole = TierStats::default();
        let mut first = TierStats::default();
        let mut second = TierStats::default();
        for i in 0..2_000u64 {
            let (endpoint, status) = match i % 7 {
                0 => ("portfolio", Status::Http(503)),
                1 | 2 => ("portfolio", Status::Http(200)),
                3 => ("quote", Status::Timeout),
                _ => ("quote", Status::Http(200)),
            };
            let scheduled = Duration::from_millis(i * 3);
            let latency = Duration::from_micros(100 + i * i % 90_000);
            whole.record(endpoint, scheduled, status, latency);
            whole.record_lag(Duration::from_micros(i));
            let half = if i % 2 == 0 { &mut first } else { &mut second };
            half.record(endpoint, scheduled, status, latency);
            half.record_lag(Duration::from_micros(i));
        }
        first.merge(&second);

        assert_eq!(first.endpoints.len(), whole.endpoints.len());
        for (endpoint, stats) in &whole.endpoints {
            let merged = &first.endpoints[endpoint];
            assert_eq!(merged.statuses, stats.statuses, "{endpoint}");
            assert_eq!(merged.latency, stats.latency, "{endpoint}");
        }
        assert_eq!(first.timeline.len(), whole.timeline.len());
        for (merged, window) in first.timeline.iter().zip(&whole.timeline) {
            assert_eq!((merged.sent, merged.errors), (window.sent, window.errors));
            assert_eq!(merged.latency, window.latency);
        }
        assert_eq!(first.lag, whole.lag);
        let total = first.total();
        assert_eq!(total.sent(), 2_000);
        let failing = (0..2_000u64).filter(|i| i % 7 == 0 || i % 7 == 3).count();
        assert_eq!(total.errors(), failing as u64, "503s and timeouts");
        assert_eq!(
            total.latency.len(),
            2_000,
            "503s and timeouts have a latency"
        );
    }

    #[test]
    fn percentiles_read_back_within_the_histogram_precision() {
        let mut stats = EndpointStats::default();
        for i in 1..=10_000u64 {
            stats.record(Status::Http(200), Duration::from_micros(i * 10));
        }
        // The true p99 is 99,000 µs; three significant digits keep it within 0.1 %.
        let p99 = stats.latency.value_at_quantile(0.99);
        assert!((98_900..=99_100).contains(&p99), "p99 {p99} µs");
        assert_eq!(
            stats.latency.max(),
            stats.latency.highest_equivalent(100_000)
        );
    }

    #[test]
    fn only_answered_and_timed_out_requests_have_a_latency() {
        let mut stats = TierStats::default();
        stats.record("q", ms(0), Status::Http(200), ms(2));
        stats.record("q", ms(10), Status::Http(429), ms(1));
        stats.record("q", ms(20), Status::Timeout, ms(5_000));
        stats.record("q", ms(30), Status::Transport, ms(0));
        stats.record("q", ms(1_500), Status::Dropped, ms(0));
        let total = stats.total();
        assert_eq!(total.latency.len(), 3);
        assert_eq!((total.sent(), total.succeeded(), total.errors()), (5, 1, 4));
        assert_eq!(stats.timeline.len(), 2);
        assert_eq!((stats.timeline[0].sent, stats.timeline[0].errors), (4, 3));
        assert_eq!((stats.timeline[1].sent, stats.timeline[1].errors), (1, 1));
    }

    #[test]
    fn redirects_count_as_successes() {
        assert!(Status::Http(304).is_success());
        assert!(!Status::Http(404).is_success());
        assert!(!Status::Timeout.is_success());
    }
}
