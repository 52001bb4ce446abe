//! The seed against real schemas: migrated in-memory SQLite databases with the reference data,
//! and a PostgreSQL database when `TEST_DATABASE_URL` is set.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::domain::clock::date_of;
use crate::domain::codes::{CreditCode, PermitNumber};
use crate::domain::permits::status_on;
use entity::enums::{
    EnforcementActionKind, FindingStatus, InspectionMode, InspectionSource, ViolationCategory,
};
use migration::MigratorTrait;
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
                crate::domain::codes::parse_outlet_code(&o.code).expect("outlet code");
            assert_eq!(
                medium == crate::domain::codes::OutletMediumCode::Air,
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
    for f in &data.findings {
        with_findings.insert(f.inspection_id);
    }
    for u in &data.units {
        *cov.units_by_category
            .entry(key(&u.management_category))
            .or_default() += 1;
    }
    for i in &data.inspections {
        let unit = units[&i.unit_id];
        *cov.inspections_by_category
            .entry(key(&unit.management_category))
            .or_default() += 1;
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
        assert_eq!(i.campaign_id, None);
        assert_eq!(i.recorded_by_subject, SEED_SUBJECT);
        let materials = i.materials_reviewed.as_array().expect("materials array");
        let mut seen = HashSet::new();
        for m in materials {
            let m = m.as_str().expect("material is a string");
            assert!(crate::domain::inspections::MATERIALS.contains(&m), "{m}");
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
    cov.inspections_with_findings = with_findings.len();

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
        cov.with_deadline += usize::from(f.rectification_deadline.is_some());
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
            crate::domain::findings::transition(a.to_status, b.to_status)
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

    // About 0.6 inspections a unit, more for KEY units; findings on about 30% of them.
    let per_unit = data.inspections.len() as f64 / data.units.len() as f64;
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
    let share = cov.inspections_with_findings as f64 / data.inspections.len() as f64;
    assert!(
        (0.2..0.4).contains(&share),
        "findings on {share} of inspections"
    );
    let per_inspection = data.findings.len() as f64 / cov.inspections_with_findings as f64;
    assert!((1.0..=3.0).contains(&per_inspection));
    assert!(cov.with_deadline as f64 > 0.6 * data.findings.len() as f64);
    let on_site = data
        .inspections
        .iter()
        .filter(|i| i.mode == InspectionMode::OnSite)
        .count() as f64
        / data.inspections.len() as f64;
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
        seed_demo(&db, &opts).await.expect("seed");
        let data = dump(&db).await;
        let (codes, agency_rows) = reference(&db).await;
        let cov = check_enforcement(&data, &codes, &agency_rows, opts.today);
        assert_coverage(&cov, &data, &codes);

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
