//! The `bourse` command: run the whole platform ([`up`]), one service ([`serve`]), migrations,
//! or manage API keys. `main` only parses the command line and calls [`run`].

pub mod backends;
pub mod cli;
pub mod feed;
pub mod import;
pub mod keys;
pub mod serve;
pub mod up;

use anyhow::Context as _;
use bourse_runtime::telemetry;

use crate::cli::{Cli, Command};

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up(args) => {
            let _telemetry = telemetry::init("bourse", &args.service.telemetry)?;
            up::run(args).await
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
    }
}
