//! Single quote requests batched into `BatchGetQuotes` on one tier's market-data pool.

use std::time::Duration;

use bourse_proto::market_data::v1::market_data_service_client::MarketDataServiceClient;
use bourse_proto::market_data::v1::{BatchGetQuotesRequest, Quote, QuoteResult, quote_result};
use bourse_runtime::grpc_client::{Propagate, outgoing};
use bourse_runtime::tier::Tier;
use tonic::Status;

use crate::batch::item_status;
use crate::batch::queue::{BatchCall, BatchFuture};
use crate::pools::PoolChannel;
use crate::routes::market_data::MarketDataClient;

/// The most symbols the service answers in one `BatchGetQuotes` call.
pub const MAX_SYMBOLS: usize = 1_000;

/// `BatchGetQuotes` on one tier's pool: symbols in, one quote (or the single call's error) out.
#[derive(Debug, Clone)]
pub struct QuoteBatch {
    client: MarketDataClient,
    tier: Tier,
    deadline: Duration,
}

impl QuoteBatch {
    /// Calls through `pool` on behalf of `tier` callers, each call bounded by `deadline`.
    pub fn new(pool: PoolChannel, tier: Tier, deadline: Duration) -> Self {
        Self {
            client: MarketDataServiceClient::with_interceptor(pool, Propagate),
            tier,
            deadline,
        }
    }
}

impl BatchCall for QuoteBatch {
    type Item = String;
    type Output = Quote;

    fn call(&self, symbols: Vec<String>) -> BatchFuture<Quote> {
        let mut client = self.client.clone();
        // Quotes do not depend on the account: only the tier travels with the call.
        let request = outgoing(
            BatchGetQuotesRequest { symbols },
            self.tier,
            Some(self.deadline),
        );
        Box::pin(async move {
            let response = client.batch_get_quotes(request).await?.into_inner();
            Ok(response.results.into_iter().map(quote_of).collect())
        })
    }
}

/// One symbol's answer as `GetQuote` would give it.
fn quote_of(result: QuoteResult) -> Result<Quote, Status> {
    match result.result {
        Some(quote_result::Result::Quote(quote)) => Ok(quote),
        Some(quote_result::Result::Error(error)) => Err(item_status(
            &error.code,
            &error.message,
            "symbols",
            "symbol",
        )),
        None => Err(Status::internal(
            "a batch result without a quote or an error",
        )),
    }
}

#[cfg(test)]
mod tests {
    use bourse_proto::common::v1::ItemError;
    use tonic::Code;

    use super::*;

    #[test]
    fn an_invalid_symbol_names_the_single_field() {
        let result = QuoteResult {
            symbol: "a b".to_owned(),
            result: Some(quote_result::Result::Error(ItemError {
                code: "INVALID_ARGUMENT".to_owned(),
                message: "symbols: contains a space".to_owned(),
            })),
        };
        let status = quote_of(result).expect_err("invalid");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "symbol: contains a space");
    }
}
