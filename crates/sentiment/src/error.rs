//! The sentiment service's errors and their one mapping to gRPC statuses.

use tonic::Status;

/// Everything a sentiment call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SentimentError {
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("not implemented yet: {0}")]
    NotImplemented(&'static str),
}

impl From<SentimentError> for Status {
    fn from(error: SentimentError) -> Status {
        match &error {
            SentimentError::InvalidArgument { .. } => Status::invalid_argument(error.to_string()),
            SentimentError::NotImplemented(_) => Status::unimplemented(error.to_string()),
        }
    }
}
