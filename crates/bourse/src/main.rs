//! The `bourse` command. Everything happens in the library; this only reports the outcome.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = bourse::cli::Cli::parse();
    match bourse::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            // One line, with the chain of causes: what was attempted and why it failed.
            eprintln!("bourse: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
