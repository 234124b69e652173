//! bourse-cache: the two-level cache in front of storage.
//!
//! L1 is an in-process moka cache; L2 is Redis, shared by every instance, optional. One entry per
//! (data class, key) serves both customer tiers: it stores its insertion time and a reader treats
//! it as a miss once it is older than its tier's TTL (see [`TtlPolicy`]). A Redis outage after
//! start-up degrades the cache to L1 with one log line, and it picks Redis up again when it
//! returns (see [`L2Status`]). Cache calls never fail: whatever they cannot answer is a miss.
//!
//! Redis keys are `{key_prefix}{class}:{key}`; values are an 8-byte big-endian insertion time in
//! Unix milliseconds followed by the caller's bytes, with `PX` set to the class's longest TTL.
#![forbid(unsafe_code)]

mod args;
mod cache;
mod class;
mod clock;
mod config;
mod error;
mod l1;
mod l2;
pub mod metric;
mod ttl;
mod wire;

pub use args::{CacheArgs, TtlOverride};
pub use bourse_runtime::tier::Tier;
pub use bytes::Bytes;
pub use cache::{Cache, L2Status};
pub use class::DataClass;
pub use config::{CacheConfig, MAX_RETRY_BACKOFF};
pub use error::CacheError;
pub use ttl::TtlPolicy;
