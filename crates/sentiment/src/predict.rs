//! [`Predictor`]: scores texts through the prediction cache.
//!
//! Scores are deterministic per (model, normalised text), so they are cached in the two-level
//! cache under [`DataClass::Sentiment`] (a long TTL) keyed by [`Text::cache_key`]. Only the texts
//! the cache cannot answer reach the scorer, in one call, so a batch becomes one model call.

use std::sync::Arc;

use bourse_cache::{Bytes, Cache, DataClass, Tier};
use bourse_proto::sentiment::v1::SentimentScore;
use prost::Message;

use crate::error::SentimentError;
use crate::scorer::Scorer;
use crate::text::Text;

/// Counter of prediction lookups: label `result` = `hit` (served from the cache) or `miss`
/// (scored by the model). The hit rate is `hit / (hit + miss)`.
pub const PREDICTIONS_TOTAL: &str = "bourse_sentiment_predictions_total";

/// The scorer in use behind the prediction cache. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Predictor {
    scorer: Arc<dyn Scorer>,
    cache: Cache,
}

impl Predictor {
    pub fn new(scorer: Arc<dyn Scorer>, cache: Cache) -> Self {
        Self { scorer, cache }
    }

    /// The id of the model scoring misses.
    pub fn model_id(&self) -> &str {
        self.scorer.model_id()
    }

    /// Scores one text.
    pub async fn score(&self, tier: Tier, text: Text) -> Result<SentimentScore, SentimentError> {
        let mut scores = self.score_many(tier, vec![text]).await?;
        scores
            .pop()
            .ok_or_else(|| SentimentError::Scorer("the scorer returned no score".into()))
    }

    /// Scores `texts`, one score per text in the same order: cached scores first, then every
    /// miss in one scorer call, whose results are written back to the cache.
    pub async fn score_many(
        &self,
        tier: Tier,
        texts: Vec<Text>,
    ) -> Result<Vec<SentimentScore>, SentimentError> {
        let model = self.scorer.model_id();
        let keys: Vec<String> = texts.iter().map(|text| text.cache_key(model)).collect();
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let cached = self
            .cache
            .get_many(DataClass::Sentiment, tier, &key_refs)
            .await;
        let mut scores: Vec<Option<SentimentScore>> = cached
            .into_iter()
            .map(|bytes| bytes.and_then(|bytes| SentimentScore::decode(bytes).ok()))
            .collect();
        let (hits, misses): (Vec<usize>, Vec<usize>) =
            (0..texts.len()).partition(|&i| scores[i].is_some());
        metrics::counter!(PREDICTIONS_TOTAL, "result" => "hit").increment(hits.len() as u64);
        metrics::counter!(PREDICTIONS_TOTAL, "result" => "miss").increment(misses.len() as u64);
        if !misses.is_empty() {
            let to_score: Vec<String> = misses
                .iter()
                .map(|&i| texts[i].as_str().to_owned())
                .collect();
            let scored = self.scorer.score_many(to_score).await?;
            if scored.len() != misses.len() {
                return Err(SentimentError::Scorer(format!(
                    "{} scores for {} texts",
                    scored.len(),
                    misses.len()
                )));
            }
            let mut entries = Vec::with_capacity(misses.len());
            for (&i, score) in misses.iter().zip(scored) {
                let score = score.into_proto(model, false);
                entries.push((keys[i].as_str(), Bytes::from(score.encode_to_vec())));
                scores[i] = Some(score);
            }
            self.cache.set_many(DataClass::Sentiment, &entries).await;
        }
        Ok(scores.into_iter().flatten().collect())
    }
}
