//! The server plumbing every service shares, seen from a client: health and reflection.

use bourse_test_support::grpc::{health_status, reflected_services};
use bourse_test_support::store_test;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::TestApp;

store_test!(reports_serving_and_lists_its_services, |db| {
    let app = TestApp::spawn(db).await;
    assert_eq!(
        health_status(&app.served.channel, "").await,
        ServingStatus::Serving
    );
    assert_eq!(
        health_status(
            &app.served.channel,
            "bourse.market_data.v1.MarketDataService"
        )
        .await,
        ServingStatus::Serving
    );
    let services = reflected_services(&app.served.channel).await;
    for expected in [
        "bourse.market_data.v1.MarketDataService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            services.iter().any(|s| s == expected),
            "{expected} missing from {services:?}"
        );
    }
    app.served.stop().await;
});
