//! The risk service's errors and their one mapping to gRPC statuses.

use bourse_store::StoreError;
use bourse_store::page::PageError;
use tonic::Status;

/// Everything a risk call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("stored report {id} is unreadable")]
    CorruptReport {
        id: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("not implemented yet: {0}")]
    NotImplemented(&'static str),
}

impl From<diesel::result::Error> for RiskError {
    fn from(error: diesel::result::Error) -> Self {
        RiskError::Store(error.into())
    }
}

impl From<RiskError> for Status {
    fn from(error: RiskError) -> Status {
        match &error {
            RiskError::Page(_) => Status::invalid_argument(error.to_string()),
            RiskError::NotImplemented(_) => Status::unimplemented(error.to_string()),
            RiskError::Store(_) | RiskError::CorruptReport { .. } => {
                tracing::error!(error = ?error, "risk storage failure");
                Status::internal("storage failure")
            }
        }
    }
}
