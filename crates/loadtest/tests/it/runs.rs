//! Whole runs through [`bourse_loadtest::run`].

use std::time::Duration;

use bourse_loadtest::LoadtestArgs;
use bourse_loadtest::report::{Mode, Report};
use bourse_loadtest::sla::Objective;
use bourse_runtime::tier::Tier;
use clap::Parser;

use crate::stub::{PREMIUM_KEY, SHARED_KEY, Stub};

#[derive(Debug, Parser)]
struct Command {
    #[command(flatten)]
    args: LoadtestArgs,
}

/// Two kinds of GET, weighted 3:1, no set-up.
const SCENARIO: &str = r#"{"name": "two reads", "requests": [
    {"name": "quote", "weight": 3, "method": "GET", "path": "/v1/quotes/AAPL"},
    {"name": "bars", "weight": 1, "method": "GET", "path": "/v1/bars/AAPL?period=1mo"}]}"#;

struct Run {
    stub: Stub,
    dir: tempfile::TempDir,
}

impl Run {
    async fn new(service: Duration) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("scenario.json"), SCENARIO).expect("write scenario");
        Self {
            stub: Stub::start(service).await,
            dir,
        }
    }

    /// The arguments of a run against the stub with both keys, the two-read scenario and the
    /// reports in the temp dir, then `extra`.
    fn args(&self, extra: &[&str]) -> LoadtestArgs {
        let dir = self.dir.path();
        let mut argv = vec![
            "loadtest".to_owned(),
            "--target".to_owned(),
            self.stub.url(),
            "--premium-key".to_owned(),
            PREMIUM_KEY.to_owned(),
            "--shared-key".to_owned(),
            SHARED_KEY.to_owned(),
            "--scenario".to_owned(),
            dir.join("scenario.json").display().to_string(),
            "--json".to_owned(),
            dir.join("report.json").display().to_string(),
            "--chart".to_owned(),
            dir.join("report.svg").display().to_string(),
        ];
        argv.extend(extra.iter().map(|arg| (*arg).to_owned()));
        Command::try_parse_from(argv).expect("valid arguments").args
    }

    async fn run(&self, extra: &[&str]) -> Report {
        bourse_loadtest::run(self.args(extra))
            .await
            .expect("the run completes")
    }
}

fn tier(report: &Report, tier: Tier) -> &bourse_loadtest::report::TierReport {
    report
        .tiers
        .iter()
        .find(|report| report.tier == tier)
        .expect("the tier ran")
}

#[tokio::test]
async fn sends_each_tier_at_its_rate_and_measures_no_less_than_the_service_time() {
    let run = Run::new(Duration::from_millis(3)).await;
    let report = run
        .run(&[
            "--shared-rate",
            "200",
            "--premium-rate",
            "100",
            "--duration",
            "2s",
        ])
        .await;

    // The stub saw exactly the scheduled requests: rate × duration per tier.
    assert_eq!(run.stub.count("shared"), 400);
    assert_eq!(run.stub.count("premium"), 200);
    let (shared, premium) = (tier(&report, Tier::Shared), tier(&report, Tier::Premium));
    assert_eq!((shared.sent, shared.succeeded), (400, 400));
    assert_eq!((premium.sent, premium.succeeded), (200, 200));
    let per_second: Vec<u64> = shared.timeline.iter().map(|window| window.sent).collect();
    assert_eq!(per_second, [200, 200]);
    assert_eq!(shared.statuses["200"], 400);
    // The weights 3:1 show in the per-request counts.
    let quotes = shared
        .endpoints
        .iter()
        .find(|e| e.name == "quote")
        .expect("quotes");
    assert!(
        (250..=350).contains(&quotes.sent),
        "{} of 400 were quotes",
        quotes.sent
    );
    // No latency can be below the service time; the open loop measures from the schedule.
    assert!(premium.latency.p50_ms >= 3.0, "{:?}", premium.latency);
    assert!(
        shared.distribution[0].latency_ms >= 3.0,
        "{:?}",
        shared.distribution
    );
    assert!(
        report.passed,
        "3 ms answers hold the default SLA: {:?}",
        report.sla
    );
    assert_eq!(report.sla.len(), 6);
}

#[tokio::test]
async fn the_verdict_follows_the_numbers_and_names_what_failed() {
    let run = Run::new(Duration::from_millis(5)).await;
    let args = [
        "--shared-rate",
        "50",
        "--premium-rate",
        "50",
        "--duration",
        "1s",
        "--premium-p95",
        "1ms",
        "--shared-p99",
        "10s",
    ];
    let report = run.run(&args).await;
    assert!(!report.passed);
    let failed: Vec<_> = report.sla.iter().filter(|check| !check.held).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        (failed[0].tier, failed[0].objective),
        (Tier::Premium, Objective::P95)
    );
    let over = failed[0].shortfall().expect("failed");
    assert!(
        over >= 4.0,
        "5 ms answers exceed 1 ms by at least 4 ms, got {over}"
    );

    let report = run
        .run(&[
            "--shared-rate",
            "50",
            "--premium-rate",
            "50",
            "--duration",
            "1s",
        ])
        .await;
    assert!(report.passed, "{:?}", report.sla);
}

#[tokio::test]
async fn the_json_report_round_trips_and_the_chart_has_every_series() {
    let run = Run::new(Duration::from_millis(1)).await;
    let report = run
        .run(&[
            "--shared-rate",
            "100",
            "--premium-rate",
            "50",
            "--duration",
            "2s",
        ])
        .await;
    let read = Report::read_json(&run.dir.path().join("report.json")).expect("a JSON report");
    assert_eq!(read, report);
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.dir.path().join("report.json")).expect("read"),
    )
    .expect("JSON");
    assert_eq!(json["schema"], "bourse-loadtest/1");
    assert_eq!(json["tiers"][0]["tier"], "shared");
    assert_eq!(json["sla"][0]["objective"], "p95");

    let svg = std::fs::read_to_string(run.dir.path().join("report.svg")).expect("an SVG");
    assert!(svg.contains("<svg"), "not an SVG");
    for series in ["shared p50", "shared p99", "premium p50", "premium p99"] {
        assert!(svg.contains(series), "no {series} series");
    }
}

#[tokio::test]
async fn sets_up_a_portfolio_per_key_for_the_builtin_scenario() {
    let run = Run::new(Duration::ZERO).await;
    let mut args = run.args(&[
        "--shared-rate",
        "100",
        "--premium-rate",
        "100",
        "--duration",
        "1s",
    ]);
    args.scenario = "builtin".to_owned();
    let report = bourse_loadtest::run(args).await.expect("the run completes");
    assert!(report.passed, "{:?}", report.sla);

    let received = run.stub.received();
    for tier in ["shared", "premium"] {
        let own: Vec<_> = received.iter().filter(|r| r.tier == tier).collect();
        assert_eq!(own[0].path, "/v1/portfolios", "the portfolio comes first");
        // Five holdings bought, then the scenario's requests use the tier's own portfolio.
        let setup_buys = own[1..6]
            .iter()
            .filter(|r| r.path == format!("/v1/portfolios/p-{tier}/orders"))
            .count();
        assert_eq!(setup_buys, 5);
        let portfolio_reads = own[6..]
            .iter()
            .filter(|r| r.path.starts_with("/v1/portfolios/"))
            .count();
        assert!(portfolio_reads > 0);
        assert!(
            own.iter().all(|r| !r.path.contains('{')),
            "every placeholder is filled"
        );
        assert_eq!(own.len(), 1 + 5 + 100);
    }
}

#[tokio::test]
async fn closed_mode_runs_its_users() {
    let run = Run::new(Duration::from_millis(2)).await;
    let report = run
        .run(&[
            "--mode",
            "closed",
            "--shared-users",
            "4",
            "--premium-users",
            "2",
            "--think-time",
            "20ms",
            "--duration",
            "1s",
        ])
        .await;
    assert_eq!(report.mode, Mode::Closed);
    let shared = tier(&report, Tier::Shared);
    assert_eq!(shared.users, Some(4));
    assert_eq!(shared.rate, None);
    // Four users, each at most one request per 22 ms.
    assert!(shared.sent > 4 && shared.sent <= 4 * 46, "{}", shared.sent);
    assert_eq!(shared.sent, shared.succeeded);
    assert_eq!(run.stub.count("shared") as u64, shared.sent);
}

#[tokio::test]
async fn ramp_mode_steps_up_until_the_sla_breaks() {
    let run = Run::new(Duration::from_millis(2)).await;
    let steps = [
        "--mode",
        "ramp",
        "--shared-rate",
        "20",
        "--premium-rate",
        "10",
        "--ramp-step",
        "1s",
        "--ramp-increase",
        "100",
        "--duration",
        "3s",
    ];
    let report = run.run(&steps).await;
    let rates: Vec<f64> = report.ramp.iter().map(|step| step.tiers[0].rate).collect();
    assert_eq!(rates, [20.0, 40.0, 60.0], "three held steps fill 3 s");
    assert!(report.ramp.iter().all(|step| step.held));
    assert!(report.passed);

    let mut broken = steps.to_vec();
    broken.extend(["--shared-p95", "1ms"]);
    let report = run.run(&broken).await;
    assert_eq!(
        report.ramp.len(),
        1,
        "the first step already breaks the SLA"
    );
    assert!(!report.ramp[0].held);
    assert!(!report.passed);
}

#[tokio::test]
async fn refuses_a_remote_target_before_sending_anything() {
    let run = Run::new(Duration::ZERO).await;
    let mut args = run.args(&[]);
    args.target = "http://192.0.2.10:8080".parse().expect("a URL");
    let error = bourse_loadtest::run(args).await.expect_err("refused");
    assert!(format!("{error:#}").contains("--allow-remote"), "{error:#}");
    assert!(run.stub.received().is_empty());
}
