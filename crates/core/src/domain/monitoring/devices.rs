//! Automatic monitors (HJ 212 devices): registered at an outlet with the `MN` and `PW` their
//! packets carry, and looked up by `MN` when a packet arrives.

use crate::domain::clock;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes;
use crate::error::{AppError, AppResult};
use entity::{outlets, permits as permit_rows};

pub struct DeviceInput {
    /// HJ 212 `MN`: 1 to 24 letters and digits.
    pub mn: String,
    pub outlet_id: i64,
    /// HJ 212 `PW` the device's packets carry: 1 to 32 printable characters without `;`.
    pub password: String,
}

/// Registers an automatic monitor at an outlet (MONITORING anywhere, ADMIN in scope). An MN
/// registered already is `CONFLICT` on `input.mn`.
pub async fn register_device(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: DeviceInput,
) -> AppResult<entity::monitoring_devices::Model> {
    use sea_orm::{ActiveModelTrait, Set};
    let principal = access::authorize(principal, Operation::ManageMonitoringDevices)?;
    let mn = input.mn.trim();
    if mn.is_empty() || mn.len() > 24 || !mn.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(AppError::invalid(
            "input.mn",
            "1 to 24 ASCII letters and digits (HJ 212 MN)",
        ));
    }
    let password = input.password.trim();
    if password.is_empty()
        || password.len() > 32
        || !password
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b';' && b != b'&')
    {
        return Err(AppError::invalid(
            "input.password",
            "1 to 32 printable ASCII characters, no ';' or '&' (HJ 212 PW)",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let unknown = || AppError::invalid("input.outletId", "no such outlet in the caller's scope");
    let outlet = outlets::Entity::find_by_id(input.outlet_id)
        .one(&txn)
        .await?
        .ok_or_else(unknown)?;
    let permit = permit_rows::Entity::find_by_id(outlet.permit_id)
        .one(&txn)
        .await?
        .ok_or_else(unknown)?;
    if principal.role != crate::auth::Role::Monitoring
        && !access::in_scope(principal, &permit.district_code)
    {
        return Err(unknown());
    }
    let saved = entity::monitoring_devices::ActiveModel {
        mn: Set(mn.to_owned()),
        outlet_id: Set(outlet.id),
        password: Set(password.to_owned()),
        registered_by_subject: Set(principal.subject.clone()),
        registered_by_agency: Set(principal.agency_code.clone()),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    changes::audit(
        &txn,
        principal,
        "REGISTER_MONITORING_DEVICE",
        None,
        &[saved.id],
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn device_by_mn(
    db: &impl ConnectionTrait,
    mn: &str,
) -> AppResult<Option<entity::monitoring_devices::Model>> {
    Ok(entity::monitoring_devices::Entity::find()
        .filter(entity::monitoring_devices::Column::Mn.eq(mn))
        .one(db)
        .await?)
}
