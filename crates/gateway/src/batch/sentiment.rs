//! Single sentiment scoring requests batched into `BatchScoreText` on one tier's sentiment pool.

use std::time::Duration;

use bourse_proto::sentiment::v1::batch_score_result::Result as ScoreResult;
use bourse_proto::sentiment::v1::sentiment_service_client::SentimentServiceClient;
use bourse_proto::sentiment::v1::{BatchScoreResult, BatchScoreTextRequest, SentimentScore};
use bourse_runtime::grpc_client::{Propagate, outgoing};
use bourse_runtime::tier::Tier;
use tonic::Status;
use tonic::service::interceptor::InterceptedService;

use crate::batch::item_status;
use crate::batch::queue::{BatchCall, BatchFuture};
use crate::pools::PoolChannel;

/// The most texts the service scores in one `BatchScoreText` call.
pub const MAX_TEXTS: usize = 256;

/// `BatchScoreText` on one tier's pool: texts in, one score (or the single call's error) out.
#[derive(Debug, Clone)]
pub struct ScoreBatch {
    client: SentimentServiceClient<InterceptedService<PoolChannel, Propagate>>,
    tier: Tier,
    deadline: Duration,
}

impl ScoreBatch {
    /// Calls through `pool` on behalf of `tier` callers, each call bounded by `deadline`.
    pub fn new(pool: PoolChannel, tier: Tier, deadline: Duration) -> Self {
        Self {
            client: SentimentServiceClient::with_interceptor(pool, Propagate),
            tier,
            deadline,
        }
    }
}

impl BatchCall for ScoreBatch {
    type Item = String;
    type Output = SentimentScore;

    fn call(&self, texts: Vec<String>) -> BatchFuture<SentimentScore> {
        let mut client = self.client.clone();
        // Scores do not depend on the account: only the tier travels with the call.
        let request = outgoing(
            BatchScoreTextRequest { texts },
            self.tier,
            Some(self.deadline),
        );
        Box::pin(async move {
            let response = client.batch_score_text(request).await?.into_inner();
            Ok(response.results.into_iter().map(score_of).collect())
        })
    }
}

/// One text's answer as `ScoreText` would give it: the batch names the field `texts`, the single
/// call `text` (e.g. `text: must not be empty`).
fn score_of(result: BatchScoreResult) -> Result<SentimentScore, Status> {
    match result.result {
        Some(ScoreResult::Score(score)) => Ok(score),
        Some(ScoreResult::Error(error)) => {
            Err(item_status(&error.code, &error.message, "texts", "text"))
        }
        None => Err(Status::internal(
            "a batch result without a score or an error",
        )),
    }
}
