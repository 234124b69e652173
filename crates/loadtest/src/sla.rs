//! Service-level objectives per tier, and the verdict of a run against them.
//!
//! An SLA bounds a tier's p95 and p99 latency (strictly: the p95 must be *under* its target) and
//! sets a floor on its success ratio (2xx and 3xx answers over requests sent). Targets come from
//! the defaults of the design documents, then an `--sla` file, then the per-tier flags, each
//! overriding the one before.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use bourse_runtime::tier::Tier;
use serde::{Deserialize, Serialize};

use crate::report::Latency;

/// The objectives of one tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sla {
    pub p95: Duration,
    pub p99: Duration,
    /// Lowest acceptable success ratio, as a fraction (0.9995 for 99.95 %).
    pub min_success: f64,
}

impl Sla {
    /// The design documents' objectives: premium p95 < 50 ms, p99 < 100 ms, success ≥ 99.95 %;
    /// shared p95 < 100 ms, p99 < 200 ms, success ≥ 99.9 %.
    pub fn default_for(tier: Tier) -> Self {
        match tier {
            Tier::Premium => Self {
                p95: Duration::from_millis(50),
                p99: Duration::from_millis(100),
                min_success: 0.9995,
            },
            Tier::Shared => Self {
                p95: Duration::from_millis(100),
                p99: Duration::from_millis(200),
                min_success: 0.999,
            },
        }
    }

    /// Applies what a file or the flags set, leaving the rest.
    pub fn apply(&mut self, overrides: &SlaOverrides) {
        if let Some(p95) = overrides.p95 {
            self.p95 = p95;
        }
        if let Some(p99) = overrides.p99 {
            self.p99 = p99;
        }
        if let Some(percent) = overrides.success_percent {
            self.min_success = percent / 100.0;
        }
    }

    /// Checks one tier's numbers against these objectives.
    pub fn check(&self, tier: Tier, latency: &Latency, success_ratio: f64) -> [Check; 3] {
        let bound = |objective: Objective, target: Duration, actual: f64| {
            let target_ms = target.as_secs_f64() * 1_000.0;
            Check {
                tier,
                objective,
                target: target_ms,
                actual,
                held: actual < target_ms,
            }
        };
        let success = Check {
            tier,
            objective: Objective::Success,
            target: self.min_success * 100.0,
            actual: success_ratio * 100.0,
            held: success_ratio >= self.min_success,
        };
        [
            bound(Objective::P95, self.p95, latency.p95_ms),
            bound(Objective::P99, self.p99, latency.p99_ms),
            success,
        ]
    }
}

/// Objectives given for one tier in a file or on the command line; unset ones keep their value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaOverrides {
    #[serde(default, with = "humantime_serde_option")]
    pub p95: Option<Duration>,
    #[serde(default, with = "humantime_serde_option")]
    pub p99: Option<Duration>,
    /// Lowest success ratio in percent (`99.95`).
    #[serde(default, rename = "success")]
    pub success_percent: Option<f64>,
}

/// An SLA file: `{"premium": {"p95": "50ms", "p99": "100ms", "success": 99.95}, "shared": {...}}`.
/// Either tier, and any objective, may be left out.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaFile {
    #[serde(default)]
    pub premium: SlaOverrides,
    #[serde(default)]
    pub shared: SlaOverrides,
}

impl SlaFile {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the SLA file {}", path.display()))?;
        let file: SlaFile = serde_json::from_str(&text)
            .with_context(|| format!("parsing the SLA file {}", path.display()))?;
        for (tier, overrides) in [("premium", file.premium), ("shared", file.shared)] {
            if let Some(percent) = overrides.success_percent
                && !(0.0..=100.0).contains(&percent)
            {
                anyhow::bail!(
                    "{}: {tier}.success must be a percentage from 0 to 100, got {percent}",
                    path.display()
                );
            }
        }
        Ok(file)
    }

    pub fn of(&self, tier: Tier) -> &SlaOverrides {
        match tier {
            Tier::Premium => &self.premium,
            Tier::Shared => &self.shared,
        }
    }
}

/// What a check bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// The 95th latency percentile, in milliseconds, must stay under the target.
    P95,
    /// The 99th latency percentile, in milliseconds, must stay under the target.
    P99,
    /// The success ratio, in percent, must reach the target.
    Success,
}

/// One objective checked against a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub tier: Tier,
    /// `p95`, `p99` (milliseconds) or `success` (percent).
    pub objective: Objective,
    pub target: f64,
    pub actual: f64,
    pub held: bool,
}

impl Check {
    /// How far the actual value is past the target, in the objective's unit, when it failed:
    /// milliseconds over a latency target, percentage points under a success floor.
    pub fn shortfall(&self) -> Option<f64> {
        if self.held {
            return None;
        }
        Some(match self.objective {
            Objective::P95 | Objective::P99 => self.actual - self.target,
            Objective::Success => self.target - self.actual,
        })
    }

    pub fn unit(&self) -> &'static str {
        match self.objective {
            Objective::P95 | Objective::P99 => "ms",
            Objective::Success => "%",
        }
    }

    pub fn name(&self) -> &'static str {
        match self.objective {
            Objective::P95 => "p95",
            Objective::P99 => "p99",
            Objective::Success => "success",
        }
    }
}

/// serde for `Option<Duration>` written as humantime text (`"50ms"`, `"800us"`).
mod humantime_serde_option {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => humantime::parse_duration(&text)
                .map(Some)
                .map_err(|error| serde::de::Error::custom(format!("{text:?}: {error}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sla: &Sla, tier: Tier, p95_ms: f64, p99_ms: f64, success_ratio: f64) -> [Check; 3] {
        let latency = Latency {
            count: 10_000,
            mean_ms: 1.0,
            p50_ms: 1.0,
            p90_ms: 2.0,
            p95_ms,
            p99_ms,
            p999_ms: p99_ms,
            max_ms: p99_ms,
        };
        sla.check(tier, &latency, success_ratio)
    }

    #[test]
    fn a_run_within_every_objective_holds() {
        let checks = check(
            &Sla::default_for(Tier::Premium),
            Tier::Premium,
            49.9,
            99.0,
            0.9995,
        );
        assert!(checks.iter().all(|check| check.held), "{checks:?}");
        assert!(checks.iter().all(|check| check.shortfall().is_none()));
    }

    #[test]
    fn each_objective_fails_on_its_own_number_and_says_by_how_much() {
        let sla = Sla::default_for(Tier::Shared);
        let [p95, p99, success] = check(&sla, Tier::Shared, 112.5, 150.0, 0.999);
        assert!(!p95.held);
        assert_eq!(p95.shortfall(), Some(12.5));
        assert!(p99.held && success.held);

        // The p95 must be strictly under its target.
        let [p95, ..] = check(&sla, Tier::Shared, 100.0, 150.0, 1.0);
        assert!(!p95.held);

        let [_, _, success] = check(&sla, Tier::Shared, 1.0, 2.0, 0.998);
        assert!(!success.held);
        let shortfall = success.shortfall().expect("failed");
        assert!((shortfall - 0.1).abs() < 1e-9, "{shortfall}");
    }

    #[test]
    fn file_then_flags_override_the_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sla.json");
        std::fs::write(&path, r#"{"premium": {"p99": "20ms", "success": 99.0}}"#).expect("write");
        let file = SlaFile::read(&path).expect("valid file");
        let mut sla = Sla::default_for(Tier::Premium);
        sla.apply(file.of(Tier::Premium));
        sla.apply(&SlaOverrides {
            p95: Some(Duration::from_micros(800)),
            ..SlaOverrides::default()
        });
        assert_eq!(
            sla,
            Sla {
                p95: Duration::from_micros(800),
                p99: Duration::from_millis(20),
                min_success: 0.99,
            }
        );
        assert_eq!(*file.of(Tier::Shared), SlaOverrides::default());
    }

    #[test]
    fn a_bad_sla_file_is_refused_with_the_field() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sla.json");
        std::fs::write(&path, r#"{"shared": {"p95": "fast"}}"#).expect("write");
        let error = format!("{:#}", SlaFile::read(&path).expect_err("bad duration"));
        assert!(error.contains("\"fast\""), "{error}");
        std::fs::write(&path, r#"{"shared": {"success": 120}}"#).expect("write");
        let error = format!("{:#}", SlaFile::read(&path).expect_err("bad percentage"));
        assert!(error.contains("shared.success"), "{error}");
        std::fs::write(&path, r#"{"shared": {"p50": "1ms"}}"#).expect("write");
        let error = format!("{:#}", SlaFile::read(&path).expect_err("unknown field"));
        assert!(error.contains("p50"), "{error}");
    }
}
