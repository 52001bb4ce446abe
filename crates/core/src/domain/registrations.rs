//! Discharge registration (排污登记) for REGISTRATION-tier units: no permit, a registration with
//! a number (credit code + 3-digit sequence + `W`) valid five years.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::codes::{CreditCode, registration_number};
use crate::domain::idempotency::{self, IdempotentRequest};
use crate::domain::permits::default_valid_to;
use crate::error::{AppError, AppResult};
use entity::enums::{ManagementCategory, RegistrationStatus};
use entity::{registrations, units};

#[derive(Debug, Clone, Serialize)]
pub struct RegisterDischargeInput {
    pub unit_id: i64,
    pub registered_on: Option<chrono::NaiveDate>,
}

pub async fn register(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: RegisterDischargeInput,
    idempotency_key: Option<&str>,
) -> AppResult<registrations::Model> {
    let principal = access::authorize(principal, Operation::WritePermits)?;
    let idempotent = idempotency_key
        .map(|key| IdempotentRequest::new("registerDischarge", key, &input))
        .transpose()?;
    let txn = crate::db::begin_write(db).await?;
    if let Some(existing) =
        idempotency::replayed::<registrations::Entity>(idempotent.as_ref(), &txn, principal).await?
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
    if unit.management_category != ManagementCategory::Registration {
        return Err(AppError::invalid(
            "input.unitId",
            "only REGISTRATION-tier units register; KEY and SIMPLIFIED units need a permit",
        ));
    }
    let existing = registrations::Entity::find()
        .filter(registrations::Column::UnitId.eq(unit.id))
        .order_by_asc(registrations::Column::Id)
        .all(&txn)
        .await?;
    if existing
        .iter()
        .any(|r| r.status == RegistrationStatus::Valid)
    {
        return Err(AppError::Conflict(format!(
            "unit {} already has a valid registration",
            unit.id
        )));
    }
    let credit_code = CreditCode::parse(&unit.credit_code).map_err(AppError::internal)?;
    let registered_on = input.registered_on.unwrap_or_else(clock::today);
    let saved = registrations::ActiveModel {
        registration_number: Set(registration_number(&credit_code, existing.len() as u16 + 1)),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        registered_on: Set(registered_on),
        valid_to: Set(default_valid_to(registered_on)),
        status: Set(RegistrationStatus::Valid),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    changes::record(
        &txn,
        principal,
        Change {
            kind: ChangeKind::Registration,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: Some("VALID"),
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

pub async fn of_units(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unit_ids: &[i64],
) -> AppResult<Vec<registrations::Model>> {
    Ok(registrations::Entity::find()
        .filter(access::district_filter(
            principal,
            registrations::Column::DistrictCode,
        ))
        .filter(registrations::Column::UnitId.is_in(unit_ids.iter().copied()))
        .order_by_asc(registrations::Column::Id)
        .all(db)
        .await?)
}
