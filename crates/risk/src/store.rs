//! Risk-report storage. A report is stored as its canonical JSON, the exact message served, with
//! the columns it is listed by beside it.

use bourse_proto::risk::v1::RiskReport;
use bourse_store::page::{Cursor, PageRequest};
use bourse_store::schema::risk_reports;
use bourse_store::{Db, with_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::error::RiskError;

/// A row of `risk_reports`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = risk_reports)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ReportRow {
    pub id: String,
    pub portfolio_id: Option<String>,
    pub account: String,
    pub method: String,
    pub params: String,
    pub result: String,
    pub computed_at: NaiveDateTime,
}

impl ReportRow {
    /// The row of a computed `report` of `account`.
    pub fn new(
        report: &RiskReport,
        account: &str,
        computed_at: NaiveDateTime,
    ) -> Result<Self, RiskError> {
        let corrupt = |source| RiskError::CorruptReport {
            id: report.id.clone(),
            source,
        };
        let parameters = report.parameters.clone().unwrap_or_default();
        Ok(Self {
            id: report.id.clone(),
            portfolio_id: (!report.portfolio_id.is_empty()).then(|| report.portfolio_id.clone()),
            account: account.to_owned(),
            method: parameters.method.clone(),
            params: serde_json::to_string(&parameters).map_err(corrupt)?,
            result: serde_json::to_string(report).map_err(corrupt)?,
            computed_at,
        })
    }

    /// The report as served.
    pub fn report(&self) -> Result<RiskReport, RiskError> {
        serde_json::from_str(&self.result).map_err(|source| RiskError::CorruptReport {
            id: self.id.clone(),
            source,
        })
    }
}

/// One page of the reports of `account`'s portfolio `portfolio_id`, newest first.
pub async fn list_reports(
    db: &Db,
    account: &str,
    portfolio_id: &str,
    page: &PageRequest,
) -> Result<(Vec<ReportRow>, String), RiskError> {
    let rows: Vec<ReportRow> = with_conn!(db, |conn| {
        let mut query = risk_reports::table
            .filter(risk_reports::account.eq(account))
            .filter(risk_reports::portfolio_id.eq(portfolio_id))
            .order((risk_reports::computed_at.desc(), risk_reports::id.desc()))
            .limit(page.limit())
            .select(ReportRow::as_select())
            .into_boxed();
        if let Some(after) = &page.after {
            query = query.filter(
                risk_reports::computed_at
                    .lt(after.time)
                    .or(risk_reports::computed_at
                        .eq(after.time)
                        .and(risk_reports::id.lt(&after.id))),
            );
        }
        query.load(conn).await?
    });
    Ok(page.finish(rows, |row| Cursor {
        time: row.computed_at,
        id: row.id.clone(),
    }))
}

/// Stores a report row.
pub async fn insert_report(db: &Db, row: &ReportRow) -> Result<(), RiskError> {
    insert_reports(db, std::slice::from_ref(row)).await
}

/// Stores report rows, all of them or none: one statement on PostgreSQL, one transaction of
/// single-row inserts on SQLite (diesel cannot batch inserts of nullable columns there).
pub async fn insert_reports(db: &Db, rows: &[ReportRow]) -> Result<(), RiskError> {
    if rows.is_empty() {
        return Ok(());
    }
    with_conn!(
        db,
        postgres | conn | {
            diesel::insert_into(risk_reports::table)
                .values(rows)
                .execute(conn)
                .await?;
        },
        sqlite | conn | {
            diesel_async::AsyncConnection::transaction::<_, diesel::result::Error, _>(
                conn,
                async |conn| {
                    for row in rows {
                        diesel::insert_into(risk_reports::table)
                            .values(row)
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                },
            )
            .await?;
        }
    );
    Ok(())
}
