//! The gRPC server every Bourse service runs.
//!
//! One TCP port serves the service's gRPC APIs, `grpc.health.v1.Health`, server reflection (v1
//! and v1alpha) and the HTTP ops routes of [`crate::http`] (`/metrics`, `/health/*`, over
//! HTTP/1.1 or HTTP/2). Every gRPC call goes through, outermost first:
//! [`TraceContextLayer`] (server span, child of the caller's trace) then [`GrpcMetricsLayer`].
//!
//! The tonic health status of `""`, the Bourse service name and every added gRPC service follows
//! the [`HealthState`] readiness checks, re-run every [`READINESS_POLL_INTERVAL`], and turns
//! `NOT_SERVING` as soon as shutdown starts so balancers move away while calls drain.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::{HealthReporter, HealthService};
use tower::ServiceBuilder;

use crate::grpc_metrics::GrpcMetricsLayer;
use crate::http::{HealthState, ops_router};
use crate::telemetry::metrics_handle;
use crate::trace_context::TraceContextLayer;

/// The default of [`GrpcServerConfig::readiness_poll_interval`].
pub const READINESS_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Limits and timeouts of a [`GrpcServer`].
#[derive(Clone, Debug)]
pub struct GrpcServerConfig {
    /// Largest message a service decodes or encodes. Generated services default to 4 MiB;
    /// apply this to each with `max_decoding_message_size`/`max_encoding_message_size`.
    pub max_message_bytes: usize,
    /// How long in-flight calls may run on after shutdown starts before the server gives up.
    pub grace: Duration,
    /// Most calls handled at once on one connection; more wait. `None`: no limit.
    pub concurrency_per_connection: Option<usize>,
    /// Longest a call may run; a shorter `grpc-timeout` from the caller still wins.
    /// `None`: only the caller's deadline applies.
    pub request_timeout: Option<Duration>,
    /// How often readiness checks are re-run to update the gRPC health status.
    pub readiness_poll_interval: Duration,
}

impl Default for GrpcServerConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 16 * 1024 * 1024,
            grace: Duration::from_secs(10),
            concurrency_per_connection: None,
            request_timeout: None,
            readiness_poll_interval: READINESS_POLL_INTERVAL,
        }
    }
}

/// Why [`GrpcServer::serve`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A registered file descriptor set could not be decoded for reflection.
    #[error("building the reflection service from the file descriptor sets")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The HTTP/2 server stopped with an error.
    #[error("serving gRPC")]
    Transport(#[from] tonic::transport::Error),
}

/// Builds and runs one service's gRPC server; see the module documentation.
#[derive(Debug)]
pub struct GrpcServer {
    /// The Bourse service name, for logs, metrics labels and the health status.
    service_name: &'static str,
    /// Limits and timeouts.
    config: GrpcServerConfig,
    /// The services added so far.
    routes: Routes,
    /// Fully qualified names of the added services, whose health status follows readiness.
    grpc_services: Vec<&'static str>,
    /// Encoded descriptor sets served by reflection.
    file_descriptor_sets: Vec<&'static [u8]>,
    /// Writes the statuses `grpc.health.v1.Health` serves.
    health: HealthReporter,
    /// The readiness checks behind both `/health/ready` and the gRPC health status.
    readiness: HealthState,
}

impl GrpcServer {
    /// A server for `service_name` with only health, reflection and the ops routes.
    pub fn new(service_name: &'static str, config: GrpcServerConfig) -> Self {
        Self {
            service_name,
            config,
            routes: Routes::default(),
            grpc_services: Vec::new(),
            file_descriptor_sets: Vec::new(),
            health: HealthReporter::new(),
            readiness: HealthState::new(),
        }
    }

    /// The configured message size limit, for services to apply to their generated servers.
    pub fn max_message_bytes(&self) -> usize {
        self.config.max_message_bytes
    }

    /// Adds an encoded `FileDescriptorSet` (from `tonic-prost-build`/protox) for reflection.
    /// May be called once per set; the health service's own set is always included.
    pub fn file_descriptor_set(mut self, fds: &'static [u8]) -> Self {
        self.file_descriptor_sets.push(fds);
        self
    }

    /// Adds a generated tonic server (e.g. `MarketDataServer::new(svc)`).
    pub fn add_service<S>(mut self, svc: S) -> Self
    where
        S: tower::Service<http::Request<tonic::body::Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        self.grpc_services.push(S::NAME);
        self.routes = self.routes.add_service(svc);
        self
    }

    /// The reporter behind `grpc.health.v1.Health`, always served. Statuses of `""`, the service
    /// name and the added services are overwritten by the readiness poller; use other names freely.
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Sets the readiness checks served on `/health/ready` and reflected in the gRPC health status.
    pub fn readiness(mut self, health: HealthState) -> Self {
        self.readiness = health;
        self
    }

    /// Serves on `listener` until `shutdown` resolves, then stops accepting, lets in-flight calls
    /// finish for at most `config.grace` and returns.
    ///
    /// Readiness is checked once before the first connection is accepted, so the health status
    /// is right from the first probe. If the grace period runs out, a warning is logged and this
    /// returns `Ok`; calls still running are abandoned (their tasks end with their connections).
    ///
    /// # Errors
    /// An undecodable file descriptor set, or a failure of the HTTP/2 server itself.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let service_name = self.service_name;
        let grace = self.config.grace;
        let max_bytes = self.config.max_message_bytes;
        let local_addr = listener.local_addr().ok();

        let mut tracked = vec!["", service_name];
        tracked.extend(self.grpc_services.iter().copied());
        let status = HealthStatus {
            reporter: self.health.clone(),
            tracked,
        };
        let initial = self.readiness.check().await;
        if !initial.ready {
            tracing::warn!(service = service_name, checks = ?initial.checks, "not ready");
        }
        status.apply(&initial).await;
        let poller = AbortOnDrop(Some(tokio::spawn(status.clone().poll(
            self.readiness.clone(),
            service_name,
            self.config.readiness_poll_interval,
            initial.ready,
        ))));

        let reflection = |fds: &[&'static [u8]]| {
            fds.iter().fold(
                tonic_reflection::server::Builder::configure()
                    .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
                |builder, set| builder.register_encoded_file_descriptor_set(set),
            )
        };
        let routes = self
            .routes
            .add_service(
                tonic_health::pb::health_server::HealthServer::new(
                    HealthService::from_health_reporter(self.health.clone()),
                )
                .max_decoding_message_size(max_bytes)
                .max_encoding_message_size(max_bytes),
            )
            .add_service(
                reflection(&self.file_descriptor_sets)
                    .build_v1()?
                    .max_decoding_message_size(max_bytes)
                    .max_encoding_message_size(max_bytes),
            )
            .add_service(
                reflection(&self.file_descriptor_sets)
                    .build_v1alpha()?
                    .max_decoding_message_size(max_bytes)
                    .max_encoding_message_size(max_bytes),
            );

        // route_layer: only matched gRPC services are measured, not the ops routes or misses.
        let app = routes
            .into_axum_router()
            .route_layer(
                ServiceBuilder::new()
                    .layer(TraceContextLayer)
                    .layer(GrpcMetricsLayer::new(service_name)),
            )
            .merge(ops_router(metrics_handle(), self.readiness.clone()));

        let mut builder = tonic::transport::Server::builder().accept_http1(true);
        if let Some(limit) = self.config.concurrency_per_connection {
            builder = builder.concurrency_limit_per_connection(limit);
        }
        if let Some(timeout) = self.config.request_timeout {
            builder = builder.timeout(timeout);
        }

        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let server = builder
            .add_routes(Routes::from(app))
            .serve_with_incoming_shutdown(incoming(listener), async move {
                // An error means the sender is gone, i.e. serve() itself was dropped.
                let _ = stop_rx.wait_for(|stop| *stop).await;
            });
        tokio::pin!(server, shutdown);
        tracing::info!(service = service_name, addr = ?local_addr, "serving gRPC and ops endpoints");

        tokio::select! {
            result = &mut server => return Ok(result?),
            () = &mut shutdown => {}
        }
        tracing::info!(
            service = service_name,
            ?grace,
            "shutting down: draining in-flight calls"
        );
        // Stop the poller first, or its next round could report SERVING again while draining.
        poller.stop().await;
        status.set_all(ServingStatus::NotServing).await;
        // Health `Watch` streams never end by themselves and would hold the drain for the whole
        // grace period; removing the statuses ends them (after they have seen NOT_SERVING).
        status.clear().await;
        let _ = stop_tx.send(true);
        match tokio::time::timeout(grace, server).await {
            Ok(result) => {
                tracing::info!(service = service_name, "server stopped");
                Ok(result?)
            }
            Err(_) => {
                tracing::warn!(
                    service = service_name,
                    ?grace,
                    "grace period over with calls still in flight; abandoning them"
                );
                Ok(())
            }
        }
    }
}

/// The gRPC health statuses driven by readiness.
#[derive(Clone, Debug)]
struct HealthStatus {
    reporter: HealthReporter,
    /// `""`, the Bourse service name and the added gRPC services.
    tracked: Vec<&'static str>,
}

impl HealthStatus {
    async fn set_all(&self, status: ServingStatus) {
        for name in &self.tracked {
            self.reporter.set_service_status(name, status).await;
        }
    }

    async fn clear(&self) {
        let mut reporter = self.reporter.clone();
        for name in &self.tracked {
            reporter.clear_service_status(name).await;
        }
    }

    async fn apply(&self, readiness: &crate::http::Readiness) {
        let status = if readiness.ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.set_all(status).await;
    }

    /// Re-checks readiness forever, logging each change.
    async fn poll(
        self,
        readiness: HealthState,
        service_name: &'static str,
        every: Duration,
        initially_ready: bool,
    ) {
        // A zero period would panic in `interval_at`; a millisecond is already far too often.
        let every = every.max(Duration::from_millis(1));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut was_ready = initially_ready;
        loop {
            ticks.tick().await;
            let result = readiness.check().await;
            if was_ready != result.ready {
                if result.ready {
                    tracing::info!(service = service_name, "ready");
                } else {
                    tracing::warn!(service = service_name, checks = ?result.checks, "not ready");
                }
                was_ready = result.ready;
            }
            self.apply(&result).await;
        }
    }
}

/// Aborts a background task when the owner goes away, however `serve` returns.
struct AbortOnDrop(Option<JoinHandle<()>>);

impl AbortOnDrop {
    /// Aborts the task and waits until it has really stopped (on a multi-threaded runtime it may
    /// be running at this very moment).
    async fn stop(mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// The connections a gRPC server accepts on `listener`, each with TCP_NODELAY: with Nagle's
/// algorithm a response written in pieces (headers, then body) waits for the client's delayed
/// ACK, about 40 ms. tonic's own `tcp_nodelay` only applies to listeners it binds itself.
pub fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}
