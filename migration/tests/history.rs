//! Runs all migrations up, rolls the history migration back (with any migration applied after
//! it), then everything, and up again, writing rows through each history entity every time the
//! tables exist and reading them back unchanged (so entity and migration cannot drift apart).
//! Change events are written the way the service writes them, with `txid` as a SQL expression.
//! Also checks the unique key of `unit_versions`, its foreign key, and the relations between
//! units and their versions. Always on in-memory SQLite; also on PostgreSQL when
//! `TEST_DATABASE_URL` is set, in a database created for the run and dropped after it.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use entity::prelude::*;
use entity::{audit_events, change_events, unit_versions, units};
use migration::{Migrator, MigratorTrait, reference};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::sea_query::{Expr, Query};
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    EntityTrait, ModelTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
    Statement, TransactionTrait,
};
use serde_json::json;

const HISTORY_TABLES: [&str; 3] = ["change_events", "audit_events", "unit_versions"];

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("history", |db| async move { exercise(&db).await }).await
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    assert!(Migrator::get_pending_migrations(db).await?.is_empty());
    check_indexes(db).await?;
    round_trip(db, "91130200699229617X").await?;

    // Rolling back the history migration keeps the earlier tables and their rows.
    Migrator::down(db, Some(steps_to_undo("m20261128_000004_history"))).await?;
    let manager = SchemaManager::new(db);
    for table in HISTORY_TABLES {
        assert!(!manager.has_table(table).await?, "{table} dropped");
    }
    assert_eq!(count_rows(db, "units").await?, 1);

    Migrator::up(db, None).await?;
    for table in HISTORY_TABLES {
        assert!(manager.has_table(table).await?, "{table} recreated");
    }
    assert_eq!(ChangeEvents::find().count(db).await?, 0);
    assert_eq!(AuditEvents::find().count(db).await?, 0);
    assert_eq!(UnitVersions::find().count(db).await?, 0);
    check_indexes(db).await?;
    round_trip(db, "91500000MA5U7XKP3C").await?;

    // Everything down, then up again: the rollback left nothing that blocks a fresh migration.
    Migrator::down(db, None).await?;
    for table in HISTORY_TABLES.into_iter().chain(["units"]) {
        assert!(!manager.has_table(table).await?, "{table} dropped");
    }
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    round_trip(db, "91130200699229617X").await?;
    Ok(())
}

/// The named indexes exist (the unique one is exercised by `round_trip`).
async fn check_indexes(db: &DatabaseConnection) -> TestResult {
    let manager = SchemaManager::new(db);
    for (table, name) in [
        ("change_events", "idx_change_events_txid_id"),
        ("change_events", "idx_change_events_record"),
        ("audit_events", "idx_audit_events_at"),
        ("audit_events", "idx_audit_events_subject_at"),
        ("audit_events", "idx_audit_events_request_id"),
        ("unit_versions", "uq_unit_versions_unit_version"),
    ] {
        assert!(
            manager.has_index(table, name).await?,
            "{table}.{name} missing"
        );
    }
    Ok(())
}

/// Writes a unit with two versions, two change events and two audit events, and reads each back
/// unchanged.
async fn round_trip(db: &DatabaseConnection, credit_code: &str) -> TestResult {
    let now: DateTime<Utc> = "2026-11-28T04:00:00Z".parse()?;
    let later: DateTime<Utc> = "2026-11-29T09:30:00.123456Z".parse()?;

    let unit = units::ActiveModel {
        id: NotSet,
        credit_code: Set(credit_code.into()),
        name: Set("重庆某某化工有限公司".into()),
        legal_representative: Set(Some("张三".into())),
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

    // Versions 1 and 2 of the unit, each with the row as it stood then.
    let first = unit_versions::ActiveModel {
        id: NotSet,
        unit_id: Set(unit.id),
        version: Set(1),
        snapshot: Set(serde_json::to_value(&unit)?),
        changed_by_subject: Set("district-permit-officer".into()),
        changed_by_agency: Set(Some("500115-PERMIT".into())),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    assert_eq!(
        UnitVersions::find_by_id(first.id).one(db).await?,
        Some(first.clone())
    );
    let snapshot: units::Model = serde_json::from_value(first.snapshot.clone())?;
    assert_eq!(snapshot, unit, "the snapshot reads back as the unit row");

    let updated = units::ActiveModel {
        contact_phone: Set(Some("023-40000000".into())),
        version: Set(2),
        updated_at: Set(later),
        ..unit.clone().into()
    }
    .update(db)
    .await?;
    let second = unit_versions::ActiveModel {
        id: NotSet,
        unit_id: Set(unit.id),
        version: Set(2),
        snapshot: Set(serde_json::to_value(&updated)?),
        changed_by_subject: Set("municipal-permit-officer".into()),
        changed_by_agency: Set(None),
        created_at: Set(later),
    }
    .insert(db)
    .await?;
    assert_eq!(
        UnitVersions::find_by_id(second.id).one(db).await?,
        Some(second.clone())
    );

    // (unit_id, version) is unique: a concurrent second writer of version 2 is refused.
    let same_version = unit_versions::ActiveModel {
        id: NotSet,
        changed_by_subject: Set("another-officer".into()),
        ..second.clone().into()
    };
    assert_unique_violation(
        same_version.insert(db).await.map(drop),
        "(unit_id, version)",
    );
    let unknown_unit = unit_versions::ActiveModel {
        id: NotSet,
        unit_id: Set(unit.id + 1_000_000),
        ..first.clone().into()
    };
    assert_foreign_key_violation(
        unknown_unit.insert(db).await.map(drop),
        "unit_versions.unit_id",
    );

    // Relations both ways.
    assert_eq!(
        updated
            .find_related(UnitVersions)
            .order_by_asc(unit_versions::Column::Version)
            .all(db)
            .await?,
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        second.find_related(Units).one(db).await?,
        Some(updated.clone())
    );

    // RESTRICT: a unit with versions cannot be deleted. SQLite reports a RESTRICT refusal as
    // SQLITE_CONSTRAINT_TRIGGER (1811), which `DbErr::sql_err` does not classify as a
    // foreign-key violation, so the message is checked as well.
    let refused = Units::delete_by_id(unit.id).exec(db).await;
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
        "a unit with versions must not be deleted, got {refused:?}"
    );

    // The change feed: the unit's creation with every optional column empty, then a finding's
    // status change with all of them set (`record_id` has no foreign key).
    let created = record_change(
        db,
        change_events::Model {
            id: 0,
            txid: 0,
            kind: "UNIT".into(),
            record_id: unit.id,
            version: Some(1),
            operation: "CREATED".into(),
            state: None,
            district_code: None,
            actor_subject: "district-permit-officer".into(),
            actor_agency: None,
            actor_level: "DISTRICT".into(),
            request_id: None,
            committed_at: now,
        },
    )
    .await?;
    let changed = record_change(
        db,
        change_events::Model {
            id: 0,
            txid: 0,
            kind: "FINDING".into(),
            record_id: 42,
            version: Some(3),
            operation: "STATE_CHANGED".into(),
            state: Some("RECTIFICATION_ORDERED".into()),
            district_code: Some("500115".into()),
            actor_subject: "municipal-permit-officer".into(),
            actor_agency: Some("500000-PERMIT".into()),
            actor_level: "MUNICIPAL".into(),
            request_id: Some("0123456789abcdef0123456789abcdef".into()),
            committed_at: later,
        },
    )
    .await?;
    assert!(created.id < changed.id, "the id is the feed's sequence");
    if db.get_database_backend() == DbBackend::Postgres {
        assert!(created.txid > 0 && created.txid != changed.txid);
    }
    // One record's history through (kind, record_id, id).
    assert_eq!(
        ChangeEvents::find()
            .filter(change_events::Column::Kind.eq("UNIT"))
            .filter(change_events::Column::RecordId.eq(unit.id))
            .order_by_asc(change_events::Column::Id)
            .all(db)
            .await?,
        vec![created.clone()]
    );
    // The events after a position, by (txid, id).
    assert_eq!(
        ChangeEvents::find()
            .filter(change_events::Column::Id.gt(created.id))
            .order_by_asc(change_events::Column::Txid)
            .order_by_asc(change_events::Column::Id)
            .all(db)
            .await?,
        vec![changed]
    );

    // The audit log: a mutation with its record ids, and a read with every optional column empty.
    let mutation = audit_events::ActiveModel {
        id: NotSet,
        at: Set(later),
        subject: Set("municipal-permit-officer".into()),
        agency: Set(Some("500000-PERMIT".into())),
        role: Set("PERMIT_OFFICER".into()),
        operation_name: Set(Some("UpdateUnit".into())),
        request_id: Set(Some("0123456789abcdef0123456789abcdef".into())),
        action: Set("MUTATION".into()),
        record_kind: Set(Some("UNIT".into())),
        record_ids: Set(json!([unit.id, 9_007_199_254_740_991_i64])),
    }
    .insert(db)
    .await?;
    assert_eq!(
        AuditEvents::find_by_id(mutation.id).one(db).await?,
        Some(mutation.clone())
    );
    let read = audit_events::ActiveModel {
        id: NotSet,
        at: Set(now),
        subject: Set("auditor".into()),
        agency: Set(None),
        role: Set("AUDITOR".into()),
        operation_name: Set(None),
        request_id: Set(None),
        action: Set("READ_PERSONAL_DATA".into()),
        record_kind: Set(None),
        record_ids: Set(json!([])),
    }
    .insert(db)
    .await?;
    assert_eq!(
        AuditEvents::find_by_id(read.id).one(db).await?,
        Some(read.clone())
    );
    assert_eq!(
        AuditEvents::find()
            .filter(audit_events::Column::Subject.eq("municipal-permit-officer"))
            .filter(audit_events::Column::At.gte(now))
            .order_by_asc(audit_events::Column::At)
            .all(db)
            .await?,
        vec![mutation.clone()]
    );
    assert_eq!(
        AuditEvents::find()
            .filter(audit_events::Column::RequestId.eq("0123456789abcdef0123456789abcdef"))
            .all(db)
            .await?,
        vec![mutation]
    );
    Ok(())
}

/// Appends `event` (its `id` and `txid` ignored) in a transaction of its own, with `txid`
/// written as a SQL expression the way the service writes it, and reads it back; the row must
/// match `event` with the assigned id and the transaction's id.
async fn record_change(
    db: &DatabaseConnection,
    event: change_events::Model,
) -> Result<change_events::Model, Box<dyn std::error::Error>> {
    use change_events::Column as C;

    let backend = db.get_database_backend();
    let txid_sql = match backend {
        DbBackend::Postgres => "txid_current()",
        _ => "0",
    };
    let mut insert = Query::insert();
    insert
        .into_table(ChangeEvents)
        .columns([
            C::Txid,
            C::Kind,
            C::RecordId,
            C::Version,
            C::Operation,
            C::State,
            C::DistrictCode,
            C::ActorSubject,
            C::ActorAgency,
            C::ActorLevel,
            C::RequestId,
            C::CommittedAt,
        ])
        .values([
            Expr::cust(txid_sql),
            event.kind.clone().into(),
            event.record_id.into(),
            event.version.into(),
            event.operation.clone().into(),
            event.state.clone().into(),
            event.district_code.clone().into(),
            event.actor_subject.clone().into(),
            event.actor_agency.clone().into(),
            event.actor_level.clone().into(),
            event.request_id.clone().into(),
            event.committed_at.into(),
        ])?
        .returning_col(C::Id);

    let txn = db.begin().await?;
    let row = txn.query_one(&insert).await?.ok_or("no id returned")?;
    let id: i64 = row.try_get("", "id")?;
    let current = txn
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT {txid_sql} AS txid"),
        ))
        .await?
        .ok_or("no txid")?;
    let txid: i64 = current.try_get("", "txid")?;
    txn.commit().await?;

    let expected = change_events::Model { id, txid, ..event };
    assert_eq!(
        ChangeEvents::find_by_id(id).one(db).await?,
        Some(expected.clone()),
        "change event {id} reads back as written"
    );
    Ok(expected)
}
