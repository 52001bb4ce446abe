//! Runs all migrations up, writes an evidence file's record and a located unit through the
//! entities and reads them back (so entity and migration cannot drift apart), checks that a
//! file belongs to exactly one record, then rolls the migration back and applies it again.
//! Always on in-memory SQLite; also on PostgreSQL when `TEST_DATABASE_URL` is set.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use entity::{evidence_files, units};
use migration::{Migrator, MigratorTrait, reference};
use sea_orm_migration::SchemaManager;
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, NotSet, Set,
};

#[tokio::test]
async fn sqlite_in_memory() -> TestResult {
    let db = Database::connect("sqlite::memory:").await?;
    exercise(&db).await
}

#[tokio::test]
async fn postgres_when_configured() -> TestResult {
    common::on_fresh_postgres("evidence", |db| async move { exercise(&db).await }).await
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    Migrator::up(db, None).await?;
    reference::load(db).await?;
    round_trip(db).await?;
    Migrator::down(
        db,
        Some(steps_to_undo("m20261203_000010_evidence_and_locations")),
    )
    .await?;
    let manager = SchemaManager::new(db);
    assert!(!manager.has_table("evidence_files").await?);
    assert!(!manager.has_column("units", "longitude").await?);
    Migrator::up(db, None).await?;
    assert!(manager.has_column("units", "latitude").await?);
    Ok(())
}

async fn round_trip(db: &DatabaseConnection) -> TestResult {
    let at: DateTime<Utc> = "2026-12-03T08:00:00Z".parse()?;
    let unit = units::ActiveModel {
        id: NotSet,
        credit_code: Set("91500103MA5U000011".to_owned()),
        name: Set("重庆测试有限公司".to_owned()),
        legal_representative: Set(None),
        contact_phone: Set(None),
        address: Set("渝中区".to_owned()),
        district_code: Set("500103".to_owned()),
        industry_code: Set("C2614".to_owned()),
        management_category: Set(entity::enums::ManagementCategory::Key),
        credit_level: Set(entity::enums::CreditLevel::Good),
        positive_list: Set(false),
        positive_list_reason: Set(None),
        positive_list_expires_on: Set(None),
        longitude: Set(Some(106.571234)),
        latitude: Set(Some(29.556789)),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(db)
    .await?;
    let read = units::Entity::find_by_id(unit.id)
        .one(db)
        .await?
        .ok_or("unit not found")?;
    assert_eq!(read.longitude, Some(106.571234));
    assert_eq!(read.latitude, Some(29.556789));

    // A file of no record is refused by the CHECK (exactly one of finding and inspection).
    let orphan = evidence_files::ActiveModel {
        id: NotSet,
        public_id: Set("0123456789abcdef0123456789abcdef".to_owned()),
        finding_id: Set(None),
        inspection_id: Set(None),
        district_code: Set("500103".to_owned()),
        file_name: Set("现场照片.jpg".to_owned()),
        media_type: Set("image/jpeg".to_owned()),
        size_bytes: Set(1024),
        sha256: Set("a".repeat(64)),
        storage_key: Set(format!("evidence/{}/0123", "a".repeat(64))),
        captured_at: Set(Some(at)),
        uploaded_by_subject: Set("officer@500103".to_owned()),
        uploaded_by_agency: Set(Some("500103-ENF".to_owned())),
        created_at: Set(at),
    };
    assert!(
        orphan.insert(db).await.is_err(),
        "a file belongs to a record"
    );
    let backend = db.get_database_backend();
    assert!(
        db.execute_unprepared("SELECT public_id, storage_key FROM evidence_files")
            .await
            .is_ok(),
        "{backend:?}"
    );
    Ok(())
}
