//! Client plumbing: channels, tier and deadline propagation.

use std::time::Duration;

use bourse_runtime::grpc_client::{ClientConfig, ClientError, channel};
use tonic::Request;

use crate::support::{DEADLINE_US, TestApp, patient_client};

#[tokio::test]
async fn garbage_endpoints_are_rejected_with_a_clear_error() {
    let config = ClientConfig::default();
    let error = channel(
        &["http://127.0.0.1:1".to_owned(), "not a uri".to_owned()],
        &config,
    )
    .expect_err("invalid endpoint");
    let message = error.to_string();
    assert!(
        matches!(&error, ClientError::InvalidEndpoint { endpoint, .. } if endpoint == "not a uri"),
        "{error:?}"
    );
    assert!(
        message.contains("\"not a uri\"") && message.contains("http://host:port"),
        "{message}"
    );

    let error = channel(&["127.0.0.1:50051".to_owned()], &config).expect_err("no scheme");
    assert!(error.to_string().contains("missing scheme"), "{error}");

    assert!(matches!(
        channel(&[], &config),
        Err(ClientError::NoEndpoints)
    ));
}

#[tokio::test]
async fn channel_connects_lazily_and_balances_over_replicas() {
    let first = TestApp::builder("replica-a").spawn().await;
    let mut second = TestApp::builder("replica-b").spawn().await;
    // A dead endpoint is fine at construction: nothing connects until the first call.
    let lazy = channel(&["http://127.0.0.1:1".to_owned()], &ClientConfig::default());
    assert!(lazy.is_ok(), "{lazy:?}");

    let both = channel(
        &[
            format!("http://{}", first.addr),
            format!("http://{}", second.addr),
        ],
        &patient_client(),
    )
    .expect("valid endpoints");
    for _ in 0..20 {
        crate::support::call_wait(both.clone(), Request::new(()))
            .await
            .expect("call through the balanced channel");
    }
    let mut on_second = 0;
    while second.calls_started.try_recv().is_ok() {
        on_second += 1;
    }
    // Power-of-two-choices over two idle replicas sends some calls to each.
    assert!(
        (1..20).contains(&on_second),
        "{on_second} of 20 calls on the second replica"
    );
    second.shutdown();
}

#[tokio::test]
async fn the_callers_deadline_reaches_the_handler() {
    let app = TestApp::builder("deadline").spawn().await;
    let mut request = Request::new(());
    request.set_timeout(Duration::from_millis(1500));
    let response = app.wait(request).await.expect("call");
    let seen = response
        .metadata()
        .get(DEADLINE_US)
        .expect("the handler saw a deadline")
        .to_str()
        .expect("ascii");
    assert_eq!(seen, "1500000");

    let response = app.wait(Request::new(())).await.expect("call");
    assert!(
        response.metadata().get(DEADLINE_US).is_none(),
        "no deadline was set"
    );
}
