//! The seeded data passes the domain's own checks (the state machines, the credit-code and
//! permit-number rules, the draws' verification), and the same seed and `today` give the same
//! rows. Migrated in-memory SQLite databases with the reference data; the API tests seed
//! PostgreSQL too.

use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use super::*;
use entity::enums::{FindingStatus, PermitChangeKind};
use entity::{
    change_events, enforcement_actions, finding_transitions, inspections, permit_versions,
    random_draws,
};
use migration::MigratorTrait;
use permit_core::domain::codes::{CreditCode, PermitNumber};
use permit_core::domain::locations::check_position;
use permit_core::domain::{clock, draws, findings, permits};

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

/// Every row of a table, in id order.
async fn all<E: EntityTrait>(db: &DatabaseConnection, id: E::Column) -> Vec<E::Model> {
    E::find().order_by_asc(id).all(db).await.expect("read back")
}

/// What two seeds must agree on.
async fn dump(db: &DatabaseConnection) -> String {
    format!(
        "{:?}{:?}{:?}{:?}{:?}",
        all::<units::Entity>(db, units::Column::Id).await,
        all::<permit_versions::Entity>(db, permit_versions::Column::Id).await,
        all::<finding_transitions::Entity>(db, finding_transitions::Column::Id).await,
        all::<enforcement_actions::Entity>(db, enforcement_actions::Column::Id).await,
        all::<change_events::Entity>(db, change_events::Column::Id).await,
    )
}

#[tokio::test]
async fn same_seed_same_rows_and_a_second_run_is_skipped() {
    let opts = options(150);
    let (a, b) = (fresh_db().await, fresh_db().await);
    let report = seed_demo(&a, &opts).await.expect("seed a");
    assert_eq!(seed_demo(&b, &opts).await.expect("seed b"), report);
    assert_eq!(dump(&a).await, dump(&b).await);
    assert_eq!(report.units, 150);
    assert_eq!(report.permits + report.registrations, 150);
    let counts = [
        report.inspections,
        report.findings,
        report.actions,
        report.draws,
    ];
    let more = [
        report.summary_reports,
        report.readings,
        report.candidates,
        report.execution_reports,
    ];
    assert!(counts.iter().chain(&more).all(|&n| n > 0), "{report:?}");
    assert_eq!(report.campaigns, 2);
    let again = seed_demo(&a, &opts).await.expect("second run");
    assert!(again.skipped);
    assert_eq!(units::Entity::find().count(&a).await.expect("count"), 150);
}

#[tokio::test]
async fn seeded_data_passes_the_domains_checks() {
    let db = fresh_db().await;
    let opts = options(300);
    seed_demo(&db, &opts).await.expect("seed");

    for unit in units::Entity::find().all(&db).await.expect("units") {
        CreditCode::parse(&unit.credit_code).expect("a valid GB 32100 credit code");
        assert!(check_position("position", unit.longitude, unit.latitude).is_ok());
    }
    // Every permit's versions follow the permit state machine from the status the domain reads
    // on the day of each move, and the row stands as its versions say.
    let mut kinds = std::collections::HashSet::new();
    let all_permits = entity::permits::Entity::find()
        .all(&db)
        .await
        .expect("permits");
    for permit in all_permits {
        PermitNumber::parse(&permit.permit_number).expect("a valid permit number");
        let mut versions = permits::versions_of(&db, &[permit.id])
            .await
            .expect("versions");
        versions.sort_by_key(|v| v.version);
        for (i, v) in versions.iter().enumerate().skip(1) {
            let day = clock::date_of(v.created_at);
            let from = permits::status_on(&permit, &versions[..i], day).expect("issued by then");
            use permits::PermitAction as A;
            let action = match v.change_kind {
                PermitChangeKind::Changed => A::Change,
                PermitChangeKind::Renewed => A::Renew,
                PermitChangeKind::Revoked => A::Revoke,
                PermitChangeKind::Withdrawn => A::Withdraw,
                _ => A::Cancel,
            };
            let to = permits::transition(from, action).expect("a move the state machine allows");
            assert_eq!(to, v.status);
            kinds.insert(v.change_kind);
        }
        let now = permits::status_on(&permit, &versions, opts.today);
        assert_eq!(now, Some(permits::effective_status(&permit, opts.today)));
    }
    assert!(kinds.len() >= 3, "changes, renewals and ends: {kinds:?}");
    // Every finding's history follows the finding lifecycle.
    let mut finals = std::collections::HashSet::new();
    for finding in entity::findings::Entity::find()
        .all(&db)
        .await
        .expect("findings")
    {
        let mut moves = findings::transitions_of(&db, &[finding.id])
            .await
            .expect("transitions");
        moves.sort_by_key(|m| m.id);
        let mut status = FindingStatus::Open;
        for m in moves.iter().filter(|m| m.from_status.is_some()) {
            findings::transition(status, m.to_status).expect("a move the lifecycle allows");
            status = m.to_status;
        }
        assert_eq!(status, finding.status);
        finals.insert(finding.status);
    }
    assert!(
        finals.contains(&FindingStatus::Closed) && finals.len() >= 4,
        "{finals:?}"
    );
    // The draws verify: anyone can redo them from their seed and inputs.
    for draw in random_draws::Entity::find().all(&db).await.expect("draws") {
        assert!(
            draws::verify(&draw).expect("verify"),
            "draw {} verifies",
            draw.id
        );
    }
    // Nothing is dated after `today`.
    let late =
        inspections::Entity::find().filter(inspections::Column::InspectionDate.gt(opts.today));
    assert_eq!(late.count(&db).await.expect("count"), 0);
}
