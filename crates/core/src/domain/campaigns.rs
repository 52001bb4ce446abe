//! Special enforcement campaigns (专项行动, plan §1–4): phases, the full-coverage target (every
//! KEY unit inspected by the deadline, "全覆盖"), sampling rules for the other categories,
//! coverage computed in SQL, and district summary reports frozen at submission.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Set, StatementBuilder,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::page::{self, CountQuery, Ordering, Page, PageArgs, SortValue};
use crate::error::{AppError, AppResult};
use entity::enums::{CampaignPhaseKind, FindingStatus, ManagementCategory, SamplingPeriod};
use entity::{
    campaign_phases, campaign_sampling_rules, campaigns, districts, enforcement_actions,
    finding_transitions, findings, inspections, summary_reports, units,
};

#[derive(Debug, Clone, Serialize)]
pub struct PhaseInput {
    pub name: String,
    pub kind: CampaignPhaseKind,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct SamplingInput {
    pub category: ManagementCategory,
    pub share: f64,
    pub period: SamplingPeriod,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreateCampaignInput {
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub coverage_category: ManagementCategory,
    pub coverage_deadline: NaiveDate,
    pub summary_deadline: NaiveDate,
    pub phases: Vec<PhaseInput>,
    pub sampling: Vec<SamplingInput>,
}

fn validate(input: &CreateCampaignInput) -> AppResult<()> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("input.name", "1 to 200 characters"));
    }
    if input.ends_on < input.starts_on {
        return Err(AppError::invalid(
            "input.endsOn",
            "the campaign ends after it starts",
        ));
    }
    let within = |d: NaiveDate| input.starts_on <= d && d <= input.ends_on;
    if !within(input.coverage_deadline) {
        return Err(AppError::invalid(
            "input.coverageDeadline",
            "inside the campaign period",
        ));
    }
    if input.summary_deadline < input.starts_on {
        return Err(AppError::invalid(
            "input.summaryDeadline",
            "not before the campaign starts",
        ));
    }
    for (i, phase) in input.phases.iter().enumerate() {
        let field = |f: &str| format!("input.phases[{i}].{f}");
        if phase.name.trim().is_empty() || phase.name.chars().count() > 100 {
            return Err(AppError::invalid(field("name"), "1 to 100 characters"));
        }
        if phase.ends_on < phase.starts_on {
            return Err(AppError::invalid(
                field("endsOn"),
                "a phase ends after it starts",
            ));
        }
        if !within(phase.starts_on) || !within(phase.ends_on) {
            return Err(AppError::invalid(
                field("startsOn"),
                "phases lie inside the campaign period",
            ));
        }
    }
    let mut seen = Vec::new();
    for (i, rule) in input.sampling.iter().enumerate() {
        if !(rule.share > 0.0 && rule.share <= 1.0) {
            return Err(AppError::invalid(
                format!("input.samplingRules[{i}].share"),
                "a share above 0 and at most 1",
            ));
        }
        if rule.category == input.coverage_category {
            return Err(AppError::invalid(
                format!("input.samplingRules[{i}].category"),
                "the coverage category is inspected in full, not sampled",
            ));
        }
        if seen.contains(&rule.category) {
            return Err(AppError::invalid(
                format!("input.samplingRules[{i}].category"),
                "one rule per category",
            ));
        }
        seen.push(rule.category);
    }
    Ok(())
}

pub async fn create(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: CreateCampaignInput,
) -> AppResult<campaigns::Model> {
    let principal = access::authorize(principal, Operation::ManageCampaigns)?;
    validate(&input)?;
    let txn = crate::db::begin_write(db).await?;
    let saved = campaigns::ActiveModel {
        name: Set(input.name.trim().to_owned()),
        starts_on: Set(input.starts_on),
        ends_on: Set(input.ends_on),
        coverage_category: Set(input.coverage_category),
        coverage_deadline: Set(input.coverage_deadline),
        summary_deadline: Set(input.summary_deadline),
        created_by_subject: Set(principal.subject.clone()),
        created_by_agency: Set(principal.agency_code.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (i, phase) in input.phases.iter().enumerate() {
        campaign_phases::ActiveModel {
            campaign_id: Set(saved.id),
            name: Set(phase.name.trim().to_owned()),
            kind: Set(phase.kind),
            starts_on: Set(phase.starts_on),
            ends_on: Set(phase.ends_on),
            sort_order: Set(i as i32 + 1),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    for rule in &input.sampling {
        campaign_sampling_rules::ActiveModel {
            campaign_id: Set(saved.id),
            management_category: Set(rule.category),
            share: Set(rule.share),
            period: Set(rule.period),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    changes::record(
        &txn,
        principal,
        Change {
            kind: ChangeKind::Campaign,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: None,
            district: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Campaigns, the latest start first (campaigns are municipal: every enforcement reader sees
/// them).
pub fn list(principal: Option<&Principal>) -> AppResult<page::Listing<campaigns::Entity>> {
    access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(page::Listing::new(
        campaigns::Entity::find(),
        Ordering {
            column: campaigns::Column::StartsOn,
            id_column: Some(campaigns::Column::Id),
            descending: true,
            date_sort: true,
            key: |m: &campaigns::Model| (SortValue::Date(m.starts_on), m.id),
        },
    ))
}

pub async fn get(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<campaigns::Model>> {
    access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(campaigns::Entity::find_by_id(id).one(db).await?)
}

pub async fn require(
    db: &impl ConnectionTrait,
    id: i64,
    field: &str,
) -> AppResult<campaigns::Model> {
    campaigns::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid(field, format!("no campaign {id}")))
}

pub async fn phases_of(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<Vec<campaign_phases::Model>> {
    Ok(campaign_phases::Entity::find()
        .filter(campaign_phases::Column::CampaignId.eq(id))
        .order_by_asc(campaign_phases::Column::SortOrder)
        .all(db)
        .await?)
}

pub async fn rules_of(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<Vec<campaign_sampling_rules::Model>> {
    Ok(campaign_sampling_rules::Entity::find()
        .filter(campaign_sampling_rules::Column::CampaignId.eq(id))
        .order_by_asc(campaign_sampling_rules::Column::Id)
        .all(db)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// Coverage

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// `None` for the overall figures.
    pub district_code: Option<String>,
    pub in_scope: i64,
    pub inspected: i64,
    pub remaining: i64,
    /// inspected / in scope, 0..1 (1 when nothing is in scope).
    pub share_done: f64,
    /// At the pace so far, all units in scope are inspected by the deadline.
    pub on_course: bool,
}

/// Units in scope are those of the coverage category already on file by the deadline: a unit
/// registered later cannot have been due in this campaign.
fn on_file_by_deadline(campaign: &campaigns::Model) -> chrono::DateTime<Utc> {
    (campaign.coverage_deadline + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        - chrono::Duration::hours(8)
}

/// The last day an inspection counts for coverage: the deadline, or today if earlier.
fn counted_until(campaign: &campaigns::Model, today: NaiveDate) -> NaiveDate {
    std::cmp::min(campaign.coverage_deadline, today)
}

/// Inspections that count for the campaign: linked to it, or inside its period up to the
/// deadline.
fn counting_inspections(
    campaign: &campaigns::Model,
    today: NaiveDate,
) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .distinct()
        .column(inspections::Column::UnitId)
        .from(inspections::Entity)
        .cond_where(
            sea_orm::Condition::any()
                .add(inspections::Column::CampaignId.eq(campaign.id))
                .add(
                    sea_orm::Condition::all()
                        .add(inspections::Column::InspectionDate.gte(campaign.starts_on))
                        .add(
                            inspections::Column::InspectionDate.lte(counted_until(campaign, today)),
                        ),
                ),
        )
        .to_owned()
}

fn on_course(campaign: &campaigns::Model, today: NaiveDate, in_scope: i64, inspected: i64) -> bool {
    if inspected >= in_scope {
        return true;
    }
    if today >= campaign.coverage_deadline {
        return false;
    }
    if today < campaign.starts_on {
        return true;
    }
    let elapsed = (today - campaign.starts_on).num_days() + 1;
    let total = (campaign.coverage_deadline - campaign.starts_on).num_days() + 1;
    // Projected at the current pace; integers avoid rounding disagreements.
    inspected * total >= in_scope * elapsed
}

fn finish(
    campaign: &campaigns::Model,
    today: NaiveDate,
    district: Option<String>,
    in_scope: i64,
    inspected: i64,
) -> Coverage {
    Coverage {
        district_code: district,
        in_scope,
        inspected,
        remaining: in_scope - inspected,
        share_done: if in_scope == 0 {
            1.0
        } else {
            inspected as f64 / in_scope as f64
        },
        on_course: on_course(campaign, today, in_scope, inspected),
    }
}

/// Coverage per district in the caller's scope (one GROUP BY), then the overall figures.
pub async fn coverage(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    campaign: &campaigns::Model,
    district: Option<&str>,
) -> AppResult<(Vec<Coverage>, Coverage)> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    let today = clock::today();
    let counted = Alias::new("counted");
    let mut query = Query::select();
    query
        .column((units::Entity, units::Column::DistrictCode))
        .expr_as(
            Func::count(Expr::col((units::Entity, units::Column::Id))),
            Alias::new("in_scope"),
        )
        .expr_as(
            Func::count(Expr::col((counted.clone(), inspections::Column::UnitId))),
            Alias::new("inspected"),
        )
        .from(units::Entity)
        .join_subquery(
            JoinType::LeftJoin,
            counting_inspections(campaign, today),
            counted.clone(),
            Expr::col((counted, inspections::Column::UnitId))
                .equals((units::Entity, units::Column::Id)),
        )
        .and_where(units::Column::ManagementCategory.eq(campaign.coverage_category))
        .and_where(units::Column::CreatedAt.lt(on_file_by_deadline(campaign)))
        .cond_where(access::district_filter(
            principal,
            units::Column::DistrictCode,
        ))
        .group_by_col((units::Entity, units::Column::DistrictCode))
        .order_by(
            (units::Entity, units::Column::DistrictCode),
            sea_orm::Order::Asc,
        );
    if let Some(d) = district {
        query.and_where(units::Column::DistrictCode.eq(d));
    }
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(StatementBuilder::build(&query, &backend))
        .await?;
    let mut per_district = Vec::with_capacity(rows.len());
    let (mut all_scope, mut all_done) = (0, 0);
    for row in rows {
        let code: String = row.try_get("", "district_code")?;
        let in_scope: i64 = row.try_get("", "in_scope")?;
        let inspected: i64 = row.try_get("", "inspected")?;
        all_scope += in_scope;
        all_done += inspected;
        per_district.push(finish(campaign, today, Some(code), in_scope, inspected));
    }
    Ok((
        per_district,
        finish(campaign, today, None, all_scope, all_done),
    ))
}

/// Units in scope not yet inspected for the campaign, by id.
pub struct RemainingUnits {
    select: Select<units::Entity>,
}

impl RemainingUnits {
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        args: &PageArgs,
    ) -> AppResult<Page<units::Model>> {
        let ordering = Ordering {
            column: units::Column::Id,
            id_column: Some(units::Column::Id),
            descending: false,
            date_sort: false,
            key: |m: &units::Model| (SortValue::Int(m.id), m.id),
        };
        page::fetch_page(db, self.select.clone(), &ordering, args).await
    }

    pub fn count_query(&self) -> CountQuery {
        CountQuery::new(self.select.clone())
    }
}

pub fn remaining_units(
    principal: Option<&Principal>,
    campaign: &campaigns::Model,
    district: Option<&str>,
) -> AppResult<RemainingUnits> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    let mut select = units::Entity::find()
        .filter(access::district_filter(
            principal,
            units::Column::DistrictCode,
        ))
        .filter(units::Column::ManagementCategory.eq(campaign.coverage_category))
        .filter(units::Column::CreatedAt.lt(on_file_by_deadline(campaign)))
        .filter(units::Column::Id.not_in_subquery(counting_inspections(campaign, clock::today())));
    if let Some(d) = district {
        select = select.filter(units::Column::DistrictCode.eq(d));
    }
    Ok(RemainingUnits { select })
}

// ---------------------------------------------------------------------------------------------
// Summary reports (总结报告): built from the data, frozen when submitted.

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
    let inspections_count = scalar(
        db,
        &Query::select()
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
            .to_owned(),
    )
    .await?;
    let rows = campaign_findings(who, campaign, district).all(db).await?;
    let mut by_code: Vec<CodeCount> = Vec::new();
    let mut by_category: Vec<CategoryCount> = Vec::new();
    for f in &rows {
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
    let ids = campaign_findings(who, campaign, district)
        .select_only()
        .column(findings::Column::Id)
        .into_query();
    let fines = scalar(
        db,
        &Query::select()
            .expr(Expr::cust(
                "CAST(COALESCE(SUM(\"amount_yuan\" * COALESCE(\"days\", 1)), 0) AS BIGINT)",
            ))
            .from(enforcement_actions::Entity)
            .and_where(enforcement_actions::Column::Kind.is_in([
                entity::enums::EnforcementActionKind::Fine,
                entity::enums::EnforcementActionKind::DailyContinuousPenalty,
            ]))
            .and_where(Expr::col(enforcement_actions::Column::FindingId).in_subquery(ids))
            .to_owned(),
    )
    .await?;
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
        feedback_sent: scalar(
            db,
            &Query::select()
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
                    entity::feedback::Column::CreatedAt.lt((campaign.ends_on
                        + chrono::Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()),
                )
                .to_owned(),
        )
        .await?,
        computed_on: clock::today(),
    })
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
    let now = Utc::now();
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
