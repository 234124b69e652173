//! The server builder: reflection, graceful shutdown and the grace period.

use std::time::Duration;

use bourse_runtime::grpc_server::GrpcServerConfig;
use prost::Message as _;
use tokio_stream::StreamExt as _;

use tonic_health::pb::health_check_response::ServingStatus;

use crate::support::{TestApp, held_request, wait_request};

/// A descriptor set declaring `bourse.test.Slow`, as protox would produce for the test service.
fn test_descriptor_set() -> &'static [u8] {
    use prost_types::{
        DescriptorProto, FileDescriptorProto, FileDescriptorSet, MethodDescriptorProto,
        ServiceDescriptorProto,
    };
    let set = FileDescriptorSet {
        file: vec![FileDescriptorProto {
            name: Some("bourse/test/slow.proto".to_owned()),
            package: Some("bourse.test".to_owned()),
            message_type: vec![DescriptorProto {
                name: Some("Nothing".to_owned()),
                ..DescriptorProto::default()
            }],
            service: vec![ServiceDescriptorProto {
                name: Some("Slow".to_owned()),
                method: vec![MethodDescriptorProto {
                    name: Some("Wait".to_owned()),
                    input_type: Some(".bourse.test.Nothing".to_owned()),
                    output_type: Some(".bourse.test.Nothing".to_owned()),
                    ..MethodDescriptorProto::default()
                }],
                ..ServiceDescriptorProto::default()
            }],
            syntax: Some("proto3".to_owned()),
            ..FileDescriptorProto::default()
        }],
    };
    Box::leak(set.encode_to_vec().into_boxed_slice())
}

#[tokio::test]
async fn reflection_lists_every_service_in_both_versions() {
    use tonic_reflection::pb::{v1, v1alpha};

    let app = TestApp::builder("reflection")
        .file_descriptor_set(test_descriptor_set())
        .spawn()
        .await;

    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut responses =
        v1::server_reflection_client::ServerReflectionClient::new(app.channel.clone())
            .server_reflection_info(tokio_stream::once(request))
            .await
            .expect("reflection v1")
            .into_inner();
    let response = responses.next().await.expect("one response").expect("ok");
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("unexpected reflection response {response:?}");
    };
    let mut names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bourse.test.Slow",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection"
        ]
    );

    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut responses =
        v1alpha::server_reflection_client::ServerReflectionClient::new(app.channel.clone())
            .server_reflection_info(tokio_stream::once(request))
            .await
            .expect("reflection v1alpha")
            .into_inner();
    let response = responses.next().await.expect("one response").expect("ok");
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("unexpected reflection response {response:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.iter().any(|n| n == "bourse.test.Slow"), "{names:?}");
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_call_finish_then_returns() {
    let mut app = TestApp::builder("drain").spawn().await;
    let mut watch = app.health_watch("").await;
    assert_eq!(
        watch
            .message()
            .await
            .expect("stream")
            .expect("status")
            .status(),
        ServingStatus::Serving
    );
    let channel = app.channel.clone();
    let call = tokio::spawn(crate::support::call_wait(channel, held_request()));
    app.calls_started
        .recv()
        .await
        .expect("the call reached the handler");

    let mut server = app.server();
    app.shutdown();
    // The server has started shutting down once health says so.
    assert_eq!(
        watch
            .message()
            .await
            .expect("stream")
            .expect("status")
            .status(),
        ServingStatus::NotServing
    );
    // Showing that something does not happen needs a window: a server that does not drain
    // returns within milliseconds, while this one must wait for the held call (grace is 10 s).
    // Paused time cannot be used here: it jumps to the grace timer whenever sockets are busy.
    let early = tokio::time::timeout(Duration::from_millis(200), &mut server).await;
    assert!(
        early.is_err(),
        "serve returned with a call in flight: {early:?}"
    );

    app.release_calls();
    call.await
        .expect("joins")
        .expect("the in-flight call completes during the grace period");
    server.await.expect("joins").expect("clean stop");
}

#[tokio::test]
async fn grace_period_bounds_the_drain() {
    let mut app = TestApp::builder("grace")
        .config(GrpcServerConfig {
            grace: Duration::from_secs(1),
            ..GrpcServerConfig::default()
        })
        .spawn()
        .await;
    app.wait(wait_request(Duration::ZERO))
        .await
        .expect("warm-up call");
    assert!(app.calls_started.recv().await.is_some());
    let channel = app.channel.clone();
    // Never released: only the grace period can end the drain.
    let _call = tokio::spawn(crate::support::call_wait(channel, held_request()));
    app.calls_started
        .recv()
        .await
        .expect("the call reached the handler");

    tokio::time::pause();
    let shutdown_at = tokio::time::Instant::now();
    app.shutdown();
    app.server()
        .await
        .expect("joins")
        .expect("stops after the grace period");
    let took = shutdown_at.elapsed();
    // The grace period is the only timer left, so paused time ends exactly there.
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(2),
        "serve returned after {took:?}"
    );
}

#[tokio::test]
async fn serve_keeps_running_until_shutdown() {
    let mut app = TestApp::builder("keeps-running").spawn().await;
    app.wait(wait_request(Duration::ZERO))
        .await
        .expect("a call");
    let mut server = app.server();
    tokio::time::pause();
    // An hour without a shutdown signal: still serving.
    let still_running = tokio::time::timeout(Duration::from_secs(3600), &mut server).await;
    assert!(
        still_running.is_err(),
        "serve returned on its own: {still_running:?}"
    );
    app.shutdown();
    server.await.expect("joins").expect("clean stop");
}
