//! The options of `bourse loadtest`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use bourse_runtime::tier::Tier;
use clap::Args;
use url::{Host, Url};

use crate::report::Mode;
use crate::sla::{Sla, SlaFile, SlaOverrides};

/// Options of `bourse loadtest`.
#[derive(Debug, Clone, Args)]
pub struct LoadtestArgs {
    /// Base URL of the REST gateway. Only loopback addresses, unless --allow-remote.
    #[arg(
        long,
        env = "BOURSE_LOADTEST_TARGET",
        default_value = "http://127.0.0.1:8080"
    )]
    pub target: Url,
    /// Allow a target that is not a loopback address.
    #[arg(long, env = "BOURSE_LOADTEST_ALLOW_REMOTE")]
    pub allow_remote: bool,
    /// `builtin` or a scenario file (JSON; the format is `scenarios/builtin.json` of the
    /// bourse-loadtest crate).
    #[arg(long, env = "BOURSE_LOADTEST_SCENARIO", default_value = "builtin")]
    pub scenario: String,
    /// How long to generate load (e.g. 30s, 2m). Answers still in flight at the end get at
    /// most --timeout more.
    #[arg(long, env = "BOURSE_LOADTEST_DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// open: constant arrival rate; closed: users with think time; ramp: rising rate until the
    /// SLA breaks.
    #[arg(long, env = "BOURSE_LOADTEST_MODE", value_enum, default_value_t = Mode::Open)]
    pub mode: Mode,
    /// API key of the premium tier; without it the premium tier sends nothing.
    #[arg(long, env = "BOURSE_LOADTEST_PREMIUM_KEY", hide_env_values = true)]
    pub premium_key: Option<String>,
    /// API key of the shared tier; without it the shared tier sends nothing.
    #[arg(long, env = "BOURSE_LOADTEST_SHARED_KEY", hide_env_values = true)]
    pub shared_key: Option<String>,
    /// Premium requests per second (open mode; the first step in ramp mode).
    #[arg(long, env = "BOURSE_LOADTEST_PREMIUM_RATE", default_value_t = 500.0, value_parser = parse_rate)]
    pub premium_rate: f64,
    /// Shared requests per second (open mode; the first step in ramp mode).
    #[arg(long, env = "BOURSE_LOADTEST_SHARED_RATE", default_value_t = 1_000.0, value_parser = parse_rate)]
    pub shared_rate: f64,
    /// Closed mode: concurrent premium users.
    #[arg(long, env = "BOURSE_LOADTEST_PREMIUM_USERS", default_value_t = 50)]
    pub premium_users: u32,
    /// Closed mode: concurrent shared users.
    #[arg(long, env = "BOURSE_LOADTEST_SHARED_USERS", default_value_t = 100)]
    pub shared_users: u32,
    /// Closed mode: each user's pause between an answer and its next request.
    #[arg(long, env = "BOURSE_LOADTEST_THINK_TIME", default_value = "100ms", value_parser = humantime::parse_duration)]
    pub think_time: Duration,
    /// Ramp mode: length of each step, in whole seconds.
    #[arg(long, env = "BOURSE_LOADTEST_RAMP_STEP", default_value = "10s", value_parser = humantime::parse_duration)]
    pub ramp_step: Duration,
    /// Ramp mode: rate added at each step, in percent of the first step's rates.
    #[arg(long, env = "BOURSE_LOADTEST_RAMP_INCREASE", default_value_t = 50.0, value_parser = parse_rate)]
    pub ramp_increase: f64,
    /// SLA targets per tier from a JSON file, e.g.
    /// {"premium": {"p95": "50ms", "p99": "100ms", "success": 99.95}}.
    #[arg(long, env = "BOURSE_LOADTEST_SLA")]
    pub sla: Option<PathBuf>,
    /// Premium p95 target (default 50ms).
    #[arg(long, env = "BOURSE_LOADTEST_PREMIUM_P95", value_parser = humantime::parse_duration)]
    pub premium_p95: Option<Duration>,
    /// Premium p99 target (default 100ms).
    #[arg(long, env = "BOURSE_LOADTEST_PREMIUM_P99", value_parser = humantime::parse_duration)]
    pub premium_p99: Option<Duration>,
    /// Lowest premium success ratio in percent (default 99.95).
    #[arg(long, env = "BOURSE_LOADTEST_PREMIUM_SUCCESS", value_parser = parse_percent)]
    pub premium_success: Option<f64>,
    /// Shared p95 target (default 100ms).
    #[arg(long, env = "BOURSE_LOADTEST_SHARED_P95", value_parser = humantime::parse_duration)]
    pub shared_p95: Option<Duration>,
    /// Shared p99 target (default 200ms).
    #[arg(long, env = "BOURSE_LOADTEST_SHARED_P99", value_parser = humantime::parse_duration)]
    pub shared_p99: Option<Duration>,
    /// Lowest shared success ratio in percent (default 99.9).
    #[arg(long, env = "BOURSE_LOADTEST_SHARED_SUCCESS", value_parser = parse_percent)]
    pub shared_success: Option<f64>,
    /// Write the whole result as JSON to this file.
    #[arg(long, env = "BOURSE_LOADTEST_JSON")]
    pub json: Option<PathBuf>,
    /// Draw latency over time and the latency distribution into this SVG file.
    #[arg(long, env = "BOURSE_LOADTEST_CHART")]
    pub chart: Option<PathBuf>,
    /// Longest wait for one answer; a request still unanswered then counts as `timeout`.
    #[arg(long, env = "BOURSE_LOADTEST_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Open and ramp modes: most requests of one tier in flight at once; beyond it requests are
    /// counted as `dropped` rather than queued.
    #[arg(long, env = "BOURSE_LOADTEST_MAX_IN_FLIGHT", default_value_t = 10_000)]
    pub max_in_flight: usize,
    /// Seed of the request mix: the same seed sends the same sequence.
    #[arg(long, env = "BOURSE_LOADTEST_SEED", default_value_t = 1)]
    pub seed: u64,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!("{text:?} is not a non-negative number")),
    }
}

fn parse_percent(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(percent) if (0.0..=100.0).contains(&percent) => Ok(percent),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}

impl LoadtestArgs {
    /// The tier's key, when its tier is to send load.
    pub fn key(&self, tier: Tier) -> Option<&str> {
        match tier {
            Tier::Premium => self.premium_key.as_deref(),
            Tier::Shared => self.shared_key.as_deref(),
        }
        .filter(|key| !key.is_empty())
    }

    /// The tier's open-loop rate (the first step's in ramp mode).
    pub fn rate(&self, tier: Tier) -> f64 {
        match tier {
            Tier::Premium => self.premium_rate,
            Tier::Shared => self.shared_rate,
        }
    }

    /// The tier's closed-loop users.
    pub fn users(&self, tier: Tier) -> u32 {
        match tier {
            Tier::Premium => self.premium_users,
            Tier::Shared => self.shared_users,
        }
    }

    /// The tier's SLA: defaults, then the --sla file, then the flags.
    pub fn sla(&self, tier: Tier, file: Option<&SlaFile>) -> Sla {
        let mut sla = Sla::default_for(tier);
        if let Some(file) = file {
            sla.apply(file.of(tier));
        }
        sla.apply(&match tier {
            Tier::Premium => SlaOverrides {
                p95: self.premium_p95,
                p99: self.premium_p99,
                success_percent: self.premium_success,
            },
            Tier::Shared => SlaOverrides {
                p95: self.shared_p95,
                p99: self.shared_p99,
                success_percent: self.shared_success,
            },
        });
        sla
    }

    /// Refuses what cannot make a meaningful run, before anything is sent.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            matches!(self.target.scheme(), "http" | "https"),
            "--target must be an http or https URL, got {}",
            self.target
        );
        anyhow::ensure!(
            self.allow_remote || is_loopback(&self.target),
            "--target {} is not a loopback address; pass --allow-remote to load a remote host",
            self.target
        );
        anyhow::ensure!(
            Tier::ALL.iter().any(|&tier| self.key(tier).is_some()),
            "no API key: give --premium-key, --shared-key or both"
        );
        anyhow::ensure!(!self.duration.is_zero(), "--duration must be more than 0");
        anyhow::ensure!(self.max_in_flight > 0, "--max-in-flight must be at least 1");
        if self.mode == Mode::Ramp {
            anyhow::ensure!(
                self.ramp_step.as_secs() > 0
                    && self.ramp_step.subsec_nanos() == 0
                    && self.ramp_step <= self.duration,
                "--ramp-step must be a whole number of seconds, at most --duration"
            );
            anyhow::ensure!(
                self.ramp_increase > 0.0,
                "--ramp-increase must be more than 0"
            );
        }
        Ok(())
    }
}

/// Whether `url` names this machine: `localhost` or a loopback address.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        args: LoadtestArgs,
    }

    fn parse(args: &[&str]) -> LoadtestArgs {
        let argv = ["loadtest"].iter().chain(args);
        Command::try_parse_from(argv).expect("valid arguments").args
    }

    #[test]
    fn only_loopback_targets_unless_allowed() {
        for target in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
            "http://127.8.0.1",
        ] {
            parse(&["--target", target, "--shared-key", "k"])
                .check()
                .expect(target);
        }
        for target in [
            "http://10.0.0.1:8080",
            "https://api.example.com",
            "http://0.0.0.0:8080",
        ] {
            let error = parse(&["--target", target, "--shared-key", "k"])
                .check()
                .expect_err(target)
                .to_string();
            assert!(error.contains("--allow-remote"), "{error}");
            parse(&["--target", target, "--shared-key", "k", "--allow-remote"])
                .check()
                .expect(target);
        }
    }

    #[test]
    fn a_run_needs_a_key_and_sensible_numbers() {
        let error = parse(&[]).check().expect_err("no key").to_string();
        assert!(error.contains("--premium-key"), "{error}");
        assert!(Command::try_parse_from(["loadtest", "--shared-rate", "-5"]).is_err());
        assert!(Command::try_parse_from(["loadtest", "--premium-success", "101"]).is_err());
        let ramp = parse(&["--shared-key", "k", "--mode", "ramp", "--duration", "5s"]);
        assert!(
            ramp.check()
                .expect_err("step > duration")
                .to_string()
                .contains("--ramp-step")
        );
    }

    #[test]
    fn flags_override_the_sla_file() {
        let args = parse(&["--premium-p95", "800us", "--shared-success", "99"]);
        let file = SlaFile {
            premium: SlaOverrides {
                p95: Some(Duration::from_millis(5)),
                p99: Some(Duration::from_millis(7)),
                success_percent: None,
            },
            shared: SlaOverrides::default(),
        };
        let premium = args.sla(Tier::Premium, Some(&file));
        assert_eq!(premium.p95, Duration::from_micros(800));
        assert_eq!(premium.p99, Duration::from_millis(7));
        assert_eq!(premium.min_success, 0.9995);
        let shared = args.sla(Tier::Shared, None);
        assert_eq!(shared.p95, Duration::from_millis(100));
        assert_eq!(shared.min_success, 0.99);
    }
}
