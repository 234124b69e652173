//! The command-line and environment options every Bourse service shares.
//!
//! Services flatten [`ServiceArgs`] into their own arguments, so `bourse serve --help` documents
//! every variable in one place. Secrets arrive in URLs; print them only through
//! [`ServiceArgs::redacted_database_url`] and [`redact_url`].

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::telemetry::TelemetryArgs;

/// Options shared by every service process.
#[derive(clap::Args, Clone)]
pub struct ServiceArgs {
    /// Address to serve gRPC and the ops endpoints on. Each service has its own default port.
    #[arg(long, env = "BOURSE_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// PostgreSQL URL (`postgres://user:password@host/db`). The embedded SQLite store in
    /// `--data-dir` is used when unset.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Redis URL (`redis://host:6379`) for the shared cache. An in-process cache is used when unset.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Directory for local state: the embedded SQLite database, downloaded fixtures.
    #[arg(long, env = "BOURSE_DATA_DIR", default_value = "./.bourse")]
    pub data_dir: PathBuf,

    /// Most database connections this process keeps open.
    #[arg(long, env = "BOURSE_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// Run pending database migrations at start-up.
    #[arg(long, env = "BOURSE_MIGRATE")]
    pub migrate: bool,

    /// Logging and tracing.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

impl std::fmt::Debug for ServiceArgs {
    /// Redacts the passwords in the URLs, so the arguments can be logged whole.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceArgs")
            .field("listen", &self.listen)
            .field("database_url", &self.redacted_database_url())
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("data_dir", &self.data_dir)
            .field("db_max_connections", &self.db_max_connections)
            .field("migrate", &self.migrate)
            .field("telemetry", &self.telemetry)
            .finish()
    }
}

impl ServiceArgs {
    /// The database URL with its password masked, safe to log.
    pub fn redacted_database_url(&self) -> Option<String> {
        self.database_url.as_deref().map(redact_url)
    }
}

/// `url` with any password replaced by `***`. Something that does not parse as a URL is
/// replaced whole, since it cannot be known which part of it is secret.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() && parsed.set_password(Some("***")).is_err() {
                return "<redacted>".to_owned();
            }
            parsed.to_string()
        }
        Err(_) => "<redacted>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        service: ServiceArgs,
    }

    #[test]
    fn masks_database_password() {
        assert_eq!(
            redact_url("postgres://bourse:s3cret@db:5432/bourse"),
            "postgres://bourse:***@db:5432/bourse"
        );
        assert_eq!(redact_url("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(redact_url("s3cret garbage"), "<redacted>");
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let cli = Cli::try_parse_from([
            "bourse",
            "--database-url",
            "postgres://u:hunter2@db/bourse",
            "--redis-url",
            "redis://:hunter3@cache:6379",
        ])
        .expect("valid arguments");
        let printed = format!("{cli:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("hunter3"),
            "{printed}"
        );
        assert!(printed.contains("postgres://u:***@db/bourse"), "{printed}");
    }

    #[test]
    fn defaults_run_on_a_laptop() {
        let cli = Cli::try_parse_from(["bourse"]).expect("no arguments needed");
        assert_eq!(cli.service.data_dir, PathBuf::from("./.bourse"));
        assert_eq!(cli.service.db_max_connections, 16);
        assert!(!cli.service.migrate);
        assert_eq!(cli.service.telemetry.log, "info");
    }
}
