//! The sentiment service's errors and their one mapping to gRPC statuses.

use bourse_store::StoreError;
use bourse_store::page::PageError;
use tonic::{Code, Status};

/// Everything a sentiment call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SentimentError {
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error(transparent)]
    Page(#[from] PageError),
    /// The scorer could not score (a model failure, or its worker stopped).
    #[error("scoring failed: {0}")]
    Scorer(String),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for SentimentError {
    fn from(error: diesel::result::Error) -> Self {
        SentimentError::Store(error.into())
    }
}

impl SentimentError {
    /// The gRPC code this error answers with; also the `code` of a batch item's error.
    pub fn code(&self) -> Code {
        match self {
            SentimentError::InvalidArgument { .. } | SentimentError::Page(_) => {
                Code::InvalidArgument
            }
            SentimentError::Store(StoreError::Pool(_)) => Code::Unavailable,
            SentimentError::Scorer(_) | SentimentError::Store(_) => Code::Internal,
        }
    }

    /// The gRPC code's canonical name (`INVALID_ARGUMENT`), as a batch item's error reports it.
    pub fn code_name(&self) -> &'static str {
        match self.code() {
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::Unavailable => "UNAVAILABLE",
            _ => "INTERNAL",
        }
    }

    /// The message a client sees: internals are logged, never sent.
    pub fn client_message(&self) -> String {
        match self.code() {
            Code::Internal => {
                tracing::error!(error = ?self, "sentiment failure");
                "internal failure".to_owned()
            }
            Code::Unavailable => "storage unavailable, retry later".to_owned(),
            _ => self.to_string(),
        }
    }
}

impl From<SentimentError> for Status {
    fn from(error: SentimentError) -> Status {
        Status::new(error.code(), error.client_message())
    }
}
