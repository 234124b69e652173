//! The Bourse contract: prost messages and tonic clients and servers generated from `proto/`.
//!
//! The `.proto` files are the source of truth; nothing here is edited by hand. Each service
//! package is a module named after it (`market_data::v1`, ...). [`FILE_DESCRIPTOR_SET`] feeds
//! gRPC reflection, and the gateway reads the `google.api.http` options from it. Every message
//! also implements serde's traits with the canonical proto3 JSON mapping (pbjson), which is the
//! gateway's REST representation.

/// The encoded `FileDescriptorSet` of the whole contract, imports included.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/bourse_descriptor.bin"));

pub mod time;

#[allow(
    unreachable_pub,
    clippy::all,
    reason = "generated code is not ours to lint"
)]
pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
        include!(concat!(env!("OUT_DIR"), "/google.api.serde.rs"));
    }
}

#[allow(
    unreachable_pub,
    clippy::all,
    reason = "generated code is not ours to lint"
)]
pub mod common {
    pub mod v1 {
        tonic::include_proto!("bourse.common.v1");
        include!(concat!(env!("OUT_DIR"), "/bourse.common.v1.serde.rs"));
    }
}

#[allow(
    unreachable_pub,
    clippy::all,
    reason = "generated code is not ours to lint"
)]
pub mod market_data {
    pub mod v1 {
        tonic::include_proto!("bourse.market_data.v1");
        include!(concat!(env!("OUT_DIR"), "/bourse.market_data.v1.serde.rs"));
    }
}

#[allow(
    unreachable_pub,
    clippy::all,
    reason = "generated code is not ours to lint"
)]
pub mod portfolio {
    pub mod v1 {
        tonic::include_proto!("bourse.portfolio.v1");
        include!(concat!(env!("OUT_DIR"), "/bourse.portfolio.v1.serde.rs"));
    }
}

#[allow(
    unreachable_pub,
    clippy::all,
    reason = "generated code is not ours to lint"
)]
pub mod risk {
    pub mod v1 {
        tonic::include_proto!("bourse.risk.v1");
        include!(concat!(env!("OUT_DIR"), "/bourse.risk.v1.serde.rs"));
    }
}

#[allow(
    unreachable_pub,
    clippy::all,
    reason = "generated code is not ours to lint"
)]
pub mod sentiment {
    pub mod v1 {
        tonic::include_proto!("bourse.sentiment.v1");
        include!(concat!(env!("OUT_DIR"), "/bourse.sentiment.v1.serde.rs"));
    }
}
