//! Integration tests of bourse-runtime: real servers on port 0, real tonic clients.

mod grpc_client;
mod grpc_server;
mod health;
mod metrics;
mod support;
mod telemetry;
