//! Integration tests of the sentiment service: scoring over real gRPC, and news and symbol
//! sentiment on both storage backends.

mod app;
mod labelled;
mod news;
mod rollup;
mod scoring;
#[cfg(feature = "transformer")]
mod transformer;
