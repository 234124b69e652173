//! `bourse loadtest` against the real platform: the built-in scenario is a valid use of the
//! REST API (every request succeeds), and the exit status follows the SLA verdict.

use std::path::Path;

use serde_json::Value;
use tokio::process::Command;

use crate::rest::Rest;

/// Runs the `bourse` binary's load test against `rest` with both demo keys.
async fn loadtest(rest: &Rest, extra: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_bourse"))
        .args(["loadtest", "--target", &rest.base])
        .args([
            "--premium-key",
            &rest.premium_key,
            "--shared-key",
            &rest.shared_key,
        ])
        .args(extra)
        .output()
        .await
        .expect("bourse runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.is_empty() || output.status.code() != Some(1),
        "{stderr}"
    );
    (output.status.code(), stdout)
}

fn report(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the JSON report")).expect("JSON")
}

#[tokio::test]
async fn the_builtin_scenario_succeeds_and_the_exit_status_follows_the_sla() {
    let rest = Rest::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("report.json");
    let json_arg = json.display().to_string();

    // Latency targets a debug build can meet; the success floors stay the defaults.
    let (code, stdout) = loadtest(
        &rest,
        &[
            "--duration",
            "2s",
            "--shared-rate",
            "100",
            "--premium-rate",
            "50",
            "--premium-p95",
            "10s",
            "--premium-p99",
            "10s",
            "--shared-p95",
            "10s",
            "--shared-p99",
            "10s",
            "--json",
            &json_arg,
        ],
    )
    .await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("every objective held"), "{stdout}");
    let report = report(&json);
    let mut names = Vec::new();
    for tier in report["tiers"].as_array().expect("tiers") {
        assert_eq!(
            tier["success_ratio"], 1.0,
            "every request succeeds: {tier:#}"
        );
        for endpoint in tier["endpoints"].as_array().expect("endpoints") {
            names.push(endpoint["name"].as_str().expect("a name").to_owned());
        }
    }
    for name in [
        "portfolio",
        "positions",
        "valuation",
        "quote",
        "quotes",
        "bars",
        "score",
        "sentiment",
        "risk",
        "order",
    ] {
        assert!(
            names.iter().any(|sent| sent == name),
            "no {name} request was sent"
        );
    }

    // The same load with an unreachable premium p95 breaks the SLA: exit status 3.
    let (code, stdout) = loadtest(
        &rest,
        &[
            "--duration",
            "1s",
            "--shared-rate",
            "20",
            "--premium-rate",
            "20",
            "--premium-p95",
            "1us",
        ],
    )
    .await;
    assert_eq!(code, Some(bourse::EXIT_SLA_BROKEN.into()), "{stdout}");
    assert!(stdout.contains("FAILED"), "{stdout}");
}
