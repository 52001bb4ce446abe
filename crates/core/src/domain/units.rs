//! Discharge units (排污单位): the unit's identity (credit code, GB 32100), district, industry
//! (GB/T 4754), management category (KEY / SIMPLIFIED / REGISTRATION), credit level and the
//! positive list (正面清单). Updates are optimistic: a stale `expectedVersion` is `CONFLICT`.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Select, Set,
};
use serde::Serialize;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::codes::{CreditCode, parse_industry_code};
use crate::domain::idempotency::{self, IdempotentRequest};
use crate::domain::locations::{self, BoundingBox};
use crate::domain::page::{self, Ordering, Page, PageArgs, SortValue};
use crate::domain::{reference, text};
use crate::error::{AppError, AppResult};
use entity::enums::{CreditLevel, ManagementCategory};
use entity::units;

#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    pub district: Option<String>,
    pub category: Option<ManagementCategory>,
    pub credit_level: Option<CreditLevel>,
    /// GB/T 4754 code or a prefix of it (`C26` matches every class under 26).
    pub industry: Option<String>,
    /// Substring of the name; Chinese substrings work (`LIKE` on UTF-8 text).
    pub name_contains: Option<String>,
    pub credit_code: Option<String>,
    pub positive_list: Option<bool>,
    /// Only located units inside this box (checked by `BoundingBox::parse`).
    pub within: Option<BoundingBox>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnitOrderField {
    #[default]
    Id,
    Name,
    CreditCode,
}

/// Escapes `%`, `_` and `\` so user text matches literally inside `LIKE`.
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn scoped(principal: &Principal) -> Select<units::Entity> {
    units::Entity::find().filter(row_condition(principal))
}

/// The units a principal may read, as a condition on `units` (for statements that reach units
/// from another table, like a planned read's).
pub(crate) fn row_condition(principal: &Principal) -> sea_orm::Condition {
    access::district_filter(principal, units::Column::DistrictCode)
}

fn apply_filter(mut select: Select<units::Entity>, filter: &UnitFilter) -> Select<units::Entity> {
    if let Some(d) = &filter.district {
        select = select.filter(units::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(c) = filter.category {
        select = select.filter(units::Column::ManagementCategory.eq(c));
    }
    if let Some(l) = filter.credit_level {
        select = select.filter(units::Column::CreditLevel.eq(l));
    }
    if let Some(i) = &filter.industry {
        select =
            select.filter(units::Column::IndustryCode.starts_with(i.trim().to_ascii_uppercase()));
    }
    if let Some(text) = filter
        .name_contains
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let pattern = like_pattern(&text.to_lowercase());
        select = select.filter(
            Expr::expr(Func::lower(Expr::col(units::Column::Name)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
        );
    }
    if let Some(code) = &filter.credit_code {
        select = select.filter(units::Column::CreditCode.eq(code.trim().to_ascii_uppercase()));
    }
    if let Some(flag) = filter.positive_list {
        select = select.filter(units::Column::PositiveList.eq(flag));
    }
    if let Some(b) = filter.within {
        // Units without a position are outside every box (NULL fails BETWEEN).
        select = select
            .filter(units::Column::Longitude.between(b.min_longitude, b.max_longitude))
            .filter(units::Column::Latitude.between(b.min_latitude, b.max_latitude));
    }
    select
}

fn ordering(field: UnitOrderField, descending: bool) -> Ordering<units::Entity> {
    let (column, key): (units::Column, page::CursorKey<units::Entity>) = match field {
        UnitOrderField::Id => (units::Column::Id, |m| (SortValue::Int(m.id), m.id)),
        UnitOrderField::Name => (units::Column::Name, |m| {
            (SortValue::Text(m.name.clone()), m.id)
        }),
        UnitOrderField::CreditCode => (units::Column::CreditCode, |m| {
            (SortValue::Text(m.credit_code.clone()), m.id)
        }),
    };
    Ordering {
        column,
        id_column: Some(units::Column::Id),
        descending,
        date_sort: false,
        key,
    }
}

pub struct UnitList {
    select: Select<units::Entity>,
}

impl UnitList {
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        order: UnitOrderField,
        descending: bool,
        args: &PageArgs,
    ) -> AppResult<Page<units::Model>> {
        page::fetch_page(db, self.select.clone(), &ordering(order, descending), args).await
    }

    pub fn count_query(&self) -> page::CountQuery {
        page::CountQuery::new(self.select.clone())
    }
}

/// The units a principal may see, narrowed by the filter (scope applied in SQL).
pub fn list(principal: Option<&Principal>, filter: &UnitFilter) -> AppResult<UnitList> {
    let principal = access::authorize(principal, Operation::ReadUnits)?;
    Ok(UnitList {
        select: apply_filter(scoped(principal), filter),
    })
}

pub async fn get(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<units::Model>> {
    let principal = access::authorize(principal, Operation::ReadUnits)?;
    Ok(scoped(principal)
        .filter(units::Column::Id.eq(id))
        .one(db)
        .await?)
}

pub async fn by_credit_code(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    credit_code: &str,
) -> AppResult<Option<units::Model>> {
    let principal = access::authorize(principal, Operation::ReadUnits)?;
    let code = CreditCode::parse(credit_code).map_err(|e| AppError::code_error("creditCode", e))?;
    Ok(scoped(principal)
        .filter(units::Column::CreditCode.eq(code.as_str()))
        .one(db)
        .await?)
}

#[derive(Debug, Clone, Serialize)]
pub struct RegisterUnitInput {
    pub credit_code: String,
    pub name: String,
    pub legal_representative: Option<String>,
    pub contact_phone: Option<String>,
    pub address: String,
    pub district_code: String,
    pub industry_code: String,
    pub management_category: ManagementCategory,
    pub credit_level: Option<CreditLevel>,
    // Left out when absent, so the idempotency fingerprint of a request without a position is
    // what it was before positions existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateUnitInput {
    pub name: Option<String>,
    pub legal_representative: Option<String>,
    pub contact_phone: Option<String>,
    pub address: Option<String>,
    pub industry_code: Option<String>,
    pub management_category: Option<ManagementCategory>,
    pub credit_level: Option<CreditLevel>,
    pub positive_list: Option<bool>,
    pub positive_list_reason: Option<String>,
    pub positive_list_expires_on: Option<NaiveDate>,
    /// Sent together (`locations::check_position`).
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// Mainland phone numbers: an 11-digit mobile (1[3-9]…) or a landline with area code.
fn phone(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let digits: String = v.chars().filter(|c| *c != '-' && *c != ' ').collect();
    let mobile =
        digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit());
    let landline = (10..=12).contains(&digits.len())
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit());
    if mobile || landline {
        Ok(Some(v.to_owned()))
    } else {
        Err(AppError::invalid(
            field,
            "an 11-digit mobile number or a landline with area code",
        ))
    }
}

pub async fn register(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: RegisterUnitInput,
    idempotency_key: Option<&str>,
) -> AppResult<units::Model> {
    let principal = access::authorize(principal, Operation::WriteUnits)?;
    let credit_code = CreditCode::parse(&input.credit_code)
        .map_err(|e| AppError::code_error("input.creditCode", e))?;
    access::check_district(principal, &input.district_code)?;
    let name = text::required("input.name", &input.name, 200)?;
    let address = text::required("input.address", &input.address, 300)?;
    let legal_representative = text::optional(
        "input.legalRepresentative",
        input.legal_representative.as_deref(),
        100,
    )?;
    let contact_phone = phone("input.contactPhone", input.contact_phone.as_deref())?;
    let industry_code = parse_industry_code(&input.industry_code)
        .map_err(|e| AppError::code_error("input.industryCode", e))?;
    let position = locations::check_position("input", input.longitude, input.latitude)?;
    let idempotent = idempotency_key
        .map(|key| IdempotentRequest::new("registerUnit", key, &input))
        .transpose()?;

    let txn = crate::db::begin_write(db).await?;
    if let Some(existing) =
        idempotency::replayed::<units::Entity>(idempotent.as_ref(), &txn, principal).await?
    {
        txn.commit().await?;
        return Ok(existing);
    }
    reference::require_district(&txn, &input.district_code, "input.districtCode").await?;
    if units::Entity::find()
        .filter(units::Column::CreditCode.eq(credit_code.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "a unit with credit code {credit_code} is already registered"
        )));
    }
    let now = clock::now();
    let unit = units::ActiveModel {
        credit_code: Set(credit_code.to_string()),
        name: Set(name),
        legal_representative: Set(legal_representative),
        contact_phone: Set(contact_phone),
        address: Set(address),
        district_code: Set(input.district_code.clone()),
        industry_code: Set(industry_code),
        management_category: Set(input.management_category),
        credit_level: Set(input.credit_level.unwrap_or(CreditLevel::Good)),
        positive_list: Set(false),
        positive_list_reason: Set(None),
        positive_list_expires_on: Set(None),
        longitude: Set(position.map(|(lon, _)| lon)),
        latitude: Set(position.map(|(_, lat)| lat)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_version(&txn, principal, &unit, ChangeOperation::Created).await?;
    if let Some(request) = &idempotent {
        request.remember(&txn, principal, unit.id).await?;
    }
    txn.commit().await?;
    Ok(unit)
}

/// A unit's category must agree with what it holds (Art 2, 24): KEY and SIMPLIFIED units hold a
/// permit of their category, REGISTRATION units a registration. While a permit or registration
/// is valid the category stays; the holder cancels it first (and applies anew: 重新申请).
async fn check_category_change(
    txn: &DatabaseTransaction,
    unit: &units::Model,
    category: ManagementCategory,
) -> AppResult<()> {
    let today = crate::domain::clock::today();
    let permits = entity::permits::Entity::find()
        .filter(entity::permits::Column::UnitId.eq(unit.id))
        .filter(entity::permits::Column::Status.eq(entity::enums::PermitStatus::Valid))
        .filter(entity::permits::Column::ValidTo.gte(today))
        .all(txn)
        .await?;
    if let Some(permit) = permits.iter().find(|p| p.management_category != category) {
        return Err(AppError::invalid(
            "input.managementCategory",
            format!(
                "the unit holds valid {} permit {} (until {}); cancel it before the category changes",
                category_name(permit.management_category),
                permit.permit_number,
                permit.valid_to
            ),
        ));
    }
    if category != ManagementCategory::Registration {
        let registration = entity::registrations::Entity::find()
            .filter(entity::registrations::Column::UnitId.eq(unit.id))
            .filter(
                entity::registrations::Column::Status.eq(entity::enums::RegistrationStatus::Valid),
            )
            .filter(entity::registrations::Column::ValidTo.gte(today))
            .one(txn)
            .await?;
        if let Some(registration) = registration {
            return Err(AppError::invalid(
                "input.managementCategory",
                format!(
                    "the unit holds valid registration {} (until {}); while it is valid the unit stays REGISTRATION, not {}",
                    registration.registration_number,
                    registration.valid_to,
                    category_name(category)
                ),
            ));
        }
    }
    Ok(())
}

fn category_name(category: ManagementCategory) -> &'static str {
    match category {
        ManagementCategory::Key => "KEY",
        ManagementCategory::Simplified => "SIMPLIFIED",
        ManagementCategory::Registration => "REGISTRATION",
    }
}

pub async fn update(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
    expected_version: i32,
    patch: UpdateUnitInput,
) -> AppResult<units::Model> {
    let principal = access::authorize(principal, Operation::WriteUnits)?;
    let txn = crate::db::begin_write(db).await?;
    let current = scoped(principal)
        .filter(units::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("unit {id}")))?;
    access::check_district(principal, &current.district_code)?;
    if current.version != expected_version {
        return Err(AppError::Conflict(format!(
            "unit {id} is at version {}, not {expected_version}: reload and retry",
            current.version
        )));
    }
    // A unit registered before versions were kept (the demo seed) gets its prior state stored
    // first, so `unit(asOf:)` can answer for the time before this update.
    let stored = entity::unit_versions::Entity::find()
        .filter(entity::unit_versions::Column::UnitId.eq(id))
        .count(&txn)
        .await?;
    if stored == 0 {
        entity::unit_versions::ActiveModel {
            unit_id: Set(current.id),
            version: Set(current.version),
            snapshot: Set(serde_json::to_value(&current).map_err(AppError::internal)?),
            changed_by_subject: Set("registration".to_owned()),
            changed_by_agency: Set(None),
            created_at: Set(current.updated_at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let mut active: units::ActiveModel = current.clone().into();
    if let Some(name) = &patch.name {
        active.name = Set(text::required("input.name", name, 200)?);
    }
    if patch.legal_representative.is_some() {
        active.legal_representative = Set(text::optional(
            "input.legalRepresentative",
            patch.legal_representative.as_deref(),
            100,
        )?);
    }
    if patch.contact_phone.is_some() {
        active.contact_phone = Set(phone("input.contactPhone", patch.contact_phone.as_deref())?);
    }
    if let Some(address) = &patch.address {
        active.address = Set(text::required("input.address", address, 300)?);
    }
    if let Some(code) = &patch.industry_code {
        active.industry_code =
            Set(parse_industry_code(code)
                .map_err(|e| AppError::code_error("input.industryCode", e))?);
    }
    if let Some(category) = patch.management_category {
        if category != current.management_category {
            check_category_change(&txn, &current, category).await?;
        }
        active.management_category = Set(category);
    }
    if let Some(level) = patch.credit_level {
        active.credit_level = Set(level);
    }
    if let Some((lon, lat)) = locations::check_position("input", patch.longitude, patch.latitude)? {
        active.longitude = Set(Some(lon));
        active.latitude = Set(Some(lat));
    }
    if let Some(flag) = patch.positive_list {
        if flag && patch.positive_list_expires_on.is_none() {
            return Err(AppError::invalid(
                "input.positiveListExpiresOn",
                "a positive-list entry needs an expiry date",
            ));
        }
        active.positive_list = Set(flag);
        active.positive_list_reason = Set(if flag {
            text::optional(
                "input.positiveListReason",
                patch.positive_list_reason.as_deref(),
                300,
            )?
        } else {
            None
        });
        active.positive_list_expires_on = Set(if flag {
            patch.positive_list_expires_on
        } else {
            None
        });
    }
    active.version = Set(current.version + 1);
    active.updated_at = Set(clock::now());
    // The version in the WHERE clause makes the check and the write one atomic step.
    let result = units::Entity::update_many()
        .set(active)
        .filter(units::Column::Id.eq(id))
        .filter(units::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "unit {id} changed meanwhile: reload and retry"
        )));
    }
    let updated = units::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("unit {id}")))?;
    record_version(&txn, principal, &updated, ChangeOperation::Updated).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Loads units by id for DataLoaders, restricted to the principal's scope.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    principal: &Principal,
    ids: &[i64],
) -> AppResult<Vec<units::Model>> {
    Ok(scoped(principal)
        .filter(units::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// Keeps the unit as it now is (for `unit(asOf:)`) and records the change.
async fn record_version(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unit: &units::Model,
    operation: ChangeOperation,
) -> AppResult<()> {
    entity::unit_versions::ActiveModel {
        unit_id: Set(unit.id),
        version: Set(unit.version),
        snapshot: Set(serde_json::to_value(unit).map_err(AppError::internal)?),
        changed_by_subject: Set(principal.subject.clone()),
        changed_by_agency: Set(principal.agency_code.clone()),
        created_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    changes::record(
        db,
        principal,
        Change {
            kind: ChangeKind::Unit,
            record_id: unit.id,
            version: Some(unit.version),
            operation,
            state: None,
            district: Some(&unit.district_code),
        },
    )
    .await
}

/// The unit as it was at `at`, from its stored versions; `None` before it was registered.
pub async fn as_of(
    db: &impl ConnectionTrait,
    unit: units::Model,
    at: chrono::DateTime<Utc>,
) -> AppResult<Option<units::Model>> {
    let versions = entity::unit_versions::Entity::find()
        .filter(entity::unit_versions::Column::UnitId.eq(unit.id))
        .order_by_asc(entity::unit_versions::Column::Version)
        .all(db)
        .await?;
    if versions.is_empty() {
        // Never changed through the service: as registered.
        return Ok((unit.created_at <= at).then_some(unit));
    }
    match versions.into_iter().rfind(|v| v.created_at <= at) {
        Some(v) => Ok(Some(
            serde_json::from_value(v.snapshot).map_err(AppError::internal)?,
        )),
        None => Ok(None),
    }
}
