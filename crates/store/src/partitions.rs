//! Yearly partitions of the PostgreSQL `bars` table (see the `bars` migration).

use chrono::NaiveDateTime;
use diesel::sql_types::{Integer, Timestamp};
use diesel_async::RunQueryDsl;

use crate::{Db, StoreError};

/// The row `SELECT bourse_ensure_bar_partitions(..)` returns.
#[derive(Debug, diesel::QueryableByName)]
struct PartitionsCreated {
    /// How many partitions the call created.
    #[diesel(sql_type = Integer)]
    created: i32,
}

impl Db {
    /// Makes sure every bar with `from <= ts <= to` has a yearly partition
    /// (`bars_yYYYY`) to land in, moving matching rows out of the default
    /// partition. Call it before importing a range; returns how many
    /// partitions were created. SQLite has no partitions: returns 0.
    pub async fn ensure_bar_partitions(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<u32, StoreError> {
        let Self::Postgres(pool) = self else {
            return Ok(0);
        };
        let mut conn = pool.get().await?;
        let row = diesel::sql_query("SELECT bourse_ensure_bar_partitions($1, $2) AS created")
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(to)
            .get_result::<PartitionsCreated>(&mut *conn)
            .await?;
        // The function counts up from zero, so the value is never negative.
        Ok(u32::try_from(row.created).unwrap_or_default())
    }
}
