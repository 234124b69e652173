//! The tiny random transformer (two layers, hidden size 16): 32 headlines scored in forward
//! passes of 1, 8 and 32 texts. The batch-of-1 run is the baseline the batching speed-up is
//! measured against. A real FinBERT (12 layers, hidden 768) is ~3,000x the work per token.
//!
//! `cargo bench -p bourse-sentiment --features transformer --bench transformer`

use std::hint::black_box;

use bourse_sentiment::transformer::SequenceClassifier;
use bourse_sentiment::transformer::tiny::{WORDS, write_tiny_model};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const TEXTS: usize = 32;

/// 32 headlines of 3 to 10 words from the tiny vocabulary.
fn headlines() -> Vec<String> {
    (0..TEXTS)
        .map(|i| {
            (0..3 + i % 8)
                .map(|k| WORDS[(i * 7 + k * 3) % WORDS.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn transformer(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tiny_model(dir.path()).expect("tiny model");
    let model = SequenceClassifier::load(dir.path()).expect("load");
    let texts = headlines();
    let mut group = c.benchmark_group("tiny_transformer");
    group.throughput(Throughput::Elements(TEXTS as u64));
    for batch in [1, 8, 32] {
        group.bench_with_input(BenchmarkId::new("batch", batch), &batch, |b, &batch| {
            b.iter(|| {
                for chunk in texts.chunks(batch) {
                    black_box(model.score_batch(black_box(chunk)).expect("scores"));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, transformer);
criterion_main!(benches);
