//! Helpers shared by the migration tests: a fresh PostgreSQL database per run, and checks of
//! the constraint violations the database reports. (Each test file is its own crate and uses
//! only some of them.)
#![allow(dead_code)]

use std::future::Future;

use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Runs `exercise` in a database created for it on `TEST_DATABASE_URL`'s server, and drops the
/// database afterwards even when the run failed. Without `TEST_DATABASE_URL`, does nothing.
pub async fn on_fresh_postgres<F, Fut>(label: &str, exercise: F) -> TestResult
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = TestResult>,
{
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set; skipping the PostgreSQL run");
        return Ok(());
    };
    let admin = Database::connect(&url).await?;
    let name = format!(
        "migration_{label}_test_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    );
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    eprintln!("PostgreSQL run in database {name}");
    let outcome = match Database::connect(with_database(&url, &name)).await {
        Ok(db) => exercise(db).await,
        Err(e) => Err(e.into()),
    };
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    outcome
}

/// How many steps `Migrator::down` needs to undo `name` and everything after it.
pub fn steps_to_undo(name: &str) -> u32 {
    let migrations = Migrator::migrations();
    let Some(position) = migrations.iter().position(|m| m.name() == name) else {
        panic!("{name} is not registered");
    };
    u32::try_from(migrations.len() - position).unwrap_or(u32::MAX)
}

pub fn assert_unique_violation(result: Result<(), DbErr>, what: &str) {
    assert!(
        matches!(
            result.as_ref().map_err(DbErr::sql_err),
            Err(Some(SqlErr::UniqueConstraintViolation(_)))
        ),
        "{what} must be unique, got {result:?}"
    );
}

pub fn assert_foreign_key_violation(result: Result<(), DbErr>, what: &str) {
    assert!(
        matches!(
            result.as_ref().map_err(DbErr::sql_err),
            Err(Some(SqlErr::ForeignKeyConstraintViolation(_)))
        ),
        "{what} must be refused by a foreign key, got {result:?}"
    );
}

/// `url` with its database name replaced by `name`, keeping any query string.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{root}/{name}{query}")
}

/// Rows of a table, by SQL: after a rollback the entities describe columns that later
/// migrations add, so `Entity::find().count()` cannot be used on the older schema.
pub async fn count_rows(db: &DatabaseConnection, table: &str) -> Result<i64, DbErr> {
    use sea_orm_migration::sea_orm::Statement;
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no row".to_owned()))?;
    row.try_get_by_index::<i64>(0)
        .map_err(|e| DbErr::Custom(e.to_string()))
}
