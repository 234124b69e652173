//! Health: gRPC `grpc.health.v1` and the HTTP probes follow the readiness checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::time::Duration;

use bourse_runtime::grpc_server::GrpcServerConfig;
use bourse_runtime::http::HealthState;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::support::TestApp;

#[tokio::test]
async fn a_server_without_checks_is_serving() {
    let app = TestApp::builder("health-serving").spawn().await;

    for service in ["", "health-serving", "bourse.test.Slow"] {
        assert_eq!(
            app.health_check(service).await.expect("check"),
            ServingStatus::Serving,
            "{service:?}"
        );
    }
    let unknown = app.health_check("nope").await.expect_err("not registered");
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    let live = app.http_get("/health/live").await;
    assert_eq!(live.status, 200);
    let ready = app.http_get("/health/ready").await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.body, r#"{"ready":true,"checks":{}}"#);
}

#[tokio::test]
async fn failing_readiness_check_means_503_and_not_serving() {
    let readiness = HealthState::new()
        .with_check("cache", || async { Ok(()) })
        .with_check("database", || async {
            Err("connection refused".to_owned())
        });
    let app = TestApp::builder("health-failing")
        .readiness(readiness)
        .spawn()
        .await;

    let ready = app.http_get("/health/ready").await;
    assert_eq!(ready.status, 503, "{ready:?}");
    assert!(
        ready.head.contains("content-type: application/json"),
        "{}",
        ready.head
    );
    let body: serde_json::Value = serde_json::from_str(&ready.body).expect("JSON body");
    assert_eq!(
        body,
        serde_json::json!({
            "ready": false,
            "checks": {
                "cache": {"status": "ok"},
                "database": {"status": "failed", "error": "connection refused"},
            }
        })
    );
    // Liveness does not depend on dependencies.
    assert_eq!(app.http_get("/health/live").await.status, 200);

    for service in ["", "health-failing", "bourse.test.Slow"] {
        assert_eq!(
            app.health_check(service).await.expect("check"),
            ServingStatus::NotServing,
            "{service:?}"
        );
    }
}

#[tokio::test]
async fn grpc_health_follows_readiness_changes() {
    let database_up = Arc::new(AtomicBool::new(false));
    let flag = database_up.clone();
    let readiness = HealthState::new().with_check("database", move || {
        let up = flag.load(Ordering::SeqCst);
        async move { if up { Ok(()) } else { Err("down".to_owned()) } }
    });
    let app = TestApp::builder("health-changes")
        .config(GrpcServerConfig {
            readiness_poll_interval: Duration::from_millis(20),
            ..GrpcServerConfig::default()
        })
        .readiness(readiness)
        .spawn()
        .await;
    let mut watch = app.health_watch("").await;
    let first = watch.message().await.expect("stream").expect("a status");
    assert_eq!(first.status(), ServingStatus::NotServing);

    database_up.store(true, Ordering::SeqCst);
    // The poller notices on a later round; the bound only stops a broken poller hanging the test.
    let next = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .expect("the status changes")
        .expect("stream")
        .expect("a status");
    assert_eq!(next.status(), ServingStatus::Serving);
    assert_eq!(app.http_get("/health/ready").await.status, 200);
}

#[tokio::test]
async fn shutdown_reports_not_serving_and_ends_watch_streams() {
    let mut app = TestApp::builder("health-shutdown").spawn().await;
    let mut watch = app.health_watch("").await;
    let first = watch.message().await.expect("stream").expect("a status");
    assert_eq!(first.status(), ServingStatus::Serving);

    app.shutdown();
    let last = watch.message().await.expect("stream").expect("a status");
    assert_eq!(last.status(), ServingStatus::NotServing);
    // The stream then ends, so it does not hold the drain for the whole grace period (10 s).
    let end = tokio::time::timeout(Duration::from_secs(5), watch.message())
        .await
        .expect("the watch stream ends at shutdown");
    assert!(matches!(end, Ok(None) | Err(_)), "{end:?}");
    tokio::time::timeout(Duration::from_secs(5), app.server())
        .await
        .expect("serve returns well within the grace period")
        .expect("joins")
        .expect("clean stop");
}
