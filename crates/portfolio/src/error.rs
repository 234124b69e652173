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
    #[error("not implemented yet: {0}")]
    NotImplemented(&'static str),
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
            PortfolioError::NotImplemented(_) => Status::unimplemented(error.to_string()),
            PortfolioError::Store(source) => {
                tracing::error!(error = %source, "portfolio storage failure");
                Status::internal("storage failure")
            }
        }
    }
}
