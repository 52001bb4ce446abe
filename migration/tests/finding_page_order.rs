//! The finding indexes carry the id after the date (pages ordered by found_on, id), and the
//! migration rolls back to the date-only indexes and forward again. Always on in-memory SQLite;
//! also on PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use common::*;
use migration::{Migrator, MigratorTrait};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{Database, DatabaseConnection};

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("page_order", |db| async move { exercise(&db).await }).await
}

const WITH_ID: [&str; 4] = [
    "idx_findings_violation_code_found_on_id",
    "idx_findings_district_found_on_id",
    "idx_findings_permit_found_on_id",
    "idx_findings_category_found_on_id",
];
const DATE_ONLY: [&str; 4] = [
    "idx_findings_violation_code_found_on",
    "idx_findings_district_found_on",
    "idx_findings_permit_found_on",
    "idx_findings_category_found_on",
];

/// How many of `names` exist on `findings`.
async fn present(
    manager: &SchemaManager<'_>,
    names: &[&str],
) -> Result<usize, sea_orm_migration::DbErr> {
    let mut count = 0;
    for name in names {
        count += usize::from(manager.has_index("findings", name).await?);
    }
    Ok(count)
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    Migrator::up(db, None).await?;
    let manager = SchemaManager::new(db);
    assert_eq!(present(&manager, &WITH_ID).await?, 4, "indexes with the id");
    assert_eq!(
        present(&manager, &DATE_ONLY).await?,
        0,
        "date-only indexes replaced"
    );

    Migrator::down(
        db,
        Some(steps_to_undo("m20261128_000008_finding_page_order")),
    )
    .await?;
    assert_eq!(
        present(&manager, &DATE_ONLY).await?,
        4,
        "date-only indexes back"
    );
    assert_eq!(present(&manager, &WITH_ID).await?, 0);

    Migrator::up(db, None).await?;
    assert_eq!(present(&manager, &WITH_ID).await?, 4);
    Ok(())
}
