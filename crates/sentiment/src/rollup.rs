//! PostgreSQL's daily sentiment rollup: the `news_symbol_daily` materialized view, its scheduled
//! refresh, and window aggregates read from it merged with the articles ingested since.
//!
//! A window `(from, as_of]` splits into whole UTC days, read from the view, and the partial days
//! at both ends, read from `news_symbols`; articles ingested after the view's cutoff are read
//! from `news_symbols` for every day. The result equals the computed-on-read aggregate (the
//! tests compare them). Only the 1d, 7d and 30d windows use the view: 1h never spans a day.
//! SQLite has no view: callers compute on read there.

use std::time::Duration;

use bourse_market_data::symbol::Symbol;
use bourse_store::{Db, StoreError};
use chrono::{NaiveDateTime, NaiveTime, TimeDelta};
use diesel::sql_types::{BigInt, Double, Text, Timestamp};
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::error::SentimentError;
use crate::window::{Aggregate, DayTotals, Tally, Window};

/// How often `bourse serve sentiment` refreshes the view on PostgreSQL.
pub const REFRESH_EVERY: Duration = Duration::from_secs(300);

/// Sets the cutoff a minute before now and refreshes the view, in one transaction (readers wait
/// for the refresh; the daily view is small). Does nothing on SQLite.
pub async fn refresh(db: &Db) -> Result<(), SentimentError> {
    bourse_store::with_conn!(
        db,
        postgres | conn | {
            conn.transaction::<_, StoreError, _>(async |conn| {
                diesel::sql_query(
                    "UPDATE news_rollup_cutoff SET \
                     cutoff = (now() AT TIME ZONE 'UTC') - interval '1 minute', \
                     refreshed_at = now() AT TIME ZONE 'UTC' WHERE id = 1",
                )
                .execute(conn)
                .await?;
                diesel::sql_query("REFRESH MATERIALIZED VIEW news_symbol_daily")
                    .execute(conn)
                    .await?;
                Ok(())
            })
            .await?
        },
        sqlite | _conn | (),
    );
    Ok(())
}

/// Refreshes the view every `every` (first at once) until the task is dropped; failures are
/// logged and retried at the next tick.
pub async fn refresh_forever(db: Db, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        if let Err(error) = refresh(&db).await {
            tracing::warn!(error = ?error, "refreshing news_symbol_daily failed");
        }
    }
}

#[derive(diesel::QueryableByName)]
struct DayRow {
    #[diesel(sql_type = Timestamp)]
    day: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    articles: i64,
    #[diesel(sql_type = Double)]
    score_sum: f64,
    #[diesel(sql_type = BigInt)]
    positive: i64,
    #[diesel(sql_type = BigInt)]
    negative: i64,
    #[diesel(sql_type = Double)]
    weight_sum: f64,
    #[diesel(sql_type = Double)]
    weighted_score_sum: f64,
}

#[derive(diesel::QueryableByName)]
struct ArticleScore {
    #[diesel(sql_type = Timestamp)]
    published_at: NaiveDateTime,
    #[diesel(sql_type = Double)]
    score: f64,
}

/// The aggregate of `symbol` over `window` at `as_of` from the view and the live articles, on
/// PostgreSQL; `None` on SQLite or for the 1h window (compute on read instead).
pub async fn aggregate(
    db: &Db,
    symbol: &Symbol,
    window: Window,
    as_of: NaiveDateTime,
) -> Result<Option<Aggregate>, SentimentError> {
    let columns = match window {
        Window::Hour => return Ok(None),
        Window::Day => ("w_1d", "ws_1d"),
        Window::Week => ("w_7d", "ws_7d"),
        Window::Month => ("w_30d", "ws_30d"),
    };
    let from = as_of - window.length();
    // Whole days: from the first midnight after `from` (a day starting exactly at `from` would
    // include `from`, which the window excludes) to the last midnight at or before `as_of`.
    let first_full = from.date().and_time(NaiveTime::MIN) + TimeDelta::days(1);
    let full_end = as_of.date().and_time(NaiveTime::MIN);
    let days_sql = format!(
        "SELECT day, articles, score_sum, positive, negative, {} AS weight_sum, \
         {} AS weighted_score_sum FROM news_symbol_daily \
         WHERE symbol = $1 AND day >= $2 AND day < $3",
        columns.0, columns.1
    );
    let live_sql = "SELECT s.published_at, s.score FROM news_symbols s \
         JOIN news n ON n.id = s.news_id \
         WHERE s.symbol = $1 AND s.published_at > $2 AND s.published_at <= $3 \
         AND (s.published_at < $4 OR s.published_at >= $5 \
              OR n.ingested_at > (SELECT cutoff FROM news_rollup_cutoff WHERE id = 1))";
    let loaded: Option<(Vec<DayRow>, Vec<ArticleScore>)> = bourse_store::with_conn!(
        db,
        postgres | conn | {
            let days = if first_full < full_end {
                diesel::sql_query(days_sql)
                    .bind::<Text, _>(symbol.as_str())
                    .bind::<Timestamp, _>(first_full)
                    .bind::<Timestamp, _>(full_end)
                    .load::<DayRow>(conn)
                    .await?
            } else {
                Vec::new()
            };
            let live = diesel::sql_query(live_sql)
                .bind::<Text, _>(symbol.as_str())
                .bind::<Timestamp, _>(from)
                .bind::<Timestamp, _>(as_of)
                .bind::<Timestamp, _>(first_full)
                .bind::<Timestamp, _>(full_end.max(first_full))
                .load::<ArticleScore>(conn)
                .await?;
            Some((days, live))
        },
        sqlite | _conn | None,
    );
    let Some((days, live)) = loaded else {
        return Ok(None);
    };
    let mut tally = Tally::new(window, as_of);
    for row in days {
        tally.add_day(&DayTotals {
            day: row.day,
            articles: row.articles,
            score_sum: row.score_sum,
            positive: row.positive,
            negative: row.negative,
            weight_sum: row.weight_sum,
            weighted_score_sum: row.weighted_score_sum,
        });
    }
    for article in live {
        tally.add_article(article.published_at, article.score);
    }
    Ok(Some(tally.finish()))
}
