//! `bourse loadtest`: drives the REST gateway with a weighted mix of requests, both tiers at
//! once, and checks each tier's latency and success against its SLA.
//!
//! The pieces, in the order a run uses them: [`args`] (the command line), [`scenario`] (what to
//! send), [`client`] (how, and the set-up a scenario needs), [`drive`] (open and closed loops),
//! [`stats`] (HDR histograms), [`sla`] (the verdict), [`report`] (the JSON result), [`table`]
//! and [`chart`] (the human table and the SVG), and [`run`](mod@run) tying them together.

pub mod args;
pub mod chart;
pub mod client;
pub mod drive;
pub mod progress;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sla;
pub mod stats;
pub mod table;

pub use args::LoadtestArgs;
pub use run::run;
