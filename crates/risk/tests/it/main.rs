//! Integration tests of the risk service over real gRPC on both storage backends.

mod reports;

use bourse_proto::risk::v1::risk_service_client::RiskServiceClient;
use bourse_runtime::grpc_server::{GrpcServerConfig, ServeError};
use bourse_store::Db;
use bourse_test_support::grpc::{Served, serve_on_loopback};
use tonic::transport::Channel;

struct TestApp {
    served: Served<ServeError>,
    client: RiskServiceClient<Channel>,
}

impl TestApp {
    async fn spawn(db: &Db) -> Self {
        let db = db.clone();
        let served = serve_on_loopback(move |listener, shutdown| {
            bourse_risk::serve(listener, db, GrpcServerConfig::default(), shutdown)
        })
        .await;
        let client = RiskServiceClient::new(served.channel.clone());
        Self { served, client }
    }
}
