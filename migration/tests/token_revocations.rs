//! Runs all migrations up, writes revocations through the entity and reads them back unchanged
//! (so entity and migration cannot drift apart), rolls the revocation migration back and applies
//! it again. Always on in-memory SQLite; also on PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use entity::prelude::*;
use entity::token_revocations;
use migration::{Migrator, MigratorTrait, reference};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, Database, DatabaseConnection, EntityTrait, NotSet, PaginatorTrait, Set,
};

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("revocations", |db| async move { exercise(&db).await }).await
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    round_trip(db).await?;

    Migrator::down(
        db,
        Some(steps_to_undo("m20261128_000006_token_revocations")),
    )
    .await?;
    let manager = SchemaManager::new(db);
    assert!(!manager.has_table("token_revocations").await?);
    assert!(manager.has_table("units").await?, "earlier tables kept");
    Migrator::up(db, None).await?;
    assert_eq!(TokenRevocations::find().count(db).await?, 0);
    round_trip(db).await
}

async fn round_trip(db: &DatabaseConnection) -> TestResult {
    let at: DateTime<Utc> = "2026-11-28T08:00:00Z".parse()?;
    for (subject, token_id) in [("alice", None), ("bob", Some("4f1c0a9e"))] {
        let written = token_revocations::ActiveModel {
            id: NotSet,
            subject: Set(subject.to_owned()),
            token_id: Set(token_id.map(str::to_owned)),
            revoked_before: Set(at.timestamp()),
            reason: Set("设备遗失 (lost device)".to_owned()),
            revoked_by_subject: Set("admin@municipal".to_owned()),
            created_at: Set(at),
        }
        .insert(db)
        .await?;
        let read = TokenRevocations::find_by_id(written.id)
            .one(db)
            .await?
            .ok_or("written row not found")?;
        assert_eq!(read, written);
    }
    Ok(())
}
