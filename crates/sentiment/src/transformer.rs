//! The transformer scorer (cargo feature `transformer`): a BERT-family sequence classifier run on
//! the CPU with candle, tokenized with Hugging Face `tokenizers`, behind a micro-batcher.
//!
//! # Model directory
//!
//! The FinBERT layout, as published on the Hugging Face hub (for example `ProsusAI/finbert`,
//! Apache-2.0): `config.json` (a BERT config with `id2label` naming `positive`, `negative` and
//! `neutral`), `model.safetensors` (a `BertForSequenceClassification`: `bert.embeddings.*`,
//! `bert.encoder.*`, `bert.pooler.dense.*`, `classifier.*`) and `tokenizer.json`. Download those
//! three files into a directory and start with `--sentiment-scorer transformer
//! --sentiment-model-dir DIR`. A missing or malformed file is a start-up error naming it.
//!
//! # Scoring
//!
//! Logits come from `classifier(tanh(pooler(h[CLS])))`, as in Hugging Face's
//! `BertForSequenceClassification`; the score is `P(positive) - P(negative)`, in [-1, 1], and the
//! per-class scores are the three softmax probabilities.
//!
//! # Batching
//!
//! One worker thread owns the model (so inference never blocks the async runtime). Requests
//! that arrive while it is busy, or within `max_wait` of the first one, are joined into one
//! forward pass of at most `max_batch` texts, padded to the longest, and each caller gets its
//! own results back in order.

mod batcher;
mod model;
pub mod tiny;

pub use batcher::{BATCH_TEXTS, BatchConfig};
pub use model::{ModelError, SequenceClassifier};

use std::path::Path;

use crate::error::SentimentError;
use crate::scorer::{Score, Scorer};

/// The transformer scorer: a [`SequenceClassifier`] behind a micro-batching worker.
#[derive(Debug)]
pub struct TransformerScorer {
    model_id: String,
    batcher: batcher::Batcher,
}

impl TransformerScorer {
    /// Loads the model in `dir` and starts its worker thread.
    pub fn load(dir: &Path, config: BatchConfig) -> Result<Self, ModelError> {
        let model = SequenceClassifier::load(dir)?;
        Ok(Self {
            model_id: model.model_id().to_owned(),
            batcher: batcher::Batcher::start(model, config)?,
        })
    }
}

impl TransformerScorer {
    /// Forward passes run so far: with concurrent callers, fewer than their requests.
    pub fn forward_passes(&self) -> u64 {
        self.batcher.passes()
    }
}

#[tonic::async_trait]
impl Scorer for TransformerScorer {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    async fn score_many(&self, texts: Vec<String>) -> Result<Vec<Score>, SentimentError> {
        self.batcher.score(texts).await
    }
}
