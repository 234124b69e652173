//! Bulk imports: the one path every bar and instrument import takes, whether it arrives over
//! gRPC (`ImportBars`), from `bourse import`, or is the demo data set.
//!
//! - **Checks.** Every row is checked ([`BarInput::validate`], [`InstrumentInput::validate`]);
//!   a bad row is reported with its line number, symbol, field and reason.
//! - **Skip or refuse.** By default bad rows are skipped and the good ones stored. With
//!   [`ImportOptions::all_or_nothing`] the whole import is checked before anything is written,
//!   and one bad row refuses it: nothing is stored. Good rows are then held in memory, at most
//!   [`ImportOptions::max_buffered_rows`] of them; a larger import is refused with
//!   [`ImportError::TooManyRows`]. The final write is one transaction.
//! - **Idempotent.** Writes are upserts on (symbol, interval, ts) (instruments: symbol), so
//!   importing a file twice stores it once; a later row with the same key replaces an earlier
//!   one, as if the rows were upserted in order.
//! - **Instruments first.** A bar whose symbol has no instrument is rejected (field `symbol`):
//!   the latest quote derived from it needs the instrument (the `quotes` foreign key), and a bar
//!   nobody can look the instrument of up is an orphan. Import instruments before their bars.
//! - **Bounded memory.** Without all-or-nothing, rows are written in chunks of [`WRITE_CHUNK`]
//!   as they arrive; a failure of the store ends the import, and the chunks already written stay
//!   (re-running the import is safe).
//! - **Partitions.** On PostgreSQL the partitions a chunk needs are created before it is written.
//! - **Latest quotes.** After an import, each symbol that received daily bars gets its latest
//!   quote re-derived from its newest stored daily bar (last = close, the day's open, high, low
//!   and volume, and the previous daily bar's close as `prev_close`), but only if its stored
//!   quote is not newer than that bar: a live quote taken after the bar's start wins.

mod bar;
mod csv_input;
mod instrument;
mod session;

use std::collections::HashSet;
use std::io::Read;

use bourse_proto::market_data::v1::{ImportBarsResponse, ImportRowError};
use bourse_store::{Db, StoreError};
use chrono::Utc;
use tokio::sync::mpsc;

pub use bar::{BarInput, ValidBar, parse_ts};
pub use csv_input::{BarCsv, read_instruments};
pub use instrument::{ASSET_CLASSES, InstrumentInput};
pub use session::BarImport;

use crate::store;

/// How many good rows a skipping import collects before it writes them.
pub const WRITE_CHUNK: usize = 5_000;
/// The default bound on the rows an all-or-nothing import may hold in memory.
pub const DEFAULT_MAX_BUFFERED_ROWS: usize = 5_000_000;
/// The most row errors a report lists; the last entry then says how many more there were.
pub const MAX_REPORTED_ERRORS: usize = 1_000;

/// How an import treats bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Refuse the whole import, storing nothing, when any row is bad.
    pub all_or_nothing: bool,
    /// All-or-nothing only: the most good rows held before the import is refused.
    pub max_buffered_rows: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            all_or_nothing: false,
            max_buffered_rows: DEFAULT_MAX_BUFFERED_ROWS,
        }
    }
}

/// One bad row: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The caller's line or row number (0 for a summary entry).
    pub line: u64,
    /// The symbol as given, which may be the problem.
    pub symbol: String,
    /// The offending field, e.g. `high`, or `row` for a malformed CSV record.
    pub field: &'static str,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Rows received, good and bad.
    pub received: u64,
    /// Rows stored (0 when refused).
    pub imported: u64,
    /// Bad rows.
    pub rejected: u64,
    /// The bad rows in line order, at most [`MAX_REPORTED_ERRORS`] of them.
    pub errors: Vec<RowError>,
    /// All-or-nothing only: whether bad rows refused the import, so nothing was stored.
    pub refused: bool,
    /// The symbols whose latest quote was re-derived from their newest daily bar.
    pub quotes_refreshed: Vec<String>,
}

/// Why an import stopped as a whole (as opposed to a bad row, which is reported).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the CSV header: {0}")]
    Header(String),
    #[error("reading the input: {0}")]
    Read(String),
    #[error(
        "an all-or-nothing import holds at most {limit} rows; split it, or import without \
         all-or-nothing"
    )]
    TooManyRows { limit: usize },
    #[error("storing the import")]
    Store(#[from] StoreError),
}

/// Puts the errors in line order and, when some were left out, makes the last entry say so.
pub(crate) fn finish_errors(report: &mut ImportReport) {
    report.errors.sort_by_key(|error| error.line);
    let listed = report.errors.len() as u64;
    if report.rejected > listed && !report.errors.is_empty() {
        report.errors.pop();
        report.errors.push(RowError {
            line: 0,
            symbol: String::new(),
            field: "",
            reason: format!(
                "error list truncated at {MAX_REPORTED_ERRORS} entries: {} more bad rows not \
                 listed",
                report.rejected - (listed - 1)
            ),
        });
    }
}

/// Imports instruments: checks every row, then upserts the good ones by symbol in one
/// transaction (nothing, if all-or-nothing found a bad row).
pub async fn import_instruments(
    db: &Db,
    rows: impl IntoIterator<Item = Result<InstrumentInput, RowError>>,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let now = Utc::now().naive_utc();
    let mut report = ImportReport::default();
    let mut good = Vec::new();
    for row in rows {
        report.received += 1;
        match row.and_then(|input| input.validate(now)) {
            Ok(row) => good.push(row),
            Err(error) => {
                report.rejected += 1;
                if report.errors.len() < MAX_REPORTED_ERRORS {
                    report.errors.push(error);
                }
            }
        }
    }
    if options.all_or_nothing && report.rejected > 0 {
        report.refused = true;
    } else {
        report.imported = good.len() as u64;
        // The last row of each symbol wins, and one statement may not update a row twice.
        good.reverse();
        let mut seen = HashSet::new();
        good.retain(|row| seen.insert(row.symbol.clone()));
        store::upsert_instruments(db, &good).await?;
    }
    finish_errors(&mut report);
    Ok(report)
}

/// Imports bars from CSV (see [`BarCsv`]) through a [`BarImport`]: the file is parsed on the
/// blocking pool in batches of [`WRITE_CHUNK`] rows while earlier batches are written.
pub async fn import_bars_csv<R: Read + Send + 'static>(
    db: &Db,
    input: R,
    default_interval: &str,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let default_interval = default_interval.to_owned();
    let (batches, mut received) = mpsc::channel::<Vec<Result<BarInput, RowError>>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let mut rows = BarCsv::open(input, &default_interval)?;
        loop {
            let batch: Vec<_> = rows.by_ref().take(WRITE_CHUNK).collect();
            if batch.is_empty() || batches.blocking_send(batch).is_err() {
                break;
            }
        }
        rows.take_failure().map_or(Ok(()), Err)
    });
    let mut import = BarImport::new(db.clone(), options);
    while let Some(batch) = received.recv().await {
        import.push(batch).await?;
    }
    reader
        .await
        .map_err(|e| ImportError::Read(format!("the CSV reader stopped: {e}")))??;
    import.finish().await
}

/// Imports instruments from CSV (see [`read_instruments`]); instrument files are small, so the
/// whole file is read first.
pub async fn import_instruments_csv<R: Read + Send + 'static>(
    db: &Db,
    input: R,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let rows = tokio::task::spawn_blocking(move || read_instruments(input))
        .await
        .map_err(|e| ImportError::Read(format!("the CSV reader stopped: {e}")))??;
    import_instruments(db, rows, options).await
}

impl From<ImportReport> for ImportBarsResponse {
    fn from(report: ImportReport) -> Self {
        Self {
            received: report.received,
            imported: report.imported,
            rejected: report.rejected,
            errors: report
                .errors
                .into_iter()
                .map(|error| ImportRowError {
                    line: error.line,
                    symbol: error.symbol,
                    field: error.field.to_owned(),
                    reason: error.reason,
                })
                .collect(),
        }
    }
}
