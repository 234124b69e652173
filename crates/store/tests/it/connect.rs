//! `Db::connect`: failing fast and readably, and the embedded SQLite set-up.

use std::time::{Duration, Instant};

use bourse_store::{Backend, Db, PgConn, StoreConfig, StoreError};
use bourse_test_support::store_test;
use diesel::sql_types::{Array, BigInt, Integer, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temp directory")
}

#[tokio::test]
async fn unreachable_postgres_fails_fast_without_leaking_the_password() {
    let dir = temp_dir();
    let config = StoreConfig::embedded(dir.path())
        .with_database_url(Some("postgres://postgres:hunter2@127.0.0.1:1/x".to_owned()));
    let started = Instant::now();
    let error = Db::connect(&config)
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < config.connect_timeout,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(&error, StoreError::Unreachable { backend: Backend::Postgres, target, .. } if target == "127.0.0.1:1/x"),
        "unexpected error: {error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("cannot reach postgres database at 127.0.0.1:1/x: "),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
}

#[tokio::test]
async fn connect_timeout_bounds_a_silent_server() {
    // A listener that accepts but never answers the startup message.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a silent listener");
    let address = listener.local_addr().expect("listener address");
    let _accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let dir = temp_dir();
    let config = StoreConfig {
        connect_timeout: Duration::from_millis(300),
        ..StoreConfig::embedded(dir.path())
    }
    .with_database_url(Some(format!("postgres://postgres@{address}/x")));
    let started = Instant::now();
    let error = Db::connect(&config)
        .await
        .expect_err("the server never answers");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(error, StoreError::Unreachable { .. }),
        "unexpected error: {error:?}"
    );
    assert!(
        error.to_string().contains("no connection within 300ms"),
        "{error}"
    );
}

#[tokio::test]
async fn unusable_urls_are_invalid_url_errors() {
    let dir = temp_dir();
    let cases = [
        ("not a url", "relative URL without a base"),
        (
            "mysql://root:hunter2@localhost/db",
            "unsupported scheme `mysql`",
        ),
        ("postgres://user:hunter2@[::1/db", "invalid IPv6 address"),
    ];
    for (url, expected) in cases {
        let config = StoreConfig::embedded(dir.path()).with_database_url(Some(url.to_owned()));
        let error = Db::connect(&config).await.expect_err("the URL is unusable");
        let message = error.to_string();
        assert!(
            matches!(error, StoreError::InvalidUrl { .. }),
            "{url}: {error:?}"
        );
        assert!(message.starts_with("invalid database URL: "), "{message}");
        assert!(message.contains(expected), "{url}: {message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[tokio::test]
async fn sqlite_creates_its_directory_and_file() {
    let dir = temp_dir();
    let data_dir = dir.path().join("nested").join("data");
    let config = StoreConfig::embedded(&data_dir);
    let db = Db::connect(&config).await.expect("open embedded SQLite");
    assert_eq!(db.backend(), Backend::Sqlite);
    assert_eq!(db.backend().to_string(), "sqlite");
    assert!(data_dir.join("bourse.sqlite3").is_file());
    assert_eq!(config.sqlite_path(), data_dir.join("bourse.sqlite3"));
    db.ping().await.expect("ping");
}

#[tokio::test]
async fn sqlite_data_dir_must_be_a_directory() {
    let dir = temp_dir();
    let file = dir.path().join("occupied");
    std::fs::write(&file, b"not a directory").expect("write a file");
    let error = Db::connect(&StoreConfig::embedded(&file))
        .await
        .expect_err("a file is not a data directory");
    assert!(matches!(error, StoreError::DataDir { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("cannot use SQLite data directory "),
        "{error}"
    );
}

#[derive(diesel::QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(diesel::QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = BigInt)]
    foreign_keys: i64,
}

#[derive(diesel::QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = BigInt)]
    timeout: i64,
}

#[derive(diesel::QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = BigInt)]
    synchronous: i64,
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sqlite_connection_gets_the_pragmas() {
    let test_db = bourse_test_support::sqlite_db().await;
    let Db::Sqlite(pool) = &test_db.db else {
        panic!("sqlite_db returns a SQLite pool");
    };
    // Hold two connections at once so both are distinct pooled connections.
    let mut first = pool.get().await.expect("first connection");
    let mut second = pool.get().await.expect("second connection");
    for conn in [&mut *first, &mut *second] {
        let mode: JournalMode = diesel::sql_query("PRAGMA journal_mode")
            .get_result(conn)
            .await
            .expect("journal_mode");
        let keys: ForeignKeys = diesel::sql_query("PRAGMA foreign_keys")
            .get_result(conn)
            .await
            .expect("foreign_keys");
        let busy: BusyTimeout = diesel::sql_query("PRAGMA busy_timeout")
            .get_result(conn)
            .await
            .expect("busy_timeout");
        let sync: Synchronous = diesel::sql_query("PRAGMA synchronous")
            .get_result(conn)
            .await
            .expect("synchronous");
        assert_eq!(mode.journal_mode, "wal");
        assert_eq!(keys.foreign_keys, 1);
        assert_eq!(busy.timeout, 5000);
        assert_eq!(sync.synchronous, 1, "1 is NORMAL");
    }
}

store_test!(ping_and_pool_metrics, |db| {
    db.ping().await.expect("ping");
    // No recorder is installed here: recording must simply not fail.
    db.record_pool_metrics();
    let described = format!("{db:?}");
    assert!(
        described.contains(&format!("{:?}", db.backend())),
        "{described}"
    );
});

#[derive(diesel::QueryableByName)]
struct BackendPid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// The pool hands out idle connections without a `SELECT 1`; one the server has closed must
/// still be noticed and replaced at checkout, never given to a query.
#[tokio::test(flavor = "multi_thread")]
async fn connections_the_server_closed_are_replaced_at_checkout() {
    let Some(test_db) = bourse_test_support::postgres_db().await else {
        return;
    };
    let Db::Postgres(pool) = &test_db.db else {
        panic!("postgres_db returns a PostgreSQL pool");
    };
    // Take every connection the pool may hold at once, so each one is idle afterwards.
    let size = usize::try_from(test_db.config.max_connections).expect("a small pool");
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..size {
        let mut conn = pool.get().await.expect("a pooled connection");
        let backend: BackendPid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
            .get_result(&mut *conn)
            .await
            .expect("pg_backend_pid");
        pids.push(backend.pid);
        held.push(conn);
    }
    drop(held);

    // Close them from the server side, as a restart or an idle timeout would.
    let url = test_db
        .config
        .database_url
        .as_deref()
        .expect("a PostgreSQL URL");
    let mut admin = PgConn::establish(url).await.expect("an admin connection");
    for pid in &pids {
        diesel::sql_query("SELECT pg_terminate_backend($1)")
            .bind::<Integer, _>(*pid)
            .execute(&mut admin)
            .await
            .expect("pg_terminate_backend");
    }
    let gone = async {
        loop {
            let alive: Count = diesel::sql_query(
                "SELECT count(*) AS count FROM pg_stat_activity WHERE pid = ANY($1)",
            )
            .bind::<Array<Integer>, _>(&pids)
            .get_result(&mut admin)
            .await
            .expect("pg_stat_activity");
            if alive.count == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), gone)
        .await
        .expect("the server ends the terminated sessions");
    // The sessions are gone on the server. Each pooled connection's task notices the close as
    // soon as it is polled; a second covers a test machine busy with the rest of the suite.
    tokio::time::sleep(Duration::from_secs(1)).await;

    for attempt in 0..2 * size {
        test_db.db.ping().await.unwrap_or_else(|error| {
            panic!("query {attempt} after the server closed the pool's connections: {error}")
        });
    }
}
