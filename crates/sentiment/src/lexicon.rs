//! The default scorer: finvader, VADER extended with a financial lexicon.
//!
//! Chosen over the generic VADER ports on crates.io (`vader-sentiment`, `vader-sentimental`)
//! because those read finance text badly in both directions ("beats expectations" scores near 0,
//! "gross margin" scores negative); finvader masks finance-neutral words and adds a calibrated
//! financial lexicon on top of `vader-sentimental`. MIT licence, pure Rust, no model files.

use finvader::FinVader;

use crate::error::SentimentError;
use crate::scorer::{Score, Scorer};

/// The model id reported with every lexicon score.
pub const MODEL_ID: &str = "finvader-0.1";

/// A finance-aware lexicon scorer. Loading the lexicon is done once; scoring is pure CPU and
/// takes microseconds, so it runs inline on the request task.
pub struct LexiconScorer {
    analyzer: FinVader,
}

impl std::fmt::Debug for LexiconScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexiconScorer")
            .field("model", &MODEL_ID)
            .finish()
    }
}

impl Default for LexiconScorer {
    fn default() -> Self {
        Self {
            analyzer: FinVader::new(),
        }
    }
}

impl LexiconScorer {
    /// Scores one non-empty text.
    pub fn score(&self, text: &str) -> Score {
        let result = self.analyzer.analyze(text);
        Score {
            compound: result.compound,
            positive: result.positive,
            neutral: result.neutral,
            negative: result.negative,
        }
    }
}

#[tonic::async_trait]
impl Scorer for LexiconScorer {
    fn model_id(&self) -> &str {
        MODEL_ID
    }

    async fn score_many(&self, texts: Vec<String>) -> Result<Vec<Score>, SentimentError> {
        Ok(texts.iter().map(|text| self.score(text)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::label_for;
    use bourse_proto::sentiment::v1::SentimentLabel;

    #[test]
    fn finance_phrases_score_with_the_expected_sign() {
        let scorer = LexiconScorer::default();
        let positive =
            scorer.score("Acme beats third-quarter expectations and raises full-year guidance");
        let negative = scorer
            .score("Acme misses estimates, cuts guidance and files for bankruptcy protection");
        assert_eq!(
            label_for(positive.compound),
            SentimentLabel::Positive,
            "{positive:?}"
        );
        assert_eq!(
            label_for(negative.compound),
            SentimentLabel::Negative,
            "{negative:?}"
        );
        assert!(
            (-1.0..=1.0).contains(&positive.compound) && (-1.0..=1.0).contains(&negative.compound)
        );
    }
}
