//! The seed against real schemas: migrated in-memory SQLite databases with the reference data.

use super::*;
use crate::domain::codes::{CreditCode, PermitNumber};
use migration::MigratorTrait;
use sea_orm::{Database, PaginatorTrait};

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
}

async fn dump(db: &DatabaseConnection) -> Dump {
    Dump {
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
