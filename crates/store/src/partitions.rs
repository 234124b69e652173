//! Partitions of the PostgreSQL `bars` table (see the `bars_layout` migration): listed by
//! interval class, then intraday bars by month and daily and coarser bars by year.

use chrono::NaiveDateTime;
use diesel::sql_types::{Integer, Text, Timestamp};
use diesel_async::RunQueryDsl;

use crate::{Db, StoreError};

/// The row `SELECT bourse_ensure_bar_partitions(..)` returns.
#[derive(Debug, diesel::QueryableByName)]
struct PartitionsCreated {
    /// How many partitions the call created.
    #[diesel(sql_type = Integer)]
    created: i32,
}

/// Which partition tree a bar lives in: the two classes are partitioned at different
/// granularities because an intraday series has hundreds of times more rows per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BarClass {
    /// `1m`, `5m`, `15m`, `1h`: monthly partitions `bars_intraday_YYYY_MM`.
    Intraday,
    /// `1d`, `1w`, `1mo`: yearly partitions `bars_daily_YYYY`.
    Daily,
}

impl BarClass {
    /// The class of a stored interval, `None` for a string that is no interval.
    pub fn of_interval(interval: &str) -> Option<Self> {
        match interval {
            "1m" | "5m" | "15m" | "1h" => Some(Self::Intraday),
            "1d" | "1w" | "1mo" => Some(Self::Daily),
            _ => None,
        }
    }

    /// The name the partitioning function knows the class by.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intraday => "intraday",
            Self::Daily => "daily",
        }
    }
}

impl Db {
    /// Makes sure every bar of either class with `from <= ts <= to` has a partition to land in
    /// (monthly for intraday, yearly for daily bars), moving matching rows out of the default
    /// partitions. Returns how many partitions were created. SQLite has no partitions: returns 0.
    ///
    /// Creates the partitions of both classes; prefer [`Db::ensure_bar_partitions_for`] when the
    /// class is known, which does not create a decade of empty monthly partitions for daily data.
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

    /// Makes sure every bar of `class` with `from <= ts <= to` has a partition to land in; see
    /// [`Db::ensure_bar_partitions`]. Cheap when they all exist (no lock is taken), so bar
    /// writers call it before every batch. SQLite has no partitions: returns 0.
    pub async fn ensure_bar_partitions_for(
        &self,
        class: BarClass,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Result<u32, StoreError> {
        let Self::Postgres(pool) = self else {
            return Ok(0);
        };
        let mut conn = pool.get().await?;
        let row = diesel::sql_query("SELECT bourse_ensure_bar_partitions($1, $2, $3) AS created")
            .bind::<Text, _>(class.as_str())
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(to)
            .get_result::<PartitionsCreated>(&mut *conn)
            .await?;
        Ok(u32::try_from(row.created).unwrap_or_default())
    }
}
