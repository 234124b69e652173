//! `TestApp`: a real `GrpcServer` on 127.0.0.1:0 with a test service, and a method per endpoint.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use bourse_runtime::grpc_client::{ClientConfig, remaining_deadline};
use bourse_runtime::grpc_server::{GrpcServer, GrpcServerConfig, ServeError};
use bourse_runtime::http::HealthState;
use bourse_runtime::telemetry::{TelemetryArgs, TelemetryGuard};
use futures::future::BoxFuture;
use http::uri::PathAndQuery;
use opentelemetry::trace::TraceContextExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tonic::body::Body;
use tonic::codegen::{Bytes, StdError};
use tonic::server::{NamedService, UnaryService};
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_prost::ProstCodec;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Metadata asking the test service to take this long.
pub(crate) const SLEEP_MS: &str = "x-test-sleep-ms";
/// Metadata asking the test service to hold the call until [`TestApp::release_calls`].
pub(crate) const HOLD: &str = "x-test-hold";
/// Response metadata: the trace id of the server span that handled the call.
pub(crate) const TRACE_ID: &str = "x-trace-id";
/// Response metadata: what `remaining_deadline` saw, in microseconds.
pub(crate) const DEADLINE_US: &str = "x-deadline-us";

/// Installs telemetry once for the whole test binary and keeps it installed.
pub(crate) fn telemetry() {
    static GUARD: OnceLock<TelemetryGuard> = OnceLock::new();
    GUARD.get_or_init(|| {
        let args = TelemetryArgs {
            // Quiet, but the request spans (and the tests' own) are enabled, so they get trace ids.
            log: "warn,bourse_runtime::trace_context=info,it=info".to_owned(),
            ..TelemetryArgs::default()
        };
        bourse_runtime::telemetry::init("runtime-tests", &args).expect("telemetry initialises")
    });
}

/// Client settings whose timeouts never decide a test.
pub(crate) fn patient_client() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_secs(3600),
        request_timeout: Duration::from_secs(3600),
        keepalive_interval: Duration::from_secs(3600),
    }
}

/// A running server and clients to it.
pub(crate) struct TestApp {
    pub(crate) addr: SocketAddr,
    pub(crate) channel: Channel,
    /// One message per call the test service started handling.
    pub(crate) calls_started: mpsc::UnboundedReceiver<()>,
    shutdown: Option<oneshot::Sender<()>>,
    release: watch::Sender<bool>,
    server: Option<JoinHandle<Result<(), ServeError>>>,
}

/// How to build a [`TestApp`].
pub(crate) struct TestAppBuilder {
    service: &'static str,
    config: GrpcServerConfig,
    readiness: HealthState,
    fds: Option<&'static [u8]>,
}

impl TestAppBuilder {
    pub(crate) fn config(mut self, config: GrpcServerConfig) -> Self {
        self.config = config;
        self
    }

    pub(crate) fn readiness(mut self, readiness: HealthState) -> Self {
        self.readiness = readiness;
        self
    }

    pub(crate) fn file_descriptor_set(mut self, fds: &'static [u8]) -> Self {
        self.fds = Some(fds);
        self
    }

    pub(crate) async fn spawn(self) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let addr = listener.local_addr().expect("bound address");
        let (started_tx, calls_started) = mpsc::unbounded_channel();
        let (release, released) = watch::channel(false);
        let mut server = GrpcServer::new(self.service, self.config)
            .add_service(SlowServer {
                started: started_tx,
                released,
            })
            .readiness(self.readiness);
        if let Some(fds) = self.fds {
            server = server.file_descriptor_set(fds);
        }
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(server.serve(listener, async move {
            let _ = shutdown_rx.await;
        }));
        // No client-side timers: with paused time, a park jumps the clock to the next timer, and
        // only the server's timers may decide a test's outcome.
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .expect("valid endpoint")
            .connect_lazy();
        TestApp {
            addr,
            channel,
            calls_started,
            shutdown: Some(shutdown_tx),
            release,
            server: Some(server),
        }
    }
}

impl TestApp {
    pub(crate) fn builder(service: &'static str) -> TestAppBuilder {
        TestAppBuilder {
            service,
            config: GrpcServerConfig::default(),
            readiness: HealthState::new(),
            fds: None,
        }
    }

    /// `grpc.health.v1.Health/Check` for `service`.
    pub(crate) async fn health_check(&self, service: &str) -> Result<ServingStatus, Status> {
        let response = HealthClient::new(self.channel.clone())
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await?;
        Ok(response.into_inner().status())
    }

    /// `grpc.health.v1.Health/Watch` for `service`.
    pub(crate) async fn health_watch(
        &self,
        service: &str,
    ) -> tonic::Streaming<HealthCheckResponse> {
        HealthClient::new(self.channel.clone())
            .watch(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("watch starts")
            .into_inner()
    }

    /// `bourse.test.Slow/Wait` on the app's channel.
    pub(crate) async fn wait(&self, request: Request<()>) -> Result<Response<()>, Status> {
        call_wait(self.channel.clone(), request).await
    }

    /// A plain HTTP/1.0 GET on the gRPC port.
    pub(crate) async fn http_get(&self, path: &str) -> HttpResponse {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
            .await
            .expect("send request");
        let mut raw = String::new();
        stream
            .read_to_string(&mut raw)
            .await
            .expect("read response");
        let (head, body) = raw.split_once("\r\n\r\n").expect("response has a head");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status line");
        HttpResponse {
            status,
            head: head.to_ascii_lowercase(),
            body: body.to_owned(),
        }
    }

    /// Lets every call held with [`HOLD`] finish.
    pub(crate) fn release_calls(&self) {
        let _ = self.release.send(true);
    }

    /// Fires the shutdown future.
    pub(crate) fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// The server task, to await its end.
    pub(crate) fn server(&mut self) -> JoinHandle<Result<(), ServeError>> {
        self.server.take().expect("server not awaited yet")
    }
}

/// A response to [`TestApp::http_get`].
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    /// Status line and headers, lower-cased.
    pub(crate) head: String,
    pub(crate) body: String,
}

/// Calls `bourse.test.Slow/Wait` through any gRPC client service (e.g. with an interceptor).
pub(crate) async fn call_wait<T>(service: T, request: Request<()>) -> Result<Response<()>, Status>
where
    T: tonic::client::GrpcService<Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<StdError> + Send,
{
    let mut grpc = tonic::client::Grpc::new(service);
    grpc.ready()
        .await
        .map_err(|error| Status::unavailable(error.into().to_string()))?;
    grpc.unary(
        request,
        PathAndQuery::from_static("/bourse.test.Slow/Wait"),
        ProstCodec::<(), ()>::default(),
    )
    .await
}

/// The value of the sample of `name` whose labels are exactly `labels`.
pub(crate) fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    wanted.sort();
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix('{')?;
        let (set, value) = rest.split_once("} ")?;
        let mut have: Vec<String> = set.split(',').map(str::to_owned).collect();
        have.sort();
        (have == wanted).then(|| value.trim().parse().ok())?
    })
}

/// A hand-written unary service `bourse.test.Slow` with one method, `Wait`, that sleeps for
/// [`SLEEP_MS`] and reports its server span's trace id and the caller's deadline.
#[derive(Clone)]
struct SlowServer {
    started: mpsc::UnboundedSender<()>,
    released: watch::Receiver<bool>,
}

impl NamedService for SlowServer {
    const NAME: &'static str = "bourse.test.Slow";
}

impl tower::Service<http::Request<Body>> for SlowServer {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let handler = Wait {
            started: self.started.clone(),
            released: self.released.clone(),
        };
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<(), ()>::default());
            Ok(grpc.unary(handler, request).await)
        })
    }
}

struct Wait {
    started: mpsc::UnboundedSender<()>,
    released: watch::Receiver<bool>,
}

impl UnaryService<()> for Wait {
    type Response = ();
    type Future = BoxFuture<'static, Result<Response<()>, Status>>;

    fn call(&mut self, request: Request<()>) -> Self::Future {
        let _ = self.started.send(());
        let trace_id = tracing::Span::current()
            .context()
            .span()
            .span_context()
            .trace_id()
            .to_string();
        let deadline = remaining_deadline(&request);
        let sleep = request
            .metadata()
            .get(SLEEP_MS)
            .and_then(|value| value.to_str().ok()?.parse().ok())
            .map_or(Duration::ZERO, Duration::from_millis);
        let mut released = request
            .metadata()
            .contains_key(HOLD)
            .then(|| self.released.clone());
        Box::pin(async move {
            tokio::time::sleep(sleep).await;
            if let Some(released) = &mut released {
                let _ = released.wait_for(|released| *released).await;
            }
            let mut response = Response::new(());
            let metadata = response.metadata_mut();
            metadata.insert(TRACE_ID, trace_id.parse().expect("hex is ascii"));
            if let Some(deadline) = deadline {
                metadata.insert(
                    DEADLINE_US,
                    deadline.as_micros().to_string().parse().expect("digits"),
                );
            }
            Ok(response)
        })
    }
}

/// A `Wait` request held by the handler until [`TestApp::release_calls`].
pub(crate) fn held_request() -> Request<()> {
    let mut request = Request::new(());
    request
        .metadata_mut()
        .insert(HOLD, "1".parse().expect("ascii"));
    request
}

/// A `Wait` request that makes the handler take `sleep`.
pub(crate) fn wait_request(sleep: Duration) -> Request<()> {
    let mut request = Request::new(());
    request.metadata_mut().insert(
        SLEEP_MS,
        sleep.as_millis().to_string().parse().expect("digits"),
    );
    request
}
