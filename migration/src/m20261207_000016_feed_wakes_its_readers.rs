//! The change feed wakes its readers (issue 15). On PostgreSQL every INSERT into
//! `change_events` queues a NOTIFY on the instances' channel, which PostgreSQL delivers when the
//! writing transaction commits (and never for one rolled back): each instance's listener then
//! wakes its feed reader. A mutation no longer sends a NOTIFY of its own after committing, one
//! statement fewer per write, and writes from outside the service (a bulk load) wake the
//! readers too. One notification per statement, whatever its number of rows; PostgreSQL
//! folds identical ones of one transaction into one. SQLite has one process, which wakes its
//! reader in memory: nothing to do there.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The channel of `permit_core::events::CHANNEL`, and the payload its listeners read as
/// `Event::FeedWritten`.
const UP: &str = r#"
CREATE OR REPLACE FUNCTION permit_exchange_feed_written() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('permit_exchange_events', '{"type":"FEED_WRITTEN"}');
    RETURN NULL;
END
$$;
CREATE TRIGGER change_events_wake_readers
    AFTER INSERT ON change_events
    FOR EACH STATEMENT EXECUTE FUNCTION permit_exchange_feed_written();
"#;

const DOWN: &str = r#"
DROP TRIGGER IF EXISTS change_events_wake_readers ON change_events;
DROP FUNCTION IF EXISTS permit_exchange_feed_written();
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared(DOWN).await?;
        }
        Ok(())
    }
}
