//! The market-data service's errors and their one mapping to gRPC statuses.

use bourse_store::StoreError;
use tonic::Status;

use crate::import::ImportError;
use crate::symbol::InvalidSymbol;

/// Everything a market-data call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum MarketDataError {
    #[error("{field}: {source}")]
    InvalidSymbol {
        field: &'static str,
        #[source]
        source: InvalidSymbol,
    },
    #[error("{field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("unknown symbol {0}")]
    UnknownSymbol(String),
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// A request larger than the service will hold, e.g. an all-or-nothing import past its bound.
    #[error("{0}")]
    ResourceExhausted(String),
}

impl From<MarketDataError> for Status {
    fn from(error: MarketDataError) -> Status {
        match &error {
            MarketDataError::InvalidSymbol { .. } | MarketDataError::InvalidArgument { .. } => {
                Status::invalid_argument(error.to_string())
            }
            MarketDataError::UnknownSymbol(_) => Status::not_found(error.to_string()),
            MarketDataError::ResourceExhausted(_) => Status::resource_exhausted(error.to_string()),
            MarketDataError::Store(source) => {
                tracing::error!(error = %source, "market-data storage failure");
                Status::internal("storage failure")
            }
        }
    }
}

impl From<ImportError> for MarketDataError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Store(source) => Self::Store(source),
            ImportError::TooManyRows { .. } => Self::ResourceExhausted(error.to_string()),
            ImportError::Header(reason) | ImportError::Read(reason) => Self::InvalidArgument {
                field: "bars",
                reason,
            },
        }
    }
}
