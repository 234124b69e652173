//! Synthetic demo headlines: a seeded trickle of template headlines about stored instruments,
//! ingested through the ordinary path with source `synthetic`, so `bourse up --feed` shows
//! symbol sentiment moving.

use std::time::Duration;

use bourse_cache::Tier;
use bourse_proto::sentiment::v1::NewsArticle;
use bourse_store::schema::instruments;
use bourse_store::{Db, StoreError};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

use crate::error::SentimentError;
use crate::service::Sentiment;

/// The `source` of every synthetic article.
pub const SOURCE: &str = "synthetic";

/// Headline templates; `{}` is the symbol. Mixed so that labels vary: roughly a third of each.
const TEMPLATES: [&str; 18] = [
    "{} beats quarterly estimates and raises its full-year outlook",
    "{} shares rally after a strong product launch",
    "Analysts upgrade {} on improving margins",
    "{} wins a major contract, lifting its growth forecast",
    "{} reports record revenue and boosts its dividend",
    "{} shares surge on better-than-expected earnings",
    "{} misses estimates and cuts its guidance",
    "{} shares slump after a regulator opens a probe",
    "{} warns of weak demand and announces layoffs",
    "{} faces a lawsuit over a product recall",
    "Analysts downgrade {} as losses widen",
    "{} shares tumble after its chief executive resigns",
    "{} to report quarterly results next week",
    "{} schedules its annual shareholder meeting",
    "{} names a new head of investor relations",
    "{} files its quarterly report with the SEC",
    "{} to present at an industry conference",
    "{} opens a new office in Chicago",
];

/// Generates synthetic articles, reproducibly for a seed.
#[derive(Debug)]
pub struct HeadlineGenerator {
    rng: StdRng,
    symbols: Vec<String>,
}

impl HeadlineGenerator {
    /// A generator over `symbols`; `None` when there are none.
    pub fn new(symbols: Vec<String>, seed: u64) -> Option<Self> {
        (!symbols.is_empty()).then(|| Self {
            rng: StdRng::seed_from_u64(seed),
            symbols,
        })
    }

    /// The next article, published now.
    pub fn next_article(&mut self) -> NewsArticle {
        let symbol = self.symbols[self.rng.random_range(0..self.symbols.len())].clone();
        let template = TEMPLATES[self.rng.random_range(0..TEMPLATES.len())];
        NewsArticle {
            symbols: vec![symbol.clone()],
            headline: template.replace("{}", &symbol),
            source: SOURCE.to_owned(),
            ..NewsArticle::default()
        }
    }
}

/// The active instruments' symbols.
async fn active_symbols(db: &Db) -> Result<Vec<String>, StoreError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        instruments::table
            .filter(instruments::active.eq(true))
            .select(instruments::symbol)
            .order(instruments::symbol)
            .load(conn)
            .await?
    }))
}

/// Ingests one synthetic headline every `every` until `stop` resolves. Failures are logged and
/// the trickle goes on (or pauses until `stop`): it is a demo aid, never a reason to stop the
/// process, so this returns only once `stop` has resolved.
pub async fn run(
    sentiment: Sentiment,
    every: Duration,
    seed: u64,
    stop: impl Future<Output = ()>,
) -> Result<(), SentimentError> {
    tokio::pin!(stop);
    let symbols = match active_symbols(sentiment.db()).await {
        Ok(symbols) => symbols,
        Err(error) => {
            tracing::warn!(error = %error, "synthetic headlines are off: cannot read instruments");
            Vec::new()
        }
    };
    let Some(mut generator) = HeadlineGenerator::new(symbols, seed) else {
        tracing::info!("no instruments: synthetic headlines are off");
        stop.await;
        return Ok(());
    };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = &mut stop => return Ok(()),
            _ = ticks.tick() => {}
        }
        let article = generator.next_article();
        if let Err(error) = sentiment
            .ingest(Tier::Shared, article, Utc::now().naive_utc())
            .await
        {
            tracing::warn!(error = %error, "a synthetic headline was not ingested");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LexiconScorer;
    use crate::scorer::label_for;
    use bourse_proto::sentiment::v1::SentimentLabel;

    #[test]
    fn templates_cover_every_label_and_generation_is_seeded() {
        let scorer = LexiconScorer::default();
        let labels: Vec<SentimentLabel> = TEMPLATES
            .iter()
            .map(|t| label_for(scorer.score(&t.replace("{}", "ACME")).compound))
            .collect();
        for wanted in [
            SentimentLabel::Positive,
            SentimentLabel::Neutral,
            SentimentLabel::Negative,
        ] {
            let n = labels.iter().filter(|l| **l == wanted).count();
            assert!(n >= 4, "{wanted:?}: only {n} templates");
        }
        let symbols = vec!["AAA".to_owned(), "BBB".to_owned()];
        let mut a = HeadlineGenerator::new(symbols.clone(), 7).expect("symbols");
        let mut b = HeadlineGenerator::new(symbols, 7).expect("symbols");
        for _ in 0..10 {
            let (x, y) = (a.next_article(), b.next_article());
            assert_eq!(x, y);
            assert_eq!(x.source, "synthetic");
            assert!(x.headline.contains(&x.symbols[0]));
        }
        assert!(HeadlineGenerator::new(Vec::new(), 1).is_none());
    }
}
