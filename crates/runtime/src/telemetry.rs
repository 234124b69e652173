//! Logs, traces and metrics for a Bourse process.
//!
//! [`init`] installs the process-wide `tracing` subscriber (human or JSON logs, an `EnvFilter`,
//! and an OpenTelemetry layer that exports spans over OTLP when an endpoint is configured) and the
//! W3C trace-context propagator. [`metrics_handle`] installs the Prometheus recorder. Both are
//! process-wide and idempotent, because `bourse up` runs every service in one process and tests
//! start many servers in one binary.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Histogram buckets, in seconds, for every metric whose name ends in `_duration_seconds`:
/// from half a millisecond (a cache hit) to ten seconds (a deadline blown several times over).
pub const LATENCY_BUCKETS_SECONDS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// How often the Prometheus recorder drains its histogram buffers and forgets idle series.
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Set once the first [`init`] has installed the subscriber, so later calls do nothing.
static TELEMETRY_INSTALLED: AtomicBool = AtomicBool::new(false);

/// The one Prometheus recorder of this process.
static METRICS: OnceLock<PrometheusHandle> = OnceLock::new();

/// How log lines are written to standard output.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Coloured, one event per line, for a terminal.
    #[default]
    Human,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Command-line and environment options for logs and traces, flattened into every service's
/// arguments.
#[derive(clap::Args, Clone, Debug)]
pub struct TelemetryArgs {
    /// Log line format: `human` for a terminal, `json` for a log collector.
    #[arg(long = "log-format", env = "BOURSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,

    /// Which events to log, as a `RUST_LOG`-style filter (e.g. `info,bourse_risk=debug`).
    #[arg(long = "log", env = "BOURSE_LOG", default_value = "info")]
    pub log: String,

    /// OTLP/gRPC collector to export spans to (e.g. `http://127.0.0.1:4317`). Spans are not
    /// exported when unset; trace context is still propagated between services.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

impl Default for TelemetryArgs {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Human,
            log: "info".to_owned(),
            otlp_endpoint: None,
        }
    }
}

/// Keeps the span exporter alive; dropping it flushes and shuts the tracer provider down.
///
/// Hold it in `main` until the servers have returned. A guard from a call to [`init`] that found
/// telemetry already installed owns nothing and does nothing on drop.
#[derive(Debug)]
#[must_use = "dropping the guard shuts span export down"]
pub struct TelemetryGuard {
    /// The provider this guard shuts down; `None` when another call installed telemetry.
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Whether this guard belongs to the call that installed telemetry (false for later calls).
    pub fn is_installer(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            // The subscriber may be gone by now: stderr is the only safe place left.
            eprintln!("bourse: shutting down the span exporter failed: {error}");
        }
    }
}

/// Installs logging, tracing and trace-context propagation for this process.
///
/// The first call installs everything and returns the guard that owns the tracer provider; every
/// later call (another service in the same process, another test) returns an inert guard without
/// touching the installed subscriber. If some other code already installed a global subscriber,
/// this one is not installed either, and the call still succeeds.
///
/// The OpenTelemetry layer is always installed, so spans carry trace ids and a request's W3C
/// trace context survives every hop; spans are only exported when `args.otlp_endpoint` is set,
/// which requires a running Tokio runtime (the exporter's channel lives on it).
///
/// # Errors
/// An invalid `--log` filter, or an OTLP endpoint that cannot be used to build an exporter.
pub fn init(service_name: &str, args: &TelemetryArgs) -> anyhow::Result<TelemetryGuard> {
    // Validate first, so a bad configuration is reported even when telemetry is already set up.
    let filter = EnvFilter::try_new(&args.log)
        .with_context(|| format!("parsing the log filter {:?}", args.log))?;
    if TELEMETRY_INSTALLED.swap(true, Ordering::SeqCst) {
        tracing::debug!(service = service_name, "telemetry already initialised");
        return Ok(TelemetryGuard { provider: None });
    }
    match install(service_name, args, filter) {
        Ok(guard) => Ok(guard),
        Err(error) => {
            // Let a corrected call try again.
            TELEMETRY_INSTALLED.store(false, Ordering::SeqCst);
            Err(error)
        }
    }
}

fn install(
    service_name: &str,
    args: &TelemetryArgs,
    filter: EnvFilter,
) -> anyhow::Result<TelemetryGuard> {
    let mut provider = SdkTracerProvider::builder().with_resource(
        Resource::builder()
            .with_service_name(service_name.to_owned())
            .build(),
    );
    if let Some(endpoint) = &args.otlp_endpoint {
        tokio::runtime::Handle::try_current()
            .context("exporting spans over OTLP needs a running Tokio runtime")?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()
            .with_context(|| format!("building the OTLP span exporter for {endpoint}"))?;
        provider = provider.with_batch_exporter(exporter);
    }
    let provider = provider.build();
    let tracer = provider.tracer(service_name.to_owned());

    let fmt = match args.log_format {
        LogFormat::Human => tracing_subscriber::fmt::layer().boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed(),
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .with(fmt)
        .try_init();

    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    if installed.is_err() {
        // Someone else owns the global subscriber; our tracer would never see a span.
        let _ = provider.shutdown();
        return Ok(TelemetryGuard { provider: None });
    }
    opentelemetry::global::set_tracer_provider(provider.clone());
    tracing::info!(
        service = service_name,
        otlp = args.otlp_endpoint.is_some(),
        "telemetry initialised"
    );
    Ok(TelemetryGuard {
        provider: Some(provider),
    })
}

/// The process-wide Prometheus recorder's handle, installing the recorder on first use.
///
/// Installing also starts a small background thread that runs the recorder's upkeep, so the
/// handle works the same inside or outside a Tokio runtime and outlives any one runtime. If some
/// other recorder was installed first, a warning is logged and the returned handle renders only
/// what is recorded through it (nothing, in practice).
pub fn metrics_handle() -> PrometheusHandle {
    METRICS.get_or_init(install_recorder).clone()
}

fn install_recorder() -> PrometheusHandle {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".to_owned()),
            &LATENCY_BUCKETS_SECONDS,
        )
        .unwrap_or_else(|error| {
            // Only an empty bucket list is rejected, and the constant is not empty.
            tracing::warn!(%error, "latency buckets rejected; using summaries");
            PrometheusBuilder::new()
        });
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if let Err(error) = metrics::set_global_recorder(recorder) {
        tracing::warn!(%error, "another metrics recorder is installed; /metrics will be empty");
    }
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(METRICS_UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the metrics upkeep thread");
    }
    handle
}
