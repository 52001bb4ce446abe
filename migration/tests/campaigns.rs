//! Runs all migrations up, rolls the campaign migration back (with any migration applied after
//! it), then everything, and up again, writing one row through each campaign entity every time
//! the tables exist and reading it back unchanged (so entity and migration cannot drift apart).
//! Also checks the unique keys, a few foreign keys, and the relations the entities declare,
//! including the campaign's inspections, which are related without a foreign key. Always on
//! in-memory SQLite; also on PostgreSQL when `TEST_DATABASE_URL` is set, in a database created
//! for the run and dropped after it.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::*;
use entity::prelude::*;
use entity::{
    campaign_phases, campaign_sampling_rules, campaigns, inspections, inspectors,
    random_draw_items, random_draws, summary_reports, units,
};
use migration::{Migrator, MigratorTrait, reference};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Database, DatabaseConnection, EntityTrait, Iterable,
    ModelTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde_json::json;

const CAMPAIGN: &str = "2021年重庆市排污许可专项执法行动";

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("campaigns", |db| async move { exercise(&db).await }).await
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
    check!(CampaignPhaseKind, SamplingPeriod, DrawKind);
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    assert!(Migrator::get_pending_migrations(db).await?.is_empty());
    check_indexes(db).await?;
    round_trip(db, "91130200699229617X").await?;

    // Rolling back the campaign migration (and the migrations applied after it) keeps the
    // enforcement tables and their rows, including the inspection that named a campaign, and the
    // index on `campaign_id`.
    Migrator::down(db, Some(steps_to_undo("m20261128_000003_campaigns"))).await?;
    for (table, gone) in [
        ("campaigns", Campaigns::find().count(db).await.is_err()),
        (
            "campaign_phases",
            CampaignPhases::find().count(db).await.is_err(),
        ),
        (
            "campaign_sampling_rules",
            CampaignSamplingRules::find().count(db).await.is_err(),
        ),
        ("random_draws", RandomDraws::find().count(db).await.is_err()),
        (
            "random_draw_items",
            RandomDrawItems::find().count(db).await.is_err(),
        ),
        (
            "summary_reports",
            SummaryReports::find().count(db).await.is_err(),
        ),
    ] {
        assert!(gone, "{table} dropped");
    }
    assert_eq!(Inspections::find().count(db).await?, 1);
    assert!(
        SchemaManager::new(db)
            .has_index("inspections", "idx_inspections_campaign_id")
            .await?
    );

    Migrator::up(db, None).await?;
    assert_eq!(Campaigns::find().count(db).await?, 0);
    check_indexes(db).await?;
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
        ("campaign_phases", "idx_campaign_phases_campaign_id"),
        (
            "campaign_sampling_rules",
            "uq_campaign_sampling_rules_campaign_category",
        ),
        ("random_draws", "idx_random_draws_district_drawn_at"),
        ("random_draws", "idx_random_draws_campaign_id"),
        ("random_draw_items", "idx_random_draw_items_draw_id"),
        ("random_draw_items", "idx_random_draw_items_unit_id"),
        ("summary_reports", "uq_summary_reports_campaign_district"),
        ("inspections", "idx_inspections_campaign_id"),
    ] {
        assert!(
            manager.has_index(table, name).await?,
            "{table}.{name} missing"
        );
    }
    Ok(())
}

/// Writes one row through every campaign entity (and the unit, inspectors and inspection they
/// refer to) and reads each back unchanged.
async fn round_trip(db: &DatabaseConnection, credit_code: &str) -> TestResult {
    let now: DateTime<Utc> = "2021-06-01T02:00:00Z".parse()?;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).ok_or("bad date");

    let unit = units::ActiveModel {
        id: NotSet,
        credit_code: Set(credit_code.into()),
        name: Set("重庆某某包装材料有限公司".into()),
        legal_representative: Set(None),
        contact_phone: Set(None),
        address: Set("重庆市长寿区晏家街道1号".into()),
        district_code: Set("500115".into()),
        industry_code: Set("C2231".into()),
        management_category: Set(ManagementCategory::Simplified),
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
    let mut crew = Vec::new();
    for (n, name) in ["李四", "王五"].into_iter().enumerate() {
        crew.push(
            inspectors::ActiveModel {
                id: NotSet,
                name: Set(name.into()),
                agency_code: Set("500115-ENF".into()),
                certificate_number: Set(format!("{credit_code}-{n}")),
                active: Set(true),
                created_at: Set(now),
            }
            .insert(db)
            .await?,
        );
    }
    let crew_ids = json!(crew.iter().map(|i| i.id).collect::<Vec<_>>());

    // The campaign, and its name is unique.
    let campaign = campaigns::ActiveModel {
        id: NotSet,
        name: Set(CAMPAIGN.into()),
        starts_on: Set(day(2021, 4, 1)?),
        ends_on: Set(day(2021, 11, 30)?),
        coverage_category: Set(ManagementCategory::Key),
        coverage_deadline: Set(day(2021, 10, 31)?),
        summary_deadline: Set(day(2021, 11, 30)?),
        created_by_subject: Set("municipal-enforcer".into()),
        created_by_agency: Set(Some("500000-ENF".into())),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        Campaigns::find_by_id(campaign.id).one(db).await?,
        Some(campaign.clone())
    );
    let same_name = campaigns::ActiveModel {
        id: NotSet,
        created_by_agency: Set(None),
        ..campaign.clone().into()
    };
    assert_unique_violation(same_name.insert(db).await.map(drop), "campaigns.name");
    // A second campaign, to show the composite keys below are per campaign.
    let other = campaigns::ActiveModel {
        id: NotSet,
        name: Set(format!("{CAMPAIGN}（第二批）")),
        ..campaign.clone().into()
    }
    .insert(db)
    .await?;

    // Phases, read back in order through the campaign.
    let mut phases = Vec::new();
    for (sort_order, (name, kind, starts_on, ends_on)) in [
        (
            "区县自查",
            CampaignPhaseKind::SelfInspection,
            day(2021, 4, 1)?,
            day(2021, 9, 30)?,
        ),
        (
            "市级联合抽查",
            CampaignPhaseKind::JointSpotCheck,
            day(2021, 10, 1)?,
            day(2021, 10, 31)?,
        ),
        (
            "总结",
            CampaignPhaseKind::Summary,
            day(2021, 11, 1)?,
            day(2021, 11, 30)?,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        phases.push(
            campaign_phases::ActiveModel {
                id: NotSet,
                campaign_id: Set(campaign.id),
                name: Set(name.into()),
                kind: Set(kind),
                starts_on: Set(starts_on),
                ends_on: Set(ends_on),
                sort_order: Set(i32::try_from(sort_order)?),
            }
            .insert(db)
            .await?,
        );
    }
    assert_eq!(
        campaign
            .find_related(CampaignPhases)
            .order_by_asc(campaign_phases::Column::SortOrder)
            .all(db)
            .await?,
        phases
    );
    let orphan = campaign_phases::ActiveModel {
        id: NotSet,
        campaign_id: Set(other.id + 1_000_000),
        ..phases[0].clone().into()
    };
    assert_foreign_key_violation(
        orphan.insert(db).await.map(drop),
        "campaign_phases.campaign_id",
    );

    // Sampling rules: one per (campaign, category).
    let rule = campaign_sampling_rules::ActiveModel {
        id: NotSet,
        campaign_id: Set(campaign.id),
        management_category: Set(ManagementCategory::Simplified),
        share: Set(0.1),
        period: Set(SamplingPeriod::Year),
    }
    .insert(db)
    .await?;
    assert_eq!(
        CampaignSamplingRules::find_by_id(rule.id).one(db).await?,
        Some(rule.clone())
    );
    let same_category = campaign_sampling_rules::ActiveModel {
        id: NotSet,
        share: Set(0.25),
        period: Set(SamplingPeriod::Quarter),
        ..rule.clone().into()
    };
    assert_unique_violation(
        same_category.insert(db).await.map(drop),
        "(campaign_id, management_category)",
    );
    campaign_sampling_rules::ActiveModel {
        id: NotSet,
        campaign_id: Set(other.id),
        ..rule.clone().into()
    }
    .insert(db)
    .await?;
    assert_eq!(
        campaign.find_related(CampaignSamplingRules).all(db).await?,
        vec![rule]
    );

    // A district draw of units with a two-inspector team, and its item.
    let unit_draw = random_draws::ActiveModel {
        id: NotSet,
        campaign_id: Set(Some(campaign.id)),
        district_code: Set(Some("500115".into())),
        kind: Set(DrawKind::Units),
        management_category: Set(Some(ManagementCategory::Simplified)),
        requested_count: Set(1),
        inspectors_per_unit: Set(2),
        seed: Set(u64::MAX.to_string()),
        algorithm_version: Set("weighted-sample-v1".into()),
        input_digest: Set("3f".repeat(32)),
        frozen_inputs: Set(json!({
            "units": [{ "unitId": unit.id, "weight": 1.5 }],
            "inspectors": crew_ids,
            "conflicts": [],
        })),
        result: Set(json!({
            "units": [{ "unitId": unit.id, "inspectorIds": crew_ids }],
        })),
        drawn_by_subject: Set("district-enforcer".into()),
        drawn_by_agency: Set(Some("500115-ENF".into())),
        drawn_at: Set(now),
        published: Set(false),
        published_on: Set(None),
    }
    .insert(db)
    .await?;
    assert_eq!(
        RandomDraws::find_by_id(unit_draw.id).one(db).await?,
        Some(unit_draw.clone())
    );
    let drawn = random_draw_items::ActiveModel {
        id: NotSet,
        draw_id: Set(unit_draw.id),
        unit_id: Set(Some(unit.id)),
        district_code: Set(None),
        group_label: Set(None),
        inspector_ids: Set(crew_ids.clone()),
        position: Set(1),
    }
    .insert(db)
    .await?;
    assert_eq!(
        unit_draw.find_related(RandomDrawItems).all(db).await?,
        vec![drawn.clone()]
    );
    assert_eq!(
        drawn.find_related(Units).one(db).await?.map(|u| u.id),
        Some(unit.id)
    );
    let unknown_unit = random_draw_items::ActiveModel {
        id: NotSet,
        unit_id: Set(Some(unit.id + 1_000_000)),
        ..drawn.clone().into()
    };
    assert_foreign_key_violation(
        unknown_unit.insert(db).await.map(drop),
        "random_draw_items.unit_id",
    );

    // A municipal draw of joint groups, published, and its group.
    let group_draw = random_draws::ActiveModel {
        id: NotSet,
        campaign_id: Set(Some(campaign.id)),
        district_code: Set(None),
        kind: Set(DrawKind::JointGroups),
        management_category: Set(None),
        requested_count: Set(1),
        inspectors_per_unit: Set(2),
        seed: Set("42".into()),
        algorithm_version: Set("weighted-sample-v1".into()),
        input_digest: Set("a0".repeat(32)),
        frozen_inputs: Set(json!({ "groups": ["第一组"], "districts": ["500115"] })),
        result: Set(json!({ "groups": [{ "label": "第一组", "districtCode": "500115" }] })),
        drawn_by_subject: Set("municipal-enforcer".into()),
        drawn_by_agency: Set(None),
        drawn_at: Set(now),
        published: Set(true),
        published_on: Set(Some(day(2021, 6, 15)?)),
    }
    .insert(db)
    .await?;
    assert_eq!(
        RandomDraws::find_by_id(group_draw.id).one(db).await?,
        Some(group_draw.clone())
    );
    let group = random_draw_items::ActiveModel {
        id: NotSet,
        draw_id: Set(group_draw.id),
        unit_id: Set(None),
        district_code: Set(Some("500115".into())),
        group_label: Set(Some("第一组".into())),
        inspector_ids: Set(crew_ids.clone()),
        position: Set(1),
    }
    .insert(db)
    .await?;
    assert_eq!(
        RandomDrawItems::find_by_id(group.id).one(db).await?,
        Some(group.clone())
    );
    assert_eq!(
        group.find_related(Districts).one(db).await?.map(|d| d.code),
        Some("500115".into())
    );
    let unknown_district = random_draw_items::ActiveModel {
        id: NotSet,
        district_code: Set(Some("509999".into())),
        ..group.into()
    };
    assert_foreign_key_violation(
        unknown_district.insert(db).await.map(drop),
        "random_draw_items.district_code",
    );
    assert_eq!(
        campaign
            .find_related(RandomDraws)
            .order_by_asc(random_draws::Column::Id)
            .all(db)
            .await?,
        vec![unit_draw.clone(), group_draw]
    );
    assert_eq!(
        RandomDraws::find()
            .filter(random_draws::Column::DistrictCode.eq("500115"))
            .filter(random_draws::Column::Kind.eq(DrawKind::Units))
            .all(db)
            .await?,
        vec![unit_draw]
    );

    // The summary report: one per (campaign, district).
    let report = summary_reports::ActiveModel {
        id: NotSet,
        campaign_id: Set(campaign.id),
        district_code: Set("500115".into()),
        snapshot: Set(json!({
            "coverage": { "KEY": { "units": 12, "inspected": 12 } },
            "findingsByCode": { "EX-1": 2, "RL-1": 1 },
            "fineYuan": 400000,
        })),
        submitted_by_subject: Set("district-enforcer".into()),
        submitted_by_agency: Set(Some("500115-ENF".into())),
        submitted_at: Set("2021-11-29T08:30:00Z".parse()?),
        late: Set(false),
    }
    .insert(db)
    .await?;
    assert_eq!(
        SummaryReports::find_by_id(report.id).one(db).await?,
        Some(report.clone())
    );
    let resubmitted = summary_reports::ActiveModel {
        id: NotSet,
        late: Set(true),
        ..report.clone().into()
    };
    assert_unique_violation(
        resubmitted.insert(db).await.map(drop),
        "(campaign_id, district_code)",
    );
    summary_reports::ActiveModel {
        id: NotSet,
        campaign_id: Set(other.id),
        ..report.clone().into()
    }
    .insert(db)
    .await?;
    assert_eq!(
        campaign.find_related(SummaryReports).all(db).await?,
        vec![report]
    );

    // An inspection under the campaign is related both ways, without a foreign key.
    let inspection = inspections::ActiveModel {
        id: NotSet,
        unit_id: Set(unit.id),
        district_code: Set(unit.district_code.clone()),
        agency_code: Set("500115-ENF".into()),
        inspection_date: Set(day(2021, 6, 18)?),
        source: Set(InspectionSource::SpecialCampaign),
        mode: Set(InspectionMode::OnSite),
        campaign_id: Set(Some(campaign.id)),
        materials_reviewed: Set(json!(["LEDGER"])),
        checklist: Set(json!([])),
        notes: Set(None),
        recorded_by_subject: Set("district-enforcer".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    // Filtered to this unit: after the campaign migration is rolled back and reapplied,
    // the earlier round's inspection still names campaign id 1, and with no foreign key nothing
    // stops it from attaching to the new campaign 1.
    assert_eq!(
        campaign
            .find_related(Inspections)
            .filter(inspections::Column::UnitId.eq(unit.id))
            .all(db)
            .await?,
        vec![inspection.clone()]
    );
    assert_eq!(
        inspection.find_related(Campaigns).one(db).await?,
        Some(campaign.clone())
    );

    // RESTRICT: a campaign with phases, rules, draws and reports cannot be deleted. SQLite
    // reports a RESTRICT refusal as SQLITE_CONSTRAINT_TRIGGER (1811), which `DbErr::sql_err`
    // does not classify as a foreign-key violation, so the message is checked as well.
    let refused = Campaigns::delete_by_id(campaign.id).exec(db).await;
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
        "a campaign with phases must not be deleted, got {refused:?}"
    );
    Ok(())
}
