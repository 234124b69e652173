//! `GET /metrics` on the gRPC port: request counter and latency histogram labels.

use bourse_runtime::grpc_server::GrpcServerConfig;
use bourse_runtime::tier::{TIER_METADATA_KEY, Tier};
use std::time::Duration;
use tonic::Request;

use crate::support::{TestApp, sample, wait_request};

const REQUESTS: &str = "bourse_grpc_server_requests_total";
const DURATION: &str = "bourse_grpc_server_duration_seconds";

#[tokio::test]
async fn calls_are_counted_by_method_tier_and_code() {
    let app = TestApp::builder("metrics-labels").spawn().await;

    let mut premium = Request::new(());
    bourse_runtime::grpc_client::with_tier(&mut premium, Tier::Premium);
    app.wait(premium).await.expect("premium call");
    let mut bogus_tier = Request::new(());
    bogus_tier
        .metadata_mut()
        .insert(TIER_METADATA_KEY, "platinum".parse().expect("ascii"));
    app.wait(bogus_tier)
        .await
        .expect("call with an invalid tier");
    app.wait(Request::new(())).await.expect("shared call");
    // A trailers-only error response.
    app.health_check("no-such-service")
        .await
        .expect_err("NOT_FOUND");

    let metrics = app.http_get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .head
            .contains("content-type: text/plain; version=0.0.4"),
        "{}",
        metrics.head
    );
    let text = &metrics.body;
    let labels = |tier, code, method| {
        [
            ("service", "metrics-labels"),
            ("method", method),
            ("tier", tier),
            ("code", code),
        ]
    };
    assert_eq!(
        sample(text, REQUESTS, &labels("premium", "OK", "Wait")),
        Some(1.0),
        "{text}"
    );
    // The invalid tier falls back to shared, next to the call without one.
    assert_eq!(
        sample(text, REQUESTS, &labels("shared", "OK", "Wait")),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(text, REQUESTS, &labels("shared", "NOT_FOUND", "Check")),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("platinum"), "{text}");
    // Latency buckets start at half a millisecond.
    let mut bucket = labels("premium", "OK", "Wait").to_vec();
    bucket.push(("le", "0.0005"));
    assert!(
        sample(text, &format!("{DURATION}_bucket"), &bucket).is_some(),
        "{text}"
    );
    bucket.pop();
    assert_eq!(
        sample(text, &format!("{DURATION}_count"), &bucket),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_methods_do_not_create_label_values() {
    let app = TestApp::builder("metrics-unknown").spawn().await;
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.expect("ready");
    let status = grpc
        .unary(
            Request::new(()),
            http::uri::PathAndQuery::from_static("/grpc.health.v1.Health/Random123"),
            tonic_prost::ProstCodec::<(), ()>::default(),
        )
        .await
        .expect_err("no such method");
    assert_eq!(status.code(), tonic::Code::Unimplemented);

    let text = app.http_get("/metrics").await.body;
    assert!(!text.contains("Random123"), "{text}");
    let labels = [
        ("service", "metrics-unknown"),
        ("method", "unknown"),
        ("tier", "shared"),
        ("code", "UNIMPLEMENTED"),
    ];
    assert_eq!(sample(&text, REQUESTS, &labels), Some(1.0), "{text}");
}

#[tokio::test]
async fn calls_cut_by_the_server_timeout_are_counted_as_cancelled() {
    let app = TestApp::builder("metrics-timeout")
        .config(GrpcServerConfig {
            request_timeout: Some(Duration::from_secs(1)),
            ..GrpcServerConfig::default()
        })
        .spawn()
        .await;
    app.wait(Request::new(())).await.expect("warm-up call");

    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let status = app
        .wait(wait_request(Duration::from_secs(60)))
        .await
        .expect_err("cut by the server timeout");
    let took = started.elapsed();
    assert_eq!(status.code(), tonic::Code::Cancelled, "{status:?}");
    // The client has no timeout of its own; the handler would have answered OK at 60 s.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(60),
        "took {took:?}"
    );

    let text = app.http_get("/metrics").await.body;
    let labels = [
        ("service", "metrics-timeout"),
        ("method", "Wait"),
        ("tier", "shared"),
        ("code", "CANCELLED"),
    ];
    assert_eq!(sample(&text, REQUESTS, &labels), Some(1.0), "{text}");
}
