//! The `RiskService` gRPC implementation.

use bourse_proto::risk::v1::risk_service_server::RiskService;
use bourse_proto::risk::v1::{
    AnalyzePortfolioRequest, AnalyzePositionsRequest, BatchAnalyzeRequest, BatchAnalyzeResponse,
    ListRiskReportsRequest, ListRiskReportsResponse, RiskReport,
};
use bourse_runtime::caller::account_of;
use bourse_store::Db;
use bourse_store::page::PageRequest;
use tonic::{Request, Response, Status};

use crate::error::RiskError;
use crate::store;

/// Default and largest page of `ListRiskReports`.
const REPORT_PAGE: (i64, i64) = (20, 100);

/// The risk service, cheap to clone.
#[derive(Debug, Clone)]
pub struct RiskEngine {
    db: Db,
}

impl RiskEngine {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

#[tonic::async_trait]
impl RiskService for RiskEngine {
    async fn list_risk_reports(
        &self,
        request: Request<ListRiskReportsRequest>,
    ) -> Result<Response<ListRiskReportsResponse>, Status> {
        let account = account_of(&request)?;
        let message = request.get_ref();
        let page = PageRequest::parse(
            message.page_size,
            &message.page_token,
            REPORT_PAGE.0,
            REPORT_PAGE.1,
        )
        .map_err(RiskError::from)?;
        let (rows, next_page_token) =
            store::list_reports(&self.db, &account, &message.portfolio_id, &page).await?;
        let reports = rows
            .iter()
            .map(store::ReportRow::report)
            .collect::<Result<_, _>>()?;
        Ok(Response::new(ListRiskReportsResponse {
            reports,
            next_page_token,
        }))
    }

    async fn analyze_portfolio(
        &self,
        _: Request<AnalyzePortfolioRequest>,
    ) -> Result<Response<RiskReport>, Status> {
        Err(RiskError::NotImplemented("AnalyzePortfolio lands with the risk issue (#5)").into())
    }

    async fn analyze_positions(
        &self,
        _: Request<AnalyzePositionsRequest>,
    ) -> Result<Response<RiskReport>, Status> {
        Err(RiskError::NotImplemented("AnalyzePositions lands with the risk issue (#5)").into())
    }

    async fn batch_analyze(
        &self,
        _: Request<BatchAnalyzeRequest>,
    ) -> Result<Response<BatchAnalyzeResponse>, Status> {
        Err(RiskError::NotImplemented("BatchAnalyze lands with the risk issue (#5)").into())
    }
}
