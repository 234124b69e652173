//! The live progress bar: elapsed time, and per tier the last second's rate and p99 and the
//! errors so far. indicatif draws it on stderr, and not at all when stderr is not a terminal
//! (CI logs and pipes get only the final table).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bourse_runtime::tier::Tier;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::stats::TierStats;

/// How often the bar is redrawn.
const REFRESH: Duration = Duration::from_millis(250);

/// A running progress bar; [`Progress::finish`] removes it.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    ticker: JoinHandle<()>,
}

impl Progress {
    /// Starts drawing the progress of `tiers` over `duration` from `start`.
    pub fn start(
        tiers: Vec<(Tier, Arc<Mutex<TierStats>>)>,
        start: Instant,
        duration: Duration,
    ) -> Self {
        let bar = ProgressBar::new(duration.as_secs());
        bar.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:24}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let ticker = tokio::spawn({
            let bar = bar.clone();
            async move {
                let mut interval = tokio::time::interval(REFRESH);
                loop {
                    interval.tick().await;
                    bar.set_position(start.elapsed().as_secs());
                    bar.set_message(status_line(&tiers, start.elapsed()));
                }
            }
        });
        Self { bar, ticker }
    }

    pub fn finish(self) {
        self.ticker.abort();
        self.bar.finish_and_clear();
    }
}

/// `shared 1000/s p99 4.1ms 0 err · premium 500/s p99 3.9ms 0 err`, from the last whole second.
fn status_line(tiers: &[(Tier, Arc<Mutex<TierStats>>)], elapsed: Duration) -> String {
    let mut line = String::new();
    for (tier, stats) in tiers {
        let stats = stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let last = usize::try_from(elapsed.as_secs())
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        let window = stats.span(last, last + 1);
        let errors: u64 = stats.timeline.iter().map(|window| window.errors).sum();
        if !line.is_empty() {
            line.push_str(" · ");
        }
        let p99 = window.latency.value_at_quantile(0.99) as f64 / 1_000.0;
        let _ = write!(line, "{tier} {}/s p99 {p99:.1}ms {errors} err", window.sent);
    }
    line
}
