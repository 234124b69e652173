//! The `RiskService` gRPC implementation: requests in, [`RiskEngine`] calls, statuses out.

use bourse_proto::common::v1::ItemError;
use bourse_proto::risk::v1::batch_analyze_item::Request as BatchRequest;
use bourse_proto::risk::v1::batch_analyze_result::Result as BatchResult;
use bourse_proto::risk::v1::risk_service_server::RiskService;
use bourse_proto::risk::v1::{
    AnalyzePortfolioRequest, AnalyzePositionsRequest, BatchAnalyzeRequest, BatchAnalyzeResponse,
    BatchAnalyzeResult, ListRiskReportsRequest, ListRiskReportsResponse, RiskReport,
};
use bourse_runtime::caller::account_of;
use bourse_runtime::grpc_client::{remaining_deadline, tier_of};
use bourse_runtime::grpc_metrics::code_label;
use bourse_store::page::PageRequest;
use tonic::{Request, Response, Status};

use crate::engine::{MAX_BATCH, RiskEngine};
use crate::error::RiskError;
use crate::store;
use crate::upstream::Caller;

/// Default and largest page of `ListRiskReports`.
const REPORT_PAGE: (i64, i64) = (20, 100);

fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    Ok(Caller {
        account: account_of(request)?,
        tier: tier_of(request),
        deadline: remaining_deadline(request),
    })
}

impl RiskEngine {
    /// One analysis: a batch of one whose error is the call's.
    async fn analyze_one(
        &self,
        caller: &Caller,
        request: BatchRequest,
    ) -> Result<RiskReport, Status> {
        let mut answers = self.analyze(caller, &[request]).await?;
        Ok(answers.pop().unwrap_or(Err(RiskError::Aborted))?)
    }
}

#[tonic::async_trait]
impl RiskService for RiskEngine {
    async fn analyze_portfolio(
        &self,
        request: Request<AnalyzePortfolioRequest>,
    ) -> Result<Response<RiskReport>, Status> {
        let caller = caller(&request)?;
        let request = BatchRequest::Portfolio(request.into_inner());
        Ok(Response::new(self.analyze_one(&caller, request).await?))
    }

    async fn analyze_positions(
        &self,
        request: Request<AnalyzePositionsRequest>,
    ) -> Result<Response<RiskReport>, Status> {
        let caller = caller(&request)?;
        let request = BatchRequest::Positions(request.into_inner());
        Ok(Response::new(self.analyze_one(&caller, request).await?))
    }

    async fn batch_analyze(
        &self,
        request: Request<BatchAnalyzeRequest>,
    ) -> Result<Response<BatchAnalyzeResponse>, Status> {
        let caller = caller(&request)?;
        let items = request.into_inner().requests;
        if items.len() > MAX_BATCH {
            return Err(RiskError::invalid(
                "requests",
                format!(
                    "at most {MAX_BATCH} requests per batch, got {}",
                    items.len()
                ),
            )
            .into());
        }
        let mut requests = Vec::with_capacity(items.len());
        let mut missing = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item.request {
                Some(request) => requests.push(request),
                None => missing.push(i),
            }
        }
        if let Some(i) = missing.first() {
            return Err(RiskError::invalid(
                format!("requests[{i}]"),
                "give a portfolio or a positions request",
            )
            .into());
        }
        let results = self
            .analyze(&caller, &requests)
            .await?
            .into_iter()
            .map(|outcome| BatchAnalyzeResult {
                result: Some(match outcome {
                    Ok(report) => BatchResult::Report(report),
                    Err(error) => {
                        let status = Status::from(error);
                        BatchResult::Error(ItemError {
                            code: code_label(status.code()).to_owned(),
                            message: status.message().to_owned(),
                        })
                    }
                }),
            })
            .collect();
        Ok(Response::new(BatchAnalyzeResponse { results }))
    }

    async fn list_risk_reports(
        &self,
        request: Request<ListRiskReportsRequest>,
    ) -> Result<Response<ListRiskReportsResponse>, Status> {
        let caller = caller(&request)?;
        let message = request.get_ref();
        let page = PageRequest::parse(
            message.page_size,
            &message.page_token,
            REPORT_PAGE.0,
            REPORT_PAGE.1,
        )
        .map_err(RiskError::from)?;
        // An unknown portfolio is NOT_FOUND, not an empty list.
        self.upstreams
            .portfolio(&caller, &message.portfolio_id)
            .await?;
        let (rows, next_page_token) =
            store::list_reports(&self.db, &caller.account, &message.portfolio_id, &page).await?;
        let reports = rows
            .iter()
            .map(store::ReportRow::report)
            .collect::<Result<_, _>>()?;
        Ok(Response::new(ListRiskReportsResponse {
            reports,
            next_page_token,
        }))
    }
}
