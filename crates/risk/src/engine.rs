//! The analysis pipeline shared by every analyzing RPC: a single analysis is a batch of one.
//!
//! 1. **Resolve** each request concurrently: parse its parameters; for a stored portfolio read
//!    the portfolio (its version keys the cache: a hit is answered at once), then its positions.
//! 2. **Fetch** the history of every distinct symbol of the batch (holdings and benchmarks) in
//!    one batched market-data read, as many closes as the longest lookback needs.
//! 3. **Compute** on the rayon pool, never on the async runtime's threads: requests are grouped
//!    by (confidence, horizon, method, lookback) and the groups, and the requests in each, run
//!    in parallel.
//! 4. **Store** every new report in one insert and cache the portfolio ones under
//!    (account, portfolio, version, parameters): a portfolio's next write changes its version,
//!    so a cached report is never served for holdings it was not computed on.

use std::collections::{BTreeMap, HashMap};

use bourse_cache::{Cache, DataClass};
use bourse_proto::risk::v1::batch_analyze_item::Request as BatchRequest;
use bourse_proto::risk::v1::{AnalyzePortfolioRequest, AnalyzePositionsRequest, RiskReport};
use bourse_proto::time::naive_to_timestamp;
use bourse_store::Db;
use bytes::Bytes;
use chrono::{DurationRound, TimeDelta, Utc};
use futures::future::join_all;
use prost::Message;
use rayon::prelude::*;

use crate::analysis::{Subject, analyze};
use crate::error::RiskError;
use crate::history::{align, closes_to_fetch};
use crate::request::{Holding, HoldingSize, Params, parse_positions, parse_quantity};
use crate::store::{self, ReportRow};
use crate::upstream::{Caller, History, Upstreams};

/// Most requests of one BatchAnalyze call.
pub const MAX_BATCH: usize = 100;

/// The risk service's state, cheap to clone.
#[derive(Debug, Clone)]
pub struct RiskEngine {
    pub(crate) db: Db,
    cache: Cache,
    pub(crate) upstreams: Upstreams,
}

/// An analysis ready to compute.
struct Job {
    params: Params,
    subject: Subject,
    /// The stored portfolio analyzed and the report's cache key; `None` for ad-hoc positions.
    portfolio: Option<(String, String)>,
}

/// Computed reports by request index, with the portfolio and cache key of [`Job::portfolio`].
type Computed = Vec<(
    usize,
    Option<(String, String)>,
    Result<RiskReport, RiskError>,
)>;

enum Resolved {
    Cached(Box<RiskReport>),
    Pending(Job),
}

impl RiskEngine {
    pub fn new(db: Db, cache: Cache, upstreams: Upstreams) -> Self {
        Self {
            db,
            cache,
            upstreams,
        }
    }

    /// Runs `requests` and answers each in order. The call as a whole fails only when the
    /// history cannot be read or the reports cannot be stored.
    pub async fn analyze(
        &self,
        caller: &Caller,
        requests: &[BatchRequest],
    ) -> Result<Vec<Result<RiskReport, RiskError>>, RiskError> {
        let resolved = join_all(requests.iter().map(|r| self.resolve(caller, r))).await;
        let mut answers: Vec<Option<Result<RiskReport, RiskError>>> = Vec::new();
        let mut jobs = Vec::new();
        for (index, outcome) in resolved.into_iter().enumerate() {
            answers.push(match outcome {
                Ok(Resolved::Cached(report)) => Some(Ok(*report)),
                Ok(Resolved::Pending(job)) => {
                    jobs.push((index, job));
                    None
                }
                Err(error) => Some(Err(error)),
            });
        }
        if !jobs.is_empty() {
            let history = self.fetch(caller, &jobs).await?;
            let computed = compute(jobs, history).await?;
            let stored = self.store(caller, computed).await?;
            for (index, outcome) in stored {
                answers[index] = Some(outcome);
            }
        }
        Ok(answers
            .into_iter()
            .map(|answer| answer.unwrap_or(Err(RiskError::Aborted)))
            .collect())
    }

    async fn resolve(
        &self,
        caller: &Caller,
        request: &BatchRequest,
    ) -> Result<Resolved, RiskError> {
        match request {
            BatchRequest::Portfolio(request) => self.resolve_portfolio(caller, request).await,
            BatchRequest::Positions(request) => resolve_positions(request).map(Resolved::Pending),
        }
    }

    async fn resolve_portfolio(
        &self,
        caller: &Caller,
        request: &AnalyzePortfolioRequest,
    ) -> Result<Resolved, RiskError> {
        let params = Params::parse(&request.into())?;
        let id = request.portfolio_id.trim();
        if id.is_empty() {
            return Err(RiskError::invalid("portfolio_id", "required"));
        }
        let portfolio = self.upstreams.portfolio(caller, id).await?;
        let key = format!(
            "{}|{id}|{}|{}",
            caller.account,
            portfolio.version,
            params.key()
        );
        if let Some(bytes) = self
            .cache
            .get(DataClass::RiskReport, caller.tier, &key)
            .await
            && let Ok(report) = RiskReport::decode(bytes)
        {
            return Ok(Resolved::Cached(Box::new(report)));
        }
        let positions = self.upstreams.positions(caller, id).await?;
        let malformed = |field: &str, value: &str| RiskError::Upstream {
            service: "portfolio",
            code: tonic::Code::Internal,
            message: format!("portfolio {id} has a malformed {field} {value:?}"),
        };
        let holdings = positions
            .iter()
            .map(|p| {
                let quantity = parse_quantity("quantity", &p.quantity)
                    .map_err(|_| malformed("quantity", &p.quantity))?;
                Ok(Holding {
                    symbol: p.symbol.clone(),
                    size: HoldingSize::Quantity(quantity),
                })
            })
            .collect::<Result<Vec<_>, RiskError>>()?;
        if holdings.is_empty() {
            return Err(RiskError::Precondition(format!(
                "portfolio {id} holds no positions: there is nothing to analyze"
            )));
        }
        let cash = portfolio
            .cash
            .parse::<f64>()
            .map_err(|_| malformed("cash", &portfolio.cash))?;
        Ok(Resolved::Pending(Job {
            params,
            subject: Subject {
                holdings,
                cash,
                value: None,
                currency: portfolio.base_currency,
            },
            portfolio: Some((id.to_owned(), key)),
        }))
    }

    /// Every symbol's closes, in one batched read for all the jobs.
    async fn fetch(
        &self,
        caller: &Caller,
        jobs: &[(usize, Job)],
    ) -> Result<HashMap<String, History>, RiskError> {
        let mut symbols: Vec<String> = jobs
            .iter()
            .flat_map(|(_, job)| {
                job.subject
                    .symbols()
                    .into_iter()
                    .chain([job.params.benchmark.clone()])
            })
            .collect();
        symbols.sort_unstable();
        symbols.dedup();
        let count = jobs
            .iter()
            .map(|(_, job)| closes_to_fetch(job.params.lookback))
            .max()
            .unwrap_or(0);
        self.upstreams.closes(caller, &symbols, count).await
    }

    /// Gives each computed report its identity, stores them all in one insert and caches the
    /// portfolio ones.
    async fn store(
        &self,
        caller: &Caller,
        computed: Computed,
    ) -> Result<Vec<(usize, Result<RiskReport, RiskError>)>, RiskError> {
        // Stored timestamps keep microseconds: truncate so the served report equals the stored.
        let now = Utc::now().naive_utc();
        let computed_at = now
            .duration_trunc(TimeDelta::microseconds(1))
            .unwrap_or(now);
        let mut rows = Vec::new();
        let mut to_cache = Vec::new();
        let mut answers = Vec::with_capacity(computed.len());
        for (index, portfolio, outcome) in computed {
            let outcome = outcome.and_then(|mut report| {
                report.id = uuid::Uuid::now_v7().to_string();
                report.computed_at = Some(naive_to_timestamp(computed_at));
                report.portfolio_id = portfolio
                    .as_ref()
                    .map(|(id, _)| id.clone())
                    .unwrap_or_default();
                rows.push(ReportRow::new(&report, &caller.account, computed_at)?);
                if let Some((_, key)) = portfolio {
                    to_cache.push((key, Bytes::from(report.encode_to_vec())));
                }
                Ok(report)
            });
            answers.push((index, outcome));
        }
        store::insert_reports(&self.db, &rows).await?;
        for (key, bytes) in to_cache {
            self.cache.set(DataClass::RiskReport, &key, bytes).await;
        }
        Ok(answers)
    }
}

fn resolve_positions(request: &AnalyzePositionsRequest) -> Result<Job, RiskError> {
    let params = Params::parse(&request.into())?;
    let (holdings, value) = parse_positions(&request.positions, request.portfolio_value)?;
    let currency = match request.currency.trim() {
        "" => "USD".to_owned(),
        code if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) => {
            code.to_ascii_uppercase()
        }
        code => {
            return Err(RiskError::invalid(
                "currency",
                format!("{code:?} is not an ISO 4217 code"),
            ));
        }
    };
    Ok(Job {
        params,
        subject: Subject {
            holdings,
            cash: 0.0,
            value,
            currency,
        },
        portfolio: None,
    })
}

/// Computes the jobs on the rayon pool, grouped by (confidence, horizon, method, lookback).
async fn compute(
    jobs: Vec<(usize, Job)>,
    history: HashMap<String, History>,
) -> Result<Computed, RiskError> {
    let mut groups: BTreeMap<_, Vec<(usize, Job)>> = BTreeMap::new();
    for (index, job) in jobs {
        groups
            .entry(job.params.group())
            .or_default()
            .push((index, job));
    }
    let (done, answer) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        let computed: Computed = groups
            .into_par_iter()
            .flat_map(|(_, group)| {
                group.into_par_iter().map(|(index, job)| {
                    let symbols = job.subject.symbols();
                    let report = align(
                        &history,
                        &symbols,
                        &job.params.benchmark,
                        job.params.lookback,
                    )
                    .and_then(|window| analyze(&job.params, &job.subject, &window));
                    (index, job.portfolio, report)
                })
            })
            .collect();
        // The receiver is gone only when the call was cancelled.
        let _ = done.send(computed);
    });
    answer.await.map_err(|_| RiskError::Aborted)
}
