//! The gateway's traffic management end to end: real market-data and sentiment instances per
//! tier pool, each recording the calls it receives, behind a gateway on loopback.

mod batching;
mod pools;
mod ratelimit;
mod shedding;
mod support;
