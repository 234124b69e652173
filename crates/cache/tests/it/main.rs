//! Integration tests of bourse-cache: L1 alone under controlled time, L1 + Redis, start-up
//! errors, and Redis going away mid-run through a TCP proxy the tests control.

mod l1;
mod l2;
mod logs;
mod outage;
mod proxy;
mod recorder;
mod startup;
mod support;
