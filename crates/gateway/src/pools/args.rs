//! The balancing options: health checks, ejection, DNS re-resolution, spill-over, per-tier
//! deadlines and the retry budget. Part of `bourse serve gateway --help`.

use std::time::Duration;

use clap::{ArgAction, Args};

/// How the gateway balances, checks and retries calls to its backend pools.
#[derive(Debug, Clone, PartialEq, Args)]
pub struct PoolArgs {
    /// How often every pool endpoint is asked `grpc.health.v1.Health/Check`; an endpoint that
    /// does not answer SERVING is ejected until it does.
    #[arg(long, env = "BOURSE_POOL_HEALTH_INTERVAL", value_parser = humantime::parse_duration, default_value = "2s")]
    pub pool_health_interval: Duration,
    /// Consecutive transport failures or UNAVAILABLE answers after which an endpoint is ejected
    /// until its next successful health check.
    #[arg(long, env = "BOURSE_POOL_EJECT_AFTER", default_value_t = 3)]
    pub pool_eject_after: u32,
    /// How often endpoints given by host name (e.g. a Kubernetes headless service) are resolved
    /// again, so new pods join and removed ones leave without a restart.
    #[arg(long, env = "BOURSE_POOL_RESOLVE_INTERVAL", value_parser = humantime::parse_duration, default_value = "10s")]
    pub pool_resolve_interval: Duration,
    /// Send premium requests to the shared pool when no premium endpoint is healthy. Shared
    /// requests never reach a premium pool.
    #[arg(long, env = "BOURSE_PREMIUM_SPILLOVER", action = ArgAction::Set, default_value_t = true)]
    pub premium_spillover: bool,
    /// gRPC deadline of a premium call (5x the premium p95 target of 50 ms).
    #[arg(long, env = "BOURSE_PREMIUM_DEADLINE", value_parser = humantime::parse_duration, default_value = "250ms")]
    pub premium_deadline: Duration,
    /// gRPC deadline of a shared call (5x the shared p95 target of 100 ms).
    #[arg(long, env = "BOURSE_SHARED_DEADLINE", value_parser = humantime::parse_duration, default_value = "500ms")]
    pub shared_deadline: Duration,
    /// gRPC deadline of a premium batch or heavy call (`Batch*`, `Analyze*`, `ListBars`).
    #[arg(long, env = "BOURSE_PREMIUM_BATCH_DEADLINE", value_parser = humantime::parse_duration, default_value = "2s")]
    pub premium_batch_deadline: Duration,
    /// gRPC deadline of a shared batch or heavy call (`Batch*`, `Analyze*`, `ListBars`).
    #[arg(long, env = "BOURSE_SHARED_BATCH_DEADLINE", value_parser = humantime::parse_duration, default_value = "5s")]
    pub shared_batch_deadline: Duration,
    /// Retries of idempotent calls allowed, as a percentage of recent calls (on top of
    /// `--retry-min-per-second`), so a failing pool never sees a retry storm.
    #[arg(long, env = "BOURSE_RETRY_BUDGET_PERCENT", default_value_t = 20.0, value_parser = parse_percent)]
    pub retry_budget_percent: f32,
    /// Retries per second always allowed, so a quiet gateway can still retry.
    #[arg(long, env = "BOURSE_RETRY_MIN_PER_SECOND", default_value_t = 10)]
    pub retry_min_per_second: u32,
}

impl Default for PoolArgs {
    /// The command-line defaults.
    fn default() -> Self {
        Self {
            pool_health_interval: Duration::from_secs(2),
            pool_eject_after: 3,
            pool_resolve_interval: Duration::from_secs(10),
            premium_spillover: true,
            premium_deadline: Duration::from_millis(250),
            shared_deadline: Duration::from_millis(500),
            premium_batch_deadline: Duration::from_secs(2),
            shared_batch_deadline: Duration::from_secs(5),
            retry_budget_percent: 20.0,
            retry_min_per_second: 10,
        }
    }
}

/// A retry percentage: a number from 0 to 1000 (the range the budget accepts).
fn parse_percent(value: &str) -> Result<f32, String> {
    let percent: f32 = value
        .parse()
        .map_err(|error| format!("{value:?} is not a number: {error}"))?;
    if (0.0..=1000.0).contains(&percent) {
        Ok(percent)
    } else {
        Err(format!("{percent} is not between 0 and 1000"))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: PoolArgs,
    }

    #[test]
    fn default_matches_the_command_line_defaults() {
        let parsed = Command::try_parse_from(["gateway"]).expect("defaults parse");
        assert_eq!(parsed.args, PoolArgs::default());
    }

    #[test]
    fn spillover_can_be_turned_off_and_durations_read_humantime() {
        let parsed = Command::try_parse_from([
            "gateway",
            "--premium-spillover",
            "false",
            "--premium-deadline",
            "80ms",
        ])
        .expect("flags parse");
        assert!(!parsed.args.premium_spillover);
        assert_eq!(parsed.args.premium_deadline, Duration::from_millis(80));
        assert!(Command::try_parse_from(["gateway", "--retry-budget-percent", "-1"]).is_err());
    }
}
