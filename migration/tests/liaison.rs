//! Runs all migrations up, rolls the liaison migration back (with any migration applied after
//! it), then everything, and up again, writing rows through each liaison entity every time the
//! tables exist and reading them back unchanged (so entity and migration cannot drift apart).
//! Also checks that each composite primary key refuses a second row with the same key, a few
//! foreign keys, and the relations the entities declare, including the many-to-many ones through
//! `feedback_findings` and `feedback_permit_changes` and the two links from feedback to
//! agencies. Always on in-memory SQLite; also on PostgreSQL when `TEST_DATABASE_URL` is set, in
//! a database created for the run and dropped after it.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::*;
use entity::prelude::*;
use entity::{
    bulletin_acknowledgements, bulletin_links, bulletins, enforcement_actions, feedback,
    feedback_findings, feedback_permit_changes, findings, inspections, permits, units,
};
use migration::{Migrator, MigratorTrait, reference};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Database, DatabaseConnection, EntityTrait, Iterable,
    ModelTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};
use serde_json::json;

const LIAISON_TABLES: [&str; 6] = [
    "feedback",
    "feedback_findings",
    "feedback_permit_changes",
    "bulletins",
    "bulletin_links",
    "bulletin_acknowledgements",
];

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("liaison", |db| async move { exercise(&db).await }).await
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
    check!(FeedbackRecommendation, FeedbackStatus, BulletinKind);
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    let manager = SchemaManager::new(db);
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    assert!(Migrator::get_pending_migrations(db).await?.is_empty());
    check_indexes(db).await?;
    round_trip(db, "91130200699229617X").await?;

    // Rolling back the liaison migration (and the migrations applied after it) keeps the
    // findings, permits and actions the liaison rows pointed at.
    Migrator::down(db, Some(steps_to_undo("m20261128_000005_liaison"))).await?;
    for table in LIAISON_TABLES {
        assert!(!manager.has_table(table).await?, "{table} dropped");
    }
    // Counted by id: the entity has columns of later migrations.
    assert_eq!(
        Findings::find()
            .select_only()
            .column(findings::Column::Id)
            .count(db)
            .await?,
        1
    );
    assert_eq!(Permits::find().count(db).await?, 1);
    assert_eq!(EnforcementActions::find().count(db).await?, 1);

    Migrator::up(db, None).await?;
    for table in LIAISON_TABLES {
        assert!(manager.has_table(table).await?, "{table} recreated");
    }
    assert_eq!(Feedback::find().count(db).await?, 0);
    assert_eq!(Bulletins::find().count(db).await?, 0);
    check_indexes(db).await?;
    round_trip(db, "91500000MA5U7XKP3C").await?;

    // Everything down, then up again: the rollback left nothing that blocks a fresh migration.
    Migrator::down(db, None).await?;
    for table in LIAISON_TABLES.into_iter().chain(["findings", "agencies"]) {
        assert!(!manager.has_table(table).await?, "{table} dropped");
    }
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    round_trip(db, "91130200699229617X").await?;
    Ok(())
}

/// The named indexes exist (the composite primary keys are exercised by `round_trip`).
async fn check_indexes(db: &DatabaseConnection) -> TestResult {
    let manager = SchemaManager::new(db);
    for (table, name) in [
        ("feedback", "idx_feedback_addressed_agency_code"),
        ("feedback", "idx_feedback_poster_agency_code"),
        ("feedback", "idx_feedback_status"),
        ("feedback_findings", "idx_feedback_findings_finding_id"),
        (
            "feedback_permit_changes",
            "idx_feedback_permit_changes_permit_id",
        ),
        ("bulletins", "idx_bulletins_published_at"),
        ("bulletins", "idx_bulletins_kind"),
        ("bulletin_links", "idx_bulletin_links_bulletin_id"),
    ] {
        assert!(
            manager.has_index(table, name).await?,
            "{table}.{name} missing"
        );
    }
    Ok(())
}

/// Writes rows through every liaison entity (and the unit, permit, inspection, finding and
/// action they refer to) and reads each back unchanged.
async fn round_trip(db: &DatabaseConnection, credit_code: &str) -> TestResult {
    let now: DateTime<Utc> = "2026-11-28T04:00:00Z".parse()?;
    let later: DateTime<Utc> = "2026-12-03T09:30:00.123456Z".parse()?;
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
        credit_level: Set(CreditLevel::Warning),
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
    let inspection = inspections::ActiveModel {
        id: NotSet,
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        agency_code: Set("500115-ENF".into()),
        inspection_date: Set(day(2026, 6, 18)?),
        source: Set(InspectionSource::Routine),
        mode: Set(InspectionMode::OnSite),
        campaign_id: Set(None),
        materials_reviewed: Set(json!(["SELF_MONITORING_DATA"])),
        checklist: Set(json!([])),
        notes: Set(None),
        recorded_by_subject: Set("district-enforcer".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let finding = findings::ActiveModel {
        id: NotSet,
        inspection_id: Set(inspection.id),
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        permit_id: Set(Some(permit.id)),
        violation_code: Set("EX-1".into()),
        category: Set(ViolationCategory::PermitViolation),
        found_on: Set(inspection.inspection_date),
        outlet_id: Set(None),
        limit_id: Set(None),
        permit_version: Set(None),
        pollutant: Set(Some("化学需氧量".into())),
        measured_value: Set(Some(112.0)),
        measured_unit: Set(Some("mg/L".into())),
        permitted_value: Set(Some(100.0)),
        severity: Set(FindingSeverity::General),
        description: Set("DW001 化学需氧量日均值超过许可浓度".into()),
        rectification_deadline: Set(None),
        status: Set(FindingStatus::Penalised),
        version: Set(3),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let action = enforcement_actions::ActiveModel {
        id: NotSet,
        finding_id: Set(finding.id),
        kind: Set(EnforcementActionKind::Fine),
        decision_number: Set(format!("渝长环罚〔2026〕{credit_code}号")),
        decided_on: Set(day(2026, 8, 1)?),
        amount_yuan: Set(Some(300_000)),
        days: Set(None),
        typical_case: Set(true),
        notes: Set(None),
        agency_code: Set("500115-ENF".into()),
        recorded_by_subject: Set("district-enforcer".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;

    // A district enforcement detachment's feedback to its permit office, open.
    let posted = feedback::ActiveModel {
        id: NotSet,
        poster_subject: Set("district-enforcer".into()),
        poster_agency_code: Set(Some("500115-ENF".into())),
        poster_district_code: Set(Some("500115".into())),
        addressed_agency_code: Set("500115-PMT".into()),
        pattern_codes: Set(json!(["EX-1", "EV-3"])),
        pattern_industry: Set(Some("C2614".into())),
        pattern_district_code: Set(Some("500115".into())),
        period_from: Set(day(2026, 1, 1)?),
        period_to: Set(day(2026, 9, 30)?),
        figures: Set(json!([
            {
                "violationCode": "EX-1",
                "industry": "C2614",
                "districtCode": "500115",
                "findings": 3,
                "units": 2,
                "findingIds": [finding.id, 9_007_199_254_740_991_i64],
            },
            { "violationCode": "EV-3", "industry": "C2614", "findings": 0, "units": 0 },
        ])),
        recommendation: Set(FeedbackRecommendation::TightenPermitCondition),
        recommendation_text: Set("建议在许可证中增加废水总排口化学需氧量自动监测要求".into()),
        status: Set(FeedbackStatus::Open),
        answer_text: Set(None),
        answered_by_subject: Set(None),
        answered_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Feedback::find_by_id(posted.id).one(db).await?,
        Some(posted.clone())
    );
    // The permit office's answer.
    let answered = feedback::ActiveModel {
        status: Set(FeedbackStatus::Answered),
        answer_text: Set(Some("已对该单位许可证进行变更，增加自动监测要求".into())),
        answered_by_subject: Set(Some("district-permit-officer".into())),
        answered_at: Set(Some(later)),
        version: Set(2),
        updated_at: Set(later),
        ..posted.clone().into()
    }
    .update(db)
    .await?;
    assert_eq!(
        Feedback::find_by_id(posted.id).one(db).await?,
        Some(answered.clone())
    );
    // A municipal poster without an agency, on every industry and district.
    let municipal = feedback::ActiveModel {
        id: NotSet,
        poster_subject: Set("municipal-enforcer".into()),
        poster_agency_code: Set(None),
        poster_district_code: Set(None),
        addressed_agency_code: Set("500000-PMT".into()),
        pattern_codes: Set(json!(["EX-1"])),
        pattern_industry: Set(None),
        pattern_district_code: Set(None),
        period_from: Set(day(2026, 1, 1)?),
        period_to: Set(day(2026, 12, 31)?),
        figures: Set(json!([])),
        recommendation: Set(FeedbackRecommendation::Other),
        recommendation_text: Set("请研究".into()),
        status: Set(FeedbackStatus::Open),
        answer_text: Set(None),
        answered_by_subject: Set(None),
        answered_at: Set(None),
        version: Set(1),
        created_at: Set(later),
        updated_at: Set(later),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Feedback::find_by_id(municipal.id).one(db).await?,
        Some(municipal.clone())
    );
    let unknown_office = feedback::ActiveModel {
        id: NotSet,
        addressed_agency_code: Set("500115-NOPE".into()),
        ..municipal.clone().into()
    };
    assert_foreign_key_violation(
        unknown_office.insert(db).await.map(drop),
        "feedback.addressed_agency_code",
    );
    let unknown_district = feedback::ActiveModel {
        id: NotSet,
        pattern_district_code: Set(Some("509999".into())),
        ..municipal.clone().into()
    };
    assert_foreign_key_violation(
        unknown_district.insert(db).await.map(drop),
        "feedback.pattern_district_code",
    );
    // The permit office's inbox, through the addressed agency and the status.
    assert_eq!(
        Feedback::find()
            .filter(feedback::Column::AddressedAgencyCode.eq("500115-PMT"))
            .filter(feedback::Column::Status.eq(FeedbackStatus::Answered))
            .all(db)
            .await?,
        vec![answered.clone()]
    );
    assert_eq!(
        answered
            .find_linked(feedback::AddressedAgency)
            .one(db)
            .await?
            .map(|a| a.code),
        Some("500115-PMT".into())
    );
    assert_eq!(
        answered
            .find_linked(feedback::PosterAgency)
            .one(db)
            .await?
            .map(|a| a.code),
        Some("500115-ENF".into())
    );
    assert_eq!(
        municipal
            .find_linked(feedback::PosterAgency)
            .one(db)
            .await?,
        None
    );
    assert_eq!(
        answered
            .find_related(Districts)
            .one(db)
            .await?
            .map(|d| d.code),
        Some("500115".into())
    );

    // The findings a feedback rests on: one row per (feedback, finding).
    let rests_on = feedback_findings::Model {
        feedback_id: answered.id,
        finding_id: finding.id,
    };
    FeedbackFindings::insert(feedback_findings::ActiveModel::from(rests_on.clone()))
        .exec_without_returning(db)
        .await?;
    assert_eq!(
        FeedbackFindings::find_by_id((answered.id, finding.id))
            .one(db)
            .await?,
        Some(rests_on.clone())
    );
    let twice = FeedbackFindings::insert(feedback_findings::ActiveModel::from(rests_on.clone()))
        .exec_without_returning(db)
        .await;
    assert_unique_violation(twice.map(drop), "(feedback_id, finding_id)");
    // The same finding under another feedback is fine.
    FeedbackFindings::insert(feedback_findings::ActiveModel {
        feedback_id: Set(municipal.id),
        finding_id: Set(finding.id),
    })
    .exec_without_returning(db)
    .await?;
    let unknown_finding = FeedbackFindings::insert(feedback_findings::ActiveModel {
        feedback_id: Set(answered.id),
        finding_id: Set(finding.id + 1_000_000),
    })
    .exec_without_returning(db)
    .await;
    assert_foreign_key_violation(unknown_finding.map(drop), "feedback_findings.finding_id");
    assert_eq!(
        answered.find_related(FeedbackFindings).all(db).await?,
        vec![rests_on.clone()]
    );
    assert_eq!(
        answered.find_related(Findings).all(db).await?,
        vec![finding.clone()]
    );
    assert_eq!(
        finding
            .find_related(Feedback)
            .order_by_asc(feedback::Column::Id)
            .all(db)
            .await?,
        vec![answered.clone(), municipal.clone()]
    );
    assert_eq!(
        rests_on.find_related(Findings).one(db).await?.map(|f| f.id),
        Some(finding.id)
    );

    // The permit versions written in response: one row per (feedback, permit, version).
    let change = feedback_permit_changes::Model {
        feedback_id: answered.id,
        permit_id: permit.id,
        permit_version: 2,
    };
    FeedbackPermitChanges::insert(feedback_permit_changes::ActiveModel::from(change.clone()))
        .exec_without_returning(db)
        .await?;
    assert_eq!(
        FeedbackPermitChanges::find_by_id((answered.id, permit.id, 2))
            .one(db)
            .await?,
        Some(change.clone())
    );
    let twice =
        FeedbackPermitChanges::insert(feedback_permit_changes::ActiveModel::from(change.clone()))
            .exec_without_returning(db)
            .await;
    assert_unique_violation(twice.map(drop), "(feedback_id, permit_id, permit_version)");
    // The next version of the same permit is another row.
    let next = feedback_permit_changes::Model {
        permit_version: 3,
        ..change.clone()
    };
    FeedbackPermitChanges::insert(feedback_permit_changes::ActiveModel::from(next.clone()))
        .exec_without_returning(db)
        .await?;
    let unknown_permit = FeedbackPermitChanges::insert(feedback_permit_changes::ActiveModel {
        feedback_id: Set(answered.id),
        permit_id: Set(permit.id + 1_000_000),
        permit_version: Set(1),
    })
    .exec_without_returning(db)
    .await;
    assert_foreign_key_violation(
        unknown_permit.map(drop),
        "feedback_permit_changes.permit_id",
    );
    assert_eq!(
        answered
            .find_related(FeedbackPermitChanges)
            .order_by_asc(feedback_permit_changes::Column::PermitVersion)
            .all(db)
            .await?,
        vec![change.clone(), next]
    );
    // Through the junction a permit changed twice appears twice, and so does its feedback.
    assert_eq!(
        answered.find_related(Permits).all(db).await?,
        vec![permit.clone(), permit.clone()]
    );
    assert_eq!(
        permit.find_related(Feedback).all(db).await?,
        vec![answered.clone(), answered.clone()]
    );
    assert_eq!(
        change.find_related(Permits).one(db).await?.map(|p| p.id),
        Some(permit.id)
    );

    // A typical-case bulletin from municipal supervision, with its link and an acknowledgement.
    let bulletin = bulletins::ActiveModel {
        id: NotSet,
        kind: Set(BulletinKind::TypicalCase),
        title: Set("2026年第三批排污许可典型案例".into()),
        body: Set("长寿区某化工企业超标排放化学需氧量，处罚款30万元。".into()),
        public: Set(false),
        audience_agencies: Set(json!(["500115-PMT", "500115-ENF"])),
        audience_roles: Set(json!(["PERMIT_OFFICER", "ENFORCEMENT_OFFICER"])),
        audience_districts: Set(json!(["500115"])),
        publisher_subject: Set("municipal-supervisor".into()),
        publisher_agency_code: Set(Some("500000-SUP".into())),
        published_at: Set(later),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Bulletins::find_by_id(bulletin.id).one(db).await?,
        Some(bulletin.clone())
    );
    let roster = bulletins::ActiveModel {
        id: NotSet,
        kind: Set(BulletinKind::LiaisonRoster),
        title: Set("排污许可与执法联络员名单".into()),
        body: Set("总量处：……；执法总队：……".into()),
        public: Set(true),
        audience_agencies: Set(json!([])),
        audience_roles: Set(json!([])),
        audience_districts: Set(json!([])),
        publisher_subject: Set("admin".into()),
        publisher_agency_code: Set(None),
        published_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Bulletins::find_by_id(roster.id).one(db).await?,
        Some(roster.clone())
    );
    let unknown_publisher = bulletins::ActiveModel {
        id: NotSet,
        publisher_agency_code: Set(Some("500000-NOPE".into())),
        ..roster.clone().into()
    };
    assert_foreign_key_violation(
        unknown_publisher.insert(db).await.map(drop),
        "bulletins.publisher_agency_code",
    );
    assert_eq!(
        Bulletins::find()
            .filter(bulletins::Column::Kind.eq(BulletinKind::TypicalCase))
            .all(db)
            .await?,
        vec![bulletin.clone()]
    );
    assert_eq!(
        Bulletins::find()
            .order_by_desc(bulletins::Column::PublishedAt)
            .all(db)
            .await?,
        vec![bulletin.clone(), roster.clone()]
    );
    assert_eq!(
        bulletin
            .find_related(Agencies)
            .one(db)
            .await?
            .map(|a| a.code),
        Some("500000-SUP".into())
    );

    let link = bulletin_links::ActiveModel {
        id: NotSet,
        bulletin_id: Set(bulletin.id),
        finding_id: Set(Some(finding.id)),
        action_id: Set(Some(action.id)),
    }
    .insert(db)
    .await?;
    assert_eq!(
        BulletinLinks::find_by_id(link.id).one(db).await?,
        Some(link.clone())
    );
    let unknown_action = bulletin_links::ActiveModel {
        id: NotSet,
        finding_id: Set(None),
        action_id: Set(Some(action.id + 1_000_000)),
        ..link.clone().into()
    };
    assert_foreign_key_violation(
        unknown_action.insert(db).await.map(drop),
        "bulletin_links.action_id",
    );
    assert_eq!(
        bulletin.find_related(BulletinLinks).all(db).await?,
        vec![link.clone()]
    );
    assert_eq!(
        link.find_related(EnforcementActions)
            .one(db)
            .await?
            .map(|a| a.id),
        Some(action.id)
    );
    assert_eq!(
        link.find_related(Findings).one(db).await?.map(|f| f.id),
        Some(finding.id)
    );

    // One acknowledgement per (bulletin, agency).
    let ack = bulletin_acknowledgements::Model {
        bulletin_id: bulletin.id,
        agency_code: "500115-PMT".into(),
        acknowledged_by_subject: "district-permit-officer".into(),
        acknowledged_at: later,
    };
    BulletinAcknowledgements::insert(bulletin_acknowledgements::ActiveModel::from(ack.clone()))
        .exec_without_returning(db)
        .await?;
    assert_eq!(
        BulletinAcknowledgements::find_by_id((bulletin.id, "500115-PMT".to_owned()))
            .one(db)
            .await?,
        Some(ack.clone())
    );
    let twice = BulletinAcknowledgements::insert(bulletin_acknowledgements::ActiveModel {
        acknowledged_by_subject: Set("another-permit-officer".into()),
        ..ack.clone().into()
    })
    .exec_without_returning(db)
    .await;
    assert_unique_violation(twice.map(drop), "(bulletin_id, agency_code)");
    let unknown_agency = BulletinAcknowledgements::insert(bulletin_acknowledgements::ActiveModel {
        agency_code: Set("500115-NOPE".into()),
        ..ack.clone().into()
    })
    .exec_without_returning(db)
    .await;
    assert_foreign_key_violation(
        unknown_agency.map(drop),
        "bulletin_acknowledgements.agency_code",
    );
    assert_eq!(
        bulletin
            .find_related(BulletinAcknowledgements)
            .all(db)
            .await?,
        vec![ack.clone()]
    );
    assert_eq!(
        ack.find_related(Agencies).one(db).await?.map(|a| a.code),
        Some("500115-PMT".into())
    );
    assert_eq!(
        ack.find_related(Bulletins).one(db).await?,
        Some(bulletin.clone())
    );

    // RESTRICT: feedback with findings and a bulletin with links cannot be deleted, nor can an
    // action a bulletin reports. SQLite reports a RESTRICT refusal as SQLITE_CONSTRAINT_TRIGGER
    // (1811), which `DbErr::sql_err` does not classify as a foreign-key violation, so the message
    // is checked as well.
    for (what, refused) in [
        (
            "feedback with findings",
            Feedback::delete_by_id(answered.id).exec(db).await.map(drop),
        ),
        (
            "a bulletin with links",
            Bulletins::delete_by_id(bulletin.id)
                .exec(db)
                .await
                .map(drop),
        ),
        (
            "an action a bulletin reports",
            EnforcementActions::delete_by_id(action.id)
                .exec(db)
                .await
                .map(drop),
        ),
    ] {
        assert!(
            match &refused {
                Ok(()) => false,
                Err(err) => {
                    matches!(
                        err.sql_err(),
                        Some(SqlErr::ForeignKeyConstraintViolation(_))
                    ) || err.to_string().contains("FOREIGN KEY constraint failed")
                }
            },
            "{what} must not be deleted, got {refused:?}"
        );
    }
    Ok(())
}
