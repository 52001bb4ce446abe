//! Runs all migrations up, rolls the enforcement migration back (with the migrations on top of
//! it), then everything, and up again, writing one row through each enforcement entity every time
//! the tables exist and reading it back unchanged (so entity and migration cannot drift apart).
//! Also checks the unique keys, a few foreign keys, and the relations the entities declare.
//! Always on in-memory SQLite; also on PostgreSQL when `TEST_DATABASE_URL` is set, in a database
//! created for the run and dropped after it.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::*;
use entity::prelude::*;
use entity::{
    enforcement_actions, finding_evidence, finding_transitions, findings, inspection_inspectors,
    inspections, inspector_conflicts, inspectors, outlets, permits, units,
};
use migration::{Migrator, MigratorTrait, reference};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Database, DatabaseConnection, EntityTrait, Iterable,
    ModelTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("enforcement", |db| async move { exercise(&db).await }).await
}

#[test]
fn migrations_are_registered_in_order() {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "m20261128_000001_foundation",
            "m20261128_000002_enforcement",
            "m20261128_000003_campaigns",
            "m20261128_000004_history",
            "m20261128_000005_liaison",
            "m20261128_000006_token_revocations",
            "m20261128_000007_pattern_cells",
            "m20261128_000008_finding_page_order",
            "m20261203_000009_versioned_items",
            "m20261203_000010_evidence_and_locations",
            "m20261203_000011_monitoring",
            "m20261203_000012_monitoring_devices",
            "m20261203_000013_violation_candidates",
            "m20261203_000014_execution_reports",
            "m20261204_000015_ledger_checks",
            "m20261207_000016_feed_wakes_its_readers",
            "m20261207_000017_outlets_of_a_permit",
        ]
    );
}

/// Every key fits the `varchar(24)` column, and serde writes the same key as the database.
#[test]
fn enum_keys_fit_and_match_serde() {
    macro_rules! check {
        ($($enum:ty),+) => {$(
            for variant in <$enum>::iter() {
                let key = variant.to_value();
                assert!(key.len() <= 24, "{key} is longer than the column");
                assert!(
                    key.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                    "{key} is not an upper-case key"
                );
                assert_eq!(
                    serde_json::to_value(variant).ok(),
                    Some(serde_json::Value::String(key.clone())),
                    "serde and database disagree on {key}"
                );
            }
        )+};
    }
    check!(
        InspectionSource,
        InspectionMode,
        FindingSeverity,
        FindingStatus,
        EnforcementActionKind,
        MonitoringMethod,
        MonitoringFrequency,
        ReportFrequency,
        ReadingSource,
        CandidateStatus
    );
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    assert!(Migrator::get_pending_migrations(db).await?.is_empty());
    check_indexes(db).await?;
    round_trip(db, "91130200699229617X").await?;

    // Rolling back the enforcement migration (and the migrations applied after it) keeps the
    // foundation and its rows.
    Migrator::down(db, Some(steps_to_undo("m20261128_000002_enforcement"))).await?;
    assert!(
        Inspectors::find().count(db).await.is_err(),
        "inspectors dropped"
    );
    assert!(
        Findings::find().count(db).await.is_err(),
        "findings dropped"
    );
    assert_eq!(count_rows(db, "units").await?, 1);

    Migrator::up(db, None).await?;
    assert_eq!(Inspections::find().count(db).await?, 0);
    round_trip(db, "91500000MA5U7XKP3C").await?;

    // Everything down, then up again: the rollback left nothing that blocks a fresh migration.
    Migrator::down(db, None).await?;
    assert!(Units::find().count(db).await.is_err(), "all tables dropped");
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    round_trip(db, "91130200699229617X").await?;
    Ok(())
}

/// The named indexes exist (unique ones are exercised by `round_trip`).
async fn check_indexes(db: &DatabaseConnection) -> TestResult {
    let manager = SchemaManager::new(db);
    for (table, name) in [
        ("inspectors", "idx_inspectors_agency_code"),
        (
            "inspector_conflicts",
            "uq_inspector_conflicts_inspector_unit",
        ),
        ("inspector_conflicts", "idx_inspector_conflicts_unit_id"),
        ("inspections", "idx_inspections_district_inspection_date"),
        ("inspections", "idx_inspections_unit_inspection_date"),
        ("inspections", "idx_inspections_campaign_id"),
        (
            "inspection_inspectors",
            "idx_inspection_inspectors_inspector_id",
        ),
        ("findings", "idx_findings_district_found_on_id"),
        ("findings", "idx_findings_violation_code_found_on_id"),
        ("findings", "idx_findings_permit_found_on_id"),
        ("findings", "idx_findings_unit_id"),
        ("findings", "idx_findings_status"),
        ("findings", "idx_findings_category_found_on_id"),
        ("findings", "idx_findings_inspection_id"),
        ("finding_evidence", "idx_finding_evidence_finding_id"),
        ("finding_transitions", "idx_finding_transitions_finding_id"),
        ("enforcement_actions", "idx_enforcement_actions_finding_id"),
        (
            "enforcement_actions",
            "idx_enforcement_actions_kind_decided_on",
        ),
    ] {
        assert!(
            manager.has_index(table, name).await?,
            "{table}.{name} missing"
        );
    }
    Ok(())
}

/// Writes one row through every enforcement entity (and the unit, permit and outlet they hang
/// on) and reads each back unchanged.
async fn round_trip(db: &DatabaseConnection, credit_code: &str) -> TestResult {
    let now: DateTime<Utc> = "2026-11-28T04:00:00Z".parse()?;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).ok_or("bad date");

    let unit = units::ActiveModel {
        id: NotSet,
        credit_code: Set(credit_code.into()),
        name: Set("重庆某某化工有限公司".into()),
        legal_representative: Set(None),
        contact_phone: Set(None),
        address: Set("重庆市长寿区化南一路1号".into()),
        district_code: Set("500115".into()),
        industry_code: Set("C2614".into()),
        management_category: Set(ManagementCategory::Key),
        credit_level: Set(CreditLevel::Good),
        positive_list: Set(false),
        positive_list_reason: Set(None),
        positive_list_expires_on: Set(None),
        longitude: Set(None),
        latitude: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let permit = permits::ActiveModel {
        id: NotSet,
        permit_number: Set(format!("{credit_code}001P")),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        issuing_agency_code: Set("500115-PMT".into()),
        management_category: Set(ManagementCategory::Key),
        status: Set(PermitStatus::Valid),
        issued_on: Set(day(2026, 1, 5)?),
        valid_from: Set(day(2026, 1, 5)?),
        valid_to: Set(day(2031, 1, 4)?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let outlet = outlets::ActiveModel {
        id: NotSet,
        permit_id: Set(permit.id),
        code: Set("DA001".into()),
        medium: Set(OutletMedium::Air),
        category: Set(OutletCategory::Main),
        name: Set(None),
        since_version: Set(1),
        retired_in_version: Set(None),
    }
    .insert(db)
    .await?;

    // Two inspectors, as a random-draw inspection has at least two.
    let mut crew = Vec::new();
    for (name, certificate) in [("李四", "50011520260001"), ("王五", "50011520260002")] {
        let inspector = inspectors::ActiveModel {
            id: NotSet,
            name: Set(name.into()),
            agency_code: Set("500115-ENF".into()),
            certificate_number: Set(certificate.into()),
            active: Set(true),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
        assert_eq!(
            Inspectors::find_by_id(inspector.id).one(db).await?,
            Some(inspector.clone())
        );
        crew.push(inspector);
    }
    let same_certificate = inspectors::ActiveModel {
        id: NotSet,
        name: Set("赵六".into()),
        ..crew[0].clone().into()
    };
    assert_unique_violation(
        same_certificate.insert(db).await.map(drop),
        "certificate_number",
    );

    let conflict = inspector_conflicts::ActiveModel {
        id: NotSet,
        inspector_id: Set(crew[1].id),
        unit_id: Set(unit.id),
        reason: Set("近亲属在该单位任职".into()),
        declared_on: Set(day(2026, 3, 1)?),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        InspectorConflicts::find_by_id(conflict.id).one(db).await?,
        Some(conflict.clone())
    );
    let again = inspector_conflicts::ActiveModel {
        id: NotSet,
        ..conflict.into()
    };
    assert_unique_violation(again.insert(db).await.map(drop), "(inspector_id, unit_id)");

    let inspection = inspections::ActiveModel {
        id: NotSet,
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        agency_code: Set("500115-ENF".into()),
        inspection_date: Set(day(2026, 6, 18)?),
        source: Set(InspectionSource::RandomDraw),
        mode: Set(InspectionMode::OnSite),
        // `campaign_id` has no foreign key, so any id is accepted.
        campaign_id: Set(Some(7)),
        materials_reviewed: Set(serde_json::json!(["EXECUTION_REPORT", "LEDGER"])),
        checklist: Set(serde_json::json!([
            { "item": "排放口规范化", "result": "PASS" },
            { "item": "自动监测联网", "result": "FAIL", "note": "DA001 数据中断" },
        ])),
        notes: Set(None),
        recorded_by_subject: Set("enforcer-1".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Inspections::find_by_id(inspection.id).one(db).await?,
        Some(inspection.clone())
    );

    for inspector in &crew {
        let link = inspection_inspectors::Model {
            inspection_id: inspection.id,
            inspector_id: inspector.id,
        };
        InspectionInspectors::insert(inspection_inspectors::ActiveModel::from(link.clone()))
            .exec_without_returning(db)
            .await?;
        assert_eq!(
            InspectionInspectors::find_by_id((inspection.id, inspector.id))
                .one(db)
                .await?,
            Some(link)
        );
    }
    let twice = InspectionInspectors::insert(inspection_inspectors::ActiveModel {
        inspection_id: Set(inspection.id),
        inspector_id: Set(crew[0].id),
    })
    .exec_without_returning(db)
    .await;
    assert_unique_violation(twice.map(drop), "(inspection_id, inspector_id)");
    let via_link = inspection
        .find_related(Inspectors)
        .order_by_asc(inspectors::Column::Id)
        .all(db)
        .await?;
    assert_eq!(via_link, crew);

    let finding = findings::ActiveModel {
        id: NotSet,
        inspection_id: Set(inspection.id),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        permit_id: Set(Some(permit.id)),
        violation_code: Set("EX-1".into()),
        category: Set(ViolationCategory::PermitViolation),
        found_on: Set(inspection.inspection_date),
        outlet_id: Set(Some(outlet.id)),
        limit_id: Set(None),
        permit_version: Set(None),
        pollutant: Set(Some("二氧化硫".into())),
        measured_value: Set(Some(87.5)),
        measured_unit: Set(Some("mg/m3".into())),
        permitted_value: Set(Some(50.0)),
        severity: Set(FindingSeverity::General),
        description: Set("DA001 二氧化硫小时均值超过许可浓度".into()),
        rectification_deadline: Set(Some(day(2026, 7, 18)?)),
        status: Set(FindingStatus::RectificationOrdered),
        version: Set(2),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Findings::find_by_id(finding.id).one(db).await?,
        Some(finding.clone())
    );
    let unknown_code = findings::ActiveModel {
        id: NotSet,
        violation_code: Set("XX-9".into()),
        ..finding.clone().into()
    };
    assert_foreign_key_violation(unknown_code.insert(db).await.map(drop), "violation_code");
    let (_, code) = Findings::find_by_id(finding.id)
        .find_also_related(ViolationCodes)
        .one(db)
        .await?
        .ok_or("finding vanished")?;
    assert_eq!(code.map(|c| c.category), Some(finding.category));
    assert_eq!(
        unit.find_related(Findings).all(db).await?,
        vec![finding.clone()]
    );
    assert_eq!(
        permit.find_related(Findings).all(db).await?,
        vec![finding.clone()]
    );
    assert_eq!(
        unit.find_related(Inspections).all(db).await?,
        vec![inspection.clone()]
    );

    let evidence = finding_evidence::ActiveModel {
        id: NotSet,
        finding_id: Set(finding.id),
        file_name: Set("DA001-在线监测截图.png".into()),
        media_type: Set("image/png".into()),
        size_bytes: Set(348_211),
        sha256: Set("ab".repeat(32)),
        captured_at: Set(Some("2026-06-18T02:15:00Z".parse()?)),
    }
    .insert(db)
    .await?;
    assert_eq!(
        FindingEvidence::find_by_id(evidence.id).one(db).await?,
        Some(evidence.clone())
    );

    let opened = finding_transitions::ActiveModel {
        id: NotSet,
        finding_id: Set(finding.id),
        from_status: Set(None),
        to_status: Set(FindingStatus::Open),
        reason: Set(None),
        reinspection_id: Set(None),
        actor_subject: Set("enforcer-1".into()),
        actor_agency: Set(Some("500115-ENF".into())),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let ordered = finding_transitions::ActiveModel {
        id: NotSet,
        finding_id: Set(finding.id),
        from_status: Set(Some(FindingStatus::Open)),
        to_status: Set(FindingStatus::RectificationOrdered),
        reason: Set(Some("责令限期改正".into())),
        reinspection_id: Set(Some(inspection.id)),
        actor_subject: Set("enforcer-1".into()),
        actor_agency: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        FindingTransitions::find_by_id(ordered.id).one(db).await?,
        Some(ordered.clone())
    );
    assert_eq!(
        finding
            .find_related(FindingTransitions)
            .order_by_asc(finding_transitions::Column::Id)
            .all(db)
            .await?,
        vec![opened, ordered]
    );

    let action = enforcement_actions::ActiveModel {
        id: NotSet,
        finding_id: Set(finding.id),
        kind: Set(EnforcementActionKind::DailyContinuousPenalty),
        decision_number: Set(format!("渝长环罚〔2026〕{}号", finding.id)),
        decided_on: Set(day(2026, 8, 1)?),
        amount_yuan: Set(Some(2_000_000)),
        days: Set(Some(10)),
        typical_case: Set(true),
        notes: Set(None),
        agency_code: Set("500115-ENF".into()),
        recorded_by_subject: Set("enforcer-1".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        EnforcementActions::find_by_id(action.id).one(db).await?,
        Some(action.clone())
    );
    assert_eq!(
        EnforcementActions::find()
            .filter(
                enforcement_actions::Column::Kind.eq(EnforcementActionKind::DailyContinuousPenalty)
            )
            .count(db)
            .await?,
        1
    );
    let same_number = enforcement_actions::ActiveModel {
        id: NotSet,
        kind: Set(EnforcementActionKind::Fine),
        ..action.into()
    };
    assert_unique_violation(same_number.insert(db).await.map(drop), "decision_number");

    // RESTRICT: an inspection with findings cannot be deleted. SQLite reports a RESTRICT
    // refusal as SQLITE_CONSTRAINT_TRIGGER (1811), which `DbErr::sql_err` does not classify as a
    // foreign-key violation, so the message is checked as well.
    let refused = Inspections::delete_by_id(inspection.id).exec(db).await;
    assert!(
        match &refused {
            Ok(_) => false,
            Err(err) => {
                matches!(
                    err.sql_err(),
                    Some(SqlErr::ForeignKeyConstraintViolation(_))
                ) || err.to_string().contains("FOREIGN KEY constraint failed")
            }
        },
        "an inspection with findings must not be deleted, got {refused:?}"
    );
    Ok(())
}
