//! Integration tests of the `bourse` command: the `up` composition reached through the gateway,
//! and the command line's handling of bad configuration.

mod cli;
mod import;
mod loadtest;
mod rest;
mod up;
