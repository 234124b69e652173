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
use bourse_runtime::grpc_client::{ClientConfig, ClientError, Propagate, channel, with_tier};
use bourse_runtime::tier::Tier;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use crate::limit::{QuoteFeed, QuoteUpdates};
use crate::quotes::{QuoteError, QuoteSource};

/// Most symbols one `BatchGetQuotes` call may ask for (the contract's limit).
pub const MAX_BATCH: usize = 1_000;

/// Where the portfolio service finds market data: one pool of endpoints per tier. The same
/// environment variables as the gateway's, so one environment configures both.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct MarketDataPools {
    /// Endpoints of the market-data shared pool, asked for shared-tier requests
    /// (comma-separated http://host:port).
    #[arg(
        long,
        env = "BOURSE_MARKET_DATA_SHARED",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50051"
    )]
    pub market_data_shared: Vec<String>,
    /// Endpoints of the market-data premium pool, asked for premium-tier requests.
    #[arg(
        long,
        env = "BOURSE_MARKET_DATA_PREMIUM",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:50052"
    )]
    pub market_data_premium: Vec<String>,
}

impl Default for MarketDataPools {
    /// The clap defaults: the loopback ports of `bourse up`'s market-data instances.
    fn default() -> Self {
        Self {
            market_data_shared: vec!["http://127.0.0.1:50051".to_owned()],
            market_data_premium: vec!["http://127.0.0.1:50052".to_owned()],
        }
    }
}

type Client = MarketDataServiceClient<InterceptedService<Channel, Propagate>>;

/// Quotes from the market-data service, per tier pool. Cheap to clone (channels are shared).
#[derive(Debug, Clone)]
pub struct MarketDataClient {
    shared: Client,
    premium: Client,
}

impl MarketDataClient {
    /// Builds one channel per pool; no connection is made until the first call. Must run inside
    /// a Tokio runtime.
    ///
    /// # Errors
    /// An empty pool or an endpoint that is not `http://host:port`.
    pub fn new(pools: &MarketDataPools, config: &ClientConfig) -> Result<Self, ClientError> {
        let client = |endpoints: &[String]| -> Result<Client, ClientError> {
            Ok(MarketDataServiceClient::with_interceptor(
                channel(endpoints, config)?,
                Propagate,
            ))
        };
        Ok(Self {
            shared: client(&pools.market_data_shared)?,
            premium: client(&pools.market_data_premium)?,
        })
    }

    /// The client of `tier`'s pool (clones share the channel).
    fn pool(&self, tier: Tier) -> Client {
        match tier {
            Tier::Shared => self.shared.clone(),
            Tier::Premium => self.premium.clone(),
        }
    }
}

/// A market-data request for `tier`, carrying what is left of the caller's deadline.
fn outgoing<T>(message: T, tier: Tier, deadline: Option<Duration>) -> Request<T> {
    let mut request = Request::new(message);
    with_tier(&mut request, tier);
    if let Some(deadline) = deadline {
        request.set_timeout(deadline);
    }
    request
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
