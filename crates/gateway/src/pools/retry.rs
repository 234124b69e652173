//! Retries of idempotent calls: what an attempt's outcome allows, and the budget that keeps
//! retries a small fraction of traffic so a failing pool never sees a retry storm.

use std::error::Error;
use std::time::Duration;

use tower::retry::budget::{Budget as _, TpsBudget};

use super::args::PoolArgs;

/// A boxed error, as tonic's transport returns and `Status::from_error` reads.
pub(crate) type BoxError = Box<dyn Error + Send + Sync>;

/// How long a request counts towards the budget.
const BUDGET_WINDOW: Duration = Duration::from_secs(10);

/// The gRPC status code UNAVAILABLE, as sent in a `grpc-status` header.
const UNAVAILABLE: &[u8] = b"14";

/// What one attempt on one replica came to.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// The service answered (any status but a trailers-only UNAVAILABLE).
    Answered(http::Response<tonic::body::Body>),
    /// The service answered UNAVAILABLE before sending anything: safe to send elsewhere.
    Unavailable(http::Response<tonic::body::Body>),
    /// No answer: the connection failed or broke before a response.
    Failed(BoxError),
    /// The channel's own timeout expired: the deadline is spent, retrying cannot help.
    TimedOut(BoxError),
}

impl Attempt {
    /// Classifies what the replica's channel returned.
    pub(crate) fn from_result(
        result: Result<http::Response<tonic::body::Body>, tonic::transport::Error>,
    ) -> Self {
        match result {
            Ok(response) if is_unavailable(&response) => Self::Unavailable(response),
            Ok(response) => Self::Answered(response),
            Err(error) => {
                let error: BoxError = error.into();
                if timed_out(&*error) {
                    Self::TimedOut(error)
                } else {
                    Self::Failed(error)
                }
            }
        }
    }

    /// Whether the replica failed: counts towards its ejection, and allows a retry.
    pub(crate) fn failed(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Failed(_))
    }

    /// The response or error to hand to the client.
    pub(crate) fn into_result(self) -> Result<http::Response<tonic::body::Body>, BoxError> {
        match self {
            Self::Answered(response) | Self::Unavailable(response) => Ok(response),
            Self::Failed(error) => Err(error),
            Self::TimedOut(error) => Err(Box::new(tonic::Status::deadline_exceeded(format!(
                "backend call timed out: {error}"
            )))),
        }
    }
}

/// A trailers-only response whose `grpc-status` is UNAVAILABLE.
fn is_unavailable<B>(response: &http::Response<B>) -> bool {
    response
        .headers()
        .get("grpc-status")
        .is_some_and(|status| status.as_bytes() == UNAVAILABLE)
}

fn timed_out(error: &(dyn Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| (*error).source())
        .any(|error| error.is::<tonic::TimeoutExpired>())
}

/// Retries allowed as a share of recent requests, plus a floor per second.
#[derive(Debug)]
pub struct RetryBudget(TpsBudget);

impl RetryBudget {
    /// The budget configured in `args`.
    pub fn new(args: &PoolArgs) -> Self {
        let percent = args.retry_budget_percent.clamp(0.0, 1000.0) / 100.0;
        let floor = args.retry_min_per_second.min(i32::MAX as u32 - 1);
        Self(TpsBudget::new(BUDGET_WINDOW, floor, percent))
    }

    /// Records a request, which earns a share of a retry.
    pub fn deposit(&self) {
        self.0.deposit();
    }

    /// Takes one retry from the budget; false when it is spent.
    pub fn withdraw(&self) -> bool {
        self.0.withdraw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(percent: f32, min_per_second: u32) -> RetryBudget {
        RetryBudget::new(&PoolArgs {
            retry_budget_percent: percent,
            retry_min_per_second: min_per_second,
            ..PoolArgs::default()
        })
    }

    #[test]
    fn an_empty_budget_allows_no_retry() {
        let budget = budget(0.0, 0);
        for _ in 0..100 {
            budget.deposit();
        }
        assert!(!budget.withdraw());
    }

    #[test]
    fn retries_are_a_share_of_requests() {
        let budget = budget(20.0, 0);
        for _ in 0..10 {
            budget.deposit();
        }
        assert!(budget.withdraw());
        assert!(budget.withdraw());
        assert!(!budget.withdraw(), "20% of 10 requests is 2 retries");
    }

    #[test]
    fn the_floor_allows_retries_without_traffic() {
        let budget = budget(20.0, 1);
        let allowed = (0..100).take_while(|_| budget.withdraw()).count();
        assert_eq!(allowed, 10, "1 per second over the 10 s window");
    }

    #[test]
    fn only_trailers_only_unavailable_counts_as_a_failed_answer() {
        let answer = |status: &'static str| {
            let mut response = http::Response::new(tonic::body::Body::empty());
            response
                .headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static(status));
            Attempt::from_result(Ok(response))
        };
        assert!(answer("14").failed());
        assert!(!answer("5").failed(), "NOT_FOUND is an answer");
        assert!(
            !Attempt::from_result(Ok(http::Response::new(tonic::body::Body::empty()))).failed()
        );
    }
}
