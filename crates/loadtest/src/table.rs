//! The human-readable result: tables in Markdown layout, so they paste into a README as they
//! are.

use comfy_table::presets::ASCII_MARKDOWN;
use comfy_table::{CellAlignment, Table};

use crate::report::{Latency, Report};
use crate::sla::Check;

/// Prints every table of the report on stdout.
pub fn print(report: &Report) {
    println!("{}", render(report));
}

/// The tables of the report, each preceded by a title line.
pub fn render(report: &Report) -> String {
    let mut out = format!(
        "{} load, scenario {}, {:.0} s against {}\n\n{}\n\n{}\n",
        mode_name(report),
        report.scenario,
        report.duration_s,
        report.target,
        tiers(report),
        endpoints(report),
    );
    for tier in &report.tiers {
        if let Some(lag) = &tier.send_lag {
            out.push_str(&format!(
                "{}: requests left {} after their scheduled time on average, {} at p99 \
                 (included in the latencies above)\n",
                tier.tier,
                ms(lag.mean_ms),
                ms(lag.p99_ms)
            ));
        }
    }
    if !report.ramp.is_empty() {
        out.push_str(&format!("\nRamp\n\n{}\n", ramp(report)));
    }
    let verdict = if report.passed {
        "SLA: every objective held"
    } else {
        "SLA: FAILED"
    };
    out.push_str(&format!("\n{verdict}\n\n{}\n", sla(&report.sla)));
    out
}

fn mode_name(report: &Report) -> &'static str {
    match report.mode {
        crate::report::Mode::Open => "Open-loop",
        crate::report::Mode::Closed => "Closed-loop",
        crate::report::Mode::Ramp => "Ramp",
    }
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(ASCII_MARKDOWN)
        .set_header(header.to_vec());
    table
}

/// Right-aligns every column after the first `text_columns`.
fn align_numbers(mut table: Table, text_columns: usize) -> Table {
    for column in table.column_iter_mut().skip(text_columns) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    table
}

pub fn ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2} ms")
    } else {
        format!("{value:.1} ms")
    }
}

fn percent(ratio: f64) -> String {
    format!("{:.3} %", ratio * 100.0)
}

fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn latency_cells(latency: &Latency) -> Vec<String> {
    [
        latency.p50_ms,
        latency.p90_ms,
        latency.p95_ms,
        latency.p99_ms,
        latency.p999_ms,
        latency.max_ms,
    ]
    .into_iter()
    .map(ms)
    .collect()
}

fn tiers(report: &Report) -> Table {
    let mut table = table(&[
        "tier",
        "load",
        "sent",
        "throughput",
        "success",
        "p50",
        "p90",
        "p95",
        "p99",
        "p99.9",
        "max",
        "not 2xx/3xx",
    ]);
    for tier in &report.tiers {
        let load = match (tier.rate, tier.users) {
            (Some(rate), _) => format!("{rate:.0} req/s"),
            (None, Some(users)) => format!("{users} users"),
            (None, None) => String::new(),
        };
        let errors: Vec<String> = tier
            .statuses
            .iter()
            .filter(|(status, _)| !status.starts_with('2') && !status.starts_with('3'))
            .map(|(status, n)| format!("{status}: {}", count(*n)))
            .collect();
        let mut row = vec![
            tier.tier.to_string(),
            load,
            count(tier.sent),
            format!("{:.1} req/s", tier.throughput),
            percent(tier.success_ratio),
        ];
        row.extend(latency_cells(&tier.latency));
        row.push(if errors.is_empty() {
            "none".to_owned()
        } else {
            errors.join(", ")
        });
        table.add_row(row);
    }
    align_numbers(table, 2)
}

fn endpoints(report: &Report) -> Table {
    let mut table = table(&[
        "tier", "request", "sent", "success", "p50", "p95", "p99", "max",
    ]);
    for tier in &report.tiers {
        for endpoint in &tier.endpoints {
            let success = match endpoint.sent {
                0 => 1.0,
                sent => endpoint.succeeded as f64 / sent as f64,
            };
            let l = &endpoint.latency;
            table.add_row(vec![
                tier.tier.to_string(),
                endpoint.name.clone(),
                count(endpoint.sent),
                percent(success),
                ms(l.p50_ms),
                ms(l.p95_ms),
                ms(l.p99_ms),
                ms(l.max_ms),
            ]);
        }
    }
    align_numbers(table, 2)
}

fn ramp(report: &Report) -> Table {
    let mut table = table(&[
        "step",
        "tier",
        "rate",
        "throughput",
        "success",
        "p95",
        "p99",
        "SLA",
    ]);
    for step in &report.ramp {
        for tier in &step.tiers {
            let held = step
                .sla
                .iter()
                .filter(|check| check.tier == tier.tier)
                .all(|check| check.held);
            table.add_row(vec![
                step.step.to_string(),
                tier.tier.to_string(),
                format!("{:.0} req/s", tier.rate),
                format!("{:.1} req/s", tier.throughput),
                percent(tier.success_ratio),
                ms(tier.latency.p95_ms),
                ms(tier.latency.p99_ms),
                (if held { "held" } else { "broken" }).to_owned(),
            ]);
        }
    }
    align_numbers(table, 2)
}

fn sla(checks: &[Check]) -> Table {
    let mut table = table(&["tier", "objective", "target", "actual", "result"]);
    for check in checks {
        let value = |v: f64| match check.unit() {
            "ms" => ms(v),
            _ => format!("{v:.3} %"),
        };
        let result = match check.shortfall() {
            None => "held".to_owned(),
            Some(by) => match check.unit() {
                "ms" => format!("FAILED: {} over", ms(by)),
                _ => format!("FAILED: {by:.3} points under"),
            },
        };
        let bound = if check.unit() == "ms" { "< " } else { ">= " };
        table.add_row(vec![
            check.tier.to_string(),
            check.name().to_owned(),
            format!("{bound}{}", value(check.target)),
            value(check.actual),
            result,
        ]);
    }
    align_numbers(table, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
