//! `bourse loadtest` end to end, over real HTTP, against a stand-in gateway on loopback with a
//! known service time. Counts are exact (the schedule decides them, not the clock); latencies
//! are only compared with the known service time, which they can never undercut.

mod runs;
mod stub;
