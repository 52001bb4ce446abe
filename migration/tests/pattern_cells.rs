//! Runs all migrations up, writes a pattern cell through the entity and reads it back unchanged
//! (so entity and migration cannot drift apart), rolls the migration back and applies it again.
//! Always on in-memory SQLite; also on PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use common::*;
use entity::enums::ViolationCategory;
use entity::prelude::*;
use entity::violation_pattern_cells;
use migration::{Migrator, MigratorTrait, reference};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, Set,
};

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("pattern_cells", |db| async move { exercise(&db).await }).await
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    assert_eq!(
        ViolationPatternCells::find().count(db).await?,
        0,
        "no findings, no cells"
    );
    round_trip(db).await?;
    Migrator::down(db, Some(steps_to_undo("m20261128_000007_pattern_cells"))).await?;
    assert!(
        !SchemaManager::new(db)
            .has_table("violation_pattern_cells")
            .await?
    );
    Migrator::up(db, None).await?;
    round_trip(db).await
}

async fn round_trip(db: &DatabaseConnection) -> TestResult {
    let written = violation_pattern_cells::ActiveModel {
        district_code: Set("500103".to_owned()),
        violation_code: Set("LG-1".to_owned()),
        category: Set(ViolationCategory::OtherManagement),
        findings_all: Set(12),
        units_all: Set(5),
        fines_all: Set(1_250_000),
        findings_closed: Set(3),
        units_closed: Set(2),
        fines_closed: Set(40_000),
    }
    .insert(db)
    .await?;
    let read = ViolationPatternCells::find_by_id(("500103".to_owned(), "LG-1".to_owned()))
        .one(db)
        .await?
        .ok_or("written cell not found")?;
    assert_eq!(read, written);
    Ok(())
}
