//! Inspectors (执法人员名录库): people of enforcement agencies with an enforcement certificate,
//! and their declared conflicts of interest with units, which recuse them (回避) from inspecting
//! those units.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::page::{Listing, Ordering, SortValue};
use crate::error::{AppError, AppResult};
use entity::enums::AgencyKind;
use entity::{agencies, inspector_conflicts, inspectors, units};

/// The district an agency acts in (`None` = municipal).
async fn agency(db: &impl ConnectionTrait, code: &str, field: &str) -> AppResult<agencies::Model> {
    agencies::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::invalid(field, format!("unknown agency '{code}'")))
}

/// Inspectors visible to the principal (`access::inspector_filter`): those of agencies in its
/// scope and the municipal ones; none for integrators.
pub fn list(
    principal: Option<&Principal>,
    agency_code: Option<&str>,
    active: Option<bool>,
) -> AppResult<Listing<inspectors::Entity>> {
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    if !access::may_see_inspector_names(Some(principal)) {
        return Err(AppError::Forbidden(
            "inspector names are not published".to_owned(),
        ));
    }
    let mut select = inspectors::Entity::find().filter(access::inspector_filter(principal));
    if let Some(code) = agency_code {
        select = select.filter(inspectors::Column::AgencyCode.eq(code));
    }
    if let Some(flag) = active {
        select = select.filter(inspectors::Column::Active.eq(flag));
    }
    Ok(Listing::new(
        select,
        Ordering {
            column: inspectors::Column::Id,
            id_column: None,
            descending: false,
            date_sort: false,
            key: |m: &inspectors::Model| (SortValue::Int(m.id), m.id),
        },
    ))
}

/// Inspectors by id, as the principal may see them (nested teams: an inspection's, a draw's).
pub async fn visible_by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<inspectors::Model>> {
    Ok(inspectors::Entity::find()
        .filter(inspectors::Column::Id.is_in(ids.iter().copied()))
        .filter(access::inspector_filter(principal))
        .all(db)
        .await?)
}

async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<inspectors::Model>> {
    Ok(inspectors::Entity::find()
        .filter(inspectors::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn register(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    name: &str,
    agency_code: &str,
    certificate_number: &str,
) -> AppResult<inspectors::Model> {
    let principal = access::authorize(principal, Operation::ManageInspectors)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(AppError::invalid("input.name", "1 to 50 characters"));
    }
    let certificate = certificate_number.trim().to_ascii_uppercase();
    if certificate.len() < 6
        || certificate.len() > 32
        || !certificate.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(AppError::invalid(
            "input.certificateNumber",
            "an enforcement certificate number is 6 to 32 letters and digits",
        ));
    }
    let agency = agency(db, agency_code, "input.agencyCode").await?;
    if agency.kind != AgencyKind::Enforcement {
        return Err(AppError::invalid(
            "input.agencyCode",
            format!("{agency_code} is not an enforcement agency"),
        ));
    }
    access::check_record_scope(
        principal,
        agency.district_code.as_deref(),
        "registering a municipal inspector",
    )?;
    let txn = crate::db::begin_write(db).await?;
    let saved = inspectors::ActiveModel {
        name: Set(name.to_owned()),
        agency_code: Set(agency.code),
        certificate_number: Set(certificate),
        active: Set(true),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    changes::record(
        &txn,
        principal,
        Change {
            kind: ChangeKind::Inspector,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: None,
            district: agency.district_code.as_deref(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn declare_conflict(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    inspector_id: i64,
    unit_id: i64,
    reason: &str,
) -> AppResult<inspector_conflicts::Model> {
    let principal = access::authorize(principal, Operation::ManageInspectors)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "input.reason",
            "say what the conflict is",
        ));
    }
    // Both must be in the declaring agency's scope; outside it they do not exist for it.
    let inspector = inspectors::Entity::find_by_id(inspector_id)
        .filter(access::inspector_filter(principal))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("inspector {inspector_id}")))?;
    let agency = agency(db, &inspector.agency_code, "input.inspectorId").await?;
    if let Some(d) = &agency.district_code {
        access::check_district(principal, d)?;
    }
    let unit = units::Entity::find_by_id(unit_id)
        .one(db)
        .await?
        .filter(|u| access::in_scope(principal, &u.district_code))
        .ok_or_else(|| AppError::NotFound(format!("unit {unit_id}")))?;
    // A district inspector's conflicts concern its own district's units (other districts'
    // inspections never include it).
    if agency
        .district_code
        .as_deref()
        .is_some_and(|d| d != unit.district_code)
    {
        return Err(AppError::NotFound(format!("unit {unit_id}")));
    }
    let txn = crate::db::begin_write(db).await?;
    let saved = inspector_conflicts::ActiveModel {
        inspector_id: Set(inspector_id),
        unit_id: Set(unit_id),
        reason: Set(reason.to_owned()),
        declared_on: Set(clock::today()),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    changes::record(
        &txn,
        principal,
        Change {
            kind: ChangeKind::Inspector,
            record_id: inspector_id,
            version: None,
            operation: ChangeOperation::Updated,
            state: None,
            district: agency.district_code.as_deref(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Checks a team for an inspection of `unit`: known, active, enforcement staff of the unit's
/// district or municipal, and none recused by a declared conflict with the unit.
pub async fn check_team(
    db: &impl ConnectionTrait,
    unit: &units::Model,
    inspector_ids: &[i64],
    field: &str,
) -> AppResult<Vec<inspectors::Model>> {
    let team = by_ids(db, inspector_ids).await?;
    for id in inspector_ids {
        if !team.iter().any(|i| i.id == *id) {
            return Err(AppError::invalid(field, format!("no inspector {id}")));
        }
    }
    let codes: Vec<String> = team.iter().map(|i| i.agency_code.clone()).collect();
    let team_agencies = agencies::Entity::find()
        .filter(agencies::Column::Code.is_in(codes))
        .all(db)
        .await?;
    for inspector in &team {
        let agency = team_agencies
            .iter()
            .find(|a| a.code == inspector.agency_code);
        let eligible = agency.is_some_and(|a| {
            a.kind == AgencyKind::Enforcement
                && a.district_code
                    .as_deref()
                    .is_none_or(|d| d == unit.district_code)
        });
        if !eligible {
            // Outside the unit's district an inspector is not the caller's to name.
            return Err(AppError::NotFound(format!("inspector {}", inspector.id)));
        }
        if !inspector.active {
            return Err(AppError::invalid(
                field,
                format!("inspector {} is not active", inspector.name),
            ));
        }
    }
    let conflicts = inspector_conflicts::Entity::find()
        .filter(inspector_conflicts::Column::UnitId.eq(unit.id))
        .filter(inspector_conflicts::Column::InspectorId.is_in(inspector_ids.iter().copied()))
        .all(db)
        .await?;
    if let Some(conflict) = conflicts.first() {
        let name = team
            .iter()
            .find(|i| i.id == conflict.inspector_id)
            .map(|i| i.name.as_str())
            .unwrap_or("?");
        return Err(AppError::invalid(
            field,
            format!(
                "inspector {name} declared a conflict of interest with this unit and is recused (回避)"
            ),
        ));
    }
    Ok(team)
}
