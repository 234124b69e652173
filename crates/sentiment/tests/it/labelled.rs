//! The default scorer on a hand-labelled set of finance headlines (`data/labelled_headlines.tsv`,
//! labelled before it was ever scored). The README reports the accuracy printed here.

use bourse_proto::sentiment::v1::SentimentLabel;
use bourse_sentiment::LexiconScorer;
use bourse_sentiment::scorer::label_for;

const LABELLED: &str = include_str!("../../data/labelled_headlines.tsv");

fn expected(label: &str) -> SentimentLabel {
    match label {
        "positive" => SentimentLabel::Positive,
        "negative" => SentimentLabel::Negative,
        "neutral" => SentimentLabel::Neutral,
        other => panic!("unknown label {other:?} in the labelled set"),
    }
}

#[test]
fn lexicon_labels_finance_headlines_accurately_and_never_flips_a_sign() {
    let scorer = LexiconScorer::default();
    let mut total = 0;
    let mut correct = 0;
    let mut flipped = Vec::new();
    for line in LABELLED
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (label, headline) = line.split_once('\t').expect("label<TAB>headline");
        let want = expected(label);
        let got = label_for(scorer.score(headline).compound);
        total += 1;
        if got == want {
            correct += 1;
        }
        let opposite = matches!(
            (want, got),
            (SentimentLabel::Positive, SentimentLabel::Negative)
                | (SentimentLabel::Negative, SentimentLabel::Positive)
        );
        if opposite {
            flipped.push(headline);
        }
    }
    let accuracy = f64::from(correct) / f64::from(total);
    eprintln!("lexicon accuracy on the labelled set: {correct}/{total} = {accuracy:.3}");
    assert!(total >= 40, "the labelled set shrank to {total}");
    assert!(accuracy >= 0.9, "accuracy {accuracy:.3} below 0.9");
    assert!(
        flipped.is_empty(),
        "scored with the opposite sign: {flipped:?}"
    );
}
