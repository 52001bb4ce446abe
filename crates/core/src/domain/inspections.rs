//! Inspections (现场检查 and non-site checks): who inspected which unit, when, why (source), how
//! (mode), and what was reviewed (Regulation Art 25; plan §3). On-site work needs at least two
//! inspectors, none recused by a declared conflict of interest.

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order as SqlOrder, Query, WindowStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set, StatementBuilder,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::idempotency::{self, IdempotentRequest};
use crate::domain::inspectors;
use crate::domain::page::{self, CountQuery, Ordering, Page, PageArgs, SortValue};
use crate::error::{AppError, AppResult};
use entity::enums::{InspectionMode, InspectionSource};
use entity::{inspection_inspectors, inspections, units};

/// Materials an inspector may review (Art 25).
pub const MATERIALS: [&str; 5] = [
    "EXECUTION_REPORTS",
    "LEDGER",
    "SELF_MONITORING_DATA",
    "AUTOMATIC_MONITORING",
    "PERMIT_DOCUMENTS",
];
pub const CHECK_RESULTS: [&str; 3] = ["PASS", "FAIL", "NOT_APPLICABLE"];

#[derive(Debug, Clone, Serialize)]
pub struct ChecklistItem {
    pub item: String,
    pub result: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordInspectionInput {
    pub unit_id: i64,
    pub inspection_date: NaiveDate,
    pub source: InspectionSource,
    pub mode: InspectionMode,
    /// The campaign the inspection belongs to, if any.
    pub campaign_id: Option<i64>,
    pub inspector_ids: Vec<i64>,
    pub materials_reviewed: Vec<String>,
    pub checklist: Vec<ChecklistItem>,
    pub notes: Option<String>,
}

fn validate(input: &RecordInspectionInput) -> AppResult<()> {
    if input.inspection_date > clock::today() {
        return Err(AppError::invalid(
            "input.date",
            "an inspection cannot be in the future",
        ));
    }
    let mut ids = input.inspector_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != input.inspector_ids.len() {
        return Err(AppError::invalid(
            "input.inspectorIds",
            "an inspector is listed twice",
        ));
    }
    if input.mode == InspectionMode::OnSite && ids.len() < 2 {
        return Err(AppError::invalid(
            "input.inspectorIds",
            "on-site inspections are carried out by at least two inspectors",
        ));
    }
    if ids.is_empty() || ids.len() > 20 {
        return Err(AppError::invalid(
            "input.inspectorIds",
            "1 to 20 inspectors",
        ));
    }
    if let Some(m) = input
        .materials_reviewed
        .iter()
        .find(|m| !MATERIALS.contains(&m.as_str()))
    {
        return Err(AppError::invalid(
            "input.materialsReviewed",
            format!("unknown material '{m}'"),
        ));
    }
    if input.checklist.len() > 200 {
        return Err(AppError::invalid("input.checklist", "at most 200 items"));
    }
    for (i, item) in input.checklist.iter().enumerate() {
        if item.item.trim().is_empty() || item.item.chars().count() > 200 {
            return Err(AppError::invalid(
                format!("input.checklist[{i}].item"),
                "1 to 200 characters",
            ));
        }
        if !CHECK_RESULTS.contains(&item.result.as_str()) {
            return Err(AppError::invalid(
                format!("input.checklist[{i}].result"),
                "PASS, FAIL or NOT_APPLICABLE",
            ));
        }
    }
    Ok(())
}

pub async fn record(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: RecordInspectionInput,
    idempotency_key: Option<&str>,
) -> AppResult<inspections::Model> {
    let principal = access::authorize(principal, Operation::WriteEnforcement)?;
    validate(&input)?;
    let idempotent = idempotency_key
        .map(|key| IdempotentRequest::new("recordInspection", key, &input))
        .transpose()?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(existing) =
        idempotency::replayed::<inspections::Entity>(idempotent.as_ref(), &txn, principal).await?
    {
        txn.commit().await?;
        return Ok(existing);
    }
    let unit = units::Entity::find_by_id(input.unit_id)
        .filter(access::district_filter(
            principal,
            units::Column::DistrictCode,
        ))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("unit {}", input.unit_id)))?;
    access::check_district(principal, &unit.district_code)?;
    inspectors::check_team(&txn, &unit, &input.inspector_ids, "input.inspectorIds").await?;
    if let Some(id) = input.campaign_id {
        let campaign = crate::domain::campaigns::require(&txn, id, "input.campaignId").await?;
        if input.inspection_date < campaign.starts_on || input.inspection_date > campaign.ends_on {
            return Err(AppError::invalid(
                "input.campaignId",
                "the inspection date lies outside the campaign",
            ));
        }
    }
    let agency_code = principal
        .agency_code
        .clone()
        .unwrap_or_else(|| format!("{}-ENF", unit.district_code));
    let saved = inspections::ActiveModel {
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        agency_code: Set(agency_code),
        inspection_date: Set(input.inspection_date),
        source: Set(input.source),
        mode: Set(input.mode),
        campaign_id: Set(input.campaign_id),
        materials_reviewed: Set(serde_json::json!(input.materials_reviewed)),
        checklist: Set(serde_json::to_value(&input.checklist).map_err(AppError::internal)?),
        notes: Set(input.notes.clone().filter(|n| !n.trim().is_empty())),
        recorded_by_subject: Set(principal.subject.clone()),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        // The recording agency must exist; a token naming another carries a bad claim, which
        // no input of the request can fix.
        AppError::Internal(_) => {
            AppError::Forbidden("the agency named by the token is unknown".to_owned())
        }
        other => other,
    })?;
    let links = input
        .inspector_ids
        .iter()
        .map(|id| inspection_inspectors::ActiveModel {
            inspection_id: Set(saved.id),
            inspector_id: Set(*id),
        });
    inspection_inspectors::Entity::insert_many(links)
        .exec(&txn)
        .await?;
    changes::record(
        &txn,
        principal,
        Change {
            kind: ChangeKind::Inspection,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: None,
            district: Some(&saved.district_code),
        },
    )
    .await?;
    if let Some(request) = &idempotent {
        request.remember(&txn, principal, saved.id).await?;
    }
    txn.commit().await?;
    Ok(saved)
}

#[derive(Debug, Clone, Default)]
pub struct InspectionFilter {
    pub district: Option<String>,
    pub unit_id: Option<i64>,
    pub source: Option<InspectionSource>,
    pub mode: Option<InspectionMode>,
    pub campaign_id: Option<i64>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
}

fn scoped(principal: &Principal) -> Select<inspections::Entity> {
    inspections::Entity::find().filter(access::district_filter(
        principal,
        inspections::Column::DistrictCode,
    ))
}

pub struct InspectionList {
    select: Select<inspections::Entity>,
}

impl InspectionList {
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        args: &PageArgs,
    ) -> AppResult<Page<inspections::Model>> {
        let ordering = Ordering {
            column: inspections::Column::InspectionDate,
            id_column: Some(inspections::Column::Id),
            descending: true,
            date_sort: true,
            key: |m: &inspections::Model| (SortValue::Date(m.inspection_date), m.id),
        };
        page::fetch_page(db, self.select.clone(), &ordering, args).await
    }

    pub fn count_query(&self) -> CountQuery {
        CountQuery::new(self.select.clone())
    }
}

/// Newest first.
pub fn list(principal: Option<&Principal>, filter: &InspectionFilter) -> AppResult<InspectionList> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    let mut select = scoped(principal);
    if let Some(d) = &filter.district {
        select = select.filter(inspections::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(u) = filter.unit_id {
        select = select.filter(inspections::Column::UnitId.eq(u));
    }
    if let Some(s) = filter.source {
        select = select.filter(inspections::Column::Source.eq(s));
    }
    if let Some(m) = filter.mode {
        select = select.filter(inspections::Column::Mode.eq(m));
    }
    if let Some(c) = filter.campaign_id {
        select = select.filter(inspections::Column::CampaignId.eq(c));
    }
    if let Some(from) = filter.date_from {
        select = select.filter(inspections::Column::InspectionDate.gte(from));
    }
    if let Some(to) = filter.date_to {
        select = select.filter(inspections::Column::InspectionDate.lte(to));
    }
    Ok(InspectionList { select })
}

pub async fn get(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<inspections::Model>> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(scoped(principal)
        .filter(inspections::Column::Id.eq(id))
        .one(db)
        .await?)
}

pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<inspections::Model>> {
    Ok(scoped(principal)
        .filter(inspections::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The newest `limit` inspections of each unit, in one statement (a window over the units).
pub async fn newest_of_units(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unit_ids: &[i64],
    limit: u64,
) -> AppResult<Vec<inspections::Model>> {
    let rank = Alias::new("rank_in_unit");
    let mut inner = Query::select();
    inner
        .column(sea_orm::sea_query::Asterisk)
        .expr_window_as(
            Func::cust(Alias::new("ROW_NUMBER")),
            WindowStatement::partition_by(inspections::Column::UnitId)
                .order_by(inspections::Column::InspectionDate, SqlOrder::Desc)
                .order_by(inspections::Column::Id, SqlOrder::Desc)
                .to_owned(),
            rank.clone(),
        )
        .from(inspections::Entity)
        .cond_where(access::district_filter(
            principal,
            inspections::Column::DistrictCode,
        ))
        .and_where(Expr::col(inspections::Column::UnitId).is_in(unit_ids.iter().copied()));
    let ranked = Alias::new("ranked");
    let outer = Query::select()
        .column(sea_orm::sea_query::Asterisk)
        .from_subquery(inner, ranked)
        .and_where(Expr::col(rank).lte(limit as i64))
        .to_owned();
    let statement = StatementBuilder::build(&outer, &db.get_database_backend());
    Ok(inspections::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?)
}

/// The cursor key of the inspection lists (newest first by date, then id).
pub fn cursor_key(m: &inspections::Model) -> (SortValue, i64) {
    (SortValue::Date(m.inspection_date), m.id)
}

/// How many inspections of each unit the principal may read, in one statement.
pub async fn count_per_unit(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unit_ids: &[i64],
) -> AppResult<Vec<(i64, i64)>> {
    Ok(scoped(principal)
        .select_only()
        .column(inspections::Column::UnitId)
        .column_as(inspections::Column::Id.count(), "n")
        .filter(inspections::Column::UnitId.is_in(unit_ids.iter().copied()))
        .group_by(inspections::Column::UnitId)
        .into_tuple()
        .all(db)
        .await?)
}

/// Inspector ids of each inspection.
pub async fn teams_of(
    db: &impl ConnectionTrait,
    inspection_ids: &[i64],
) -> AppResult<Vec<inspection_inspectors::Model>> {
    Ok(inspection_inspectors::Entity::find()
        .filter(inspection_inspectors::Column::InspectionId.is_in(inspection_ids.iter().copied()))
        .order_by_asc(inspection_inspectors::Column::InspectorId)
        .all(db)
        .await?)
}
