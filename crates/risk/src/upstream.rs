//! The services the risk service reads: a portfolio and its positions from the portfolio
//! service, price history from market data in one batched call.
//!
//! Every call goes to the pool of the tier the risk request came in on, acts for the same
//! account, carries the trace context ([`Propagate`]) and passes on the caller's deadline.

use std::collections::HashMap;
use std::time::Duration;

use bourse_proto::market_data::v1::BatchGetRecentBarsRequest;
use bourse_proto::market_data::v1::market_data_service_client::MarketDataServiceClient;
use bourse_proto::market_data::v1::recent_bars_result::Result as BarsOutcome;
use bourse_proto::portfolio::v1::portfolio_service_client::PortfolioServiceClient;
use bourse_proto::portfolio::v1::{GetPortfolioRequest, ListPositionsRequest, Portfolio, Position};
use bourse_proto::time::from_timestamp;
use bourse_runtime::caller::with_account;
use bourse_runtime::grpc_client::{ClientConfig, ClientError, Propagate, outgoing};
use bourse_runtime::tier::Tier;
use bourse_runtime::upstream::{MarketDataPools, PortfolioPools, TierClients};
use chrono::NaiveDateTime;
use futures::future::try_join_all;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use crate::error::RiskError;

type MarketData = MarketDataServiceClient<InterceptedService<Channel, Propagate>>;
type Portfolios = PortfolioServiceClient<InterceptedService<Channel, Propagate>>;

/// Most symbols of one `BatchGetRecentBars` call, and most bars (the contract's limits).
const MAX_SYMBOLS_PER_CALL: usize = 500;
const MAX_BARS_PER_CALL: usize = 200_000;

/// Who a risk request is for; every onward call carries it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: String,
    pub tier: Tier,
    /// What the caller allowed for the whole call, passed on as is.
    pub deadline: Option<Duration>,
}

impl Caller {
    fn request<T>(&self, message: T) -> Result<Request<T>, RiskError> {
        let mut request = outgoing(message, self.tier, self.deadline);
        with_account(&mut request, &self.account)
            .map_err(|status| RiskError::invalid("account", status.message()))?;
        Ok(request)
    }
}

/// Daily closes of one symbol, oldest first.
pub type Closes = Vec<(NaiveDateTime, f64)>;

/// What market data answered for one symbol.
#[derive(Debug, Clone, PartialEq)]
pub enum History {
    Closes(Closes),
    /// The symbol is unknown to market data.
    Unknown,
}

/// The risk service's clients, one per tier pool of each service read. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Upstreams {
    market_data: TierClients<MarketData>,
    portfolio: TierClients<Portfolios>,
}

impl Upstreams {
    /// Builds the clients; no connection is made until the first call. Must run inside a Tokio
    /// runtime.
    ///
    /// # Errors
    /// An empty pool or an endpoint that is not `http://host:port`.
    pub fn new(
        market_data: &MarketDataPools,
        portfolio: &PortfolioPools,
        config: &ClientConfig,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            market_data: market_data.clients(config, |channel| {
                MarketDataServiceClient::with_interceptor(channel, Propagate)
            })?,
            portfolio: portfolio.clients(config, |channel| {
                PortfolioServiceClient::with_interceptor(channel, Propagate)
            })?,
        })
    }

    /// The caller's portfolio `id`; NOT_FOUND when the caller has no such portfolio.
    pub async fn portfolio(&self, caller: &Caller, id: &str) -> Result<Portfolio, RiskError> {
        let request = caller.request(GetPortfolioRequest {
            portfolio_id: id.to_owned(),
        })?;
        self.portfolio
            .get(caller.tier)
            .get_portfolio(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| portfolio_error(id, &status))
    }

    /// The open positions of the caller's portfolio `id`. Read after [`Self::portfolio`], they
    /// are at least as new as the version it returned, so a report cached under that version
    /// never shows older holdings than the version says.
    pub async fn positions(&self, caller: &Caller, id: &str) -> Result<Vec<Position>, RiskError> {
        let request = caller.request(ListPositionsRequest {
            portfolio_id: id.to_owned(),
        })?;
        Ok(self
            .portfolio
            .get(caller.tier)
            .list_positions(request)
            .await
            .map_err(|status| portfolio_error(id, &status))?
            .into_inner()
            .positions)
    }

    /// The newest `count` daily closes (split- and dividend-adjusted) of every symbol: one call,
    /// or a few concurrent ones when the request would exceed the contract's limits.
    pub async fn closes(
        &self,
        caller: &Caller,
        symbols: &[String],
        count: usize,
    ) -> Result<HashMap<String, History>, RiskError> {
        let per_call = (MAX_BARS_PER_CALL / count.max(1)).clamp(1, MAX_SYMBOLS_PER_CALL);
        let calls = symbols.chunks(per_call).map(|chunk| async move {
            let request = caller.request(BatchGetRecentBarsRequest {
                symbols: chunk.to_vec(),
                interval: "1d".to_owned(),
                adjustment: "all".to_owned(),
                count: i32::try_from(count).unwrap_or(i32::MAX),
                end: None,
            })?;
            self.market_data
                .get(caller.tier)
                .batch_get_recent_bars(request)
                .await
                .map(tonic::Response::into_inner)
                .map_err(|status| upstream("market-data", &status))
        });
        let mut found = HashMap::with_capacity(symbols.len());
        for response in try_join_all(calls).await? {
            for result in response.results {
                let history = match result.result {
                    Some(BarsOutcome::Series(series)) => History::Closes(
                        series
                            .bars
                            .iter()
                            .filter_map(|bar| {
                                let ts = from_timestamp(bar.ts.as_ref()?)?.naive_utc();
                                Some((ts, bar.close))
                            })
                            .collect(),
                    ),
                    Some(BarsOutcome::Error(error)) if error.code == "NOT_FOUND" => {
                        History::Unknown
                    }
                    Some(BarsOutcome::Error(error)) => {
                        return Err(RiskError::invalid(
                            "symbol",
                            format!("{}: {}", result.symbol, error.message),
                        ));
                    }
                    None => History::Unknown,
                };
                found.insert(result.symbol, history);
            }
        }
        Ok(found)
    }
}

fn portfolio_error(id: &str, status: &Status) -> RiskError {
    if status.code() == Code::NotFound {
        RiskError::PortfolioNotFound(id.to_owned())
    } else {
        upstream("portfolio", status)
    }
}

fn upstream(service: &'static str, status: &Status) -> RiskError {
    RiskError::Upstream {
        service,
        code: status.code(),
        message: status.message().to_owned(),
    }
}
