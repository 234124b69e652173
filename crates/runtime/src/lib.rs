//! The runtime every Bourse process shares: configuration pieces, telemetry, gRPC server and client
//! plumbing, shutdown handling and the customer tier that travels with every request.
//!
//! A service binary typically does, top to bottom:
//! 1. parse its arguments with [`config::ServiceArgs`] flattened in;
//! 2. [`telemetry::init`] once, keeping the guard;
//! 3. build a [`grpc_server::GrpcServer`], add its generated services and readiness checks;
//! 4. `serve(listener, shutdown::signal())`.

pub mod caller;
pub mod config;
pub mod grpc_client;
pub mod grpc_metrics;
pub mod grpc_server;
pub mod http;
pub mod shutdown;
pub mod telemetry;
pub mod tier;
pub mod trace_context;
pub mod upstream;
