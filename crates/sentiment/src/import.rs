//! Bulk news import from JSON Lines (`bourse import news FILE.jsonl`).
//!
//! Each line is one `NewsArticle` in the contract's JSON form (`{"symbols": ["AAPL"],
//! "headline": "...", "source": "wire", "url": "...", "published_at": "2026-11-20T14:30:00Z"}`;
//! `id` and `body` optional). Every line goes through the same validation, scoring and
//! idempotent insert as `IngestNews`, so re-importing a file adds nothing. Bad lines are
//! reported with their line number and skipped.

use std::io::BufRead;

use bourse_cache::Tier;
use bourse_proto::sentiment::v1::NewsArticle;
use chrono::Utc;

use crate::service::Sentiment;

/// The most rejected lines kept in a report (the count goes on).
const MAX_REPORTED_ERRORS: usize = 20;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NewsImportReport {
    /// Articles stored by this import.
    pub created: u64,
    /// Articles that were already stored (same id, or same source and url).
    pub duplicates: u64,
    /// Lines refused.
    pub rejected: u64,
    /// The first rejected lines: (line number from 1, why).
    pub errors: Vec<(u64, String)>,
}

/// Imports every article of `input` through `sentiment`. Only reading `input` fails the import;
/// a line that cannot be parsed or stored is counted and reported.
pub async fn import_news_jsonl(
    sentiment: &Sentiment,
    input: impl BufRead,
) -> std::io::Result<NewsImportReport> {
    let mut report = NewsImportReport::default();
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        let number = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let outcome = match serde_json::from_str::<NewsArticle>(&line) {
            Ok(article) => sentiment
                .ingest(Tier::Shared, article, Utc::now().naive_utc())
                .await
                .map_err(|e| e.client_message()),
            Err(e) => Err(format!("not a news article: {e}")),
        };
        match outcome {
            Ok((_, true)) => report.created += 1,
            Ok((_, false)) => report.duplicates += 1,
            Err(why) => {
                report.rejected += 1;
                if report.errors.len() < MAX_REPORTED_ERRORS {
                    report.errors.push((number, why));
                }
            }
        }
    }
    Ok(report)
}
