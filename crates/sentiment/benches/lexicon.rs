//! The lexicon scorer: one headline's latency, and texts per second over the labelled set.
//!
//! `cargo bench -p bourse-sentiment --bench lexicon`

use std::hint::black_box;

use bourse_sentiment::LexiconScorer;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const LABELLED: &str = include_str!("../data/labelled_headlines.tsv");

fn headlines() -> Vec<&'static str> {
    LABELLED
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(_, headline)| headline))
        .collect()
}

fn lexicon(c: &mut Criterion) {
    let scorer = LexiconScorer::default();
    let headlines = headlines();
    let mut group = c.benchmark_group("lexicon");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_headline", |b| {
        b.iter(|| scorer.score(black_box(headlines[0])))
    });
    group.throughput(Throughput::Elements(headlines.len() as u64));
    group.bench_function("labelled_set", |b| {
        b.iter(|| {
            for headline in &headlines {
                black_box(scorer.score(black_box(headline)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, lexicon);
criterion_main!(benches);
