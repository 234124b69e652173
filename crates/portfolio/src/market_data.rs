//! The gRPC [`QuoteSource`]: quotes from the market-data service, asked in the pool of the
//! tier the portfolio request arrived on.
//!
//! One lazily connecting channel per tier pool is built at start-up ([`MarketDataClient::new`]);
//! every call carries the tier (`with_tier`), the trace context ([`Propagate`]) and, when the
//! caller gave one, what is left of the caller's deadline.

use std::collections::HashMap;
use std::time::Duration;

use bourse_proto::market_data::v1::market_data_service_client::MarketDataServiceClient;
use bourse_proto::market_data::v1::quote_result::Result as QuoteOutcome;
use bourse_proto::market_data::v1::{
    BatchGetQuotesRequest, GetQuoteRequest, Quote, StreamQuotesRequest,
};
use bourse_runtime::grpc_client::{ClientConfig, ClientError, Propagate, outgoing};
use bourse_runtime::tier::Tier;
use bourse_runtime::upstream::{MarketDataPools, TierClients};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::limit::{QuoteFeed, QuoteUpdates};
use crate::quotes::{QuoteError, QuoteSource};

/// Most symbols one `BatchGetQuotes` call may ask for (the contract's limit).
pub const MAX_BATCH: usize = 1_000;

type Client = MarketDataServiceClient<InterceptedService<Channel, Propagate>>;

/// Quotes from the market-data service, per tier pool. Cheap to clone (channels are shared).
#[derive(Debug, Clone)]
pub struct MarketDataClient {
    pools: TierClients<Client>,
}

impl MarketDataClient {
    /// Builds one channel per pool; no connection is made until the first call. Must run inside
    /// a Tokio runtime.
    ///
    /// # Errors
    /// An empty pool or an endpoint that is not `http://host:port`.
    pub fn new(pools: &MarketDataPools, config: &ClientConfig) -> Result<Self, ClientError> {
        let pools = pools.clients(config, |channel| {
            MarketDataServiceClient::with_interceptor(channel, Propagate)
        })?;
        Ok(Self { pools })
    }

    /// The client of `tier`'s pool (clones share the channel).
    fn pool(&self, tier: Tier) -> Client {
        self.pools.get(tier)
    }
}

fn quote_error(status: &Status) -> QuoteError {
    let message = format!("{}: {}", status.code(), status.message());
    match status.code() {
        Code::DeadlineExceeded | Code::Cancelled => QuoteError::DeadlineExceeded(message),
        _ => QuoteError::Unavailable(message),
    }
}

#[tonic::async_trait]
impl QuoteSource for MarketDataClient {
    async fn quote(&self, tier: Tier, symbol: &str) -> Result<Option<Quote>, QuoteError> {
        let request = outgoing(
            GetQuoteRequest {
                symbol: symbol.to_owned(),
            },
            tier,
            None,
        );
        match self.pool(tier).get_quote(request).await {
            Ok(response) => Ok(Some(response.into_inner())),
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(quote_error(&status)),
        }
    }

    async fn quotes(
        &self,
        tier: Tier,
        deadline: Option<Duration>,
        symbols: &[String],
    ) -> Result<HashMap<String, Quote>, QuoteError> {
        let mut found = HashMap::with_capacity(symbols.len());
        // One call unless a portfolio holds more symbols than the contract allows per call.
        for chunk in symbols.chunks(MAX_BATCH) {
            let request = outgoing(
                BatchGetQuotesRequest {
                    symbols: chunk.to_vec(),
                },
                tier,
                deadline,
            );
            let response = self
                .pool(tier)
                .batch_get_quotes(request)
                .await
                .map_err(|status| quote_error(&status))?;
            for result in response.into_inner().results {
                // A per-symbol error (unknown symbol, no quote yet) leaves the symbol out.
                if let Some(QuoteOutcome::Quote(quote)) = result.result {
                    found.insert(result.symbol, quote);
                }
            }
        }
        Ok(found)
    }
}

#[tonic::async_trait]
impl QuoteFeed for MarketDataClient {
    /// Follows `symbols` in the shared pool: the watcher is the service's own work, not a
    /// customer request.
    async fn follow(&self, symbols: Vec<String>) -> Result<QuoteUpdates, QuoteError> {
        let request = outgoing(StreamQuotesRequest { symbols }, Tier::Shared, None);
        let stream = self
            .pool(Tier::Shared)
            .stream_quotes(request)
            .await
            .map_err(|status| quote_error(&status))?
            .into_inner();
        Ok(Box::pin(stream))
    }
}
