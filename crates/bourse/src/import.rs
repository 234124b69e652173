//! `bourse import`: bulk-load instruments or bars from CSV files.
//!
//! The command writes straight into the configured store through the market-data import library
//! ([`bourse_market_data::import`]): the same checks, upserts and quote refresh as the gRPC
//! `ImportBars` call, which is the network path for programs. Going direct needs no running
//! service and streams a large file from disk without cutting it into gRPC messages. The one
//! difference: a running service's cache may serve a quote this import refreshed until the
//! cache entry's TTL ends (`ImportBars` invalidates its own service's cache).

use std::fs::File;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bourse_market_data::import::{self, ImportOptions, ImportReport};
use bourse_market_data::interval::BarInterval;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::backends::{connect_db, describe_store};
use crate::cli::{ImportCommand, ImportFileArgs, ImportNewsArgs};

/// Runs one import and prints its summary; an all-or-nothing import refused by bad rows is an
/// error (a non-zero exit), after the summary.
pub async fn run(command: ImportCommand) -> anyhow::Result<()> {
    let (args, what) = match &command {
        ImportCommand::Bars(bars) => (&bars.file, "bars"),
        ImportCommand::Instruments(args) => (args, "instruments"),
        ImportCommand::News(news) => return import_news(news).await,
    };
    if let ImportCommand::Bars(bars) = &command
        && !BarInterval::ALL.iter().any(|i| i.as_str() == bars.interval)
    {
        bail!(
            "--interval {:?} is not one of 1m, 5m, 15m, 1h, 1d, 1w, 1mo",
            bars.interval
        );
    }
    let path = args.file.display();
    let file = File::open(&args.file).with_context(|| format!("opening {path}"))?;
    let size = file.metadata().ok().map(|m| m.len());
    let db = connect_db(&args.store.service, true).await?;

    let progress = progress_bar(size);
    let input = progress.wrap_read(file);
    let started = Instant::now();
    let result = match &command {
        ImportCommand::Bars(bars) => {
            let options = ImportOptions {
                all_or_nothing: args.all_or_nothing,
                max_buffered_rows: bars.max_rows,
            };
            import::import_bars_csv(&db, input, &bars.interval, options).await
        }
        ImportCommand::Instruments(_) => {
            let options = ImportOptions {
                all_or_nothing: args.all_or_nothing,
                ..ImportOptions::default()
            };
            import::import_instruments_csv(&db, input, options).await
        }
        ImportCommand::News(_) => bail!("news imports are run by import_news"),
    };
    progress.finish_and_clear();
    let report = result.with_context(|| format!("importing {what} from {path}"))?;

    print_summary(what, args, &report, started.elapsed());
    if report.refused {
        bail!(
            "import refused: {} bad row(s) and --all-or-nothing, nothing was stored",
            report.rejected
        );
    }
    Ok(())
}

/// `bourse import news`: scores and stores each article of a JSON Lines file with the default
/// (lexicon) scorer, through the same path as the `IngestNews` call.
async fn import_news(args: &ImportNewsArgs) -> anyhow::Result<()> {
    let path = args.file.display();
    let file = File::open(&args.file).with_context(|| format!("opening {path}"))?;
    let db = connect_db(&args.store.service, true).await?;
    let cache = bourse_cache::Cache::in_process(bourse_cache::CacheConfig::default());
    let sentiment = bourse_sentiment::args::SentimentArgs::default()
        .build(db, cache)
        .context("starting the sentiment scorer")?;
    let started = Instant::now();
    let report =
        bourse_sentiment::import::import_news_jsonl(&sentiment, std::io::BufReader::new(file))
            .await
            .with_context(|| format!("reading {path}"))?;
    println!(
        "imported {} news article(s) from {path} into {} in {:.1} s; {} already stored, {} \
         rejected",
        report.created,
        describe_store(&args.store.service),
        started.elapsed().as_secs_f64(),
        report.duplicates,
        report.rejected,
    );
    for (line, why) in &report.errors {
        println!("  line {line}: {why}");
    }
    Ok(())
}

/// A byte progress bar with its rate on stderr, hidden when stderr is not a terminal (a pipe, a
/// log file, CI).
fn progress_bar(size: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(size, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
         ({binary_bytes_per_sec}, {eta} left)",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn print_summary(what: &str, args: &ImportFileArgs, report: &ImportReport, took: Duration) {
    let seconds = took.as_secs_f64().max(1e-3);
    let store = describe_store(&args.store.service);
    if report.refused {
        println!(
            "refused {} {what} from {}: {} of {} rows are bad (--all-or-nothing); nothing was \
             stored in {store}",
            report.received,
            args.file.display(),
            report.rejected,
            report.received,
        );
    } else {
        println!(
            "imported {} of {} {what} from {} into {store} in {seconds:.1} s ({:.0} rows/s); \
             rejected {}",
            report.imported,
            report.received,
            args.file.display(),
            report.received as f64 / seconds,
            report.rejected,
        );
    }
    if !report.quotes_refreshed.is_empty() {
        println!(
            "latest quotes re-derived from daily bars for {} symbol(s)",
            report.quotes_refreshed.len()
        );
    }
    for error in report.errors.iter().take(args.show_errors) {
        let symbol = if error.symbol.is_empty() {
            String::new()
        } else {
            format!(" {}", error.symbol)
        };
        if error.line == 0 {
            println!("  {}", error.reason);
        } else {
            println!(
                "  line {}{symbol}: {}: {}",
                error.line, error.field, error.reason
            );
        }
    }
    let shown = report.errors.len().min(args.show_errors) as u64;
    if report.rejected > shown {
        println!(
            "  ... {} more bad row(s) not shown (--show-errors N shows more, up to {})",
            report.rejected - shown,
            import::MAX_REPORTED_ERRORS
        );
    }
}
