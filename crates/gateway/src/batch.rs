//! Micro-batching of single quote and single sentiment requests, and the options of batching and
//! coalescing.
//!
//! Concurrent `GET /v1/quotes/{symbol}` requests are gathered into one `BatchGetQuotes` call per
//! tier pool, and concurrent `POST /v1/sentiment:score` requests into one `BatchScoreText` call
//! (see [`queue`] for how a batch is gathered). Each request still gets exactly the answer the
//! single call would have given: a per-item error of the batch becomes the status the single RPC
//! returns for that item (same code, same `field: reason` message).
//!
//! Metrics, labelled by `batch` (`quotes` or `sentiment`) and `tier`:
//! [`BATCH_SIZE`], [`BATCH_WAIT_SECONDS`] and [`BATCHES_TOTAL`].

pub mod queue;
pub mod quotes;
pub mod sentiment;

use std::time::Duration;

use bourse_runtime::grpc_metrics::code_label;
use bourse_runtime::tier::Tier;
use bourse_runtime::upstream::TierClients;
use clap::{ArgAction, Args};
use tonic::{Code, Status};

use crate::batch::queue::{BatchLabels, BatchPolicy, Batcher};
use crate::batch::quotes::QuoteBatch;
use crate::batch::sentiment::ScoreBatch;
use crate::pools::{PoolArgs, Pools};

/// Histogram of the distinct items per flushed batch call.
pub const BATCH_SIZE: &str = "bourse_gateway_batch_size";
/// Histogram of the time from an item's arrival to its batch's flush, in seconds.
pub const BATCH_WAIT_SECONDS: &str = "bourse_gateway_batch_wait_seconds";
/// Counter of flushed batch calls.
pub const BATCHES_TOTAL: &str = "bourse_gateway_batches_total";

/// Default `--batch-max-size`.
pub const DEFAULT_MAX_SIZE: usize = 128;
/// Default `--premium-batch-wait`.
pub const DEFAULT_PREMIUM_WAIT: Duration = Duration::from_micros(200);
/// Default `--shared-batch-wait`.
pub const DEFAULT_SHARED_WAIT: Duration = Duration::from_millis(1);
/// Default `--batch-max-in-flight`.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// Default `--coalescing-max-body`: 1 MiB.
pub const DEFAULT_COALESCING_MAX_BODY: usize = 1 << 20;

/// Batching and coalescing options.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// Gather concurrent single-quote and single-score requests into batch calls per tier pool.
    #[arg(long, env = "BOURSE_BATCHING", default_value_t = true, action = ArgAction::Set)]
    pub batching: bool,
    /// Share one backend call among identical in-flight GET requests.
    #[arg(long, env = "BOURSE_COALESCING", default_value_t = true, action = ArgAction::Set)]
    pub coalescing: bool,
    /// The most items in one batch call (sentiment batches stop at the service's 256).
    #[arg(long, env = "BOURSE_BATCH_MAX_SIZE", default_value_t = DEFAULT_MAX_SIZE)]
    pub batch_max_size: usize,
    /// How long a premium request waits for others to join its batch, once it has company; a
    /// request alone is sent at once.
    #[arg(long, env = "BOURSE_PREMIUM_BATCH_WAIT", default_value = "200us", value_parser = humantime::parse_duration)]
    pub premium_batch_wait: Duration,
    /// How long a shared request waits for others to join its batch, once it has company.
    #[arg(long, env = "BOURSE_SHARED_BATCH_WAIT", default_value = "1ms", value_parser = humantime::parse_duration)]
    pub shared_batch_wait: Duration,
    /// The most batch calls in flight per pool; past it, requests queue and batches grow.
    #[arg(long, env = "BOURSE_BATCH_MAX_IN_FLIGHT", default_value_t = DEFAULT_MAX_IN_FLIGHT)]
    pub batch_max_in_flight: usize,
    /// The largest response body (bytes) coalescing shares; a bigger one is answered to its own
    /// request only, and the requests that waited for it make their own call.
    #[arg(long, env = "BOURSE_COALESCING_MAX_BODY", default_value_t = DEFAULT_COALESCING_MAX_BODY)]
    pub coalescing_max_body: usize,
}

impl Default for BatchArgs {
    fn default() -> Self {
        Self {
            batching: true,
            coalescing: true,
            batch_max_size: DEFAULT_MAX_SIZE,
            premium_batch_wait: DEFAULT_PREMIUM_WAIT,
            shared_batch_wait: DEFAULT_SHARED_WAIT,
            batch_max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            coalescing_max_body: DEFAULT_COALESCING_MAX_BODY,
        }
    }
}

impl BatchArgs {
    /// How `tier`'s batcher gathers, for calls of at most `service_max` items.
    fn policy(&self, tier: Tier, service_max: usize) -> BatchPolicy {
        BatchPolicy {
            max_size: self.batch_max_size.clamp(1, service_max),
            wait: match tier {
                Tier::Premium => self.premium_batch_wait,
                Tier::Shared => self.shared_batch_wait,
            },
            max_in_flight: self.batch_max_in_flight,
        }
    }
}

/// The batchers of every pool; `None` when batching is off, so handlers make single calls.
#[derive(Debug)]
pub struct Batchers {
    quotes: Option<TierClients<Batcher<QuoteBatch>>>,
    sentiment: Option<TierClients<Batcher<ScoreBatch>>>,
}

impl Batchers {
    /// One batcher per tier pool; each runs as a task. A batch call answers single requests,
    /// so it gets the tier's deadline for single calls (`--premium-deadline`,
    /// `--shared-deadline`), not the longer one of batch endpoints. Must run inside a Tokio
    /// runtime.
    pub fn new(args: &BatchArgs, deadlines: &PoolArgs, pools: &Pools) -> Self {
        let deadline = |tier| match tier {
            Tier::Premium => deadlines.premium_deadline,
            Tier::Shared => deadlines.shared_deadline,
        };
        describe_metrics();
        if !args.batching {
            return Self {
                quotes: None,
                sentiment: None,
            };
        }
        let quotes = TierClients::build(|tier| {
            let call = QuoteBatch::new(pools.market_data.get(tier), tier, deadline(tier));
            let labels = BatchLabels {
                batch: "quotes",
                tier,
            };
            Batcher::spawn(call, args.policy(tier, quotes::MAX_SYMBOLS), labels)
        });
        let sentiment = TierClients::build(|tier| {
            let call = ScoreBatch::new(pools.sentiment.get(tier), tier, deadline(tier));
            let labels = BatchLabels {
                batch: "sentiment",
                tier,
            };
            Batcher::spawn(call, args.policy(tier, sentiment::MAX_TEXTS), labels)
        });
        Self {
            quotes: Some(quotes),
            sentiment: Some(sentiment),
        }
    }

    /// The quote batcher of `tier`'s pool, when batching is on.
    pub fn quotes(&self, tier: Tier) -> Option<&Batcher<QuoteBatch>> {
        self.quotes.as_ref().map(|batchers| batchers.of(tier))
    }

    /// The sentiment scoring batcher of `tier`'s pool, when batching is on.
    pub fn sentiment(&self, tier: Tier) -> Option<&Batcher<ScoreBatch>> {
        self.sentiment.as_ref().map(|batchers| batchers.of(tier))
    }
}

fn describe_metrics() {
    metrics::describe_histogram!(BATCH_SIZE, "Distinct items per flushed batch call.");
    metrics::describe_histogram!(
        BATCH_WAIT_SECONDS,
        metrics::Unit::Seconds,
        "Time from an item's arrival to its batch's flush."
    );
    metrics::describe_counter!(BATCHES_TOTAL, "Flushed batch calls.");
}

/// The status the single RPC returns for an item a batch call reported as failed: the item's
/// code (by its name, e.g. `NOT_FOUND`), and its message with the batch request's field name
/// (`symbols`) replaced by the single request's (`symbol`), so that the client sees the same
/// problem whether or not its request was batched.
pub fn item_status(code: &str, message: &str, batch_field: &str, single_field: &str) -> Status {
    let message = match message
        .strip_prefix(batch_field)
        .and_then(|rest| rest.strip_prefix(": "))
    {
        Some(reason) => format!("{single_field}: {reason}"),
        None => message.to_owned(),
    };
    Status::new(code_named(code), message)
}

/// The gRPC code named `name`; `UNKNOWN` for a name no code has.
fn code_named(name: &str) -> Code {
    (0..=16)
        .map(Code::from_i32)
        .find(|code| code_label(*code) == name)
        .unwrap_or(Code::Unknown)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        batching: BatchArgs,
    }

    #[test]
    fn defaults_match_the_command_line_defaults() {
        let parsed = Cli::parse_from(["bourse"]).batching;
        let default = BatchArgs::default();
        assert_eq!(format!("{parsed:?}"), format!("{default:?}"));
    }

    #[test]
    fn batching_and_coalescing_can_be_turned_off() {
        let parsed =
            Cli::parse_from(["bourse", "--batching", "false", "--coalescing", "false"]).batching;
        assert!(!parsed.batching);
        assert!(!parsed.coalescing);
    }

    #[test]
    fn sentiment_batches_stop_at_the_service_limit() {
        let args = BatchArgs {
            batch_max_size: 1_000,
            ..BatchArgs::default()
        };
        assert_eq!(
            args.policy(Tier::Shared, sentiment::MAX_TEXTS).max_size,
            256
        );
        assert!(args.policy(Tier::Premium, 1).wait < args.policy(Tier::Shared, 1).wait);
    }

    #[test]
    fn item_errors_read_as_the_single_call_would_answer() {
        let status = item_status(
            "INVALID_ARGUMENT",
            "texts: must not be empty",
            "texts",
            "text",
        );
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "text: must not be empty");

        let status = item_status("NOT_FOUND", "unknown symbol ZZZ", "symbols", "symbol");
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "unknown symbol ZZZ");

        assert_eq!(item_status("BOGUS", "x", "a", "b").code(), Code::Unknown);
    }
}
