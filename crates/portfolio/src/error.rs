//! The portfolio service's errors and their one mapping to gRPC statuses.

use bourse_store::StoreError;
use bourse_store::page::PageError;
use tonic::Status;

/// Everything a portfolio call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PortfolioError {
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// A request field that does not parse; the message starts with the field's name.
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    /// The portfolio or order does not exist, or belongs to another account.
    #[error("{0} not found")]
    NotFound(String),
    /// The request is valid but the resource is not in a state that allows it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A stored value this crate cannot read back (a bug or a hand edit), never the client's fault.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The fill price could not be fetched.
    #[error(transparent)]
    Quote(#[from] crate::quotes::QuoteError),
}

impl From<diesel::result::Error> for PortfolioError {
    fn from(error: diesel::result::Error) -> Self {
        PortfolioError::Store(error.into())
    }
}

impl From<PortfolioError> for Status {
    fn from(error: PortfolioError) -> Status {
        match &error {
            PortfolioError::Page(_) => Status::invalid_argument(error.to_string()),
            PortfolioError::InvalidArgument { .. } => Status::invalid_argument(error.to_string()),
            PortfolioError::NotFound(_) => Status::not_found(error.to_string()),
            PortfolioError::FailedPrecondition(_) => Status::failed_precondition(error.to_string()),
            PortfolioError::Corrupt(_) => {
                tracing::error!(%error, "portfolio data corrupt");
                Status::internal("storage failure")
            }
            PortfolioError::Quote(crate::quotes::QuoteError::DeadlineExceeded(_)) => {
                Status::deadline_exceeded(error.to_string())
            }
            PortfolioError::Quote(crate::quotes::QuoteError::Unavailable(_)) => {
                Status::unavailable(error.to_string())
            }
            PortfolioError::Store(source) => {
                tracing::error!(error = %source, "portfolio storage failure");
                Status::internal("storage failure")
            }
        }
    }
}
