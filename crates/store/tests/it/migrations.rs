//! The embedded migrations: both sets match, apply on both backends, and
//! re-running them is a no-op, on any runtime flavour.

use std::collections::BTreeSet;
use std::path::Path;

use bourse_store::Db;
use bourse_test_support::{postgres_db, sqlite_db, store_test};
use diesel::sql_types::Text;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

/// The migration directory names of one set.
fn migration_names(set: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(set);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("read {}: {error}", dir.display()))
        .map(|entry| {
            let entry = entry.expect("directory entry");
            assert!(
                entry.path().join("up.sql").is_file() && entry.path().join("down.sql").is_file(),
                "{} has up.sql and down.sql",
                entry.path().display()
            );
            entry.file_name().to_string_lossy().into_owned()
        })
        .collect()
}

#[test]
fn both_sets_have_the_same_migrations() {
    let postgres = migration_names("postgres");
    let sqlite = migration_names("sqlite");
    assert!(
        postgres.len() >= 8,
        "the foundation migrations exist: {postgres:?}"
    );
    assert_eq!(postgres, sqlite, "same directory names in both sets");
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

async fn applied_versions(db: &Db) -> Vec<String> {
    let versions: Result<Vec<Version>, bourse_store::StoreError> = async {
        Ok(bourse_store::with_conn!(db, |conn| {
            diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
                .load(conn)
                .await?
        }))
    }
    .await;
    versions
        .expect("read the applied migrations")
        .into_iter()
        .map(|row| row.version)
        .collect()
}

store_test!(migrations_apply_once, |db| {
    let expected: Vec<String> = migration_names("postgres")
        .into_iter()
        .map(|name| {
            // diesel's version: the name up to the first `_`, without dashes.
            let version = name.split('_').next().expect("a version prefix");
            version.replace('-', "")
        })
        .collect();
    assert_eq!(
        applied_versions(db).await,
        expected,
        "every migration applied"
    );

    db.migrate().await.expect("migrating again is a no-op");
    assert_eq!(
        applied_versions(db).await,
        expected,
        "nothing applied twice"
    );
});

/// The default `#[tokio::test]` runtime is current-thread, where a bare
/// `AsyncMigrationHarness` panics; `Db::migrate` must not.
#[tokio::test]
async fn migrate_works_on_a_current_thread_runtime() {
    let sqlite = sqlite_db().await;
    sqlite.db.ping().await.expect("migrated SQLite answers");
    if let Some(postgres) = postgres_db().await {
        postgres
            .db
            .ping()
            .await
            .expect("migrated PostgreSQL answers");
    }
}

/// Services starting together all call `migrate` at once.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_migrate_calls_on_postgres_do_not_conflict() {
    let Some(test_db) = postgres_db().await else {
        return;
    };
    // Start from an empty schema so the calls race on real work.
    let fresh = Db::connect(&test_db.config).await.expect("second pool");
    {
        let Db::Postgres(pool) = &fresh else {
            panic!("a PostgreSQL pool");
        };
        let mut conn = pool.get().await.expect("connection");
        conn.batch_execute(
            "DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO public",
        )
        .await
        .expect("reset the schema");
    }
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let db = fresh.clone();
            tokio::spawn(async move { db.migrate().await })
        })
        .collect();
    for racer in racers {
        racer
            .await
            .expect("migration task")
            .expect("every concurrent migrate succeeds");
    }
    assert_eq!(
        applied_versions(&fresh).await.len(),
        migration_names("postgres").len()
    );
}
