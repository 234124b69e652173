//! `bourse serve sentiment` options: which scorer, its model and batching, and the input limit.

use std::path::PathBuf;
use std::sync::Arc;

use bourse_cache::Cache;
use bourse_store::Db;

use crate::LexiconScorer;
use crate::predict::Predictor;
use crate::scorer::Scorer;
use crate::service::Sentiment;
use crate::text::DEFAULT_MAX_TEXT_CHARS;

/// Which model scores texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ScorerKind {
    /// finvader: VADER with a financial lexicon. No model files, microseconds per text.
    #[default]
    Lexicon,
    /// A BERT sequence classifier (FinBERT layout) from --sentiment-model-dir. Needs a build with
    /// the `bourse-sentiment/transformer` feature.
    Transformer,
}

/// The sentiment service's own options.
#[derive(Debug, Clone, clap::Args)]
pub struct SentimentArgs {
    /// The scorer: lexicon (default) or transformer.
    #[arg(long, env = "BOURSE_SENTIMENT_SCORER", value_enum, default_value_t = ScorerKind::Lexicon)]
    pub sentiment_scorer: ScorerKind,
    /// Directory with config.json, model.safetensors and tokenizer.json (e.g. a ProsusAI/finbert
    /// download), for --sentiment-scorer transformer.
    #[arg(long, env = "BOURSE_SENTIMENT_MODEL_DIR")]
    pub sentiment_model_dir: Option<PathBuf>,
    /// Transformer: the most texts in one forward pass.
    #[arg(long, env = "BOURSE_SENTIMENT_MAX_BATCH", default_value_t = 32)]
    pub sentiment_max_batch: usize,
    /// Transformer: how long, in milliseconds, a request waits for others to share its pass.
    #[arg(long, env = "BOURSE_SENTIMENT_MAX_WAIT_MS", default_value_t = 5)]
    pub sentiment_max_wait_ms: u64,
    /// Texts longer than this many characters are rejected with INVALID_ARGUMENT.
    #[arg(long, env = "BOURSE_SENTIMENT_MAX_TEXT_CHARS", default_value_t = DEFAULT_MAX_TEXT_CHARS)]
    pub sentiment_max_text_chars: usize,
}

impl Default for SentimentArgs {
    fn default() -> Self {
        Self {
            sentiment_scorer: ScorerKind::Lexicon,
            sentiment_model_dir: None,
            sentiment_max_batch: 32,
            sentiment_max_wait_ms: 5,
            sentiment_max_text_chars: DEFAULT_MAX_TEXT_CHARS,
        }
    }
}

/// Why the configured scorer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ScorerStartError {
    #[error("--sentiment-scorer transformer needs --sentiment-model-dir")]
    NoModelDir,
    #[error(
        "this build has no transformer scorer: rebuild with `--features bourse-sentiment/transformer`"
    )]
    NotBuilt,
    #[cfg(feature = "transformer")]
    #[error(transparent)]
    Model(#[from] crate::transformer::ModelError),
}

impl SentimentArgs {
    /// Loads the configured scorer (the transformer's model files are read now, so a bad model
    /// directory stops start-up) and builds the service on it.
    pub fn build(&self, db: Db, cache: Cache) -> Result<Sentiment, ScorerStartError> {
        let scorer = self.scorer()?;
        tracing::info!(model = scorer.model_id(), "sentiment scorer loaded");
        let predictor = Predictor::new(scorer, cache);
        Ok(Sentiment::new(db, predictor, self.sentiment_max_text_chars))
    }

    fn scorer(&self) -> Result<Arc<dyn Scorer>, ScorerStartError> {
        match self.sentiment_scorer {
            ScorerKind::Lexicon => Ok(Arc::new(LexiconScorer::default())),
            ScorerKind::Transformer => {
                let dir = self
                    .sentiment_model_dir
                    .as_deref()
                    .ok_or(ScorerStartError::NoModelDir)?;
                self.transformer(dir)
            }
        }
    }

    #[cfg(feature = "transformer")]
    fn transformer(&self, dir: &std::path::Path) -> Result<Arc<dyn Scorer>, ScorerStartError> {
        let config = crate::transformer::BatchConfig {
            max_batch: self.sentiment_max_batch,
            max_wait: std::time::Duration::from_millis(self.sentiment_max_wait_ms),
        };
        Ok(Arc::new(crate::transformer::TransformerScorer::load(
            dir, config,
        )?))
    }

    #[cfg(not(feature = "transformer"))]
    fn transformer(&self, _: &std::path::Path) -> Result<Arc<dyn Scorer>, ScorerStartError> {
        Err(ScorerStartError::NotBuilt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transformer_needs_a_model_directory() {
        let args = SentimentArgs {
            sentiment_scorer: ScorerKind::Transformer,
            ..SentimentArgs::default()
        };
        let error = args.scorer().expect_err("no model dir");
        assert!(matches!(error, ScorerStartError::NoModelDir), "{error}");
        let lexicon = SentimentArgs::default().scorer().expect("lexicon");
        assert_eq!(lexicon.model_id(), crate::lexicon::MODEL_ID);
    }
}
