//! Serving a gRPC service on a loopback port for a test, and asking it about itself through
//! the standard health and reflection services.

use std::future::Future;
use std::net::SocketAddr;

use futures::future::BoxFuture;
use futures::{FutureExt as _, StreamExt as _};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

/// A server started by [`serve_on_loopback`]; stop it with [`Served::stop`].
#[derive(Debug)]
pub struct Served<E> {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A connected channel to it.
    pub channel: Channel,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), E>>,
}

/// Binds 127.0.0.1:0, starts `serve(listener, shutdown)` and connects a channel to it.
///
/// # Panics
/// When binding or connecting fails: the test cannot run.
pub async fn serve_on_loopback<E, F, Fut>(serve: F) -> Served<E>
where
    F: FnOnce(TcpListener, BoxFuture<'static, ()>) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = stopped.map(|_| ()).boxed();
    let task = tokio::spawn(serve(listener, shutdown));
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("valid endpoint")
        .connect()
        .await
        .expect("connect to the test server");
    Served {
        addr,
        channel,
        stop,
        task,
    }
}

impl<E: std::fmt::Debug> Served<E> {
    /// Signals shutdown and waits for the server to return, asserting that it returned `Ok`.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task
            .await
            .expect("server task panicked")
            .expect("server returned an error");
    }
}

/// The serving status the standard health service reports for `service` ("" for the server).
pub async fn health_status(channel: &Channel, service: &str) -> ServingStatus {
    let response = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .expect("health check answers");
    ServingStatus::try_from(response.into_inner().status).expect("known status")
}

/// The fully qualified service names that gRPC reflection lists, as `grpcurl list` shows them.
pub async fn reflected_services(channel: &Channel) -> Vec<String> {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel.clone())
        .server_reflection_info(tokio_stream::once(request))
        .await
        .expect("reflection answers")
        .into_inner();
    let response = responses
        .next()
        .await
        .expect("one response")
        .expect("a successful response");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection response {other:?}"),
    }
}
