//! A tiny randomly initialised BERT classifier in the FinBERT layout, for tests and benchmarks
//! (real model files cannot be downloaded in CI): two layers, hidden size 16, a 16-token
//! WordLevel vocabulary. Its scores mean nothing; its files exercise the real loading code.

use std::path::Path;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use candle_transformers::models::bert::{BertModel, Config};
use serde_json::json;

use super::ModelError;

/// The vocabulary besides the four special tokens.
pub const WORDS: [&str; 12] = [
    "acme",
    "beats",
    "estimates",
    "misses",
    "and",
    "raises",
    "cuts",
    "guidance",
    "shares",
    "fall",
    "rally",
    "record",
];
const HIDDEN: usize = 16;

fn config_json() -> serde_json::Value {
    json!({
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "vocab_size": WORDS.len() + 4,
        "hidden_size": HIDDEN,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 32,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 32,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "id2label": {"0": "positive", "1": "negative", "2": "neutral"},
        "label2id": {"positive": 0, "negative": 1, "neutral": 2}
    })
}

fn tokenizer_json() -> serde_json::Value {
    let mut vocab = serde_json::Map::new();
    for (id, token) in ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
        .iter()
        .chain(WORDS.iter())
        .enumerate()
    {
        vocab.insert((*token).to_owned(), json!(id));
    }
    let special = |id: u32, content: &str| {
        json!({"id": id, "content": content, "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": false, "special": true})
    };
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [special(0, "[PAD]"), special(1, "[UNK]"), special(2, "[CLS]"), special(3, "[SEP]")],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"}
    })
}

/// Writes a tiny random BERT classifier in the FinBERT layout into `dir`.
pub fn write_tiny_model(dir: &Path) -> Result<(), ModelError> {
    let failed =
        |what: &str, e: &dyn std::fmt::Display| ModelError::Inference(format!("{what}: {e}"));
    let config_value = config_json();
    let config: Config =
        serde_json::from_value(config_value.clone()).map_err(|e| failed("bert config", &e))?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    BertModel::load(vb.pp("bert"), &config).map_err(|e| failed("random bert", &e))?;
    candle_nn::linear(HIDDEN, HIDDEN, vb.pp("bert.pooler.dense"))
        .map_err(|e| failed("pooler", &e))?;
    candle_nn::linear(HIDDEN, 3, vb.pp("classifier")).map_err(|e| failed("classifier", &e))?;
    varmap
        .save(dir.join("model.safetensors"))
        .map_err(|e| failed("writing weights", &e))?;
    let write = |name: &str, value: serde_json::Value| {
        std::fs::write(dir.join(name), value.to_string()).map_err(|source| ModelError::Unreadable {
            path: dir.join(name),
            source,
        })
    };
    write("config.json", config_value)?;
    write("tokenizer.json", tokenizer_json())
}
