//! Process shutdown on SIGINT or SIGTERM.
//!
//! Servers never listen for signals themselves: they take a shutdown future, so that the binary
//! passes [`signal`] and tests pass a oneshot receiver of their own.

use tokio::signal::unix::{SignalKind, signal as unix_signal};

/// Resolves when the process receives SIGINT (Ctrl-C) or SIGTERM (an orchestrator stopping it).
///
/// Logs which signal arrived, once. If a handler cannot be installed (which only happens when the
/// process has no signal driver, e.g. outside a Tokio runtime), that is logged and the future
/// never resolves through that signal: a server without shutdown-on-signal is better than none.
pub async fn signal() {
    let interrupt = wait_for(SignalKind::interrupt(), "SIGINT");
    let terminate = wait_for(SignalKind::terminate(), "SIGTERM");
    let name = tokio::select! {
        name = interrupt => name,
        name = terminate => name,
    };
    tracing::info!(signal = name, "shutdown signal received, draining");
}

async fn wait_for(kind: SignalKind, name: &'static str) -> &'static str {
    match unix_signal(kind) {
        Ok(mut stream) => {
            stream.recv().await;
        }
        Err(error) => {
            tracing::error!(signal = name, %error, "cannot listen for signal");
            std::future::pending::<()>().await;
        }
    }
    name
}
