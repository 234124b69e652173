//! Integration tests of the sentiment service over real gRPC.

use bourse_proto::sentiment::v1::sentiment_service_client::SentimentServiceClient;
use bourse_proto::sentiment::v1::{ScoreTextRequest, SentimentLabel};
use bourse_runtime::grpc_server::GrpcServerConfig;
use bourse_test_support::grpc::{health_status, reflected_services, serve_on_loopback};
use bourse_test_support::sqlite_db;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test(flavor = "multi_thread")]
async fn scores_finance_text_and_rejects_empty_text() {
    let test_db = sqlite_db().await;
    let db = test_db.db.clone();
    let served = serve_on_loopback(move |listener, shutdown| {
        bourse_sentiment::serve(listener, db, GrpcServerConfig::default(), shutdown)
    })
    .await;
    let mut client = SentimentServiceClient::new(served.channel.clone());

    let score = |text: &str| ScoreTextRequest {
        text: text.to_owned(),
    };
    let positive = client
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

    let negative = client
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

    let status = client
        .score_text(score("   "))
        .await
        .expect_err("empty text");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("text:"),
        "{}",
        status.message()
    );

    assert_eq!(
        health_status(&served.channel, "").await,
        ServingStatus::Serving
    );
    let services = reflected_services(&served.channel).await;
    assert!(
        services
            .iter()
            .any(|s| s == "bourse.sentiment.v1.SentimentService"),
        "{services:?}"
    );
    served.stop().await;
}
