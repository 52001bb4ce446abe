//! The seed against real schemas: migrated in-memory SQLite databases with the reference data,
//! and a PostgreSQL database when `TEST_DATABASE_URL` is set.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;

use super::*;
use entity::enums::{
    CampaignPhaseKind, DrawKind, EnforcementActionKind, FindingStatus, InspectionMode,
    InspectionSource, SamplingPeriod, ViolationCategory,
};
use migration::MigratorTrait;
use permit_core::domain::clock::date_of;
use permit_core::domain::codes::{CreditCode, PermitNumber};
use permit_core::domain::permits::status_on;
use sea_orm::{Database, PaginatorTrait, Statement};

async fn fresh_db() -> DatabaseConnection {
    let db = Database::connect("sqlite::memory:")
        .await
        .expect("connect to in-memory SQLite");
    migration::Migrator::up(&db, None).await.expect("migrate");
    migration::reference::load(&db)
        .await
        .expect("load reference data");
    db
}

fn options(units: usize) -> SeedOptions {
    SeedOptions {
        units,
        seed: 2021,
        today: NaiveDate::from_ymd_opt(2025, 6, 30).expect("valid date"),
    }
}

/// Every table the seed writes, read back in id order.
#[derive(Debug, PartialEq)]
struct Dump {
    units: Vec<units::Model>,
    permits: Vec<permits::Model>,
    versions: Vec<permit_versions::Model>,
    outlets: Vec<outlets::Model>,
    limits: Vec<permit_limits::Model>,
    registrations: Vec<registrations::Model>,
    inspectors: Vec<inspectors::Model>,
    conflicts: Vec<inspector_conflicts::Model>,
    inspections: Vec<inspections::Model>,
    teams: Vec<inspection_inspectors::Model>,
    findings: Vec<findings::Model>,
    evidence: Vec<finding_evidence::Model>,
    transitions: Vec<finding_transitions::Model>,
    actions: Vec<enforcement_actions::Model>,
    campaigns: Vec<campaign_rows::Model>,
    phases: Vec<campaign_phases::Model>,
    rules: Vec<campaign_sampling_rules::Model>,
    draws: Vec<random_draws::Model>,
    draw_items: Vec<random_draw_items::Model>,
    reports: Vec<summary_reports::Model>,
    changes: Vec<change_events::Model>,
}

async fn dump(db: &DatabaseConnection) -> Dump {
    Dump {
        inspectors: inspectors::Entity::find()
            .order_by_asc(inspectors::Column::Id)
            .all(db)
            .await
            .expect("inspectors"),
        conflicts: inspector_conflicts::Entity::find()
            .order_by_asc(inspector_conflicts::Column::Id)
            .all(db)
            .await
            .expect("conflicts"),
        inspections: inspections::Entity::find()
            .order_by_asc(inspections::Column::Id)
            .all(db)
            .await
            .expect("inspections"),
        teams: inspection_inspectors::Entity::find()
            .order_by_asc(inspection_inspectors::Column::InspectionId)
            .order_by_asc(inspection_inspectors::Column::InspectorId)
            .all(db)
            .await
            .expect("inspection_inspectors"),
        findings: findings::Entity::find()
            .order_by_asc(findings::Column::Id)
            .all(db)
            .await
            .expect("findings"),
        evidence: finding_evidence::Entity::find()
            .order_by_asc(finding_evidence::Column::Id)
            .all(db)
            .await
            .expect("evidence"),
        transitions: finding_transitions::Entity::find()
            .order_by_asc(finding_transitions::Column::Id)
            .all(db)
            .await
            .expect("transitions"),
        actions: enforcement_actions::Entity::find()
            .order_by_asc(enforcement_actions::Column::Id)
            .all(db)
            .await
            .expect("actions"),
        units: units::Entity::find()
            .order_by_asc(units::Column::Id)
            .all(db)
            .await
            .expect("units"),
        permits: permits::Entity::find()
            .order_by_asc(permits::Column::Id)
            .all(db)
            .await
            .expect("permits"),
        versions: permit_versions::Entity::find()
            .order_by_asc(permit_versions::Column::Id)
            .all(db)
            .await
            .expect("versions"),
        outlets: outlets::Entity::find()
            .order_by_asc(outlets::Column::Id)
            .all(db)
            .await
            .expect("outlets"),
        limits: permit_limits::Entity::find()
            .order_by_asc(permit_limits::Column::Id)
            .all(db)
            .await
            .expect("limits"),
        registrations: registrations::Entity::find()
            .order_by_asc(registrations::Column::Id)
            .all(db)
            .await
            .expect("registrations"),
        campaigns: campaign_rows::Entity::find()
            .order_by_asc(campaign_rows::Column::Id)
            .all(db)
            .await
            .expect("campaigns"),
        phases: campaign_phases::Entity::find()
            .order_by_asc(campaign_phases::Column::Id)
            .all(db)
            .await
            .expect("phases"),
        rules: campaign_sampling_rules::Entity::find()
            .order_by_asc(campaign_sampling_rules::Column::Id)
            .all(db)
            .await
            .expect("rules"),
        draws: random_draws::Entity::find()
            .order_by_asc(random_draws::Column::Id)
            .all(db)
            .await
            .expect("draws"),
        draw_items: random_draw_items::Entity::find()
            .order_by_asc(random_draw_items::Column::Id)
            .all(db)
            .await
            .expect("draw items"),
        reports: summary_reports::Entity::find()
            .order_by_asc(summary_reports::Column::Id)
            .all(db)
            .await
            .expect("summary reports"),
        changes: change_events::Entity::find()
            .order_by_asc(change_events::Column::Id)
            .all(db)
            .await
            .expect("change events"),
    }
}

#[tokio::test]
async fn same_seed_gives_identical_rows_in_two_databases() {
    let opts = options(200);
    let (a, b) = (fresh_db().await, fresh_db().await);
    let report_a = seed_demo(&a, &opts).await.expect("seed a");
    let report_b = seed_demo(&b, &opts).await.expect("seed b");
    assert_eq!(report_a, report_b);
    assert!(!report_a.skipped);
    assert_eq!(report_a.units, 200);
    assert_eq!(report_a.permits + report_a.registrations, 200);

    let (dump_a, dump_b) = (dump(&a).await, dump(&b).await);
    assert_eq!(dump_a, dump_b);
    assert_eq!(dump_a.units.len(), 200);
    assert_eq!(dump_a.permits.len(), report_a.permits);
    assert_eq!(dump_a.versions.len(), report_a.permit_versions);
    assert_eq!(dump_a.outlets.len(), report_a.outlets);
    assert_eq!(dump_a.limits.len(), report_a.limits);
    assert_eq!(dump_a.registrations.len(), report_a.registrations);
    assert_eq!(dump_a.inspectors.len(), report_a.inspectors);
    assert_eq!(dump_a.conflicts.len(), report_a.inspector_conflicts);
    assert_eq!(dump_a.inspections.len(), report_a.inspections);
    assert_eq!(dump_a.findings.len(), report_a.findings);
    assert_eq!(dump_a.evidence.len(), report_a.finding_evidence);
    assert_eq!(dump_a.transitions.len(), report_a.finding_transitions);
    assert_eq!(dump_a.actions.len(), report_a.actions);
    assert!(report_a.inspections > 0 && report_a.findings > 0 && report_a.actions > 0);
    assert_eq!(dump_a.campaigns.len(), report_a.campaigns);
    assert_eq!(dump_a.draws.len(), report_a.draws);
    assert_eq!(dump_a.reports.len(), report_a.summary_reports);
    assert_eq!(dump_a.changes.len(), report_a.change_events);
    assert!(report_a.campaigns == 2 && report_a.draws > 0 && report_a.summary_reports > 0);

    // Statement size does not matter: tiny statements (a row or two each) give the same rows.
    let small = fresh_db().await;
    seed_with_param_limit(&small, &opts, Some(40))
        .await
        .expect("seed with small statements");
    assert_eq!(dump(&small).await, dump_a);

    // A different seed gives different data.
    let c = fresh_db().await;
    seed_demo(
        &c,
        &SeedOptions {
            seed: 7,
            ..opts.clone()
        },
    )
    .await
    .expect("seed c");
    assert_ne!(dump(&c).await.units, dump_a.units);
}

#[tokio::test]
async fn seeded_rows_are_valid() {
    let opts = options(200);
    let db = fresh_db().await;
    seed_demo(&db, &opts).await.expect("seed");
    let data = dump(&db).await;

    let names: HashSet<&str> = data.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names.len(), data.units.len(), "unit names are unique");
    for unit in &data.units {
        let code = CreditCode::parse(&unit.credit_code).expect("credit code parses");
        assert_eq!(
            &unit.credit_code[2..8],
            unit.district_code,
            "region code is the district"
        );
        assert!(unit.name.starts_with("重庆"), "{}", unit.name);
        assert!(unit.address.starts_with("重庆"), "{}", unit.address);
        assert_eq!(unit.positive_list, unit.positive_list_reason.is_some());
        assert_eq!(unit.positive_list, unit.positive_list_expires_on.is_some());
        assert!(names::industry(&unit.industry_code).is_some());
        let permits: Vec<_> = data
            .permits
            .iter()
            .filter(|p| p.unit_id == unit.id)
            .collect();
        let registrations: Vec<_> = data
            .registrations
            .iter()
            .filter(|r| r.unit_id == unit.id)
            .collect();
        match unit.management_category {
            ManagementCategory::Registration => {
                assert!(permits.is_empty());
                assert_eq!(registrations.len(), 1);
                assert_eq!(
                    registrations[0].registration_number,
                    registration_number(&code, 1)
                );
            }
            _ => {
                assert!(registrations.is_empty());
                assert_eq!(permits.len(), 1);
                assert_eq!(
                    permits[0].permit_number,
                    PermitNumber::new(&code, 1).expect("n").as_str()
                );
                assert_eq!(permits[0].management_category, unit.management_category);
                assert_eq!(permits[0].district_code, unit.district_code);
            }
        }
    }

    let today = opts.today;
    for permit in &data.permits {
        PermitNumber::parse(&permit.permit_number).expect("permit number parses");
        assert_eq!(
            permit.valid_to,
            default_valid_to(permit.valid_from),
            "five-year period"
        );
        assert!(permit.issued_on <= today && permit.valid_from <= today);
        match permit.status {
            PermitStatus::Valid => assert!(permit.valid_to >= today),
            PermitStatus::Expired => assert!(permit.valid_to < today),
            _ => {}
        }
        let versions: Vec<_> = data
            .versions
            .iter()
            .filter(|v| v.permit_id == permit.id)
            .collect();
        assert_eq!(versions.len() as i32, permit.version);
        assert_eq!(versions[0].change_kind, PermitChangeKind::Issued);
        for (i, v) in versions.iter().enumerate() {
            assert_eq!(v.version, i as i32 + 1);
            assert!(v.created_at.date_naive() <= today);
            if i > 0 {
                assert!(
                    v.created_at > versions[i - 1].created_at,
                    "history in order"
                );
                assert!(v.reason.is_some());
            }
        }
        let last = versions[versions.len() - 1];
        match permit.status {
            PermitStatus::Valid | PermitStatus::Expired => {
                assert_eq!(last.status, PermitStatus::Valid);
                assert_eq!(
                    (last.valid_from, last.valid_to),
                    (permit.valid_from, permit.valid_to)
                );
            }
            final_status => assert_eq!(last.status, final_status),
        }

        let outlets: Vec<_> = data
            .outlets
            .iter()
            .filter(|o| o.permit_id == permit.id)
            .collect();
        match permit.management_category {
            ManagementCategory::Key => {
                assert!((2..=6).contains(&outlets.len()));
                assert!(outlets.iter().any(|o| o.category == OutletCategory::Main));
            }
            _ => {
                assert!((1..=2).contains(&outlets.len()));
                assert!(
                    outlets
                        .iter()
                        .all(|o| o.category == OutletCategory::General)
                );
            }
        }
        for o in &outlets {
            let (_, medium) =
                permit_core::domain::codes::parse_outlet_code(&o.code).expect("outlet code");
            assert_eq!(
                medium == permit_core::domain::codes::OutletMediumCode::Air,
                o.medium == OutletMedium::Air
            );
            let limits = data.limits.iter().filter(|l| l.outlet_id == o.id).count();
            assert!((1..=4).contains(&limits), "{} has {limits} limits", o.code);
        }
        // The latest snapshot lists exactly the current outlets.
        let snapshot_codes: Vec<&str> = last
            .snapshot
            .as_array()
            .expect("snapshot is an array")
            .iter()
            .filter_map(|o| o["code"].as_str())
            .collect();
        let codes: Vec<&str> = outlets.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(snapshot_codes, codes);
    }
    for l in &data.limits {
        assert!(l.concentration_limit.is_some_and(|c| c > 0.0));
        assert!(l.annual_quantity_tpa.is_none_or(|q| q > 0.0));
    }
    for r in &data.registrations {
        assert!(r.registered_on < today && r.valid_to >= today);
    }
}

#[tokio::test]
async fn second_run_is_skipped_and_ids_continue_after_existing_rows() {
    let db = fresh_db().await;
    let first = seed_demo(&db, &options(30)).await.expect("first seed");
    assert!(!first.skipped);
    let second = seed_demo(&db, &options(30)).await.expect("second seed");
    assert_eq!(
        second,
        SeedReport {
            skipped: true,
            ..SeedReport::default()
        }
    );
    assert_eq!(units::Entity::find().count(&db).await.expect("count"), 30);

    // The ids the next seed would start after are those just written. (In-memory SQLite has a
    // single connection, so everything goes through the transaction.)
    let txn = db.begin().await.expect("txn");
    let ids = Ids::after_current(&txn).await.expect("ids");
    assert_eq!(ids.unit, 30);
    assert_eq!(ids.permit + ids.registration, 30);
    assert_eq!(
        ids.outlet as u64,
        outlets::Entity::find().count(&txn).await.expect("count")
    );
    assert_eq!(ids.inspector as usize, first.inspectors);
    assert_eq!(ids.inspection as usize, first.inspections);
    assert_eq!(ids.finding as usize, first.findings);
    assert_eq!(ids.transition as usize, first.finding_transitions);
    assert_eq!(ids.action as usize, first.actions);
}

#[test]
fn mix_follows_the_brief() {
    // Generation only (no database): the category and status mix of a larger sample.
    let mut key = 0;
    let mut registration = 0;
    let n = 20_000u64;
    for i in 0..n {
        let mut rng = Rng::stream(2021, i);
        match *rng.pick_weighted(&CATEGORIES) {
            ManagementCategory::Key => key += 1,
            ManagementCategory::Registration => registration += 1,
            ManagementCategory::Simplified => {}
        }
    }
    let share = |k: i32| f64::from(k) / n as f64;
    assert!((0.13..0.17).contains(&share(key)), "KEY {}", share(key));
    assert!((0.38..0.42).contains(&share(registration)));

    let today = NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    let mut counts = std::collections::HashMap::new();
    let mut expiring = 0;
    let mut renewed = 0;
    let mut rng = Rng::new(5);
    for _ in 0..n {
        let life = plan_life(&mut rng, today);
        let status = match life.end {
            Some((s, _, _)) => s,
            None if life.valid_to < today => PermitStatus::Expired,
            None => PermitStatus::Valid,
        };
        if status == PermitStatus::Valid && (life.valid_to - today).num_days() < 60 {
            expiring += 1;
        }
        renewed += i32::from(life.previous.is_some());
        *counts.entry(status).or_insert(0) += 1;
        assert!(life.issued_on <= today && life.valid_from <= today);
        if let Some((_, on, _)) = life.end {
            assert!(on <= today && on >= life.valid_from);
        }
    }
    let valid = share(counts[&PermitStatus::Valid]);
    assert!((0.88..0.92).contains(&valid), "VALID {valid}");
    assert!(
        (0.04..0.06).contains(&share(expiring)),
        "expiring {}",
        share(expiring)
    );
    assert!((0.04..0.06).contains(&share(counts[&PermitStatus::Expired])));
    assert!(share(renewed) > 0.05, "some renewals");
}

#[test]
fn organisation_check_matches_gb_11714() {
    // Weights 3 7 9 10 5 8 4 2; check = 11 − (Σ mod 11), 10 → X, 11 → 0.
    // 1·3 + 2·7 + 3·9 + 4·10 + 5·5 + 6·8 + 7·4 + 8·2 = 201 ≡ 3 → 8.
    assert_eq!(organisation_check("12345678"), '8');
    assert_eq!(organisation_check("00000000"), '0'); // Σ = 0 → 11 → 0
    assert_eq!(organisation_check("40000000"), 'X'); // Σ = 12 ≡ 1 → 10 → X
    assert_eq!(organisation_check("MA000000"), '7'); // M = 22, A = 10: 66 + 70 = 136 ≡ 4 → 7
}

// ---------------------------------------------------------------------------------------------
// Enforcement data

/// What the enforcement rows cover, for the coverage assertions.
#[derive(Debug, Default)]
struct Coverage {
    codes: BTreeSet<String>,
    statuses: BTreeSet<String>,
    sources: BTreeSet<String>,
    modes: BTreeSet<String>,
    kinds: BTreeSet<String>,
    inspections_with_findings: usize,
    inspections_by_category: BTreeMap<String, usize>,
    units_by_category: BTreeMap<String, usize>,
    typical_cases: usize,
    penalised_findings: usize,
    with_deadline: usize,
    /// Findings of ordinary inspections (desk reviews aside).
    ordinary_findings: usize,
    desk_findings: usize,
    desk_dismissed: usize,
}

fn key<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Checks every enforcement rule of the brief on a dumped data set; returns the coverage.
fn check_enforcement(
    data: &Dump,
    codes: &[violation_codes::Model],
    agency_rows: &[agencies::Model],
    today: NaiveDate,
) -> Coverage {
    let mut cov = Coverage::default();
    let now = chrono::Utc::now();
    let window_start = today - Duration::days(731);
    let agencies: HashMap<&str, &agencies::Model> =
        agency_rows.iter().map(|a| (a.code.as_str(), a)).collect();
    let units: HashMap<i64, &units::Model> = data.units.iter().map(|u| (u.id, u)).collect();
    let codes: HashMap<&str, &violation_codes::Model> =
        codes.iter().map(|c| (c.code.as_str(), c)).collect();
    let mut versions_of: HashMap<i64, Vec<permit_versions::Model>> = HashMap::new();
    for v in &data.versions {
        versions_of.entry(v.permit_id).or_default().push(v.clone());
    }
    let permits: HashMap<i64, &permits::Model> = data.permits.iter().map(|p| (p.id, p)).collect();
    let status = |permit: &permits::Model, date: NaiveDate| {
        status_on(
            permit,
            versions_of.get(&permit.id).map_or(&[][..], Vec::as_slice),
            date,
        )
    };

    // Inspectors: 6–20 per district detachment, 30 municipal, unique certificates, ~5% inactive.
    let inspectors: HashMap<i64, &inspectors::Model> =
        data.inspectors.iter().map(|i| (i.id, i)).collect();
    let mut per_agency: BTreeMap<&str, usize> = BTreeMap::new();
    let mut certificates = HashSet::new();
    for i in &data.inspectors {
        *per_agency.entry(i.agency_code.as_str()).or_default() += 1;
        assert!(
            certificates.insert(i.certificate_number.as_str()),
            "{}",
            i.certificate_number
        );
        let cert = &i.certificate_number;
        assert!((6..=32).contains(&cert.len()) && cert.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(cert.starts_with("CQ"), "{cert}");
        assert!(!i.name.is_empty() && i.name.chars().count() <= 50);
        assert!(
            date_of(i.created_at) < window_start,
            "listed before the inspections"
        );
        let agency = agencies[i.agency_code.as_str()];
        assert_eq!(agency.kind, AgencyKind::Enforcement);
    }
    for (agency, n) in &per_agency {
        if *agency == "500000-ENF" {
            assert_eq!(*n, 30);
        } else {
            assert!((6..=20).contains(n), "{agency} has {n} inspectors");
        }
    }
    let district_detachments = agency_rows
        .iter()
        .filter(|a| a.kind == AgencyKind::Enforcement && a.district_code.is_some())
        .count();
    assert_eq!(
        per_agency.len(),
        district_detachments + 1,
        "every detachment has a list"
    );
    let inactive = data.inspectors.iter().filter(|i| !i.active).count();
    let inactive_share = inactive as f64 / data.inspectors.len() as f64;
    assert!(
        (0.01..0.12).contains(&inactive_share),
        "inactive {inactive_share}"
    );

    // Conflicts: an inspector of the unit's district, a reason, one per pair.
    let mut conflicts = HashSet::new();
    for c in &data.conflicts {
        let inspector = inspectors[&c.inspector_id];
        let unit = units[&c.unit_id];
        assert_eq!(
            agencies[inspector.agency_code.as_str()]
                .district_code
                .as_deref(),
            Some(unit.district_code.as_str())
        );
        assert!(!c.reason.trim().is_empty() && !c.reason.is_ascii());
        assert!(c.declared_on <= today);
        assert!(conflicts.insert((c.inspector_id, c.unit_id)));
    }

    // Inspections and their teams.
    let mut teams: HashMap<i64, Vec<i64>> = HashMap::new();
    for t in &data.teams {
        teams
            .entry(t.inspection_id)
            .or_default()
            .push(t.inspector_id);
    }
    let inspections: HashMap<i64, &inspections::Model> =
        data.inspections.iter().map(|i| (i.id, i)).collect();
    let mut with_findings: HashSet<i64> = HashSet::new();
    let desk: HashSet<i64> = data
        .inspections
        .iter()
        .filter(|i| is_desk_review(i))
        .map(|i| i.id)
        .collect();
    for f in &data.findings {
        with_findings.insert(f.inspection_id);
    }
    for u in &data.units {
        *cov.units_by_category
            .entry(key(&u.management_category))
            .or_default() += 1;
    }
    // The 2021 campaign's own inspections are checked by `check_campaigns`; these are the two
    // years of ordinary enforcement.
    for i in &data.inspections {
        if campaign_own(data, i) {
            continue;
        }
        let unit = units[&i.unit_id];
        if is_desk_review(i) {
            assert_eq!(i.mode, InspectionMode::NonSite);
            assert_eq!(i.source, InspectionSource::Routine);
            assert!(i.campaign_id.is_none());
        } else {
            *cov.inspections_by_category
                .entry(key(&unit.management_category))
                .or_default() += 1;
        }
        cov.sources.insert(key(&i.source));
        cov.modes.insert(key(&i.mode));
        assert!(
            i.inspection_date >= window_start && i.inspection_date < today,
            "{}",
            i.inspection_date
        );
        assert!(
            i.inspection_date > date_of(unit.created_at),
            "inspected after it was on file"
        );
        assert!(i.created_at <= now && date_of(i.created_at) == i.inspection_date);
        assert_eq!(i.district_code, unit.district_code);
        let district_agency = format!("{}-ENF", unit.district_code);
        if i.source == InspectionSource::JointMunicipal {
            assert_eq!(i.agency_code, "500000-ENF");
        } else {
            assert!(i.agency_code == district_agency || i.agency_code == "500000-ENF");
        }
        // Special-campaign inspections belong to the seeded campaign of their day (this year's).
        let expected = data
            .campaigns
            .iter()
            .find(|c| c.starts_on <= i.inspection_date && i.inspection_date <= c.ends_on)
            .filter(|_| i.source == InspectionSource::SpecialCampaign)
            .map(|c| c.id);
        assert_eq!(i.campaign_id, expected, "inspection {}", i.id);
        assert_eq!(i.recorded_by_subject, SEED_SUBJECT);
        let materials = i.materials_reviewed.as_array().expect("materials array");
        let mut seen = HashSet::new();
        for m in materials {
            let m = m.as_str().expect("material is a string");
            assert!(
                permit_core::domain::inspections::MATERIALS.contains(&m),
                "{m}"
            );
            assert!(seen.insert(m), "{m} twice");
        }
        let checklist = i.checklist.as_array().expect("checklist array");
        assert!(!checklist.is_empty());
        for item in checklist {
            let obj = item.as_object().expect("checklist item object");
            assert!(
                obj["item"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty() && !s.is_ascii())
            );
            assert!(matches!(
                obj["result"].as_str(),
                Some("PASS" | "FAIL" | "NOT_APPLICABLE")
            ));
            assert!(obj["note"].is_null() || obj["note"].as_str().is_some());
        }
        // A FAIL is what a finding stands on, and the other way round.
        let fails = checklist.iter().filter(|c| c["result"] == "FAIL").count();
        assert_eq!(
            fails > 0,
            with_findings.contains(&i.id),
            "inspection {}",
            i.id
        );

        let team = teams.get(&i.id).cloned().unwrap_or_default();
        match i.mode {
            InspectionMode::OnSite => {
                assert!(team.len() >= 2, "inspection {} on site with {team:?}", i.id)
            }
            InspectionMode::NonSite => assert!(!team.is_empty()),
        }
        for id in &team {
            let inspector = inspectors[id];
            assert!(inspector.active, "inspector {id} is inactive");
            assert!(
                inspector.agency_code == district_agency || inspector.agency_code == "500000-ENF",
                "inspector {id} of {} at a unit of {}",
                inspector.agency_code,
                unit.district_code
            );
            assert!(
                !conflicts.contains(&(*id, unit.id)),
                "inspector {id} is recused from unit {}",
                unit.id
            );
        }
    }
    cov.inspections_with_findings = with_findings.difference(&desk).count();

    // Findings: the code fits the permit on the day.
    let outlets: HashMap<i64, &outlets::Model> = data.outlets.iter().map(|o| (o.id, o)).collect();
    let mut transitions: HashMap<i64, Vec<&finding_transitions::Model>> = HashMap::new();
    for t in &data.transitions {
        transitions.entry(t.finding_id).or_default().push(t);
    }
    let mut actions: HashMap<i64, Vec<&enforcement_actions::Model>> = HashMap::new();
    for a in &data.actions {
        actions.entry(a.finding_id).or_default().push(a);
    }
    let findings: HashMap<i64, &findings::Model> =
        data.findings.iter().map(|f| (f.id, f)).collect();
    for f in &data.findings {
        let inspection = inspections[&f.inspection_id];
        let unit = units[&f.unit_id];
        let code = codes[f.violation_code.as_str()];
        cov.codes.insert(f.violation_code.clone());
        cov.statuses.insert(key(&f.status));
        if desk.contains(&f.inspection_id) {
            // A desk review flags leads: no deadline, no action; open or dismissed.
            cov.desk_findings += 1;
            cov.desk_dismissed += usize::from(f.status == FindingStatus::Dismissed);
            assert!(f.rectification_deadline.is_none(), "finding {}", f.id);
            assert!(
                matches!(f.status, FindingStatus::Open | FindingStatus::Dismissed),
                "finding {}",
                f.id
            );
            assert!(!actions.contains_key(&f.id), "finding {}", f.id);
        } else {
            cov.ordinary_findings += 1;
            cov.with_deadline += usize::from(f.rectification_deadline.is_some());
        }
        assert_eq!(f.unit_id, inspection.unit_id);
        assert_eq!(f.district_code, inspection.district_code);
        assert_eq!(f.found_on, inspection.inspection_date);
        assert_eq!(f.category, code.category);
        assert!(!f.description.trim().is_empty() && !f.description.is_ascii());
        if let Some(deadline) = f.rectification_deadline {
            assert!((15..=90).contains(&(deadline - f.found_on).num_days()));
        }
        let unit_permits: Vec<&permits::Model> = data
            .permits
            .iter()
            .filter(|p| p.unit_id == unit.id)
            .collect();
        let valid_one = unit_permits
            .iter()
            .any(|p| status(p, f.found_on) == Some(PermitStatus::Valid));
        let named = f.permit_id.map(|id| {
            let p = permits[&id];
            assert_eq!(
                p.unit_id, unit.id,
                "finding {} names another unit's permit",
                f.id
            );
            (p, status(p, f.found_on))
        });
        match f.violation_code.as_str() {
            "NP-1" => {
                assert_ne!(unit.management_category, ManagementCategory::Registration);
                assert!(f.permit_id.is_none() && !valid_one, "finding {}", f.id);
            }
            "RG-1" => {
                assert_eq!(unit.management_category, ManagementCategory::Registration);
                assert!(f.permit_id.is_none());
            }
            "NP-2" => {
                let (_, s) = named.expect("NP-2 names the permit");
                assert_eq!(s, Some(PermitStatus::Expired), "finding {}", f.id);
                assert!(!valid_one);
            }
            "NP-3" => {
                let (p, s) = named.expect("NP-3 names the permit");
                assert!(matches!(
                    s,
                    Some(PermitStatus::Revoked | PermitStatus::Cancelled | PermitStatus::Withdrawn)
                ));
                let ended = versions_of[&p.id]
                    .iter()
                    .filter(|v| {
                        !matches!(
                            v.change_kind,
                            PermitChangeKind::Issued
                                | PermitChangeKind::Changed
                                | PermitChangeKind::Renewed
                        )
                    })
                    .map(|v| date_of(v.created_at))
                    .min()
                    .expect("a termination version");
                assert!(ended < f.found_on, "terminated before the finding");
                assert!(!valid_one);
            }
            other => {
                let (_, s) = named.unwrap_or_else(|| panic!("{other} names a permit"));
                assert_eq!(s, Some(PermitStatus::Valid), "finding {} ({other})", f.id);
            }
        }
        if let Some(outlet_id) = f.outlet_id {
            assert_eq!(Some(outlets[&outlet_id].permit_id), f.permit_id);
        }
        if f.violation_code == "EX-1" {
            let outlet_id = f.outlet_id.expect("EX-1 names the outlet");
            let pollutant = f.pollutant.as_deref().expect("EX-1 names the pollutant");
            let limit = data
                .limits
                .iter()
                .find(|l| l.outlet_id == outlet_id && l.pollutant == pollutant)
                .expect("a limit for that pollutant at that outlet");
            let permitted = limit.concentration_limit.expect("a concentration limit");
            assert_eq!(f.measured_unit, limit.concentration_unit);
            assert_eq!(f.permitted_value, Some(permitted));
            let measured = f.measured_value.expect("measured value");
            assert!(
                measured > permitted && measured <= permitted * 4.0,
                "{measured} vs {permitted}"
            );
        } else {
            assert!(f.measured_value.is_none() && f.pollutant.is_none());
        }

        // History: OPEN first, moves the state machine allows, in time order.
        let history = &transitions[&f.id];
        assert_eq!(history[0].from_status, None);
        assert_eq!(history[0].to_status, FindingStatus::Open);
        assert_eq!(history[0].created_at, f.created_at);
        for pair in history.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert_eq!(b.from_status, Some(a.to_status));
            permit_core::domain::findings::transition(a.to_status, b.to_status)
                .unwrap_or_else(|e| panic!("finding {}: {e:?}", f.id));
            assert!(
                b.created_at > a.created_at,
                "finding {} history out of order",
                f.id
            );
        }
        for t in history {
            assert!(date_of(t.created_at) >= f.found_on && t.created_at <= now);
            assert!(date_of(t.created_at) < today);
            assert_eq!(t.actor_subject, SEED_SUBJECT);
            assert_eq!(
                t.actor_agency.as_deref(),
                Some(inspection.agency_code.as_str())
            );
            if t.to_status == FindingStatus::Rectified {
                let re = inspections[&t
                    .reinspection_id
                    .expect("RECTIFIED names the re-inspection")];
                assert_eq!(re.unit_id, f.unit_id);
                assert!(
                    re.inspection_date > f.found_on && re.inspection_date <= date_of(t.created_at)
                );
            } else {
                assert!(t.reinspection_id.is_none());
            }
            if t.to_status == FindingStatus::Dismissed {
                assert!(t.reason.as_deref().is_some_and(|r| !r.trim().is_empty()));
            }
        }
        let last = history[history.len() - 1];
        assert_eq!(f.status, last.to_status);
        assert_eq!(f.version as usize, history.len());
        assert_eq!(f.updated_at, last.created_at);
        let reached = |s: FindingStatus| history.iter().find(|t| t.to_status == s);

        // Actions: what each kind needs of the finding's history.
        let own: Vec<&enforcement_actions::Model> = actions.get(&f.id).cloned().unwrap_or_default();
        let orders = own
            .iter()
            .filter(|a| a.kind == EnforcementActionKind::CorrectionOrder)
            .count();
        match reached(FindingStatus::RectificationOrdered) {
            Some(t) => {
                assert_eq!(orders, 1, "finding {}", f.id);
                let order = own
                    .iter()
                    .find(|a| a.kind == EnforcementActionKind::CorrectionOrder);
                assert_eq!(order.map(|a| a.decided_on), Some(date_of(t.created_at)));
            }
            None => assert_eq!(orders, 0),
        }
        let is_penalty = |k: EnforcementActionKind| {
            !matches!(
                k,
                EnforcementActionKind::CorrectionOrder | EnforcementActionKind::PoliceReferral
            )
        };
        let penalties: Vec<&&enforcement_actions::Model> =
            own.iter().filter(|a| is_penalty(a.kind)).collect();
        match reached(FindingStatus::Penalised) {
            Some(t) => {
                cov.penalised_findings += 1;
                let first = penalties
                    .iter()
                    .map(|a| a.decided_on)
                    .min()
                    .expect("a penalty");
                assert_eq!(
                    first,
                    date_of(t.created_at),
                    "PENALISED on the decision day"
                );
                let cited = t.reason.as_deref().unwrap_or_default();
                assert!(
                    penalties.iter().any(|a| cited.contains(&a.decision_number)),
                    "PENALISED cites its decision: {cited}"
                );
                if code.fine_max.is_some() {
                    assert!(
                        penalties
                            .iter()
                            .any(|a| a.kind == EnforcementActionKind::Fine)
                    );
                }
            }
            None => assert!(
                penalties.is_empty(),
                "finding {} penalised without PENALISED",
                f.id
            ),
        }
        let filed = reached(FindingStatus::CaseFiled).map(|t| date_of(t.created_at));
        for a in &own {
            cov.kinds.insert(key(&a.kind));
            cov.typical_cases += usize::from(a.typical_case);
            assert_eq!(a.agency_code, inspection.agency_code);
            assert_eq!(a.recorded_by_subject, SEED_SUBJECT);
            assert!(a.decided_on >= f.found_on && a.decided_on < today);
            assert!(a.created_at <= now);
            if is_penalty(a.kind) || a.kind == EnforcementActionKind::PoliceReferral {
                assert!(
                    filed.is_some_and(|d| a.decided_on >= d),
                    "decided after the case was filed"
                );
            }
            if !matches!(
                a.kind,
                EnforcementActionKind::Fine | EnforcementActionKind::DailyContinuousPenalty
            ) {
                assert!(a.amount_yuan.is_none());
            }
            if a.kind != EnforcementActionKind::DailyContinuousPenalty {
                assert!(a.days.is_none());
            }
            match a.kind {
                EnforcementActionKind::Fine => {
                    let amount = a.amount_yuan.expect("a fine has an amount");
                    let max = code
                        .fine_max
                        .expect("a FINE only where the article has a maximum");
                    assert!(
                        amount >= code.fine_min.unwrap_or(0) && amount <= max,
                        "{amount} outside {:?}–{max} for {}",
                        code.fine_min,
                        code.code
                    );
                }
                EnforcementActionKind::DailyContinuousPenalty => {
                    let fine = own
                        .iter()
                        .find(|b| b.kind == EnforcementActionKind::Fine && b.id < a.id)
                        .expect("a daily continuous penalty follows a fine");
                    assert_eq!(a.amount_yuan, fine.amount_yuan);
                    assert!(a.decided_on > fine.decided_on);
                    assert!(a.days.is_some_and(|d| (2..=30).contains(&d)));
                }
                EnforcementActionKind::PoliceReferral => {
                    assert!(f.violation_code.starts_with("EV"), "{}", f.violation_code);
                }
                EnforcementActionKind::PermitWithdrawal => {
                    assert!(f.violation_code == "EX-1" || f.violation_code.starts_with("EV"));
                    let permit = permits[&f.permit_id.expect("a withdrawal names the permit")];
                    assert_eq!(permit.status, PermitStatus::Withdrawn);
                    let version = versions_of[&permit.id]
                        .iter()
                        .find(|v| v.change_kind == PermitChangeKind::Withdrawn)
                        .expect("a WITHDRAWN version");
                    assert_eq!(date_of(version.created_at), a.decided_on);
                    assert_eq!(version.status, PermitStatus::Withdrawn);
                }
                _ => {}
            }
        }
    }

    // Decision numbers are unique; actions belong to findings.
    let mut numbers = HashSet::new();
    for a in &data.actions {
        assert!(findings.contains_key(&a.finding_id));
        assert!(
            numbers.insert(a.decision_number.as_str()),
            "{}",
            a.decision_number
        );
        assert!(a.decision_number.ends_with('号') && a.decision_number.chars().count() <= 64);
    }

    // Evidence: metadata with a hash, captured on the inspection day.
    for e in &data.evidence {
        let f = findings[&e.finding_id];
        assert_eq!(e.sha256.len(), 64);
        assert!(
            e.sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert!(e.size_bytes > 0 && e.media_type.contains('/') && !e.file_name.is_empty());
        let captured = e.captured_at.expect("captured_at");
        assert_eq!(date_of(captured), f.found_on, "evidence {}", e.id);
        assert!(captured <= f.created_at);
    }
    cov
}

/// Whether an inspection is one the 2021 campaign recorded itself (self-inspections, draws and
/// joint checks), not an ordinary special-campaign inspection that fell in its period.
fn campaign_own(data: &Dump, i: &inspections::Model) -> bool {
    let Some(c21) = data
        .campaigns
        .iter()
        .find(|c| c.name == names::CAMPAIGN_2021_NAME)
    else {
        return false;
    };
    i.campaign_id == Some(c21.id)
        && (i.source != InspectionSource::SpecialCampaign
            || i.notes
                .as_deref()
                .is_some_and(|n| names::PERMIT_CAMPAIGN_NOTES.contains(&n)))
}

fn is_desk_review(i: &inspections::Model) -> bool {
    i.notes.as_deref() == Some(super::reviews::DESK_REVIEW_NOTE)
}

/// The inspections of ordinary enforcement: all but the 2021 campaign's own and the desk
/// reviews.
fn ordinary_inspections(data: &Dump) -> Vec<&inspections::Model> {
    data.inspections
        .iter()
        .filter(|i| !campaign_own(data, i) && !is_desk_review(i))
        .collect()
}

async fn reference(db: &DatabaseConnection) -> (Vec<violation_codes::Model>, Vec<agencies::Model>) {
    (
        violation_codes::Entity::find()
            .all(db)
            .await
            .expect("codes"),
        agencies::Entity::find().all(db).await.expect("agencies"),
    )
}

fn assert_coverage(cov: &Coverage, data: &Dump, codes: &[violation_codes::Model]) {
    let all_codes: BTreeSet<String> = codes.iter().map(|c| c.code.clone()).collect();
    assert_eq!(all_codes.len(), 27);
    let missing: Vec<&String> = all_codes.difference(&cov.codes).collect();
    assert!(missing.is_empty(), "codes never found: {missing:?}");
    assert_eq!(cov.statuses.len(), 7, "statuses: {:?}", cov.statuses);
    assert_eq!(cov.sources.len(), 7, "sources: {:?}", cov.sources);
    assert_eq!(cov.modes.len(), 2);
    assert_eq!(cov.kinds.len(), 8, "action kinds: {:?}", cov.kinds);
    assert!(!data.conflicts.is_empty(), "some declared conflicts");
    assert!(!data.evidence.is_empty());

    // About 0.6 inspections a unit, more for KEY units; findings on about 30% of them (the
    // 2021 campaign's inspections aside).
    let ordinary = ordinary_inspections(data);
    let per_unit = ordinary.len() as f64 / data.units.len() as f64;
    assert!(
        (0.45..0.8).contains(&per_unit),
        "{per_unit} inspections a unit"
    );
    let rate = |category: &str| {
        cov.inspections_by_category
            .get(category)
            .copied()
            .unwrap_or(0) as f64
            / cov.units_by_category.get(category).copied().unwrap_or(1) as f64
    };
    assert!(
        rate("KEY") > 1.2 && rate("KEY") > 2.0 * rate("SIMPLIFIED"),
        "{cov:?}"
    );
    assert!(rate("SIMPLIFIED") > rate("REGISTRATION"));
    let share = cov.inspections_with_findings as f64 / ordinary.len() as f64;
    assert!(
        (0.2..0.4).contains(&share),
        "findings on {share} of inspections"
    );
    let per_inspection = cov.ordinary_findings as f64 / cov.inspections_with_findings as f64;
    assert!((1.0..=3.0).contains(&per_inspection));
    assert!(cov.with_deadline as f64 > 0.6 * cov.ordinary_findings as f64);
    // The desk reviews bring the volume: about ten findings a unit in all.
    let per_unit = data.findings.len() as f64 / data.units.len() as f64;
    assert!(
        (7.0..13.0).contains(&per_unit),
        "{per_unit} findings a unit"
    );
    let dismissed = cov.desk_dismissed as f64 / cov.desk_findings.max(1) as f64;
    assert!(
        (0.3..0.6).contains(&dismissed),
        "{dismissed} of desk findings dismissed"
    );
    let on_site = ordinary
        .iter()
        .filter(|i| i.mode == InspectionMode::OnSite)
        .count() as f64
        / ordinary.len() as f64;
    assert!((0.65..0.95).contains(&on_site), "on site {on_site}");
    let typical = cov.typical_cases as f64 / cov.penalised_findings.max(1) as f64;
    assert!(
        cov.typical_cases > 0 && typical < 0.15,
        "typical cases {typical}"
    );
    let categories: BTreeSet<String> = data.findings.iter().map(|f| key(&f.category)).collect();
    assert_eq!(categories.len(), 4);
    let _ = ViolationCategory::UnpermittedDischarge; // the four of plan §3
}

#[tokio::test]
async fn enforcement_rows_obey_the_rules() {
    let opts = options(2000);
    let db = fresh_db().await;
    let report = seed_demo(&db, &opts).await.expect("seed");
    let data = dump(&db).await;
    let (codes, agency_rows) = reference(&db).await;
    let cov = check_enforcement(&data, &codes, &agency_rows, opts.today);
    assert_coverage(&cov, &data, &codes);
    assert_eq!(report.inspections, data.inspections.len());
    assert_eq!(report.actions, data.actions.len());
}

/// The same on PostgreSQL (when `TEST_DATABASE_URL` is set), in a database of its own: the rows
/// are the very rows SQLite gets, the rules hold, and the id sequences moved past the seed.
#[tokio::test]
async fn postgres_gets_the_same_rows_and_sequences_move_on() {
    let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant not run");
        return;
    };
    let name = format!("pe_seed_test_{}", std::process::id());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .await
        .expect("drop old test database");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    let url = match admin_url.rfind('/') {
        Some(slash) if admin_url[..slash].ends_with('/') => format!("{admin_url}/{name}"),
        Some(slash) => format!("{}/{name}", &admin_url[..slash]),
        None => format!("{admin_url}/{name}"),
    };
    let outcome = async move {
        let db = Database::connect(&url)
            .await
            .expect("connect test database");
        migration::Migrator::up(&db, None).await.expect("migrate");
        migration::reference::load(&db)
            .await
            .expect("reference data");
        let opts = options(2000);
        let started = std::time::Instant::now();
        let report = seed_demo(&db, &opts).await.expect("seed");
        eprintln!(
            "2000 units on PostgreSQL (this build): {:?}",
            started.elapsed()
        );
        let mut data = dump(&db).await;
        let (codes, agency_rows) = reference(&db).await;
        let cov = check_enforcement(&data, &codes, &agency_rows, opts.today);
        assert_coverage(&cov, &data, &codes);
        check_campaigns(&db, &data, &report, opts.today).await;

        // The feed carries the ids of the transactions that wrote it (in chunks), as the service
        // writes them.
        let txid = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT MIN(txid) AS lo, MAX(txid) AS hi FROM change_events".to_owned(),
            ))
            .await
            .expect("txid query")
            .expect("a row");
        let (lo, hi): (i64, i64) = (
            txid.try_get("", "lo").expect("lo"),
            txid.try_get("", "hi").expect("hi"),
        );
        assert!(lo > 0 && lo <= hi, "transaction ids: {lo}..{hi}");
        for c in &mut data.changes {
            c.txid = 0;
        }

        let sqlite = fresh_db().await;
        seed_demo(&sqlite, &opts).await.expect("seed sqlite");
        assert!(
            dump(&sqlite).await == data,
            "PostgreSQL and SQLite rows differ"
        );

        for table in [
            "units",
            "permits",
            "inspectors",
            "inspector_conflicts",
            "inspections",
            "findings",
            "finding_evidence",
            "finding_transitions",
            "enforcement_actions",
            "campaigns",
            "campaign_phases",
            "campaign_sampling_rules",
            "random_draws",
            "random_draw_items",
            "summary_reports",
            "change_events",
        ] {
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!(
                        "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) > \
                         (SELECT MAX(id) FROM {table}) AS moved"
                    ),
                ))
                .await
                .expect("sequence query")
                .expect("a row");
            let moved: bool = row.try_get("", "moved").expect("moved");
            assert!(
                moved,
                "the {table} sequence was not moved past the seeded ids"
            );
        }
        db.close().await.expect("close");
    };
    // Drop the database whatever happened, then report.
    let result = tokio::spawn(outcome).await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop test database");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}

// ---------------------------------------------------------------------------------------------
// Campaigns, draws, summary reports and the change feed

fn supervisor() -> permit_core::auth::Principal {
    permit_core::auth::Principal {
        subject: "test:supervisor".to_owned(),
        role: permit_core::auth::Role::Supervisor,
        agency_code: Some("500000-SUP".to_owned()),
        district: None,
        request: permit_core::auth::RequestTag::default(),
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// 2021 coverage per district as the plan means it: KEY units on file by the deadline, and
/// which of them an inspection counts for (linked to the campaign, or dated in the period up to
/// the deadline). Returns district → (in scope, inspected).
fn coverage_2021(data: &Dump, campaign: &campaign_rows::Model) -> BTreeMap<String, (i64, i64)> {
    let counted: HashSet<i64> = data
        .inspections
        .iter()
        .filter(|i| {
            i.campaign_id == Some(campaign.id)
                || (campaign.starts_on <= i.inspection_date
                    && i.inspection_date <= campaign.coverage_deadline)
        })
        .map(|i| i.unit_id)
        .collect();
    let mut per_district: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for u in &data.units {
        if u.management_category != ManagementCategory::Key
            || date_of(u.created_at) >= campaign.coverage_deadline
        {
            continue;
        }
        let entry = per_district.entry(u.district_code.clone()).or_default();
        entry.0 += 1;
        entry.1 += i64::from(counted.contains(&u.id));
    }
    per_district
}

/// Checks the campaigns, the 2021 campaign's inspections, draws and reports, and the change
/// feed, on a dumped data set seeded as of `today` (after 2021).
async fn check_campaigns(
    db: &DatabaseConnection,
    data: &Dump,
    report: &SeedReport,
    today: NaiveDate,
) {
    // The two campaigns, their phases and sampling rules.
    assert_eq!(data.campaigns.len(), 2);
    assert_eq!(report.campaigns, 2);
    let c21 = &data.campaigns[0];
    let current = &data.campaigns[1];
    assert_eq!(c21.name, "2021年排污许可专项执法行动");
    assert_eq!(
        (
            c21.starts_on,
            c21.ends_on,
            c21.coverage_deadline,
            c21.summary_deadline
        ),
        (
            day(2021, 4, 1),
            day(2021, 11, 30),
            day(2021, 9, 30),
            day(2021, 11, 30)
        )
    );
    let year = today.year();
    assert_eq!(current.name, format!("{year}年排污许可证后监管专项行动"));
    assert_eq!(
        (
            current.starts_on,
            current.ends_on,
            current.coverage_deadline,
            current.summary_deadline
        ),
        (
            day(year, 1, 1),
            day(year, 12, 31),
            day(year, 12, 31),
            day(year, 12, 15)
        )
    );
    for c in &data.campaigns {
        assert_eq!(c.coverage_category, ManagementCategory::Key);
        assert_eq!(c.created_by_subject, SEED_SUBJECT);
        assert_eq!(c.created_by_agency.as_deref(), Some("500000-SUP"));
        assert!(date_of(c.created_at) < c.starts_on);
        let phases: Vec<&campaign_phases::Model> = data
            .phases
            .iter()
            .filter(|p| p.campaign_id == c.id)
            .collect();
        let shape: Vec<(&str, CampaignPhaseKind, i32)> = phases
            .iter()
            .map(|p| (p.name.as_str(), p.kind, p.sort_order))
            .collect();
        assert_eq!(
            shape,
            [
                ("区县自查", CampaignPhaseKind::SelfInspection, 1),
                ("市级联合抽查", CampaignPhaseKind::JointSpotCheck, 2),
                ("总结", CampaignPhaseKind::Summary, 3),
            ]
        );
        assert_eq!(phases[0].starts_on, c.starts_on);
        assert_eq!(phases[0].ends_on, day(c.starts_on.year(), 9, 30));
        assert_eq!(
            (phases[1].starts_on, phases[1].ends_on),
            (
                day(c.starts_on.year(), 10, 1),
                day(c.starts_on.year(), 10, 31)
            )
        );
        assert_eq!(phases[2].ends_on, c.summary_deadline);
        let rules: Vec<(ManagementCategory, f64, SamplingPeriod)> = data
            .rules
            .iter()
            .filter(|r| r.campaign_id == c.id)
            .map(|r| (r.management_category, r.share, r.period))
            .collect();
        assert_eq!(
            rules,
            [
                (
                    ManagementCategory::Simplified,
                    0.25,
                    SamplingPeriod::Quarter
                ),
                (ManagementCategory::Registration, 0.1, SamplingPeriod::Year),
            ]
        );
    }

    let units: HashMap<i64, &units::Model> = data.units.iter().map(|u| (u.id, u)).collect();
    let inspectors: HashMap<i64, &inspectors::Model> =
        data.inspectors.iter().map(|i| (i.id, i)).collect();
    let conflicts: HashSet<(i64, i64)> = data
        .conflicts
        .iter()
        .map(|c| (c.inspector_id, c.unit_id))
        .collect();
    let mut teams: HashMap<i64, Vec<i64>> = HashMap::new();
    for t in &data.teams {
        teams
            .entry(t.inspection_id)
            .or_default()
            .push(t.inspector_id);
    }
    for team in teams.values_mut() {
        team.sort_unstable();
    }
    let with_findings: HashSet<i64> = data.findings.iter().map(|f| f.inspection_id).collect();

    // The 2021 campaign's own inspections, never on a day the unit had another one.
    let linked: Vec<&inspections::Model> = data
        .inspections
        .iter()
        .filter(|i| campaign_own(data, i))
        .collect();
    let mut visits: HashMap<(i64, NaiveDate), usize> = HashMap::new();
    for i in &data.inspections {
        *visits.entry((i.unit_id, i.inspection_date)).or_default() += 1;
    }
    for i in &linked {
        assert_eq!(
            visits[&(i.unit_id, i.inspection_date)],
            1,
            "inspection {} shares its day",
            i.id
        );
        assert!(i.notes.is_some());
    }
    // Ordinary special-campaign inspections of the period are linked too.
    for i in &data.inspections {
        let in_period = c21.starts_on <= i.inspection_date && i.inspection_date <= c21.ends_on;
        if i.source == InspectionSource::SpecialCampaign && in_period {
            assert_eq!(i.campaign_id, Some(c21.id));
        }
    }
    let mut by_source: BTreeMap<String, usize> = BTreeMap::new();
    let mut self_inspected: HashSet<i64> = HashSet::new();
    for i in &linked {
        let unit = units[&i.unit_id];
        *by_source.entry(key(&i.source)).or_default() += 1;
        assert!(c21.starts_on <= i.inspection_date && i.inspection_date <= c21.ends_on);
        assert!(
            i.inspection_date > date_of(unit.created_at),
            "on file before"
        );
        assert_eq!(date_of(i.created_at), i.inspection_date);
        assert_eq!(i.mode, InspectionMode::OnSite);
        assert_eq!(i.district_code, unit.district_code);
        assert!(
            !with_findings.contains(&i.id),
            "no findings on the 2021 inspections"
        );
        let checklist = i.checklist.as_array().expect("checklist");
        assert!(!checklist.is_empty());
        assert!(
            checklist
                .iter()
                .all(|c| c["result"] == "PASS" || c["result"] == "NOT_APPLICABLE")
        );
        let team = &teams[&i.id];
        assert!(team.len() >= 2, "inspection {} has {team:?}", i.id);
        let district_agency = format!("{}-ENF", unit.district_code);
        for id in team {
            let inspector = inspectors[id];
            assert!(inspector.active, "inspector {id} inactive");
            assert!(
                date_of(inspector.created_at) < i.inspection_date,
                "inspector {id} not yet listed"
            );
            assert!(
                !conflicts.contains(&(*id, unit.id)),
                "inspector {id} is recused from {}",
                unit.id
            );
        }
        match i.source {
            InspectionSource::SpecialCampaign => {
                assert_eq!(unit.management_category, ManagementCategory::Key);
                assert!(i.inspection_date <= c21.coverage_deadline);
                assert_eq!(i.agency_code, district_agency);
                assert!(team.iter().all(|id| {
                    let a = &inspectors[id].agency_code;
                    *a == district_agency || a == "500000-ENF"
                }));
                self_inspected.insert(unit.id);
            }
            InspectionSource::JointMunicipal => {
                assert_eq!(i.inspection_date.month(), 10);
                assert_eq!(i.agency_code, "500000-ENF");
                assert!(
                    team.iter()
                        .all(|id| inspectors[id].agency_code == "500000-ENF")
                );
            }
            InspectionSource::RandomDraw => {
                assert_eq!(unit.management_category, ManagementCategory::Simplified);
                assert_eq!(i.agency_code, district_agency);
                assert!(
                    team.iter()
                        .all(|id| inspectors[id].agency_code == district_agency)
                );
            }
            other => panic!("a 2021 campaign inspection from {other:?}"),
        }
    }
    for i in &linked {
        if i.source == InspectionSource::JointMunicipal {
            assert!(
                self_inspected.contains(&i.unit_id),
                "joint checks re-check self-inspected units"
            );
        }
    }
    let joint = by_source.get("JOINT_MUNICIPAL").copied().unwrap_or(0);
    assert!(
        (4..=2 * 41).contains(&joint),
        "a handful of joint checks: {by_source:?}"
    );
    assert!(
        by_source.get("RANDOM_DRAW").copied().unwrap_or(0) > 0,
        "{by_source:?}"
    );

    // Coverage: most districts complete by the deadline, a few lagging at 60–85 %.
    let coverage = coverage_2021(data, c21);
    let scoped: Vec<(&String, f64)> = coverage
        .iter()
        .filter(|(_, (n, _))| *n > 0)
        .map(|(d, (n, done))| (d, *done as f64 / *n as f64))
        .collect();
    let complete = scoped.iter().filter(|(_, s)| *s >= 1.0).count();
    let lagging: Vec<&(&String, f64)> = scoped.iter().filter(|(_, s)| *s < 1.0).collect();
    assert!(
        complete as f64 >= 0.7 * scoped.len() as f64,
        "most districts complete: {complete} of {}; {coverage:?}",
        scoped.len()
    );
    assert!(
        !lagging.is_empty() && lagging.len() <= 8,
        "a few lagging: {lagging:?}"
    );
    assert!(
        lagging
            .iter()
            .filter(|(_, s)| (0.6..=0.85).contains(s))
            .count()
            >= 1,
        "lagging at 60–85 %: {lagging:?}"
    );
    assert!(lagging.iter().all(|(_, s)| *s >= 0.5), "{lagging:?}");
    // The service's coverage counts the same inspected units; its scope is every KEY unit on
    // file now, including those registered after 2021.
    let (districts_cov, overall) =
        permit_core::domain::campaigns::coverage(db, Some(&supervisor()), c21, None)
            .await
            .expect("coverage");
    for row in &districts_cov {
        let code = row.district_code.as_deref().expect("district row");
        let (in_scope, inspected) = coverage.get(code).copied().unwrap_or((0, 0));
        assert_eq!(row.inspected, inspected, "district {code}");
        assert!(row.in_scope >= in_scope);
    }
    assert_eq!(
        overall.inspected,
        coverage.values().map(|(_, d)| d).sum::<i64>()
    );
    // The current campaign is under way: this year's special-campaign inspections are linked.
    let linked_now = data
        .inspections
        .iter()
        .filter(|i| i.campaign_id == Some(current.id))
        .count();
    assert!(linked_now > 0);
    let (_, now) = permit_core::domain::campaigns::coverage(db, Some(&supervisor()), current, None)
        .await
        .expect("current coverage");
    assert!(now.inspected > 0 && now.share_done < 0.95, "{now:?}");

    // Draws: all verify; the joint groups cover every district; unit draws as the service
    // would have run them on the list of the day.
    assert_eq!(data.draws.len(), report.draws);
    let items_of = |id: i64| -> Vec<&random_draw_items::Model> {
        data.draw_items.iter().filter(|i| i.draw_id == id).collect()
    };
    let joint_draws: Vec<&random_draws::Model> = data
        .draws
        .iter()
        .filter(|d| d.kind == DrawKind::JointGroups)
        .collect();
    assert_eq!(joint_draws.len(), 1);
    // Numbered in the order they were made.
    for pair in data.draws.windows(2) {
        assert!(pair[0].drawn_at <= pair[1].drawn_at);
    }
    // Penalised in the year before a day: always drawn.
    let finding_units: HashMap<i64, i64> =
        data.findings.iter().map(|f| (f.id, f.unit_id)).collect();
    let penalised = |unit: i64, on: NaiveDate| {
        data.actions.iter().any(|a| {
            !matches!(
                a.kind,
                EnforcementActionKind::CorrectionOrder | EnforcementActionKind::PoliceReferral
            ) && finding_units.get(&a.finding_id) == Some(&unit)
                && a.decided_on < on
                && a.decided_on >= on - Duration::days(365)
        })
    };
    let mut drawn_inspections = 0;
    for d in &data.draws {
        assert!(
            permit_core::domain::draws::verify(d).expect("verify"),
            "draw {} does not verify",
            d.id
        );
        assert_eq!(d.campaign_id, Some(c21.id));
        assert_eq!(
            d.algorithm_version,
            permit_core::domain::sampling::ALGORITHM_VERSION
        );
        assert!(d.published);
        let published = d.published_on.expect("published on");
        assert!(published > date_of(d.drawn_at) && published.year() == 2021);
        assert_eq!(d.drawn_by_subject, SEED_SUBJECT);
        let items = items_of(d.id);
        match d.kind {
            DrawKind::JointGroups => {
                assert_eq!(d.district_code, None);
                assert_eq!(d.drawn_by_agency.as_deref(), Some("500000-SUP"));
                assert!(published <= day(2021, 9, 30));
                let groups: BTreeSet<&str> = items
                    .iter()
                    .filter_map(|i| i.group_label.as_deref())
                    .collect();
                assert_eq!(
                    groups,
                    BTreeSet::from(["第一组", "第二组", "第三组", "第四组"])
                );
                let districts: BTreeSet<&str> = items
                    .iter()
                    .filter_map(|i| i.district_code.as_deref())
                    .collect();
                assert_eq!(districts.len(), 41);
                assert_eq!(items.len(), 41);
            }
            DrawKind::Units => {
                let district = d.district_code.clone().expect("a district draw");
                let agency = format!("{district}-ENF");
                assert_eq!(d.drawn_by_agency.as_deref(), Some(agency.as_str()));
                assert_eq!(d.management_category, Some(ManagementCategory::Simplified));
                let drawn_on = date_of(d.drawn_at);
                assert!(matches!(drawn_on.month(), 4 | 7) && drawn_on.year() == 2021);
                let inputs: permit_core::domain::sampling::UnitDrawInputs =
                    serde_json::from_value(d.frozen_inputs.clone()).expect("inputs");
                // The candidate list as it stood: SIMPLIFIED units of the district on file,
                // not on a valid positive list, weighted by credit level.
                let expected: Vec<(i64, u32, bool)> = data
                    .units
                    .iter()
                    .filter(|u| {
                        u.district_code == district
                            && u.management_category == ManagementCategory::Simplified
                            && date_of(u.created_at) < drawn_on
                            && !(u.positive_list
                                && date_of(u.updated_at) <= drawn_on
                                && u.positive_list_expires_on.is_some_and(|e| e >= drawn_on))
                    })
                    .map(|u| {
                        let weight = match u.credit_level {
                            CreditLevel::Trustworthy => {
                                permit_core::domain::sampling::WEIGHT_TRUSTWORTHY
                            }
                            CreditLevel::Good => permit_core::domain::sampling::WEIGHT_GOOD,
                            _ => permit_core::domain::sampling::WEIGHT_WARNING,
                        };
                        (
                            u.id,
                            weight,
                            u.credit_level == CreditLevel::Poor || penalised(u.id, drawn_on),
                        )
                    })
                    .collect();
                let frozen: Vec<(i64, u32, bool)> = inputs
                    .candidates
                    .iter()
                    .map(|c| (c.unit_id, c.weight, c.mandatory))
                    .collect();
                assert_eq!(frozen, expected, "draw {}", d.id);
                assert_eq!(
                    inputs.requested_count,
                    (expected.len() as f64 * 0.25).ceil() as u32
                );
                assert_eq!(d.requested_count as u32, inputs.requested_count);
                assert_eq!(inputs.inspectors_per_unit, 2);
                for id in &inputs.inspectors {
                    let inspector = inspectors[id];
                    assert_eq!(inspector.agency_code, agency);
                    assert!(inspector.active && date_of(inspector.created_at) < drawn_on);
                }
                let result: Vec<permit_core::domain::sampling::DrawnUnit> =
                    serde_json::from_value(d.result.clone()).expect("result");
                assert_eq!(items.len(), result.len());
                let mut last = drawn_on;
                for (item, unit) in items.iter().zip(&result) {
                    assert_eq!(item.unit_id, Some(unit.unit_id));
                    assert_eq!(item.inspector_ids, serde_json::json!(unit.inspector_ids));
                    assert!(unit.inspector_ids.len() >= 2);
                    let distinct: HashSet<&i64> = unit.inspector_ids.iter().collect();
                    assert_eq!(distinct.len(), unit.inspector_ids.len());
                    for id in &unit.inspector_ids {
                        assert!(
                            !conflicts.contains(&(*id, unit.unit_id)),
                            "drawn inspector {id} is recused from {}",
                            unit.unit_id
                        );
                    }
                    // The drawn team inspected the unit after the draw.
                    let inspection = linked
                        .iter()
                        .find(|i| {
                            i.unit_id == unit.unit_id
                                && i.source == InspectionSource::RandomDraw
                                && i.inspection_date > drawn_on
                                && i.inspection_date <= published
                        })
                        .unwrap_or_else(|| panic!("drawn unit {} was not inspected", unit.unit_id));
                    assert_eq!(teams[&inspection.id], unit.inspector_ids);
                    last = last.max(inspection.inspection_date);
                    drawn_inspections += 1;
                }
                assert!(
                    (published - last).num_days() <= 20,
                    "published within 20 days"
                );
            }
        }
    }
    assert_eq!(
        drawn_inspections,
        by_source.get("RANDOM_DRAW").copied().unwrap_or(0)
    );

    // Summary reports: most on time, some late, some missing; figures as of submission.
    assert_eq!(data.reports.len(), report.summary_reports);
    let late = data.reports.iter().filter(|r| r.late).count();
    assert!(
        late >= 1 && data.reports.len() < 41 && data.reports.len() - late >= 28,
        "{} reports, {late} late",
        data.reports.len()
    );
    for r in &data.reports {
        assert_eq!(r.campaign_id, c21.id);
        assert_eq!(r.late, date_of(r.submitted_at) > c21.summary_deadline);
        assert_eq!(
            r.submitted_by_agency,
            Some(format!("{}-ENF", r.district_code))
        );
        let s: permit_core::domain::campaigns::Summary =
            serde_json::from_value(r.snapshot.clone()).expect("a Summary snapshot");
        assert_eq!(
            (s.campaign_id, s.district_code.as_str()),
            (c21.id, r.district_code.as_str())
        );
        assert_eq!(s.computed_on, date_of(r.submitted_at));
        let key_units: Vec<&&units::Model> = units
            .values()
            .filter(|u| {
                u.district_code == r.district_code
                    && u.management_category == ManagementCategory::Key
                    && u.created_at <= r.submitted_at
            })
            .collect();
        assert_eq!(s.in_scope, key_units.len() as i64, "report {}", r.id);
        let (_, inspected) = coverage.get(&r.district_code).copied().unwrap_or((0, 0));
        assert_eq!(s.inspected, inspected, "report {}", r.id);
        let inspections = data
            .inspections
            .iter()
            .filter(|i| i.district_code == r.district_code && i.created_at <= r.submitted_at)
            .filter(|i| {
                i.campaign_id == Some(c21.id)
                    || (c21.starts_on <= i.inspection_date && i.inspection_date <= c21.ends_on)
            })
            .count() as i64;
        assert_eq!(s.inspections, inspections);
        let findings = data
            .findings
            .iter()
            .filter(|f| {
                // Frozen at submission: findings recorded later are not in the report.
                f.district_code == r.district_code
                    && c21.starts_on <= f.found_on
                    && f.found_on <= c21.ends_on
                    && f.created_at <= r.submitted_at
            })
            .count() as i64;
        assert_eq!(s.findings, findings);
        assert!(s.inspected <= s.in_scope);
    }

    check_feed(db, data, report).await;
}

/// The change feed: a CREATED row for every record, a row for every later permit version,
/// finding move and draw publication, in the order they happened.
async fn check_feed(db: &DatabaseConnection, data: &Dump, report: &SeedReport) {
    let changes = &data.changes;
    let expected = data.units.len()
        + data.versions.len()
        + data.registrations.len()
        + data.inspectors.len()
        + data.inspections.len()
        + data.transitions.len()
        + data.actions.len()
        + data.campaigns.len()
        + 2 * data.draws.len()
        + data.reports.len();
    assert_eq!(changes.len(), expected);
    assert_eq!(report.change_events, expected);

    // History order: by time, ties by kind and record.
    for pair in changes.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(a.id < b.id);
        assert!(
            (a.committed_at, a.kind.as_str(), a.record_id)
                <= (b.committed_at, b.kind.as_str(), b.record_id),
            "{a:?} before {b:?}"
        );
    }
    // The feed is written in chunks, one transaction each (no long transaction holds the
    // cluster's feed back), in id order: the feed's (txid, id) order is the history order.
    for pair in changes.windows(2) {
        assert!(pair[0].txid <= pair[1].txid, "chunks commit in order");
    }
    for c in changes {
        assert_eq!(c.actor_subject, SEED_SUBJECT);
        assert_eq!(c.request_id, None);
        let municipal = c
            .actor_agency
            .as_deref()
            .is_none_or(|a| a.starts_with("500000-"));
        assert_eq!(
            c.actor_level,
            if municipal { "MUNICIPAL" } else { "DISTRICT" }
        );
        assert!(
            permit_core::domain::changes::ChangeKind::parse(&c.kind).is_some(),
            "{}",
            c.kind
        );
    }

    let mut created: HashMap<(&str, i64), &change_events::Model> = HashMap::new();
    for c in changes.iter().filter(|c| c.operation == "CREATED") {
        assert!(
            created.insert((c.kind.as_str(), c.record_id), c).is_none(),
            "two CREATED rows for {} {}",
            c.kind,
            c.record_id
        );
    }
    let row = |kind: &str, id: i64| {
        *created
            .get(&(kind, id))
            .unwrap_or_else(|| panic!("no CREATED row for {kind} {id}"))
    };
    for u in &data.units {
        let c = row("UNIT", u.id);
        assert_eq!(
            (c.committed_at, c.version, c.district_code.as_deref()),
            (u.created_at, Some(1), Some(u.district_code.as_str()))
        );
        assert!(
            c.actor_agency
                .as_deref()
                .is_some_and(|a| a.ends_with("-PMT"))
        );
    }
    for p in &data.permits {
        let c = row("PERMIT", p.id);
        assert_eq!(
            (c.committed_at, c.version, c.state.as_deref()),
            (p.created_at, Some(1), Some("VALID"))
        );
        assert_eq!(c.district_code.as_deref(), Some(p.district_code.as_str()));
    }
    for v in data.versions.iter().filter(|v| v.version > 1) {
        let c = changes
            .iter()
            .find(|c| {
                c.kind == "PERMIT" && c.record_id == v.permit_id && c.version == Some(v.version)
            })
            .expect("a row per version");
        let operation = match v.change_kind {
            PermitChangeKind::Changed | PermitChangeKind::Renewed => "UPDATED",
            _ => "STATE_CHANGED",
        };
        assert_eq!(c.operation, operation);
        assert_eq!(
            c.state.as_deref(),
            Some(permit_core::domain::permits::status_name(v.status))
        );
        assert_eq!(c.committed_at, v.created_at);
        assert_eq!(c.actor_agency, v.changed_by_agency);
    }
    for r in &data.registrations {
        row("REGISTRATION", r.id);
    }
    for i in &data.inspectors {
        let c = row("INSPECTOR", i.id);
        assert_eq!(c.actor_agency.as_deref(), Some(i.agency_code.as_str()));
        assert_eq!(
            c.district_code.is_none(),
            i.agency_code.starts_with("500000-")
        );
    }
    for i in &data.inspections {
        let c = row("INSPECTION", i.id);
        assert_eq!(
            (c.committed_at, c.actor_agency.as_deref()),
            (i.created_at, Some(i.agency_code.as_str()))
        );
    }
    let mut history: HashMap<i64, Vec<&finding_transitions::Model>> = HashMap::new();
    for t in &data.transitions {
        history.entry(t.finding_id).or_default().push(t);
    }
    for f in &data.findings {
        let c = row("FINDING", f.id);
        assert_eq!(
            (c.committed_at, c.version, c.state.as_deref()),
            (f.created_at, Some(1), Some("OPEN"))
        );
        let rows: Vec<&change_events::Model> = changes
            .iter()
            .filter(|c| {
                c.kind == "FINDING" && c.record_id == f.id && c.operation == "STATE_CHANGED"
            })
            .collect();
        let moves = &history[&f.id][1..];
        assert_eq!(rows.len(), moves.len());
        for (k, (c, t)) in rows.iter().zip(moves).enumerate() {
            assert_eq!(c.version, Some(k as i32 + 2));
            assert_eq!(
                c.state.as_deref(),
                Some(permit_core::domain::findings::status_name(t.to_status))
            );
            assert_eq!(c.committed_at, t.created_at);
        }
        assert_eq!(rows.last().map_or(Some(1), |c| c.version), Some(f.version));
    }
    for a in &data.actions {
        row("ENFORCEMENT_ACTION", a.id);
    }
    for c in &data.campaigns {
        let e = row("CAMPAIGN", c.id);
        assert_eq!(
            (e.district_code.as_deref(), e.actor_level.as_str()),
            (None, "MUNICIPAL")
        );
    }
    for d in &data.draws {
        let e = row("RANDOM_DRAW", d.id);
        assert_eq!(e.district_code, d.district_code);
        assert_eq!(e.state.as_deref(), Some("UNPUBLISHED"));
        let published = changes
            .iter()
            .find(|c| {
                c.kind == "RANDOM_DRAW" && c.record_id == d.id && c.operation == "STATE_CHANGED"
            })
            .expect("a PUBLISHED row");
        assert_eq!(published.state.as_deref(), Some("PUBLISHED"));
        assert_eq!(Some(date_of(published.committed_at)), d.published_on);
    }
    for r in &data.reports {
        let e = row("SUMMARY_REPORT", r.id);
        assert_eq!(e.committed_at, r.submitted_at);
    }

    // Provenance resolves: the first and last change of some units and findings.
    let unit_ids: Vec<i64> = data.units.iter().take(20).map(|u| u.id).collect();
    let rows = permit_core::domain::changes::first_and_last(
        db,
        permit_core::domain::changes::ChangeKind::Unit,
        &unit_ids,
    )
    .await
    .expect("provenance");
    assert_eq!(rows.len(), unit_ids.len());
    let finding_ids: Vec<i64> = data.findings.iter().take(50).map(|f| f.id).collect();
    let rows = permit_core::domain::changes::first_and_last(
        db,
        permit_core::domain::changes::ChangeKind::Finding,
        &finding_ids,
    )
    .await
    .expect("provenance");
    assert!(rows.len() >= finding_ids.len());
}

#[tokio::test]
async fn campaigns_draws_reports_and_the_feed() {
    let opts = options(2000);
    let db = fresh_db().await;
    let started = std::time::Instant::now();
    let report = seed_demo(&db, &opts).await.expect("seed");
    eprintln!("2000 units on SQLite (this build): {:?}", started.elapsed());
    let data = dump(&db).await;
    check_campaigns(&db, &data, &report, opts.today).await;
    assert!(data.changes.iter().all(|c| c.txid == 0), "txid 0 on SQLite");
}

/// A data set as of a day soon after 2021: the enforcement window overlaps the campaign, whose
/// inspections then meet the seeded ones (never twice a day) and whose reports count findings.
#[tokio::test]
async fn campaign_2021_seen_from_2022() {
    let opts = SeedOptions {
        units: 1500,
        seed: 2021,
        today: day(2022, 8, 15),
    };
    let db = fresh_db().await;
    let report = seed_demo(&db, &opts).await.expect("seed");
    let data = dump(&db).await;
    check_campaigns(&db, &data, &report, opts.today).await;
    let c21 = &data.campaigns[0];
    assert!(
        data.inspections
            .iter()
            .any(|i| i.campaign_id == Some(c21.id) && !campaign_own(&data, i)),
        "ordinary special-campaign inspections of 2021 are linked"
    );
    assert!(
        data.reports.iter().any(|r| {
            let s: permit_core::domain::campaigns::Summary =
                serde_json::from_value(r.snapshot.clone()).expect("summary");
            s.findings > 0
        }),
        "reports count the findings of 2021"
    );
}
