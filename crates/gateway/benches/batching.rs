//! Batching and coalescing on vs off under the same concurrent load.
//!
//! Real market-data instances (the integration tests' harness, demo data on SQLite) behind
//! gateways that differ only in `--batching` and `--coalescing`. Each mode gets the same
//! closed-loop load: [`CLIENTS`] concurrent clients, each sending `GET /v1/quotes/{symbol}` over
//! the demo symbols and the next request as soon as the previous one is answered, for
//! [`RUN_TIME`]. Prints a markdown table: requests, throughput, latency percentiles, and the
//! backend calls the instances received, per request.
//!
//! `cargo bench -p bourse-gateway --bench batching`. The clients, gateway and instances share
//! one process and its cores, so absolute numbers are the machine's; the modes' ratios are the
//! result. `BOURSE_BENCH_SECONDS` and `BOURSE_BENCH_BACKEND_DELAY_MS` (a delay added at the
//! instances, standing for a network hop) change the run.

#[expect(dead_code, reason = "the benchmark uses part of the test harness")]
#[path = "../tests/it/support.rs"]
mod support;

use std::time::{Duration, Instant};

use bourse_gateway::GatewayArgs;
use bourse_runtime::tier::Tier;
use hdrhistogram::Histogram;

use crate::support::{Platform, Service, Setup};

/// Concurrent clients.
const CLIENTS: usize = 64;
/// How long each mode runs, unless `BOURSE_BENCH_SECONDS` says otherwise.
const RUN_TIME: Duration = Duration::from_secs(5);
/// The demo symbols the clients ask for, with repeats: coalescing has something to share.
const SYMBOLS: [&str; 14] = [
    "AAPL", "BAC", "CVX", "GE", "JNJ", "JPM", "KO", "LLY", "MRK", "PEP", "PFE", "RRC", "WMT", "XOM",
];
/// A rate limit no client reaches: the benchmark measures batching, not the limiter.
const UNLIMITED: i32 = 1_000_000;

/// One gateway configuration.
struct Mode {
    name: &'static str,
    batching: bool,
    coalescing: bool,
}

const MODES: [Mode; 4] = [
    Mode {
        name: "off",
        batching: false,
        coalescing: false,
    },
    Mode {
        name: "coalescing",
        batching: false,
        coalescing: true,
    },
    Mode {
        name: "batching",
        batching: true,
        coalescing: false,
    },
    Mode {
        name: "batching + coalescing",
        batching: true,
        coalescing: true,
    },
];

/// What one mode's run measured.
struct Outcome {
    requests: u64,
    failures: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
    backend_calls: usize,
}

#[tokio::main]
async fn main() {
    let run_time = env_number("BOURSE_BENCH_SECONDS").map_or(RUN_TIME, Duration::from_secs);
    let backend_delay =
        env_number("BOURSE_BENCH_BACKEND_DELAY_MS").map_or(Duration::ZERO, Duration::from_millis);
    let mut platform = Platform::start_with(Setup::default(), |_| {}).await;
    let key = platform.key(Tier::Shared, Some(UNLIMITED)).await;
    for instance in platform.pool(Service::MarketData, Tier::Shared) {
        instance.recorder.set_delay(backend_delay);
    }

    println!(
        "{CLIENTS} clients, closed loop, {}s per mode, GET /v1/quotes/{{symbol}} over {} symbols, \
         backend delay {backend_delay:?}, {} cores\n",
        run_time.as_secs(),
        SYMBOLS.len(),
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    println!(
        "| mode | requests | failures | throughput (req/s) | p50 (ms) | p99 (ms) | backend calls | backend calls / request |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for mode in &MODES {
        let mut args = platform.gateway_args();
        configure(&mut args, mode);
        let mut gateway = platform.start_gateway(&args).await;
        std::mem::swap(&mut platform.gateway, &mut gateway);
        let outcome = run(&platform, &key, run_time).await;
        std::mem::swap(&mut platform.gateway, &mut gateway);
        gateway.stop().await;
        print_row(mode, &outcome);
    }
    platform.stop().await;
}

fn configure(args: &mut GatewayArgs, mode: &Mode) {
    args.batching.batching = mode.batching;
    args.batching.coalescing = mode.coalescing;
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// Runs the closed-loop load against the platform's gateway for `run_time`.
async fn run(platform: &Platform, key: &str, run_time: Duration) -> Outcome {
    // Warm the connections and caches, then count from zero.
    for symbol in SYMBOLS {
        let _ = platform
            .get(key, &format!("/v1/quotes/{symbol}"))
            .send()
            .await;
    }
    platform.clear_calls();

    let started = Instant::now();
    let until = started + run_time;
    let clients = (0..CLIENTS).map(|client| {
        let request = move |index: usize| {
            let symbol = SYMBOLS[(client * 5 + index * 3) % SYMBOLS.len()];
            platform.get(key, &format!("/v1/quotes/{symbol}"))
        };
        async move {
            let mut latency = new_histogram();
            let mut failures = 0_u64;
            let mut index = 0;
            while Instant::now() < until {
                let sent = Instant::now();
                let ok = match request(index).send().await {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        ok && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                latency.saturating_record(micros);
                failures += u64::from(!ok);
                index += 1;
            }
            (latency, failures)
        }
    });
    let results = futures::future::join_all(clients).await;
    let elapsed = started.elapsed();

    let mut latency = new_histogram();
    let mut failures = 0;
    for (client_latency, client_failures) in results {
        latency
            .add(&client_latency)
            .expect("histograms of the same bounds");
        failures += client_failures;
    }
    Outcome {
        requests: latency.len(),
        failures,
        elapsed,
        latency,
        backend_calls: platform.calls(Service::MarketData, Tier::Shared).len(),
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

fn print_row(mode: &Mode, outcome: &Outcome) {
    let millis = |quantile| outcome.latency.value_at_quantile(quantile) as f64 / 1_000.0;
    let requests = outcome.requests.max(1) as f64;
    println!(
        "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.3} |",
        mode.name,
        outcome.requests,
        outcome.failures,
        requests / outcome.elapsed.as_secs_f64(),
        millis(0.5),
        millis(0.99),
        outcome.backend_calls,
        outcome.backend_calls as f64 / requests,
    );
}
