//! News articles in storage: idempotent ingest, newest-first listing, and a symbol's articles
//! over a time range. Written once for both backends with `with_conn!`.

use bourse_market_data::symbol::Symbol;
use bourse_proto::sentiment::v1::{NewsArticle, SentimentScore};
use bourse_proto::time::naive_to_timestamp;
use bourse_store::page::{Cursor, PageRequest};
use bourse_store::schema::{news, news_symbols};
use bourse_store::{Db, StoreError};
use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::error::SentimentError;
use crate::scorer::label_for;

/// A stored article as read back.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = news)]
pub struct ArticleRow {
    pub id: String,
    pub source: String,
    pub url: Option<String>,
    pub headline: String,
    pub body: Option<String>,
    /// Comma-separated upper-case symbols.
    pub symbols: String,
    pub published_at: NaiveDateTime,
    pub score: f64,
    pub label: String,
    pub ingested_at: NaiveDateTime,
}

/// An article ready to store: validated, with its score and the model that gave it.
#[derive(Debug, Clone)]
pub struct NewArticle {
    /// The caller's id, or a fresh uuid v7 when the caller gave none.
    pub id: String,
    /// Whether `id` came from the caller (then it is what makes ingest idempotent).
    pub caller_id: bool,
    pub symbols: Vec<Symbol>,
    pub headline: String,
    pub body: Option<String>,
    pub source: String,
    pub url: Option<String>,
    pub published_at: NaiveDateTime,
    pub score: f64,
}

impl ArticleRow {
    /// The contract's message; `model` names the scorer recorded with the service's answer.
    pub fn into_proto(self, model: &str) -> NewsArticle {
        let label = label_for(self.score);
        NewsArticle {
            id: self.id,
            symbols: self
                .symbols
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            headline: self.headline,
            body: self.body.unwrap_or_default(),
            source: self.source,
            url: self.url.unwrap_or_default(),
            published_at: Some(naive_to_timestamp(self.published_at)),
            sentiment: Some(SentimentScore {
                score: self.score,
                label: label as i32,
                model: model.to_owned(),
                ..SentimentScore::default()
            }),
            ingested_at: Some(naive_to_timestamp(self.ingested_at)),
        }
    }
}

/// The stored name of a label.
fn label_name(score: f64) -> &'static str {
    label_for(score).as_str_name()
}

/// Stores `article` unless it is already stored, and returns the stored article with whether it
/// was new. "Already stored" means the same caller id, or the same (source, url).
pub async fn ingest(
    db: &Db,
    article: NewArticle,
    now: NaiveDateTime,
) -> Result<(ArticleRow, bool), SentimentError> {
    let row = ArticleRow {
        id: article.id.clone(),
        source: article.source.clone(),
        url: article.url.clone(),
        headline: article.headline,
        body: article.body,
        symbols: article
            .symbols
            .iter()
            .map(Symbol::as_str)
            .collect::<Vec<_>>()
            .join(","),
        // PostgreSQL keeps microseconds: round here so the article returned on first ingest
        // equals the one read back later.
        published_at: article.published_at.trunc_subsecs(6),
        score: article.score,
        label: label_name(article.score).to_owned(),
        ingested_at: now.trunc_subsecs(6),
    };
    let inserted = bourse_store::with_conn!(db, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let inserted = diesel::insert_into(news::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if inserted == 1 {
                for symbol in &article.symbols {
                    diesel::insert_into(news_symbols::table)
                        .values((
                            news_symbols::symbol.eq(symbol.as_str()),
                            news_symbols::news_id.eq(&row.id),
                            news_symbols::published_at.eq(row.published_at),
                            news_symbols::score.eq(row.score),
                        ))
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                }
            }
            Ok(inserted == 1)
        })
        .await?
    });
    if inserted {
        return Ok((row, true));
    }
    let by_id = if article.caller_id {
        find(db, Some(&article.id), "", "").await?
    } else {
        None
    };
    let existing = match (by_id, &article.url) {
        (Some(found), _) => Some(found),
        (None, Some(url)) => find(db, None, &article.source, url).await?,
        (None, None) => None,
    };
    existing
        .map(|found| (found, false))
        .ok_or_else(|| SentimentError::Store(StoreError::Query(diesel::result::Error::NotFound)))
}

/// The article with `id`, or with (`source`, `url`) when `id` is `None`.
async fn find(
    db: &Db,
    id: Option<&str>,
    source: &str,
    url: &str,
) -> Result<Option<ArticleRow>, SentimentError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        match id {
            Some(id) => news::table
                .find(id)
                .select(ArticleRow::as_select())
                .first(conn)
                .await
                .optional()?,
            None => news::table
                .filter(news::source.eq(source))
                .filter(news::url.eq(url))
                .select(ArticleRow::as_select())
                .first(conn)
                .await
                .optional()?,
        }
    }))
}

/// One page of articles, newest first (by publication time, then id), optionally for one symbol.
pub async fn list(
    db: &Db,
    symbol: Option<&Symbol>,
    page: &PageRequest,
) -> Result<(Vec<ArticleRow>, String), SentimentError> {
    let after = page.after.clone();
    let rows: Vec<ArticleRow> = bourse_store::with_conn!(db, |conn| {
        match symbol {
            Some(symbol) => {
                let mut query = news::table
                    .inner_join(news_symbols::table)
                    .filter(news_symbols::symbol.eq(symbol.as_str()))
                    .select(ArticleRow::as_select())
                    .order((
                        news_symbols::published_at.desc(),
                        news_symbols::news_id.desc(),
                    ))
                    .limit(page.limit())
                    .into_boxed();
                if let Some(Cursor { time, id }) = &after {
                    query = query.filter(
                        news_symbols::published_at
                            .lt(*time)
                            .or(news_symbols::published_at
                                .eq(*time)
                                .and(news_symbols::news_id.lt(id.clone()))),
                    );
                }
                query.load(conn).await?
            }
            None => {
                let mut query = news::table
                    .select(ArticleRow::as_select())
                    .order((news::published_at.desc(), news::id.desc()))
                    .limit(page.limit())
                    .into_boxed();
                if let Some(Cursor { time, id }) = &after {
                    query = query.filter(
                        news::published_at
                            .lt(*time)
                            .or(news::published_at.eq(*time).and(news::id.lt(id.clone()))),
                    );
                }
                query.load(conn).await?
            }
        }
    });
    Ok(page.finish(rows, |row| Cursor {
        time: row.published_at,
        id: row.id.clone(),
    }))
}

/// (published_at, score) of every article about `symbol` published in `(from, to]`.
pub async fn scores_between(
    db: &Db,
    symbol: &Symbol,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, f64)>, SentimentError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        news_symbols::table
            .filter(news_symbols::symbol.eq(symbol.as_str()))
            .filter(news_symbols::published_at.gt(from))
            .filter(news_symbols::published_at.le(to))
            .select((news_symbols::published_at, news_symbols::score))
            .load(conn)
            .await?
    }))
}

/// The `limit` articles about `symbol` in `(from, to]` with the highest score (`positive`) or
/// the lowest, ties broken by the newest.
pub async fn extremes_between(
    db: &Db,
    symbol: &Symbol,
    from: NaiveDateTime,
    to: NaiveDateTime,
    positive: bool,
    limit: i64,
) -> Result<Vec<ArticleRow>, SentimentError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        let query = news::table
            .inner_join(news_symbols::table)
            .filter(news_symbols::symbol.eq(symbol.as_str()))
            .filter(news_symbols::published_at.gt(from))
            .filter(news_symbols::published_at.le(to))
            .select(ArticleRow::as_select())
            .limit(limit)
            .into_boxed();
        let query = if positive {
            query.order((
                news_symbols::score.desc(),
                news_symbols::published_at.desc(),
            ))
        } else {
            query.order((news_symbols::score.asc(), news_symbols::published_at.desc()))
        };
        query.load(conn).await?
    }))
}
