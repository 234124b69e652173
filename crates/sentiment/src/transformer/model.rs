//! [`SequenceClassifier`]: the BERT classifier and its tokenizer, loaded from a directory.

use std::path::{Path, PathBuf};

use candle_core::{D, DType, Device, Tensor};
use candle_nn::{Linear, Module, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

use crate::scorer::Score;

/// Why a model directory cannot be used; every message names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model file {} is missing or unreadable: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model file {} is malformed: {reason}", path.display())]
    Malformed { path: PathBuf, reason: String },
    #[error("inference failed: {0}")]
    Inference(String),
}

/// The classes the score is made of, as positions in the classifier's output.
#[derive(Debug, Clone, Copy)]
struct ClassIndex {
    positive: usize,
    negative: usize,
    neutral: usize,
}

/// A BERT sequence classifier with its tokenizer. Not `Sync`-shared: the batcher's worker thread
/// owns it.
pub struct SequenceClassifier {
    bert: BertModel,
    pooler: Linear,
    classifier: Linear,
    tokenizer: Tokenizer,
    classes: ClassIndex,
    pad_id: u32,
    device: Device,
    model_id: String,
}

impl std::fmt::Debug for SequenceClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceClassifier")
            .field("model_id", &self.model_id)
            .finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Unreadable {
        path: path.to_owned(),
        source,
    })
}

fn malformed(path: &Path, reason: impl ToString) -> ModelError {
    ModelError::Malformed {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

impl SequenceClassifier {
    /// Loads `config.json`, `model.safetensors` and `tokenizer.json` from `dir`, on the CPU.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let device = Device::Cpu;
        let config_path = dir.join("config.json");
        let config_bytes = read(&config_path)?;
        let config: Config =
            serde_json::from_slice(&config_bytes).map_err(|e| malformed(&config_path, e))?;
        let raw: serde_json::Value =
            serde_json::from_slice(&config_bytes).map_err(|e| malformed(&config_path, e))?;
        let classes = class_index(&raw).map_err(|e| malformed(&config_path, e))?;

        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer_bytes = read(&tokenizer_path)?;
        let mut tokenizer =
            Tokenizer::from_bytes(&tokenizer_bytes).map_err(|e| malformed(&tokenizer_path, e))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: config.max_position_embeddings,
                ..TruncationParams::default()
            }))
            .map_err(|e| malformed(&tokenizer_path, e))?;
        tokenizer.with_padding(None);
        let pad_id = u32::try_from(config.pad_token_id).map_err(|e| malformed(&config_path, e))?;

        let weights_path = dir.join("model.safetensors");
        let weights = read(&weights_path)?;
        let digest = Sha256::new()
            .chain_update(&config_bytes)
            .chain_update(&tokenizer_bytes)
            .chain_update(&weights)
            .finalize();
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| malformed(&weights_path, e))?;
        let bert =
            BertModel::load(vb.pp("bert"), &config).map_err(|e| malformed(&weights_path, e))?;
        let hidden = config.hidden_size;
        let pooler = candle_nn::linear(hidden, hidden, vb.pp("bert.pooler.dense"))
            .map_err(|e| malformed(&weights_path, e))?;
        let classifier = candle_nn::linear(hidden, 3, vb.pp("classifier"))
            .map_err(|e| malformed(&weights_path, e))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".to_owned());
        Ok(Self {
            bert,
            pooler,
            classifier,
            tokenizer,
            classes,
            pad_id,
            device,
            model_id: format!("{name}@{}", &hex::encode(digest)[..12]),
        })
    }

    /// The directory's name and a digest of its three files: a changed model never reuses
    /// cached scores.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Token ids of `text`, with the tokenizer's special tokens, truncated to the model's
    /// longest sequence.
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let encoding = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| ModelError::Inference(format!("tokenizing: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Scores `texts` in one forward pass, padded to the longest.
    pub fn score_batch(&self, texts: &[String]) -> Result<Vec<Score>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let inference = |e: candle_core::Error| ModelError::Inference(e.to_string());
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|text| self.tokenize(text))
            .collect::<Result<_, _>>()?;
        let longest = ids.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut flat_ids = Vec::with_capacity(texts.len() * longest);
        let mut mask = Vec::with_capacity(texts.len() * longest);
        for row in &ids {
            flat_ids.extend_from_slice(row);
            flat_ids.extend(std::iter::repeat_n(self.pad_id, longest - row.len()));
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            mask.extend(std::iter::repeat_n(0u32, longest - row.len()));
        }
        let shape = (texts.len(), longest);
        let input_ids = Tensor::from_vec(flat_ids, shape, &self.device).map_err(inference)?;
        let attention = Tensor::from_vec(mask, shape, &self.device).map_err(inference)?;
        let token_types = input_ids.zeros_like().map_err(inference)?;
        let hidden = self
            .bert
            .forward(&input_ids, &token_types, Some(&attention))
            .map_err(inference)?;
        let cls = hidden
            .narrow(1, 0, 1)
            .and_then(|t| t.squeeze(1))
            .map_err(inference)?;
        let pooled = self
            .pooler
            .forward(&cls)
            .and_then(|t| t.tanh())
            .map_err(inference)?;
        let logits = self.classifier.forward(&pooled).map_err(inference)?;
        let probs = candle_nn::ops::softmax(&logits, D::Minus1)
            .and_then(|p| p.to_vec2::<f32>())
            .map_err(inference)?;
        Ok(probs
            .into_iter()
            .map(|p| {
                let (positive, negative, neutral) = (
                    f64::from(p[self.classes.positive]),
                    f64::from(p[self.classes.negative]),
                    f64::from(p[self.classes.neutral]),
                );
                Score {
                    compound: (positive - negative).clamp(-1.0, 1.0),
                    positive,
                    neutral,
                    negative,
                }
            })
            .collect())
    }
}

/// Where `positive`, `negative` and `neutral` are in the classifier output, from `id2label`.
fn class_index(config: &serde_json::Value) -> Result<ClassIndex, String> {
    let labels = config
        .get("id2label")
        .and_then(|v| v.as_object())
        .ok_or("no id2label map")?;
    if labels.len() != 3 {
        return Err(format!("id2label has {} classes, expected 3", labels.len()));
    }
    let find = |wanted: &str| {
        labels
            .iter()
            .find(|(_, name)| {
                name.as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
            })
            .and_then(|(index, _)| index.parse::<usize>().ok())
            .filter(|&index| index < 3)
            .ok_or(format!("id2label names no {wanted:?} class"))
    };
    Ok(ClassIndex {
        positive: find("positive")?,
        negative: find("negative")?,
        neutral: find("neutral")?,
    })
}
