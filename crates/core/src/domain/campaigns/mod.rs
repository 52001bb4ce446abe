//! Special enforcement campaigns (专项行动, plan §1–4): phases, the full-coverage target (every
//! KEY unit inspected by the deadline, "全覆盖"), sampling rules for the other categories,
//! coverage computed in SQL, and district summary reports frozen at submission.
//!
//! `summaries` builds the district summary reports and freezes them on submission.

mod summaries;

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Select, Set, StatementBuilder,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::page::{self, CountQuery, Ordering, Page, PageArgs, SortValue};
use crate::error::{AppError, AppResult};
use entity::enums::{CampaignPhaseKind, ManagementCategory, SamplingPeriod};
use entity::{campaign_phases, campaign_sampling_rules, campaigns, inspections, units};

pub use summaries::{
    CategoryCount, CodeCount, Summary, missing_reports, reports, submit_summary, summary,
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
        created_at: Set(clock::now()),
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
