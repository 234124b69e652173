//! The `SentimentService` gRPC implementation.

use bourse_market_data::symbol::Symbol;
use bourse_proto::common::v1::ItemError;
use bourse_proto::sentiment::v1::batch_score_result::Result as BatchResult;
use bourse_proto::sentiment::v1::sentiment_service_server::SentimentService;
use bourse_proto::sentiment::v1::{
    BatchScoreResult, BatchScoreTextRequest, BatchScoreTextResponse, GetSymbolSentimentRequest,
    IngestNewsRequest, ListNewsRequest, ListNewsResponse, NewsArticle, ScoreTextRequest,
    SentimentScore, SymbolSentiment,
};
use bourse_proto::time::{from_timestamp, naive_to_timestamp};
use bourse_runtime::grpc_client::tier_of;
use bourse_store::Db;
use bourse_store::page::PageRequest;
use chrono::{NaiveDateTime, Utc};
use tonic::{Request, Response, Status};

use crate::error::SentimentError;
use crate::news::{self, NewArticle};
use crate::predict::Predictor;
use crate::text::{MAX_BATCH_TEXTS, Text};
use crate::window::{Aggregate, Window};

/// How many most positive and most negative headlines `GetSymbolSentiment` returns.
pub const EXTREME_HEADLINES: i64 = 3;
/// `ListNews` page sizes (AIP-158).
const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 500;
/// The longest caller-provided article id, source or url.
const MAX_FIELD_CHARS: usize = 2_048;

/// The sentiment service, cheap to clone.
#[derive(Debug, Clone)]
pub struct Sentiment {
    db: Db,
    predictor: Predictor,
    /// Texts longer than this many characters are rejected.
    max_text_chars: usize,
}

impl Sentiment {
    pub fn new(db: Db, predictor: Predictor, max_text_chars: usize) -> Self {
        Self {
            db,
            predictor,
            max_text_chars,
        }
    }

    /// The store articles are kept in.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Validates, scores and stores one article; returns it as stored (the earlier copy when it
    /// was already ingested). The headline is what is scored: both scorers are calibrated on
    /// sentence-length text, and a body would dilute its headline's signal.
    pub async fn ingest(
        &self,
        tier: bourse_cache::Tier,
        article: NewsArticle,
        now: NaiveDateTime,
    ) -> Result<(NewsArticle, bool), SentimentError> {
        let headline = Text::parse("article.headline", &article.headline, self.max_text_chars)?;
        let source = required("article.source", &article.source)?;
        let url = optional("article.url", &article.url)?;
        let caller_id = optional("article.id", &article.id)?;
        let mut symbols = Vec::with_capacity(article.symbols.len());
        for raw in &article.symbols {
            let symbol = parse_symbol("article.symbols", raw)?;
            if !symbols.contains(&symbol) {
                symbols.push(symbol);
            }
        }
        let published_at = match &article.published_at {
            Some(ts) => from_timestamp(ts)
                .ok_or_else(|| SentimentError::InvalidArgument {
                    field: "article.published_at",
                    reason: "is not a valid time".into(),
                })?
                .naive_utc(),
            None => now,
        };
        let body = (!article.body.trim().is_empty()).then(|| article.body.clone());
        let score = self.predictor.score(tier, headline.clone()).await?;
        let new = NewArticle {
            caller_id: caller_id.is_some(),
            id: caller_id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            symbols,
            headline: article.headline.trim().to_owned(),
            body,
            source,
            url,
            published_at,
            score: score.score,
        };
        let (row, created) = news::ingest(&self.db, new, now).await?;
        let mut stored = row.into_proto(self.predictor.model_id());
        if created {
            stored.sentiment = Some(score);
        }
        Ok((stored, created))
    }

    /// The aggregate sentiment of `symbol` over `window` ending at `as_of`: on PostgreSQL from
    /// the daily rollup merged with live articles (see [`crate::rollup`]), on SQLite computed on
    /// read.
    pub async fn symbol_sentiment(
        &self,
        symbol: &Symbol,
        window: Window,
        as_of: NaiveDateTime,
    ) -> Result<SymbolSentiment, SentimentError> {
        let from = as_of - window.length();
        let aggregate = match crate::rollup::aggregate(&self.db, symbol, window, as_of).await? {
            Some(aggregate) => aggregate,
            None => {
                let scores = news::scores_between(&self.db, symbol, from, as_of).await?;
                Aggregate::of(&scores, window, as_of)
            }
        };
        let model = self.predictor.model_id();
        let extremes = |positive| {
            news::extremes_between(&self.db, symbol, from, as_of, positive, EXTREME_HEADLINES)
        };
        let (most_positive, most_negative) = if aggregate.count == 0 {
            (Vec::new(), Vec::new())
        } else {
            (extremes(true).await?, extremes(false).await?)
        };
        Ok(SymbolSentiment {
            symbol: symbol.to_string(),
            window: window.as_str().to_owned(),
            article_count: aggregate.count,
            mean_score: aggregate.mean,
            decayed_score: aggregate.decayed,
            labels: Some(aggregate.labels),
            // Only clearly positive (negative) articles are listed as such.
            most_positive: most_positive
                .into_iter()
                .filter(|row| row.score > 0.0)
                .map(|row| row.into_proto(model))
                .collect(),
            most_negative: most_negative
                .into_iter()
                .filter(|row| row.score < 0.0)
                .map(|row| row.into_proto(model))
                .collect(),
            as_of: Some(naive_to_timestamp(as_of)),
        })
    }
}

fn required(field: &'static str, raw: &str) -> Result<String, SentimentError> {
    optional(field, raw)?.ok_or(SentimentError::InvalidArgument {
        field,
        reason: "must not be empty".into(),
    })
}

fn optional(field: &'static str, raw: &str) -> Result<Option<String>, SentimentError> {
    let trimmed = raw.trim();
    if trimmed.chars().count() > MAX_FIELD_CHARS {
        return Err(SentimentError::InvalidArgument {
            field,
            reason: format!("is longer than {MAX_FIELD_CHARS} characters"),
        });
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

fn parse_symbol(field: &'static str, raw: &str) -> Result<Symbol, SentimentError> {
    raw.parse()
        .map_err(
            |e: bourse_market_data::symbol::InvalidSymbol| SentimentError::InvalidArgument {
                field,
                reason: e.to_string(),
            },
        )
}

#[tonic::async_trait]
impl SentimentService for Sentiment {
    async fn score_text(
        &self,
        request: Request<ScoreTextRequest>,
    ) -> Result<Response<SentimentScore>, Status> {
        let tier = tier_of(&request);
        let text = Text::parse("text", &request.get_ref().text, self.max_text_chars)?;
        Ok(Response::new(self.predictor.score(tier, text).await?))
    }

    async fn batch_score_text(
        &self,
        request: Request<BatchScoreTextRequest>,
    ) -> Result<Response<BatchScoreTextResponse>, Status> {
        let tier = tier_of(&request);
        let texts = &request.get_ref().texts;
        if texts.len() > MAX_BATCH_TEXTS {
            return Err(SentimentError::InvalidArgument {
                field: "texts",
                reason: format!(
                    "{} texts is more than the limit of {MAX_BATCH_TEXTS}",
                    texts.len()
                ),
            }
            .into());
        }
        let parsed: Vec<Result<Text, SentimentError>> = texts
            .iter()
            .map(|raw| Text::parse("texts", raw, self.max_text_chars))
            .collect();
        let valid: Vec<Text> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().cloned())
            .collect();
        let mut scores = self.predictor.score_many(tier, valid).await?.into_iter();
        let results = parsed
            .into_iter()
            .map(|parsed| BatchScoreResult {
                result: Some(match parsed {
                    Ok(_) => match scores.next() {
                        Some(score) => BatchResult::Score(score),
                        None => BatchResult::Error(ItemError {
                            code: "INTERNAL".into(),
                            message: "internal failure".into(),
                        }),
                    },
                    Err(error) => BatchResult::Error(ItemError {
                        code: error.code_name().to_owned(),
                        message: error.client_message(),
                    }),
                }),
            })
            .collect();
        Ok(Response::new(BatchScoreTextResponse { results }))
    }

    async fn ingest_news(
        &self,
        request: Request<IngestNewsRequest>,
    ) -> Result<Response<NewsArticle>, Status> {
        let tier = tier_of(&request);
        let article = request
            .into_inner()
            .article
            .ok_or(SentimentError::InvalidArgument {
                field: "article",
                reason: "is required".into(),
            })?;
        let (stored, _) = self.ingest(tier, article, Utc::now().naive_utc()).await?;
        Ok(Response::new(stored))
    }

    async fn list_news(
        &self,
        request: Request<ListNewsRequest>,
    ) -> Result<Response<ListNewsResponse>, Status> {
        let request = request.get_ref();
        let page = PageRequest::parse(
            request.page_size,
            &request.page_token,
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
        .map_err(SentimentError::from)?;
        let symbol = match request.symbol.trim() {
            "" => None,
            raw => Some(parse_symbol("symbol", raw)?),
        };
        let (rows, next_page_token) = news::list(&self.db, symbol.as_ref(), &page).await?;
        let model = self.predictor.model_id();
        Ok(Response::new(ListNewsResponse {
            articles: rows.into_iter().map(|row| row.into_proto(model)).collect(),
            next_page_token,
        }))
    }

    async fn get_symbol_sentiment(
        &self,
        request: Request<GetSymbolSentimentRequest>,
    ) -> Result<Response<SymbolSentiment>, Status> {
        let request = request.get_ref();
        let symbol = parse_symbol("symbol", &request.symbol)?;
        let window = Window::parse(&request.window)?;
        let sentiment = self
            .symbol_sentiment(&symbol, window, Utc::now().naive_utc())
            .await?;
        Ok(Response::new(sentiment))
    }
}
