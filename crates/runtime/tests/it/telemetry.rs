//! Telemetry: idempotent initialisation and W3C trace-context propagation.

use bourse_runtime::grpc_client::Propagate;
use bourse_runtime::telemetry::{TelemetryArgs, init};
use opentelemetry::trace::TraceContextExt as _;
use tonic::Request;
use tonic::service::interceptor::InterceptedService;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::support::{TRACE_ID, TestApp, telemetry};

#[test]
fn init_can_be_called_again_without_effect() {
    telemetry();
    let again = init("another-service", &TelemetryArgs::default()).expect("second init");
    assert!(!again.is_installer());
    drop(again);
    // A bad filter is still reported.
    let bad = TelemetryArgs {
        log: "bourse=notalevel".to_owned(),
        ..TelemetryArgs::default()
    };
    assert!(init("bad", &bad).is_err());
}

#[tokio::test]
async fn the_server_span_continues_the_callers_trace() {
    telemetry();
    let app = TestApp::builder("trace-context").spawn().await;

    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = Request::new(());
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{caller_trace}-00f067aa0ba902b7-01")
            .parse()
            .expect("ascii"),
    );
    let response = app.wait(request).await.expect("call");
    assert_eq!(trace_id_of(&response), caller_trace);

    // Without a traceparent the server starts a trace of its own.
    let response = app.wait(Request::new(())).await.expect("call");
    let own = trace_id_of(&response);
    assert_ne!(own, caller_trace);
    assert_ne!(own, "00000000000000000000000000000000");
}

#[tokio::test]
async fn propagate_sends_the_current_spans_trace() {
    telemetry();
    let app = TestApp::builder("trace-propagate").spawn().await;

    let span = tracing::info_span!("client_call");
    let client_trace = span.context().span().span_context().trace_id().to_string();
    assert_ne!(client_trace, "00000000000000000000000000000000");
    let response = crate::support::call_wait(
        InterceptedService::new(app.channel.clone(), Propagate),
        Request::new(()),
    )
    .instrument(span)
    .await
    .expect("call");
    assert_eq!(trace_id_of(&response), client_trace);
}

fn trace_id_of(response: &tonic::Response<()>) -> String {
    response
        .metadata()
        .get(TRACE_ID)
        .expect("trace id in response")
        .to_str()
        .expect("ascii")
        .to_owned()
}
