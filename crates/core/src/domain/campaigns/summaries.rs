//! District summary reports (总结报告) of a campaign: built from the data — coverage, inspections,
//! findings by code and category, cases, fines, rectification, feedback — and frozen when the
//! district submits them (late after the summary deadline).

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Set, StatementBuilder,
};
use serde::Serialize;

use super::{coverage, require};
use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::error::{AppError, AppResult};
use entity::enums::FindingStatus;
use entity::{
    campaigns, districts, enforcement_actions, finding_transitions, findings, inspections,
    summary_reports,
};

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CodeCount {
    pub code: String,
    pub findings: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CategoryCount {
    pub category: String,
    pub findings: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Summary {
    pub campaign_id: i64,
    pub district_code: String,
    pub in_scope: i64,
    pub inspected: i64,
    pub inspections: i64,
    pub findings: i64,
    pub by_category: Vec<CategoryCount>,
    pub by_code: Vec<CodeCount>,
    /// Findings that reached CASE_FILED.
    pub cases: i64,
    /// Fines and daily penalties decided, in yuan.
    pub fines_yuan: i64,
    /// Findings ordered to rectify, and of those, rectified.
    pub rectification_ordered: i64,
    pub rectified: i64,
    pub rectification_rate: f64,
    /// Feedback the district's enforcement sent to permit offices during the campaign.
    #[serde(default)]
    pub feedback_sent: i64,
    pub computed_on: NaiveDate,
}

async fn scalar(
    db: &impl ConnectionTrait,
    query: &sea_orm::sea_query::SelectStatement,
) -> AppResult<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(StatementBuilder::build(query, &backend))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
        None => 0,
    })
}

/// The findings of the district in the campaign period (by date found) that the reader may
/// read: every count and sum of a summary is over these.
fn campaign_findings(
    who: &Principal,
    campaign: &campaigns::Model,
    district: &str,
) -> Select<findings::Entity> {
    findings::Entity::find()
        .filter(access::finding_filter(
            who,
            findings::Column::DistrictCode,
            findings::Column::Status,
        ))
        .filter(findings::Column::DistrictCode.eq(district))
        .filter(findings::Column::FoundOn.gte(campaign.starts_on))
        .filter(findings::Column::FoundOn.lte(campaign.ends_on))
}

fn findings_reaching(
    who: &Principal,
    campaign: &campaigns::Model,
    district: &str,
    status: FindingStatus,
) -> sea_orm::sea_query::SelectStatement {
    let ids = campaign_findings(who, campaign, district)
        .select_only()
        .column(findings::Column::Id)
        .into_query();
    Query::select()
        .expr(Expr::cust("COUNT(DISTINCT \"finding_id\")"))
        .from(finding_transitions::Entity)
        .and_where(finding_transitions::Column::ToStatus.eq(status))
        .and_where(Expr::col(finding_transitions::Column::FindingId).in_subquery(ids))
        .to_owned()
}

pub async fn summary(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    campaign: &campaigns::Model,
    district: &str,
) -> AppResult<Summary> {
    let who = access::authorize(principal, Operation::ReadEnforcement)?;
    access::check_district(who, district)?;
    let (per_district, _) = coverage(db, principal, campaign, Some(district)).await?;
    let cov = per_district.into_iter().next();
    let inspections_count = scalar(db, &inspections_counted(campaign, district)).await?;
    let rows = campaign_findings(who, campaign, district).all(db).await?;
    let (by_code, by_category) = tally(&rows);
    let fines = scalar(db, &fines_decided(who, campaign, district)).await?;
    let cases = scalar(
        db,
        &findings_reaching(who, campaign, district, FindingStatus::CaseFiled),
    )
    .await?;
    let ordered = scalar(
        db,
        &findings_reaching(who, campaign, district, FindingStatus::RectificationOrdered),
    )
    .await?;
    let rectified = scalar(
        db,
        &findings_reaching(who, campaign, district, FindingStatus::Rectified),
    )
    .await?;
    let feedback_sent = scalar(db, &feedback_sent_in(who, campaign, district)).await?;
    Ok(Summary {
        campaign_id: campaign.id,
        district_code: district.to_owned(),
        in_scope: cov.as_ref().map_or(0, |c| c.in_scope),
        inspected: cov.as_ref().map_or(0, |c| c.inspected),
        inspections: inspections_count,
        findings: rows.len() as i64,
        by_category,
        by_code,
        cases,
        fines_yuan: fines,
        rectification_ordered: ordered,
        rectified,
        rectification_rate: if ordered == 0 {
            0.0
        } else {
            rectified as f64 / ordered as f64
        },
        feedback_sent,
        computed_on: clock::today(),
    })
}

/// The district's inspections of the campaign: linked to it, or made in its period.
fn inspections_counted(
    campaign: &campaigns::Model,
    district: &str,
) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .expr(Func::count(Expr::col(inspections::Column::Id)))
        .from(inspections::Entity)
        .and_where(inspections::Column::DistrictCode.eq(district))
        .cond_where(
            sea_orm::Condition::any()
                .add(inspections::Column::CampaignId.eq(campaign.id))
                .add(
                    sea_orm::Condition::all()
                        .add(inspections::Column::InspectionDate.gte(campaign.starts_on))
                        .add(inspections::Column::InspectionDate.lte(campaign.ends_on)),
                ),
        )
        .to_owned()
}

/// The findings counted per violation code and per category, the largest first.
fn tally(rows: &[findings::Model]) -> (Vec<CodeCount>, Vec<CategoryCount>) {
    let mut by_code: Vec<CodeCount> = Vec::new();
    let mut by_category: Vec<CategoryCount> = Vec::new();
    for f in rows {
        match by_code.iter_mut().find(|c| c.code == f.violation_code) {
            Some(c) => c.findings += 1,
            None => by_code.push(CodeCount {
                code: f.violation_code.clone(),
                findings: 1,
            }),
        }
        let category = sea_orm::ActiveEnum::to_value(&f.category);
        match by_category.iter_mut().find(|c| c.category == category) {
            Some(c) => c.findings += 1,
            None => by_category.push(CategoryCount {
                category,
                findings: 1,
            }),
        }
    }
    by_code.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.code.cmp(&b.code)));
    by_category.sort_by(|a, b| {
        b.findings
            .cmp(&a.findings)
            .then(a.category.cmp(&b.category))
    });
    (by_code, by_category)
}

/// Fines and daily penalties decided on the campaign's findings, in yuan.
fn fines_decided(
    who: &Principal,
    campaign: &campaigns::Model,
    district: &str,
) -> sea_orm::sea_query::SelectStatement {
    let ids = campaign_findings(who, campaign, district)
        .select_only()
        .column(findings::Column::Id)
        .into_query();
    Query::select()
        .expr(Expr::cust(
            "CAST(COALESCE(SUM(\"amount_yuan\" * COALESCE(\"days\", 1)), 0) AS BIGINT)",
        ))
        .from(enforcement_actions::Entity)
        .and_where(enforcement_actions::Column::Kind.is_in([
            entity::enums::EnforcementActionKind::Fine,
            entity::enums::EnforcementActionKind::DailyContinuousPenalty,
        ]))
        .and_where(Expr::col(enforcement_actions::Column::FindingId).in_subquery(ids))
        .to_owned()
}

/// Feedback the district's enforcement sent to permit offices during the campaign.
fn feedback_sent_in(
    who: &Principal,
    campaign: &campaigns::Model,
    district: &str,
) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .expr(Func::count(Expr::col(entity::feedback::Column::Id)))
        .from(entity::feedback::Entity)
        .cond_where(access::feedback_filter(who))
        .and_where(entity::feedback::Column::PosterDistrictCode.eq(district))
        .and_where(
            entity::feedback::Column::CreatedAt.gte(
                campaign
                    .starts_on
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc(),
            ),
        )
        .and_where(
            entity::feedback::Column::CreatedAt.lt((campaign.ends_on + chrono::Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()),
        )
        .to_owned()
}

/// Freezes the district's summary as submitted; after the deadline it is marked late.
pub async fn submit_summary(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    campaign_id: i64,
    district: Option<&str>,
) -> AppResult<summary_reports::Model> {
    let who = access::authorize(principal, Operation::SubmitSummary)?;
    let district = match (district, &who.district) {
        (Some(d), _) => d.to_owned(),
        (None, Some(own)) => own.as_str().to_owned(),
        (None, None) => {
            return Err(AppError::invalid(
                "input.districtCode",
                "name the district reported on",
            ));
        }
    };
    access::check_district(who, &district)?;
    if districts::Entity::find_by_id(district.clone())
        .one(db)
        .await?
        .is_none()
    {
        return Err(AppError::invalid(
            "input.districtCode",
            format!("unknown district '{district}'"),
        ));
    }
    let campaign = require(db, campaign_id, "input.campaignId").await?;
    let snapshot = summary(db, principal, &campaign, &district).await?;
    let now = clock::now();
    let txn = crate::db::begin_write(db).await?;
    let saved = summary_reports::ActiveModel {
        campaign_id: Set(campaign.id),
        district_code: Set(district.clone()),
        snapshot: Set(serde_json::to_value(&snapshot).map_err(AppError::internal)?),
        submitted_by_subject: Set(who.subject.clone()),
        submitted_by_agency: Set(who.agency_code.clone()),
        submitted_at: Set(now),
        late: Set(clock::date_of(now) > campaign.summary_deadline),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(format!(
            "district {district} has already submitted its summary for this campaign"
        )),
        other => other,
    })?;
    changes::record(
        &txn,
        who,
        Change {
            kind: ChangeKind::SummaryReport,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: None,
            district: Some(&saved.district_code),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Submitted reports the caller may see (a district its own; municipal all).
pub async fn reports(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    campaign_id: i64,
) -> AppResult<Vec<summary_reports::Model>> {
    let who = access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(summary_reports::Entity::find()
        .filter(summary_reports::Column::CampaignId.eq(campaign_id))
        .filter(access::summary_report_filter(
            who,
            summary_reports::Column::DistrictCode,
        ))
        .order_by_asc(summary_reports::Column::DistrictCode)
        .all(db)
        .await?)
}

/// Districts that have not submitted (municipal callers only: SUPERVISOR, ADMIN).
pub async fn missing_reports(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    campaign_id: i64,
) -> AppResult<Vec<String>> {
    let who = access::authorize(principal, Operation::ReadEnforcement)?;
    access::check_municipal_supervision(who, "the list of missing reports")?;
    let submitted: Vec<String> = reports(db, principal, campaign_id)
        .await?
        .into_iter()
        .map(|r| r.district_code)
        .collect();
    Ok(districts::Entity::find()
        .order_by_asc(districts::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.code)
        .filter(|c| !submitted.contains(c))
        .collect())
}
