//! [`BarImport`]: one bar import in progress, from the first row to the refreshed quotes.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use bourse_store::{Db, StoreError};
use chrono::Datelike;

use super::bar::{self, BarInput, ValidBar};
use super::finish_errors;
use super::{ImportError, ImportOptions, ImportReport, MAX_REPORTED_ERRORS, RowError, WRITE_CHUNK};
use crate::store::{self, BarRow, QuoteRow};

/// A bar import in progress: feed it rows with [`BarImport::push`] as they arrive, then
/// [`BarImport::finish`] it. Dropping it unfinished loses the rows not yet written.
#[derive(Debug)]
pub struct BarImport {
    db: Db,
    options: ImportOptions,
    /// Symbols known to have an instrument, so each is looked up once.
    known: HashSet<String>,
    /// Checked rows not yet written.
    pending: Vec<ValidBar>,
    /// Symbols that received daily bars: their quotes are re-derived at the end.
    daily_symbols: BTreeSet<String>,
    report: ImportReport,
}

impl BarImport {
    pub fn new(db: Db, options: ImportOptions) -> Self {
        Self {
            db,
            options,
            known: HashSet::new(),
            pending: Vec::new(),
            daily_symbols: BTreeSet::new(),
            report: ImportReport::default(),
        }
    }

    /// Checks a batch of rows (a row may already be an error, e.g. unparseable CSV) and, unless
    /// all-or-nothing, writes the good ones once [`WRITE_CHUNK`] have gathered.
    pub async fn push(
        &mut self,
        rows: impl IntoIterator<Item = Result<BarInput, RowError>>,
    ) -> Result<(), ImportError> {
        let mut batch = Vec::new();
        for row in rows {
            self.report.received += 1;
            match row.and_then(BarInput::validate) {
                Ok(bar) => batch.push(bar),
                Err(error) => self.reject(error),
            }
        }
        self.reject_unknown_instruments(&mut batch).await?;
        if self.options.all_or_nothing {
            if self.report.rejected > 0 {
                // Refused already: holding the good rows would only cost memory.
                self.pending = Vec::new();
                return Ok(());
            }
            if self.pending.len() + batch.len() > self.options.max_buffered_rows {
                return Err(ImportError::TooManyRows {
                    limit: self.options.max_buffered_rows,
                });
            }
            self.pending.append(&mut batch);
        } else {
            self.pending.append(&mut batch);
            if self.pending.len() >= WRITE_CHUNK {
                self.write_pending().await?;
            }
        }
        Ok(())
    }

    /// Writes what is left (nothing, if all-or-nothing found a bad row), re-derives the latest
    /// quotes and reports.
    pub async fn finish(mut self) -> Result<ImportReport, ImportError> {
        if self.options.all_or_nothing && self.report.rejected > 0 {
            self.report.refused = true;
            self.report.imported = 0;
        } else {
            self.write_pending().await?;
            self.report.quotes_refreshed = refresh_quotes(&self.db, &self.daily_symbols).await?;
        }
        let mut report = self.report;
        finish_errors(&mut report);
        tracing::info!(
            received = report.received,
            imported = report.imported,
            rejected = report.rejected,
            refused = report.refused,
            "bar import finished"
        );
        Ok(report)
    }

    fn reject(&mut self, error: RowError) {
        self.report.rejected += 1;
        if self.report.errors.len() < MAX_REPORTED_ERRORS {
            self.report.errors.push(error);
        }
    }

    /// Rejects the bars whose symbol has no instrument, looking each new symbol up once.
    async fn reject_unknown_instruments(
        &mut self,
        batch: &mut Vec<ValidBar>,
    ) -> Result<(), ImportError> {
        let unseen: BTreeSet<&str> = batch
            .iter()
            .map(|bar| bar.row.symbol.as_str())
            .filter(|symbol| !self.known.contains(*symbol))
            .collect();
        if unseen.is_empty() {
            return Ok(());
        }
        let unseen: Vec<&str> = unseen.into_iter().collect();
        for chunk in unseen.chunks(1_000) {
            self.known
                .extend(store::known_instruments(&self.db, chunk).await?);
        }
        let (good, unknown): (Vec<_>, Vec<_>) = std::mem::take(batch)
            .into_iter()
            .partition(|bar| self.known.contains(&bar.row.symbol));
        *batch = good;
        for bar in unknown {
            let reason = format!(
                "no instrument {}: import the instrument before its bars",
                bar.row.symbol
            );
            self.reject(RowError {
                line: bar.line,
                symbol: bar.row.symbol,
                field: "symbol",
                reason,
            });
        }
        Ok(())
    }

    /// Writes the pending rows in one upsert (one transaction), after making sure their
    /// partitions exist.
    async fn write_pending(&mut self) -> Result<(), ImportError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        let count = rows.len() as u64;
        let rows = last_of_each_key(rows.into_iter().map(|bar| bar.row).collect());
        ensure_partitions(&self.db, &rows).await?;
        store::upsert_bars(&self.db, &rows).await?;
        self.daily_symbols.extend(
            rows.iter()
                .filter(|row| row.interval == "1d")
                .map(|row| row.symbol.clone()),
        );
        self.report.imported += count;
        Ok(())
    }
}

/// Sorts rows by key (the order the primary key stores them in, which also speeds up inserts)
/// and keeps the last row given for each key.
fn last_of_each_key(mut rows: Vec<BarRow>) -> Vec<BarRow> {
    rows.sort_by(|a, b| (&a.symbol, &a.interval, a.ts).cmp(&(&b.symbol, &b.interval, b.ts)));
    rows.dedup_by(|later, earlier| {
        let same = later.symbol == earlier.symbol
            && later.interval == earlier.interval
            && later.ts == earlier.ts;
        if same {
            std::mem::swap(later, earlier);
        }
        same
    });
    rows
}

/// Creates the PostgreSQL partitions `rows` need: one call per interval class and year, so a
/// batch spanning decades does not fill the gaps between its years with empty partitions.
async fn ensure_partitions(db: &Db, rows: &[BarRow]) -> Result<(), StoreError> {
    let mut spans = BTreeMap::new();
    for row in rows {
        let class = bar::class_of(row);
        let span = spans
            .entry((class.as_str(), row.ts.year()))
            .or_insert((class, row.ts, row.ts));
        span.1 = span.1.min(row.ts);
        span.2 = span.2.max(row.ts);
    }
    for (class, from, to) in spans.into_values() {
        db.ensure_bar_partitions_for(class, from, to).await?;
    }
    Ok(())
}

/// Re-derives the latest quote of each symbol from its newest stored daily bar, unless its
/// stored quote is newer. Returns the symbols whose quote was written.
async fn refresh_quotes(db: &Db, symbols: &BTreeSet<String>) -> Result<Vec<String>, StoreError> {
    if symbols.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = symbols.iter().map(String::as_str).collect();
    let current = store::quotes_for(db, &names).await?;
    let mut quotes = Vec::new();
    for symbol in symbols {
        let bars = store::newest_bars(db, symbol, "1d", None, 2).await?;
        let [newest, older @ ..] = bars.as_slice() else {
            continue;
        };
        if current
            .iter()
            .any(|quote| quote.symbol == *symbol && quote.ts > newest.ts)
        {
            continue;
        }
        quotes.push(QuoteRow {
            symbol: symbol.clone(),
            last: newest.close,
            bid: None,
            ask: None,
            bid_size: None,
            ask_size: None,
            day_open: Some(newest.open),
            day_high: Some(newest.high),
            day_low: Some(newest.low),
            prev_close: older.first().map(|bar| bar.close),
            volume: newest.volume,
            ts: newest.ts,
        });
    }
    store::upsert_quotes(db, &quotes).await?;
    Ok(quotes.into_iter().map(|quote| quote.symbol).collect())
}
