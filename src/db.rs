//! Connecting, migrating and loading reference data. The connection counts its SQL statements
//! so that tests and `/metrics` can see how many statements a request costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database as SeaDatabase, DatabaseConnection, DbErr};

/// A connection pool with its statement counter.
#[derive(Clone)]
pub struct Database {
    pub conn: DatabaseConnection,
    pub statements: Arc<AtomicU64>,
}

impl Database {
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}

pub async fn connect(url: &str) -> Result<Database, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    let sqlite = url.starts_with("sqlite:");
    options
        .max_connections(if sqlite { 8 } else { 16 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // Statement logging would put every query (and its values) into the info log.
        .sqlx_logging(false);
    let mut conn = SeaDatabase::connect(options).await?;
    let statements = Arc::new(AtomicU64::new(0));
    let counter = statements.clone();
    conn.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(sql = %info.statement.sql, "statement");
    });
    Ok(Database { conn, statements })
}

/// Applies pending migrations and (re)loads reference data; idempotent, run on every start.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await?;
    migration::reference::load(db).await
}

/// Begins a transaction that writes. On SQLite it takes the write lock at BEGIN (IMMEDIATE),
/// so concurrent writers wait their turn (busy timeout) instead of failing when a read
/// transaction tries to upgrade; PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}
