//! The `bourse` command: run the whole platform ([`up`]), one service ([`serve`]), migrations,
//! manage API keys, or load-test the gateway. `main` only parses the command line and calls
//! [`run`].

pub mod backends;
pub mod cli;
pub mod feed;
pub mod import;
pub mod keys;
pub mod serve;
pub mod up;

use std::process::ExitCode;

use anyhow::Context as _;
use bourse_runtime::telemetry;

use crate::cli::{Cli, Command};

/// The exit status of a load test whose SLA did not hold; distinct from 1 (the run failed) and
/// 2 (bad usage), so a deployment pipeline can tell a slow service from a broken test.
pub const EXIT_SLA_BROKEN: u8 = 3;

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let outcome = match cli.command {
        Command::Loadtest(args) => {
            let report = bourse_loadtest::run(*args).await?;
            return Ok(match report.passed {
                true => ExitCode::SUCCESS,
                false => ExitCode::from(EXIT_SLA_BROKEN),
            });
        }
        Command::Up(args) => {
            let _telemetry = telemetry::init("bourse", &args.service.telemetry)?;
            up::run(*args).await
        }
        Command::Serve(command) => serve::run(command).await,
        Command::Migrate(opts) => {
            let _telemetry = telemetry::init("bourse", &opts.service.telemetry)?;
            backends::connect_db(&opts.service, true).await?;
            println!(
                "migrations applied to {}",
                backends::describe_store(&opts.service)
            );
            Ok(())
        }
        Command::Keys(command) => keys::run(command).await.context("managing API keys"),
        Command::Feed(command) => feed::run(command).await,
        Command::Import(command) => import::run(command).await,
    };
    outcome.map(|()| ExitCode::SUCCESS)
}
