//! The `SentimentService` gRPC implementation.

use std::sync::Arc;

use bourse_proto::sentiment::v1::sentiment_service_server::SentimentService;
use bourse_proto::sentiment::v1::{
    BatchScoreTextRequest, BatchScoreTextResponse, GetSymbolSentimentRequest, IngestNewsRequest,
    ListNewsRequest, ListNewsResponse, NewsArticle, ScoreTextRequest, SentimentScore,
    SymbolSentiment,
};
use tonic::{Request, Response, Status};

use crate::error::SentimentError;
use crate::lexicon::LexiconScorer;

/// The longest text scored, in characters. Longer texts are rejected: a silently truncated
/// article would get a score for text the caller never meant to be judged alone.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// The sentiment service, cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Sentiment {
    scorer: Arc<LexiconScorer>,
}

impl Sentiment {
    pub fn new(scorer: LexiconScorer) -> Self {
        Self {
            scorer: Arc::new(scorer),
        }
    }
}

/// Checks a text against the input limits.
fn validate_text(field: &'static str, text: &str) -> Result<(), SentimentError> {
    if text.trim().is_empty() {
        return Err(SentimentError::InvalidArgument {
            field,
            reason: "must not be empty".into(),
        });
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(SentimentError::InvalidArgument {
            field,
            reason: format!("{chars} characters is more than the limit of {MAX_TEXT_CHARS}"),
        });
    }
    Ok(())
}

#[tonic::async_trait]
impl SentimentService for Sentiment {
    async fn score_text(
        &self,
        request: Request<ScoreTextRequest>,
    ) -> Result<Response<SentimentScore>, Status> {
        let text = &request.get_ref().text;
        validate_text("text", text)?;
        Ok(Response::new(self.scorer.score(text)))
    }

    async fn batch_score_text(
        &self,
        _: Request<BatchScoreTextRequest>,
    ) -> Result<Response<BatchScoreTextResponse>, Status> {
        Err(
            SentimentError::NotImplemented("BatchScoreText lands with the sentiment issue (#6)")
                .into(),
        )
    }

    async fn ingest_news(
        &self,
        _: Request<IngestNewsRequest>,
    ) -> Result<Response<NewsArticle>, Status> {
        Err(SentimentError::NotImplemented("IngestNews lands with the sentiment issue (#6)").into())
    }

    async fn list_news(
        &self,
        _: Request<ListNewsRequest>,
    ) -> Result<Response<ListNewsResponse>, Status> {
        Err(SentimentError::NotImplemented("ListNews lands with the sentiment issue (#6)").into())
    }

    async fn get_symbol_sentiment(
        &self,
        _: Request<GetSymbolSentimentRequest>,
    ) -> Result<Response<SymbolSentiment>, Status> {
        Err(SentimentError::NotImplemented(
            "GetSymbolSentiment lands with the sentiment issue (#6)",
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_oversized_texts() {
        assert!(validate_text("text", "  ").is_err());
        assert!(validate_text("text", &"a".repeat(MAX_TEXT_CHARS)).is_ok());
        let error = validate_text("text", &"é".repeat(MAX_TEXT_CHARS + 1)).expect_err("too long");
        assert!(
            error.to_string().starts_with("text: 10001 characters"),
            "{error}"
        );
    }
}
