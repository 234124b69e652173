//! The chart's SVG: its series, labels and axes.

use std::collections::BTreeMap;

use super::*;
use crate::report::{DISTRIBUTION, Latency, Quantile, SCHEMA, TierReport};
use crate::sla::Check;

/// A tier with `windows` seconds of timeline (the fourth second sent nothing) and a
/// distribution over [`DISTRIBUTION`], every latency scaled by `scale`.
fn tier(tier: Tier, windows: usize, scale: f64) -> TierReport {
    let latency = Latency {
        count: 1_000,
        mean_ms: 2.0 * scale,
        p50_ms: 1.5 * scale,
        p90_ms: 3.0 * scale,
        p95_ms: 4.0 * scale,
        p99_ms: 8.0 * scale,
        p999_ms: 12.0 * scale,
        max_ms: 20.0 * scale,
    };
    TierReport {
        tier,
        rate: Some(100.0),
        users: None,
        sent: 1_000,
        succeeded: 1_000,
        success_ratio: 1.0,
        throughput: 100.0,
        latency,
        send_lag: None,
        statuses: BTreeMap::new(),
        endpoints: Vec::new(),
        timeline: (0..windows)
            .map(|second| WindowReport {
                start_s: second as f64,
                sent: if second == 3 { 0 } else { 100 },
                errors: 0,
                p50_ms: (1.0 + second as f64 / 10.0) * scale,
                p90_ms: 3.0 * scale,
                p99_ms: (6.0 + second as f64) * scale,
                max_ms: 20.0 * scale,
            })
            .collect(),
        distribution: DISTRIBUTION
            .iter()
            .map(|&percentile| Quantile {
                percentile,
                latency_ms: (0.5 + percentile / 10.0) * scale,
            })
            .collect(),
    }
}

fn report(tiers: Vec<TierReport>) -> Report {
    let check = |tier: Tier, objective: Objective, target: f64| Check {
        tier,
        objective,
        target,
        actual: target / 2.0,
        held: true,
    };
    let sla = tiers
        .iter()
        .flat_map(|tier| {
            [
                check(tier.tier, Objective::P95, 50.0),
                check(tier.tier, Objective::P99, 100.0),
                check(tier.tier, Objective::Success, 99.9),
            ]
        })
        .collect();
    Report {
        schema: SCHEMA.to_owned(),
        target: "http://127.0.0.1:8080".to_owned(),
        scenario: "builtin".to_owned(),
        mode: Mode::Open,
        started_at: "2025-01-01T00:00:00Z".to_owned(),
        duration_s: 10.0,
        tiers,
        sla,
        passed: true,
        ramp: Vec::new(),
    }
}

fn both_tiers() -> Report {
    report(vec![
        tier(Tier::Shared, 10, 2.0),
        tier(Tier::Premium, 10, 1.0),
    ])
}

/// The point counts of every `<polyline>` in the document.
fn polyline_lengths(svg: &str) -> Vec<usize> {
    svg.split("<polyline")
        .skip(1)
        .map(|element| {
            let points = element
                .split("points=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default();
            points.split_whitespace().count()
        })
        .collect()
}

#[test]
fn both_tiers_get_their_lines_and_legend_labels() {
    let svg = render_svg(&both_tiers()).expect("renders");
    assert!(
        svg.trim_start().starts_with("<svg"),
        "{}",
        &svg[..80.min(svg.len())]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    for text in [
        "shared p50",
        "shared p99",
        "premium p50",
        "premium p99",
        "Latency distribution",
        "Latency over time (scenario builtin, open)",
        "shared p95 target",
        "premium p99 target",
        "99.9%",
        "max",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
    // Legend samples are two-point lines; the data lines are the longer ones: four
    // timelines of 9 windows (the empty one is skipped) and two distributions of 13 points.
    let lengths = polyline_lengths(&svg);
    assert!(lengths.len() >= 6, "{lengths:?}");
    assert_eq!(
        lengths.iter().filter(|&&n| n == 9).count(),
        4,
        "{lengths:?}"
    );
    assert_eq!(
        lengths.iter().filter(|&&n| n == DISTRIBUTION.len()).count(),
        2,
        "{lengths:?}"
    );
}

#[test]
fn an_empty_report_still_renders() {
    let svg = render_svg(&report(Vec::new())).expect("renders");
    assert!(svg.contains("<svg") && svg.contains("</svg>"));
    assert!(svg.contains("Latency distribution"));
    assert!(!svg.contains("p50"), "no tier, no line");

    let silent = report(vec![tier(Tier::Premium, 0, 1.0)]);
    let svg = render_svg(&Report {
        sla: Vec::new(),
        ..silent
    })
    .expect("renders");
    assert!(!svg.contains("premium p50"), "no window, no timeline line");
}

#[test]
fn the_nines_axis_puts_each_nine_one_step_further() {
    for (percentile, expected) in [(0.0, 0.0), (90.0, 1.0), (99.0, 2.0), (99.9, 3.0)] {
        let x = nines(percentile);
        assert!((x - expected).abs() < 1e-9, "{percentile}: {x}");
    }
    assert_eq!(percentile_label(nines(50.0)), "50%");
    assert_eq!(percentile_label(1.0), "90%");
    assert_eq!(percentile_label(3.0), "99.9%");
    assert_eq!(percentile_label(5.0), "99.999%");
}

#[test]
fn write_svg_writes_what_render_svg_draws() {
    let report = both_tiers();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("chart.svg");
    write_svg(&report, &path).expect("writes");
    let written = std::fs::read_to_string(&path).expect("reads back");
    assert_eq!(written, render_svg(&report).expect("renders"));
}
