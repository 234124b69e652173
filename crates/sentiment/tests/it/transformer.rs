//! The transformer scorer on a tiny randomly initialised BERT classifier written by the test in
//! the FinBERT layout: loading, tokenizing, batching and routing.

use std::sync::Arc;
use std::time::Duration;

use bourse_sentiment::Scorer;
use bourse_sentiment::transformer::tiny::write_tiny_model;
use bourse_sentiment::transformer::{
    BatchConfig, ModelError, SequenceClassifier, TransformerScorer,
};

const TEXTS: [&str; 5] = [
    "Acme beats estimates",
    "Acme misses estimates and cuts guidance",
    "shares rally",
    "Record",
    "shares fall and acme cuts guidance and misses estimates",
];

fn owned(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_owned()).collect()
}

#[test]
fn loads_tokenizes_and_scores_a_batch_like_single_texts() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tiny_model(dir.path()).expect("tiny model");
    let model = SequenceClassifier::load(dir.path()).expect("load");
    // [CLS]=2, acme=4, beats=5, estimates=6, [SEP]=3; unknown words are [UNK]=1; lower-cased.
    assert_eq!(
        model.tokenize("ACME beats estimates").expect("tokens"),
        [2, 4, 5, 6, 3]
    );
    assert_eq!(model.tokenize("acme soars").expect("tokens"), [2, 4, 1, 3]);
    assert_eq!(
        model.tokenize(&"acme ".repeat(100)).expect("tokens").len(),
        32,
        "truncated"
    );

    let batch = model.score_batch(&owned(&TEXTS)).expect("batch");
    assert_eq!(batch.len(), TEXTS.len());
    for (text, in_batch) in TEXTS.iter().zip(&batch) {
        let alone = model.score_batch(&owned(&[text])).expect("single")[0];
        // Padding is masked out; only float summation order may differ between shapes.
        assert!(
            (in_batch.compound - alone.compound).abs() < 1e-5,
            "{text}: {in_batch:?} vs {alone:?}"
        );
        let sum = in_batch.positive + in_batch.neutral + in_batch.negative;
        assert!((sum - 1.0).abs() < 1e-5, "probabilities sum to {sum}");
        assert!((in_batch.compound - (in_batch.positive - in_batch.negative)).abs() < 1e-12);
    }
    // A random model still tells different texts apart: order matters.
    assert!(
        batch
            .windows(2)
            .any(|w| (w[0].compound - w[1].compound).abs() > 1e-6)
    );
    let again = SequenceClassifier::load(dir.path()).expect("reload");
    assert_eq!(model.model_id(), again.model_id());
    assert!(model.model_id().contains('@'), "{}", model.model_id());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_are_batched_and_routed_back_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tiny_model(dir.path()).expect("tiny model");
    let reference = SequenceClassifier::load(dir.path()).expect("load");
    let config = BatchConfig {
        max_batch: 8,
        max_wait: Duration::from_millis(20),
    };
    let scorer = Arc::new(TransformerScorer::load(dir.path(), config).expect("load"));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let scorer = scorer.clone();
        // Requests of 1 to 3 texts, rotated so each request's order is its own.
        let texts: Vec<String> = (0..=(i % 3))
            .map(|k| TEXTS[(i + k) % TEXTS.len()].to_owned())
            .collect();
        tasks.push(tokio::spawn(async move {
            let scores = scorer.score_many(texts.clone()).await.expect("scores");
            (texts, scores)
        }));
    }
    let mut texts_sent = 0;
    for task in tasks {
        let (texts, scores) = task.await.expect("task");
        texts_sent += texts.len();
        assert_eq!(scores.len(), texts.len());
        for (text, score) in texts.iter().zip(scores) {
            let alone = reference
                .score_batch(std::slice::from_ref(text))
                .expect("single")[0];
            assert!((score.compound - alone.compound).abs() < 1e-5, "{text}");
        }
    }
    // 12 requests, 24 texts, passes of at most 8: at least 3 passes; without batching one per
    // request (12). Requests arriving together are joined, so fewer passes than requests.
    assert_eq!(texts_sent, 24);
    let passes = scorer.forward_passes();
    assert!(
        (3..12).contains(&passes),
        "{passes} forward passes for 12 requests"
    );
}

#[test]
fn a_missing_or_malformed_model_directory_is_a_clear_start_up_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = SequenceClassifier::load(&dir.path().join("nowhere")).expect_err("missing dir");
    assert!(matches!(error, ModelError::Unreadable { .. }), "{error}");
    assert!(error.to_string().contains("config.json"), "{error}");

    write_tiny_model(dir.path()).expect("tiny model");
    std::fs::write(dir.path().join("config.json"), "{not json").expect("write");
    let error = SequenceClassifier::load(dir.path()).expect_err("bad config");
    assert!(
        error.to_string().starts_with("model file")
            && error.to_string().contains("config.json is malformed"),
        "{error}"
    );

    write_tiny_model(dir.path()).expect("tiny model");
    std::fs::write(dir.path().join("tokenizer.json"), "[]").expect("write");
    let error = SequenceClassifier::load(dir.path()).expect_err("bad tokenizer");
    assert!(
        error.to_string().contains("tokenizer.json is malformed"),
        "{error}"
    );

    write_tiny_model(dir.path()).expect("tiny model");
    std::fs::write(dir.path().join("model.safetensors"), b"truncated").expect("write");
    let error = SequenceClassifier::load(dir.path()).expect_err("bad weights");
    assert!(
        error.to_string().contains("model.safetensors is malformed"),
        "{error}"
    );

    write_tiny_model(dir.path()).expect("tiny model");
    std::fs::remove_file(dir.path().join("model.safetensors")).expect("remove");
    let error =
        TransformerScorer::load(dir.path(), BatchConfig::default()).expect_err("no weights");
    assert!(
        error.to_string().contains("model.safetensors is missing"),
        "{error}"
    );
}
