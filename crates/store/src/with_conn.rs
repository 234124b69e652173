//! [`with_conn!`](crate::with_conn): write a query once, run it on either backend.
//!
//! Diesel checks queries against a concrete backend at compile time, and a
//! [`Db`](crate::Db) is only known to be PostgreSQL or SQLite at run time. The
//! macro bridges the two by compiling the query once per backend and picking
//! the right copy at run time.

/// Checks a connection out of a [`Db`](crate::Db)'s pool and evaluates `body`
/// with it, for whichever backend the `Db` uses.
///
/// `with_conn!(db, |conn| body)` expands `body` twice: once with
/// `conn: &mut` [`PgConn`](crate::PgConn) and once with `conn: &mut`
/// [`SqliteConn`](crate::SqliteConn). So:
///
/// - `db` may be a `Db`, `&Db` or `Arc<Db>` (anything `AsRef<Db>`).
/// - Checking out the connection uses `?`: the enclosing function must return
///   `Result<_, E>` with `E: From<StoreError>`. Pool errors (database down, pool
///   exhausted for longer than the connect timeout) become
///   [`StoreError::Pool`](crate::StoreError::Pool).
/// - `body` is inlined into the enclosing `async fn`; it is not a closure.
///   `.await`, `?` and `return` inside it act on the enclosing function, so
///   `query.execute(conn).await?` works directly when `E: From<diesel::result::Error>`
///   (as `StoreError` is).
/// - The macro evaluates to the body's value. Both copies must have the same
///   type: load into types that are `Queryable` on both backends (the column
///   types in [`schema`](crate::schema) are chosen for that).
/// - The connection returns to the pool when the macro's expression ends.
/// - Bring `diesel_async::RunQueryDsl` into scope (by name: it then shadows the
///   synchronous trait of `diesel::prelude::*`), and `diesel_async::AsyncConnection`
///   for transactions.
///
/// # When the backends need different code
///
/// `with_conn!(db, postgres |conn| pg_body, sqlite |conn| sqlite_body)` takes
/// one body per backend, with the same checkout and `?` rules. The case that
/// needs it: a multi-row `insert_into(t).values(&rows)` does not compile for
/// SQLite through diesel-async (SQLite has no `DEFAULT` keyword, and diesel's
/// per-row fallback exists only for its synchronous connection). Insert row by
/// row in a transaction on both, or keep the multi-row insert for PostgreSQL
/// and hand SQLite's synchronous connection the same statement:
///
/// ```no_run
/// use bourse_store::{Db, StoreError, schema::news};
/// use diesel_async::RunQueryDsl;
///
/// #[derive(Clone, diesel::Insertable)]
/// #[diesel(table_name = news)]
/// struct NewNews { id: String, source: String, headline: String /* ... */ }
///
/// async fn insert_news(db: &Db, rows: Vec<NewNews>) -> Result<usize, StoreError> {
///     Ok(bourse_store::with_conn!(db,
///         postgres |conn| diesel::insert_into(news::table).values(&rows).execute(conn).await?,
///         sqlite |conn| conn
///             .spawn_blocking(move |conn| {
///                 diesel::RunQueryDsl::execute(diesel::insert_into(news::table).values(&rows), conn)
///             })
///             .await?,
///     ))
/// }
/// ```
///
/// # Example: a transaction
///
/// diesel-async transactions take an async closure. The transaction commits
/// when it returns `Ok` and rolls back on `Err`:
///
/// ```no_run
/// use bourse_store::{Db, StoreError, schema::portfolios};
/// use diesel::prelude::*;
/// use diesel_async::{AsyncConnection, RunQueryDsl};
///
/// /// Renames a portfolio and bumps its version, atomically; returns the new version.
/// async fn rename(db: &Db, id: &str, new_name: &str) -> Result<i64, StoreError> {
///     bourse_store::with_conn!(db, |conn| {
///         conn.transaction::<_, StoreError, _>(async |conn| {
///             let updated = diesel::update(portfolios::table.find(id))
///                 .set((
///                     portfolios::name.eq(new_name),
///                     portfolios::version.eq(portfolios::version + 1),
///                 ))
///                 .execute(conn)
///                 .await?;
///             if updated == 0 {
///                 // Nothing to roll back here, but any earlier writes would be.
///                 return Err(StoreError::Query(diesel::result::Error::NotFound));
///             }
///             let version = portfolios::table
///                 .find(id)
///                 .select(portfolios::version)
///                 .get_result::<i64>(conn)
///                 .await?;
///             Ok(version)
///         })
///         .await
///     })
/// }
/// ```
#[macro_export]
macro_rules! with_conn {
    ($db:expr, postgres |$pg:ident| $pg_body:expr, sqlite |$sqlite:ident| $sqlite_body:expr $(,)?) => {
        match ::core::convert::AsRef::<$crate::Db>::as_ref(&$db) {
            $crate::Db::Postgres(pool) => {
                let mut pooled = pool.get().await.map_err($crate::StoreError::from)?;
                let $pg: &mut $crate::PgConn = &mut *pooled;
                $pg_body
            }
            $crate::Db::Sqlite(pool) => {
                let mut pooled = pool.get().await.map_err($crate::StoreError::from)?;
                let $sqlite: &mut $crate::SqliteConn = &mut *pooled;
                $sqlite_body
            }
        }
    };
    ($db:expr, |$conn:ident| $body:expr $(,)?) => {
        match ::core::convert::AsRef::<$crate::Db>::as_ref(&$db) {
            $crate::Db::Postgres(pool) => {
                let mut pooled = pool.get().await.map_err($crate::StoreError::from)?;
                let $conn: &mut $crate::PgConn = &mut *pooled;
                $body
            }
            $crate::Db::Sqlite(pool) => {
                let mut pooled = pool.get().await.map_err($crate::StoreError::from)?;
                let $conn: &mut $crate::SqliteConn = &mut *pooled;
                $body
            }
        }
    };
}
