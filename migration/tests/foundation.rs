//! Runs the foundation migration and the reference load twice, checks the counts, round-trips
//! every entity through the real schema (so entity and migration cannot drift apart), and rolls
//! the schema back. Always on in-memory SQLite; also on PostgreSQL when `TEST_DATABASE_URL` is
//! set, in a database created for the run and dropped after it.

mod common;

use common::*;
use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use entity::prelude::*;
use entity::{
    agencies, districts, idempotency_keys, outlets, permit_limits, permit_versions, permits,
    registrations, units, violation_codes,
};
use migration::{Migrator, MigratorTrait, reference};
use sea_orm_migration::sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Database, DatabaseConnection, DbErr, EntityTrait,
    NotSet, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};

const EXPECTED_DISTRICTS: u64 = 41;
const EXPECTED_AGENCIES: u64 = 41 * 2 + 4;
const EXPECTED_CODES: u64 = 27;

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("foundation", |db| async move { exercise(&db).await }).await
}

#[test]
fn reference_data_is_consistent() {
    assert_eq!(reference::DISTRICTS.len() as u64, EXPECTED_DISTRICTS);
    assert_eq!(reference::agencies().len() as u64, EXPECTED_AGENCIES);
    assert_eq!(reference::VIOLATION_CODES.len() as u64, EXPECTED_CODES);

    let codes: HashSet<_> = reference::DISTRICTS.iter().map(|d| d.0).collect();
    assert_eq!(
        codes.len(),
        reference::DISTRICTS.len(),
        "district codes unique"
    );
    for &(code, name, kind) in reference::DISTRICTS {
        assert!(code.len() == 6 && code.starts_with("50"), "{code}");
        let expected = match code {
            "500191" | "500192" | "500193" => DistrictKind::ManagementArea,
            _ if name.ends_with('县') => DistrictKind::County,
            _ => DistrictKind::District,
        };
        assert_eq!(parse::<DistrictKind>(kind), expected, "{code} {name}");
    }

    let agency_codes: HashSet<_> = reference::agencies().into_iter().map(|a| a.code).collect();
    assert_eq!(
        agency_codes.len() as u64,
        EXPECTED_AGENCIES,
        "agency codes unique"
    );
    for agency in reference::agencies() {
        assert!(agency.code.len() <= 32, "{}", agency.code);
        parse::<AgencyKind>(agency.kind);
        let level = parse::<AgencyLevel>(agency.level);
        assert_eq!(
            level == AgencyLevel::Municipal,
            agency.district_code.is_none()
        );
    }

    let vc_codes: HashSet<_> = reference::VIOLATION_CODES.iter().map(|v| v.code).collect();
    assert_eq!(
        vc_codes.len(),
        reference::VIOLATION_CODES.len(),
        "codes unique"
    );
    for vc in reference::VIOLATION_CODES {
        let expected = match &vc.code[..2] {
            "NP" => ViolationCategory::UnpermittedDischarge,
            "EX" | "EV" => ViolationCategory::PermitViolation,
            "SM" | "AM" => ViolationCategory::SelfMonitoring,
            _ => ViolationCategory::OtherManagement,
        };
        assert_eq!(
            parse::<ViolationCategory>(vc.category),
            expected,
            "{}",
            vc.code
        );
        assert!(vc.code.len() <= 8 && vc.article.len() <= 32, "{}", vc.code);
        assert!(vc.fine_min <= vc.fine_max, "{}", vc.code);
    }
}

/// Parses an enum key the way the database value is read, so a typo in the reference tables
/// fails here rather than when a row is loaded.
fn parse<E: ActiveEnum<Value = String>>(key: &str) -> E {
    match E::try_from_value(&key.to_owned()) {
        Ok(value) => value,
        Err(err) => panic!("{key:?} is not a valid key: {err}"),
    }
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    for _ in 0..2 {
        Migrator::up(db, None).await?;
        reference::load(db).await?;
        assert_eq!(Districts::find().count(db).await?, EXPECTED_DISTRICTS);
        assert_eq!(Agencies::find().count(db).await?, EXPECTED_AGENCIES);
        assert_eq!(ViolationCodes::find().count(db).await?, EXPECTED_CODES);
    }
    check_reference_rows(db).await?;
    round_trip(db).await?;

    Migrator::down(db, None).await?;
    assert!(Districts::find().count(db).await.is_err(), "tables dropped");
    // Up again after down: the rollback left nothing that blocks a fresh migration.
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    assert_eq!(ViolationCodes::find().count(db).await?, EXPECTED_CODES);
    Ok(())
}

async fn check_reference_rows(db: &DatabaseConnection) -> TestResult {
    let liangjiang = Districts::find_by_id("500191").one(db).await?;
    assert_eq!(
        liangjiang,
        Some(districts::Model {
            code: "500191".into(),
            name_zh: "两江新区".into(),
            kind: DistrictKind::ManagementArea,
        })
    );

    let enf = Agencies::find_by_id("500243-ENF").one(db).await?;
    assert_eq!(
        enf,
        Some(agencies::Model {
            code: "500243-ENF".into(),
            name_zh: "彭水苗族土家族自治县生态环境保护综合行政执法支队".into(),
            kind: AgencyKind::Enforcement,
            level: AgencyLevel::District,
            district_code: Some("500243".into()),
        })
    );
    let municipal = Agencies::find()
        .filter(agencies::Column::Level.eq(AgencyLevel::Municipal))
        .filter(agencies::Column::DistrictCode.is_null())
        .count(db)
        .await?;
    assert_eq!(municipal, 4);

    let codes = ViolationCodes::find()
        .order_by_asc(violation_codes::Column::SortOrder)
        .all(db)
        .await?;
    let first = &codes[0];
    assert_eq!(
        (first.code.as_str(), first.category, first.article.as_str()),
        ("NP-1", ViolationCategory::UnpermittedDischarge, "33(1)")
    );
    assert_eq!(
        (first.fine_min, first.fine_max),
        (Some(200_000), Some(1_000_000))
    );
    let last = &codes[26];
    assert_eq!(
        (
            last.code.as_str(),
            last.fine_min,
            last.fine_max,
            last.sort_order
        ),
        ("RG-1", Some(0), Some(50_000), 27)
    );
    Ok(())
}

/// Writes one row through every entity and reads it back unchanged.
async fn round_trip(db: &DatabaseConnection) -> TestResult {
    let now: DateTime<Utc> = "2026-11-28T04:00:00Z".parse()?;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).ok_or("bad date");

    let unit = units::ActiveModel {
        id: NotSet,
        credit_code: Set("91130200699229617X".into()),
        name: Set("重庆某某化工有限公司".into()),
        legal_representative: Set(Some("张三".into())),
        contact_phone: Set(None),
        address: Set("重庆市长寿区化南一路1号".into()),
        district_code: Set("500115".into()),
        industry_code: Set("C2614".into()),
        management_category: Set(ManagementCategory::Key),
        credit_level: Set(CreditLevel::Good),
        positive_list: Set(true),
        positive_list_reason: Set(Some("连续三年无违法记录".into())),
        positive_list_expires_on: Set(Some(day(2027, 12, 31)?)),
        longitude: Set(None),
        latitude: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Units::find_by_id(unit.id).one(db).await?,
        Some(unit.clone())
    );

    let permit = permits::ActiveModel {
        id: NotSet,
        permit_number: Set("91130200699229617X001P".into()),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        issuing_agency_code: Set("500115-PMT".into()),
        management_category: Set(ManagementCategory::Key),
        status: Set(PermitStatus::Valid),
        issued_on: Set(day(2026, 11, 1)?),
        valid_from: Set(day(2026, 11, 1)?),
        valid_to: Set(day(2031, 10, 31)?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Permits::find_by_id(permit.id).one(db).await?,
        Some(permit.clone())
    );

    let version = permit_versions::ActiveModel {
        id: NotSet,
        permit_id: Set(permit.id),
        version: Set(1),
        change_kind: Set(PermitChangeKind::Issued),
        reason: Set(None),
        status: Set(PermitStatus::Valid),
        valid_from: Set(permit.valid_from),
        valid_to: Set(permit.valid_to),
        snapshot: Set(serde_json::json!({
            "permitNumber": permit.permit_number,
            "outlets": [{ "code": "DA001", "limits": [{ "pollutant": "SO2", "value": 50.0 }] }],
        })),
        changed_by_subject: Set("officer-1".into()),
        changed_by_agency: Set(Some("500115-PMT".into())),
        created_at: Set(now),
    };
    let version = version.insert(db).await?;
    assert_eq!(
        PermitVersions::find_by_id(version.id).one(db).await?,
        Some(version.clone())
    );
    let duplicate = permit_versions::ActiveModel {
        id: NotSet,
        ..version.clone().into()
    };
    assert_unique_violation(duplicate.insert(db).await.map(drop), "(permit_id, version)");

    let outlet = outlets::ActiveModel {
        id: NotSet,
        permit_id: Set(permit.id),
        code: Set("DA001".into()),
        medium: Set(OutletMedium::Air),
        category: Set(OutletCategory::Main),
        name: Set(Some("锅炉废气排放口".into())),
        since_version: Set(1),
        retired_in_version: Set(None),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Outlets::find_by_id(outlet.id).one(db).await?,
        Some(outlet.clone())
    );

    let limit = permit_limits::ActiveModel {
        id: NotSet,
        permit_id: Set(permit.id),
        outlet_id: Set(outlet.id),
        pollutant: Set("二氧化硫".into()),
        concentration_limit: Set(Some(50.0)),
        concentration_unit: Set(Some("mg/m3".into())),
        averaging_period: Set(Some(AveragingPeriod::Hourly)),
        annual_quantity_tpa: Set(None),
        since_version: Set(1),
        retired_in_version: Set(None),
    }
    .insert(db)
    .await?;
    assert_eq!(
        PermitLimits::find_by_id(limit.id).one(db).await?,
        Some(limit)
    );

    let registration = registrations::ActiveModel {
        id: NotSet,
        registration_number: Set("91130200699229617X002W".into()),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        registered_on: Set(day(2026, 11, 2)?),
        valid_to: Set(day(2031, 11, 1)?),
        status: Set(RegistrationStatus::Valid),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Registrations::find_by_id(registration.id).one(db).await?,
        Some(registration)
    );

    let key = idempotency_keys::Model {
        subject: "officer-1".into(),
        operation: "issuePermit".into(),
        idempotency_key: "c0ffee".into(),
        request_hash: "0".repeat(64),
        result_id: permit.id,
        created_at: now,
    };
    IdempotencyKeys::insert(idempotency_keys::ActiveModel::from(key.clone()))
        .exec_without_returning(db)
        .await?;
    let pk = (
        key.subject.clone(),
        key.operation.clone(),
        key.idempotency_key.clone(),
    );
    assert_eq!(
        IdempotencyKeys::find_by_id(pk).one(db).await?,
        Some(key.clone())
    );
    let again = IdempotencyKeys::insert(idempotency_keys::ActiveModel::from(key))
        .exec_without_returning(db)
        .await;
    assert_unique_violation(again.map(drop), "(subject, operation, idempotency_key)");

    // Foreign keys are enforced on both backends (SQLite only with the pragma on).
    let orphan = units::ActiveModel {
        credit_code: Set("91500000000000000A".into()),
        district_code: Set("999999".into()),
        ..units::ActiveModel::from(unit)
    };
    let orphan = units::ActiveModel {
        id: NotSet,
        ..orphan
    };
    let refused = orphan.insert(db).await.map(drop);
    assert!(
        matches!(
            refused.as_ref().map_err(DbErr::sql_err),
            Err(Some(SqlErr::ForeignKeyConstraintViolation(_)))
        ),
        "unknown district must be refused by the foreign key, got {refused:?}"
    );
    Ok(())
}
