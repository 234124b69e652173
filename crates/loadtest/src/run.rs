//! One whole run: set up each tier, generate the load in the chosen mode, judge it against the
//! SLA and write the reports.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::Context as _;
use bourse_runtime::tier::Tier;
use futures::future::join_all;
use tokio::time::Instant;

use crate::args::LoadtestArgs;
use crate::client::{Client, HttpClient};
use crate::drive::{Pacing, Schedule, TierLoad, lock};
use crate::progress::Progress;
use crate::report::{Latency, Mode, RampStep, Report, SCHEMA, StepTier, TierReport, success_ratio};
use crate::scenario::{Scenario, Vars};
use crate::sla::{Check, Sla, SlaFile};
use crate::stats::WINDOW;
use crate::{chart, table};

/// One tier of the run.
struct Tiered<C> {
    tier: Tier,
    load: TierLoad<C>,
    sla: Sla,
}

/// Runs `bourse loadtest` and prints its tables. The report says whether every SLA held.
pub async fn run(args: LoadtestArgs) -> anyhow::Result<Report> {
    args.check()?;
    let scenario = Arc::new(Scenario::load(&args.scenario)?);
    let sla_file = args.sla.as_deref().map(SlaFile::read).transpose()?;
    let run_id = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f").to_string();

    let mut tiers = Vec::new();
    for tier in Tier::ALL {
        let Some(key) = args.key(tier) else { continue };
        let sends = match args.mode {
            Mode::Closed => args.users(tier) > 0,
            Mode::Open | Mode::Ramp => args.rate(tier) > 0.0,
        };
        if !sends {
            continue;
        }
        let client = HttpClient::new(&args.target, key, args.timeout)?;
        let vars = match &scenario.portfolio {
            Some(portfolio) => client
                .set_up(portfolio, &format!("{run_id} {tier}"))
                .await
                .with_context(|| format!("setting up the {tier} key's portfolio"))?,
            None => Vars::default(),
        };
        tiers.push(Tiered {
            tier,
            sla: args.sla(tier, sla_file.as_ref()),
            load: TierLoad {
                client,
                scenario: scenario.clone(),
                vars,
                seed: args.seed.wrapping_add(tier as u64),
                stats: Arc::default(),
                max_in_flight: args.max_in_flight,
                seq: Arc::new(AtomicU64::new(0)),
                pacing: Pacing::Thread,
            },
        });
    }
    anyhow::ensure!(
        !tiers.is_empty(),
        "nothing to send: every tier with a key has a rate (or, in closed mode, users) of 0"
    );

    let report = generate(&args, &scenario, &tiers).await;
    table::print(&report);
    if let Some(path) = &args.json {
        report.write_json(path)?;
    }
    if let Some(path) = &args.chart {
        chart::write_svg(&report, path)?;
    }
    Ok(report)
}

/// Generates the load and builds the report.
async fn generate<C: Client>(
    args: &LoadtestArgs,
    scenario: &Scenario,
    tiers: &[Tiered<C>],
) -> Report {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let start = Instant::now();
    let progress = Progress::start(
        tiers
            .iter()
            .map(|tiered| (tiered.tier, tiered.load.stats.clone()))
            .collect(),
        start,
        args.duration,
    );
    let (elapsed, ramp) = match args.mode {
        Mode::Open => {
            join_all(tiers.iter().map(|tiered| {
                tiered.load.open_loop(Schedule {
                    start,
                    from: Duration::ZERO,
                    duration: args.duration,
                    rate: args.rate(tiered.tier),
                })
            }))
            .await;
            (args.duration, Vec::new())
        }
        Mode::Closed => {
            join_all(tiers.iter().map(|tiered| {
                tiered.load.closed_loop(
                    start,
                    args.duration,
                    args.users(tiered.tier),
                    args.think_time,
                )
            }))
            .await;
            (args.duration, Vec::new())
        }
        Mode::Ramp => ramp(args, tiers, start).await,
    };
    progress.finish();

    let mut reports = Vec::new();
    for tiered in tiers {
        let stats = lock(&tiered.load.stats);
        let mut report = TierReport::new(tiered.tier, &stats, elapsed);
        match args.mode {
            Mode::Closed => report.users = Some(args.users(tiered.tier)),
            Mode::Open | Mode::Ramp => {
                report.rate = Some(args.rate(tiered.tier));
                report.send_lag = Some(Latency::of(&stats.lag));
            }
        }
        reports.push(report);
    }
    // In ramp mode the verdict is the first step's: the SLA at the rates asked for.
    let sla: Vec<Check> = match ramp.first() {
        Some(step) => step.sla.clone(),
        None => tiers
            .iter()
            .zip(&reports)
            .flat_map(|(tiered, report)| {
                tiered
                    .sla
                    .check(tiered.tier, &report.latency, report.success_ratio)
            })
            .collect(),
    };
    Report {
        schema: SCHEMA.to_owned(),
        target: args.target.to_string(),
        scenario: scenario.name.clone(),
        mode: args.mode,
        started_at,
        duration_s: elapsed.as_secs_f64(),
        passed: sla.iter().all(|check| check.held),
        tiers: reports,
        sla,
        ramp,
    }
}

/// Open-loop steps of `--ramp-step`, each `--ramp-increase` percent of the first rates above
/// the one before, until a step breaks the SLA or the next would end after `--duration`.
/// Steps follow each other on whole seconds, so each is a span of the timeline. A step is judged
/// once its last answers are in; requests of the next step that fall due meanwhile are sent
/// late and charged for it, as every open-loop request is.
async fn ramp<C: Client>(
    args: &LoadtestArgs,
    tiers: &[Tiered<C>],
    start: Instant,
) -> (Duration, Vec<RampStep>) {
    // Whole seconds (checked with the arguments).
    let step_seconds = args.ramp_step.as_secs();
    let step_length = Duration::from_secs(step_seconds);
    let mut steps = Vec::new();
    loop {
        let from = step_length * u32::try_from(steps.len()).unwrap_or(u32::MAX);
        if from + step_length > args.duration {
            break;
        }
        let factor = 1.0 + steps.len() as f64 * args.ramp_increase / 100.0;
        join_all(tiers.iter().map(|tiered| {
            tiered.load.open_loop(Schedule {
                start,
                from,
                duration: step_length,
                rate: args.rate(tiered.tier) * factor,
            })
        }))
        .await;

        let first_window = usize::try_from(from.as_secs() / WINDOW.as_secs()).unwrap_or(usize::MAX);
        let last_window =
            first_window.saturating_add(usize::try_from(step_seconds).unwrap_or(usize::MAX));
        let mut step_tiers = Vec::new();
        let mut sla = Vec::new();
        for tiered in tiers {
            let span = lock(&tiered.load.stats).span(first_window, last_window);
            let latency = Latency::of(&span.latency);
            let succeeded = span.sent - span.errors;
            let success_ratio = success_ratio(succeeded, span.sent);
            sla.extend(tiered.sla.check(tiered.tier, &latency, success_ratio));
            step_tiers.push(StepTier {
                tier: tiered.tier,
                rate: args.rate(tiered.tier) * factor,
                throughput: succeeded as f64 / step_length.as_secs_f64(),
                success_ratio,
                latency,
            });
        }
        let held = sla.iter().all(|check| check.held);
        steps.push(RampStep {
            step: u32::try_from(steps.len() + 1).unwrap_or(u32::MAX),
            start_s: from.as_secs_f64(),
            tiers: step_tiers,
            sla,
            held,
        });
        if !held {
            break;
        }
    }
    let ran = step_length * u32::try_from(steps.len()).unwrap_or(u32::MAX);
    (ran, steps)
}
