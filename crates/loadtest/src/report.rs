//! The result of a run, as one serializable value: what `--json` writes (schema
//! [`SCHEMA`]), what the table on stdout and the `--chart` SVG are drawn from.
//!
//! Latencies are milliseconds as decimal numbers (`p95_ms: 4.127`), rates are per second, and
//! success ratios are fractions in [0, 1]. The README's "Load testing" section documents every
//! field.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use bourse_runtime::tier::Tier;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::sla::Check;
use crate::stats::{EndpointStats, TierStats, WINDOW};

/// Names the JSON layout; it changes when a field changes meaning or goes away.
pub const SCHEMA: &str = "bourse-loadtest/1";

/// The percentiles of the latency distribution in each tier's report: from the median to
/// 99.999 %, denser towards the tail (each step is a further tenth of the remaining requests).
pub const DISTRIBUTION: [f64; 13] = [
    0.0, 50.0, 75.0, 90.0, 95.0, 97.5, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0,
];

/// How the load was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Constant arrival rate: requests leave on schedule whether or not earlier ones have
    /// answered, and latency counts from the scheduled moment (no coordinated omission).
    Open,
    /// A fixed number of users per tier, each sending its next request a think time after
    /// the previous answer.
    Closed,
    /// Open-loop steps of rising rate until a step breaks the SLA or the duration is spent.
    Ramp,
}

/// The whole result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The base URL the load went to.
    pub target: String,
    /// `builtin` or the scenario file's name.
    pub scenario: String,
    pub mode: Mode,
    /// When the load started (RFC 3339, UTC).
    pub started_at: String,
    /// How long load was generated, in seconds (the drain of the last answers not included).
    pub duration_s: f64,
    /// One entry per tier that sent load, shared first.
    pub tiers: Vec<TierReport>,
    /// Every SLA objective checked, with its outcome. In ramp mode, those of the first step
    /// (the requested rates).
    pub sla: Vec<Check>,
    /// Whether every objective in `sla` held: the exit status is 0 exactly when it is true.
    pub passed: bool,
    /// Ramp mode only: each step's rates and outcome, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ramp: Vec<RampStep>,
}

/// What one tier measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierReport {
    pub tier: Tier,
    /// Open and ramp modes: the rate asked for (req/s; in ramp mode, the first step's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Closed mode: the number of concurrent users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    /// Requests sent (including those dropped because too many were in flight).
    pub sent: u64,
    /// Requests answered with 2xx or 3xx.
    pub succeeded: u64,
    /// `succeeded / sent` (1 when nothing was sent).
    pub success_ratio: f64,
    /// Successful answers per second of load.
    pub throughput: f64,
    pub latency: Latency,
    /// Open and ramp modes: how late the generator itself sent requests after their scheduled
    /// moments. Every latency above includes it; a p99 near the latencies themselves means the
    /// load generator was short of CPU and the run should be repeated with more room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_lag: Option<Latency>,
    /// How requests ended: an HTTP status code, `timeout`, `transport` or `dropped`.
    pub statuses: BTreeMap<String, u64>,
    /// The same per scenario request, by name.
    pub endpoints: Vec<EndpointReport>,
    /// One entry per second of load.
    pub timeline: Vec<WindowReport>,
    /// The latency at each percentile of [`DISTRIBUTION`].
    pub distribution: Vec<Quantile>,
}

/// Latency percentiles, in milliseconds, of every answered or timed-out request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Requests the percentiles are over.
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

/// One scenario request's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointReport {
    pub name: String,
    pub sent: u64,
    pub succeeded: u64,
    pub latency: Latency,
    pub statuses: BTreeMap<String, u64>,
}

/// One second of the timeline: the requests scheduled in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    /// Start of the window, in seconds from the start of the load.
    pub start_s: f64,
    pub sent: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// A point of the latency distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    /// In percent, 0 to 100.
    pub percentile: f64,
    pub latency_ms: f64,
}

/// One step of a ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampStep {
    /// From 1.
    pub step: u32,
    /// Start of the step, in seconds from the start of the load.
    pub start_s: f64,
    pub tiers: Vec<StepTier>,
    pub sla: Vec<Check>,
    /// Whether every objective held in this step.
    pub held: bool,
}

/// One tier during one ramp step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTier {
    pub tier: Tier,
    /// The rate asked for in this step (req/s).
    pub rate: f64,
    pub throughput: f64,
    pub success_ratio: f64,
    pub latency: Latency,
}

/// Milliseconds, from a histogram value in microseconds.
fn ms(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

impl Latency {
    pub fn of(histogram: &Histogram<u64>) -> Self {
        let at = |quantile: f64| ms(histogram.value_at_quantile(quantile));
        Self {
            count: histogram.len(),
            mean_ms: histogram.mean() / 1_000.0,
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: ms(histogram.max()),
        }
    }
}

/// Successes over sent, 1 when nothing was sent.
pub fn success_ratio(succeeded: u64, sent: u64) -> f64 {
    match sent {
        0 => 1.0,
        sent => succeeded as f64 / sent as f64,
    }
}

fn statuses(stats: &EndpointStats) -> BTreeMap<String, u64> {
    stats
        .statuses
        .iter()
        .map(|(status, count)| (status.label(), *count))
        .collect()
}

impl TierReport {
    /// The report of one tier's recording over `elapsed` of load.
    pub fn new(tier: Tier, stats: &TierStats, elapsed: Duration) -> Self {
        let total = stats.total();
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        Self {
            tier,
            rate: None,
            users: None,
            sent: total.sent(),
            succeeded: total.succeeded(),
            success_ratio: success_ratio(total.succeeded(), total.sent()),
            throughput: total.succeeded() as f64 / seconds,
            latency: Latency::of(&total.latency),
            send_lag: None,
            statuses: statuses(&total),
            endpoints: stats
                .endpoints
                .iter()
                .map(|(name, endpoint)| EndpointReport {
                    name: name.clone(),
                    sent: endpoint.sent(),
                    succeeded: endpoint.succeeded(),
                    latency: Latency::of(&endpoint.latency),
                    statuses: statuses(endpoint),
                })
                .collect(),
            timeline: stats
                .timeline
                .iter()
                .enumerate()
                .map(|(index, window)| {
                    let latency = Latency::of(&window.latency);
                    WindowReport {
                        start_s: (index as f64) * WINDOW.as_secs_f64(),
                        sent: window.sent,
                        errors: window.errors,
                        p50_ms: latency.p50_ms,
                        p90_ms: latency.p90_ms,
                        p99_ms: latency.p99_ms,
                        max_ms: latency.max_ms,
                    }
                })
                .collect(),
            distribution: DISTRIBUTION
                .iter()
                .map(|&percentile| Quantile {
                    percentile,
                    latency_ms: ms(total.latency.value_at_percentile(percentile)),
                })
                .collect(),
        }
    }
}

impl Report {
    /// Writes the report as pretty-printed JSON.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self).context("encoding the report")?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing the JSON report to {}", path.display()))
    }

    /// Reads a report written by [`Report::write_json`].
    pub fn read_json(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}
