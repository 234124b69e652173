//! ScoreText and BatchScoreText over real gRPC: signs, limits, batching and the cache.

use bourse_proto::sentiment::v1::batch_score_result::Result as BatchResult;
use bourse_proto::sentiment::v1::{BatchScoreTextRequest, ScoreTextRequest, SentimentLabel};
use bourse_test_support::grpc::{health_status, reflected_services};
use bourse_test_support::sqlite_db;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::app::TestApp;

fn score(text: &str) -> ScoreTextRequest {
    ScoreTextRequest {
        text: text.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scores_finance_text_and_rejects_empty_and_oversized_text() {
    let test_db = sqlite_db().await;
    let mut app = TestApp::start(&test_db.db, 100).await;

    let positive = app
        .client
        .score_text(score(
            "Shares surge after the company beats earnings estimates and lifts its dividend",
        ))
        .await
        .expect("score")
        .into_inner();
    assert_eq!(
        positive.label,
        SentimentLabel::Positive as i32,
        "{positive:?}"
    );
    assert!(positive.score > 0.0 && positive.score <= 1.0);
    assert_eq!(positive.model, "finvader-0.1");
    assert!(!positive.truncated);

    let negative = app
        .client
        .score_text(score(
            "Regulators open a fraud probe as the lender warns of steep losses",
        ))
        .await
        .expect("score")
        .into_inner();
    assert_eq!(
        negative.label,
        SentimentLabel::Negative as i32,
        "{negative:?}"
    );

    let status = app
        .client
        .score_text(score("   "))
        .await
        .expect_err("empty");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("text:"),
        "{}",
        status.message()
    );

    let status = app
        .client
        .score_text(score(&"gain ".repeat(30)))
        .await
        .expect_err("too long");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "text: 150 characters is more than the limit of 100"
    );

    assert_eq!(
        health_status(&app.served.channel, "").await,
        ServingStatus::Serving
    );
    let services = reflected_services(&app.served.channel).await;
    assert!(
        services
            .iter()
            .any(|s| s == "bourse.sentiment.v1.SentimentService"),
        "{services:?}"
    );
    app.served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_text_is_served_from_the_cache() {
    let test_db = sqlite_db().await;
    let mut app = TestApp::start_default(&test_db.db).await;
    let text = "Bank lifts dividend after stress test shows robust capital";
    let first = app
        .client
        .score_text(score(text))
        .await
        .expect("score")
        .into_inner();
    assert_eq!(app.texts_scored(), 1);
    // Same text up to whitespace: one cache entry.
    let again = app
        .client
        .score_text(score(&format!("  {}  ", text.replace(' ', "   "))))
        .await
        .expect("score")
        .into_inner();
    assert_eq!(app.texts_scored(), 1, "the repeat reached the model");
    assert_eq!(first, again);
    app.served.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_scores_like_single_calls_in_request_order_with_per_item_errors() {
    let test_db = sqlite_db().await;
    let mut app = TestApp::start_default(&test_db.db).await;
    let texts = [
        "Chipmaker warns of weak demand and announces layoffs",
        "",
        "Software firm raises its annual forecast after a strong quarter",
        "Company files its annual report with the SEC",
        "Chipmaker warns of weak demand and announces layoffs",
    ];
    let response = app
        .client
        .batch_score_text(BatchScoreTextRequest {
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
        })
        .await
        .expect("batch")
        .into_inner();
    assert_eq!(response.results.len(), texts.len());
    // Four valid texts (one repeated) went to the model in one call.
    assert_eq!(app.scorer_calls(), 1);
    assert_eq!(app.texts_scored(), 4);
    match &response.results[1].result {
        Some(BatchResult::Error(error)) => {
            assert_eq!(error.code, "INVALID_ARGUMENT");
            assert!(error.message.starts_with("texts:"), "{error:?}");
        }
        other => panic!("empty text should be an item error, got {other:?}"),
    }
    for (i, text) in texts.iter().enumerate().filter(|(i, _)| *i != 1) {
        // Build a fresh service so single scores come from the model, not the batch's cache.
        let fresh_db = sqlite_db().await;
        let mut single = TestApp::start_default(&fresh_db.db).await;
        let alone = single
            .client
            .score_text(score(text))
            .await
            .expect("score")
            .into_inner();
        single.served.stop().await;
        match &response.results[i].result {
            Some(BatchResult::Score(in_batch)) => assert_eq!(in_batch, &alone, "item {i}"),
            other => panic!("item {i} should be a score, got {other:?}"),
        }
    }

    let too_many = BatchScoreTextRequest {
        texts: vec!["up".to_owned(); 257],
    };
    let status = app
        .client
        .batch_score_text(too_many)
        .await
        .expect_err("257 texts");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("limit of 256"),
        "{}",
        status.message()
    );
    app.served.stop().await;
}
