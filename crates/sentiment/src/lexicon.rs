//! The default scorer: finvader, VADER extended with a financial lexicon.
//!
//! Chosen over the generic VADER ports on crates.io (`vader-sentiment`, `vader-sentimental`)
//! because those read finance text badly in both directions ("beats expectations" scores near 0,
//! "gross margin" scores negative); finvader masks finance-neutral words and adds a calibrated
//! financial lexicon on top of `vader-sentimental`. MIT licence, pure Rust, no model files.

use bourse_proto::sentiment::v1::{SentimentLabel, SentimentScore};
use finvader::FinVader;

/// Scores at or above this are positive, at or below its negation negative (VADER's thresholds).
pub const LABEL_THRESHOLD: f64 = 0.05;

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
    pub fn score(&self, text: &str) -> SentimentScore {
        let result = self.analyzer.analyze(text);
        SentimentScore {
            score: result.compound,
            label: label_for(result.compound) as i32,
            positive: result.positive,
            neutral: result.neutral,
            negative: result.negative,
            model: MODEL_ID.to_owned(),
            truncated: false,
        }
    }
}

/// The label of a compound score under the documented thresholds.
pub fn label_for(score: f64) -> SentimentLabel {
    if score >= LABEL_THRESHOLD {
        SentimentLabel::Positive
    } else if score <= -LABEL_THRESHOLD {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_thresholds() {
        assert_eq!(label_for(0.05), SentimentLabel::Positive);
        assert_eq!(label_for(0.049), SentimentLabel::Neutral);
        assert_eq!(label_for(-0.049), SentimentLabel::Neutral);
        assert_eq!(label_for(-0.05), SentimentLabel::Negative);
    }

    #[test]
    fn finance_phrases_score_with_the_expected_sign() {
        let scorer = LexiconScorer::default();
        let positive =
            scorer.score("Acme beats third-quarter expectations and raises full-year guidance");
        let negative = scorer
            .score("Acme misses estimates, cuts guidance and files for bankruptcy protection");
        assert_eq!(
            positive.label,
            SentimentLabel::Positive as i32,
            "{positive:?}"
        );
        assert_eq!(
            negative.label,
            SentimentLabel::Negative as i32,
            "{negative:?}"
        );
        assert!((-1.0..=1.0).contains(&positive.score) && (-1.0..=1.0).contains(&negative.score));
    }
}
