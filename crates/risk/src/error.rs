//! The risk service's errors and their one mapping to gRPC statuses.

use bourse_store::StoreError;
use bourse_store::page::PageError;
use tonic::{Code, Status};

use crate::params::CalcError;

/// Everything a risk call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// A request field that cannot be used; the message names the field.
    #[error("{field}: {reason}")]
    InvalidArgument { field: String, reason: String },
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("portfolio {0} not found")]
    PortfolioNotFound(String),
    /// The data cannot support the analysis: too little history, no positions, a statistic
    /// undefined for the data. Never answered with a number.
    #[error("{0}")]
    Precondition(String),
    /// A calculation refused its inputs, with the context it ran in (e.g. which holding).
    #[error("{context}: {source}")]
    Calc {
        context: String,
        #[source]
        source: CalcError,
    },
    /// A service the risk service reads from answered with an error.
    #[error("{service} service: {message}")]
    Upstream {
        service: &'static str,
        code: Code,
        message: String,
    },
    #[error("storage failed")]
    Store(#[from] StoreError),
    #[error("stored report {id} is unreadable")]
    CorruptReport {
        id: String,
        #[source]
        source: serde_json::Error,
    },
    /// The calculation pool dropped a job (it panicked).
    #[error("the calculation did not complete")]
    Aborted,
}

impl RiskError {
    /// A field error.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        RiskError::InvalidArgument {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A calculation error in `context` (what was being computed, for whom).
    pub fn calc(context: impl Into<String>) -> impl FnOnce(CalcError) -> Self {
        let context = context.into();
        move |source| RiskError::Calc { context, source }
    }

    /// The status code this error is answered with.
    pub fn code(&self) -> Code {
        match self {
            RiskError::InvalidArgument { .. } | RiskError::Page(_) => Code::InvalidArgument,
            RiskError::PortfolioNotFound(_) => Code::NotFound,
            RiskError::Precondition(_) => Code::FailedPrecondition,
            RiskError::Calc { source, .. } => match source {
                CalcError::InvalidConfidence(_) | CalcError::InvalidHorizon(_) => {
                    Code::InvalidArgument
                }
                CalcError::InsufficientHistory { .. }
                | CalcError::InvalidValue(_)
                | CalcError::Undefined(_) => Code::FailedPrecondition,
                CalcError::Mismatch(_) => Code::Internal,
            },
            RiskError::Upstream { code, .. } => *code,
            RiskError::Store(_) | RiskError::CorruptReport { .. } | RiskError::Aborted => {
                Code::Internal
            }
        }
    }
}

impl From<diesel::result::Error> for RiskError {
    fn from(error: diesel::result::Error) -> Self {
        RiskError::Store(error.into())
    }
}

impl From<RiskError> for Status {
    fn from(error: RiskError) -> Status {
        let code = error.code();
        if code == Code::Internal {
            tracing::error!(error = ?error, "risk service failure");
            return Status::internal("internal error");
        }
        Status::new(code, error.to_string())
    }
}
