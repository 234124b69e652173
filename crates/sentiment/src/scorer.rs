//! The [`Scorer`] trait every sentiment model implements, and the score it returns.

use std::fmt;

use bourse_proto::sentiment::v1::{SentimentLabel, SentimentScore};

use crate::error::SentimentError;

/// Scores at or above this are positive, at or below its negation negative (VADER's thresholds,
/// also stated in the contract). Applied to every scorer's compound score.
pub const LABEL_THRESHOLD: f64 = 0.05;

/// A model's judgement of one text, before it is labelled and tagged with the model id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Compound score in [-1, 1].
    pub compound: f64,
    /// Per-class scores in [0, 1].
    pub positive: f64,
    pub neutral: f64,
    pub negative: f64,
}

impl Score {
    /// The contract's message for this score.
    pub fn into_proto(self, model: &str, truncated: bool) -> SentimentScore {
        SentimentScore {
            score: self.compound,
            label: label_for(self.compound) as i32,
            positive: self.positive,
            neutral: self.neutral,
            negative: self.negative,
            model: model.to_owned(),
            truncated,
        }
    }
}

/// The label of a compound score under [`LABEL_THRESHOLD`].
pub fn label_for(score: f64) -> SentimentLabel {
    if score >= LABEL_THRESHOLD {
        SentimentLabel::Positive
    } else if score <= -LABEL_THRESHOLD {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    }
}

/// A sentiment model. Implementations are chosen by configuration at start-up and shared by
/// every request; texts arrive validated and normalised (see [`crate::text`]).
#[tonic::async_trait]
pub trait Scorer: Send + Sync + fmt::Debug {
    /// Identifies the model and its version; part of every prediction's cache key, so two
    /// models never share cached scores.
    fn model_id(&self) -> &str;

    /// Scores `texts`, one result per text in the same order.
    async fn score_many(&self, texts: Vec<String>) -> Result<Vec<Score>, SentimentError>;
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
}
