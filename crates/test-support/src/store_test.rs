//! [`store_test!`](crate::store_test): one test body, run on both backends.

/// Defines `mod $name` with two tests, `sqlite` and `postgres`, that run the
/// same async body against a fresh migrated database of each backend. In the
/// body, `$db` is a `&bourse_store::Db`.
///
/// The PostgreSQL test is skipped (or, with `CI=true`, fails) as described in
/// [`postgres_db`](crate::postgres_db). Both run on tokio's multi-thread
/// runtime; the calling crate needs `tokio` (with the `macros` feature) as a
/// dev-dependency. Items of the enclosing module are visible in the body.
///
/// ```no_run
/// bourse_test_support::store_test!(counts_nothing_when_empty, |db| {
///     db.ping().await.expect("ping");
/// });
/// ```
#[macro_export]
macro_rules! store_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            // The body may or may not use items of the enclosing module.
            #[allow(unused_imports)]
            use super::*;

            #[::tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                let test_db = $crate::sqlite_db().await;
                let $db = &test_db.db;
                $body
            }

            #[::tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                let Some(test_db) = $crate::postgres_db().await else {
                    return;
                };
                let $db = &test_db.db;
                $body
            }
        }
    };
}
