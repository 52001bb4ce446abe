//! Outlets and limits are versioned data (Art 13 permitted items; a change 变更 is a new
//! version, history never overwritten). A change used to delete a permit's outlets and limits
//! and insert new ones, which failed once a finding pointed at an outlet and lost the limit the
//! finding was judged against. Now a row carries the permit version it appeared in
//! (`since_version`) and the one that replaced or removed it (`retired_in_version`, absent while
//! current); an outlet whose code stays keeps its row, a changed limit is a new row. Findings
//! record the limit they were judged against and the permit version in force on their date.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Only one current outlet per permit and code; retired ones may repeat a code that returns.
const CURRENT_OUTLET_INDEX: &str = "CREATE UNIQUE INDEX uq_outlets_permit_code_current \
     ON outlets (permit_id, code) WHERE retired_in_version IS NULL";

/// Existing EX-1 findings point at the limit of their outlet and pollutant.
const BACKFILL_LIMITS: &str = "UPDATE findings SET limit_id = (\
     SELECT l.id FROM permit_limits l WHERE l.outlet_id = findings.outlet_id \
     AND l.pollutant = findings.pollutant AND l.concentration_limit IS NOT NULL \
     ORDER BY l.id LIMIT 1) WHERE outlet_id IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Items::Outlets, Items::PermitLimits] {
            // One change per statement: SQLite's ALTER TABLE takes one at a time.
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(
                            ColumnDef::new(Items::SinceVersion)
                                .integer()
                                .not_null()
                                .default(1),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new(Items::RetiredInVersion).integer().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Findings::Table)
                    .add_column(ColumnDef::new(Findings::LimitId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Findings::Table)
                    .add_column(ColumnDef::new(Findings::PermitVersion).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_outlets_permit_code")
                    .table(Items::Outlets)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(CURRENT_OUTLET_INDEX).await?;
        db.execute_unprepared(BACKFILL_LIMITS).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Retired rows cannot live under the old schema: a change replaced them.
        db.execute_unprepared(
            "UPDATE findings SET outlet_id = NULL WHERE outlet_id IN \
             (SELECT id FROM outlets WHERE retired_in_version IS NOT NULL)",
        )
        .await?;
        db.execute_unprepared("DELETE FROM permit_limits WHERE retired_in_version IS NOT NULL")
            .await?;
        db.execute_unprepared(
            "DELETE FROM permit_limits WHERE outlet_id IN \
             (SELECT id FROM outlets WHERE retired_in_version IS NOT NULL)",
        )
        .await?;
        db.execute_unprepared("DELETE FROM outlets WHERE retired_in_version IS NOT NULL")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_outlets_permit_code_current")
                    .table(Items::Outlets)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_outlets_permit_code")
                    .table(Items::Outlets)
                    .col(Items::PermitId)
                    .col(Items::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for column in [Findings::LimitId, Findings::PermitVersion] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Findings::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [Items::Outlets, Items::PermitLimits] {
            for column in [Items::SinceVersion, Items::RetiredInVersion] {
                manager
                    .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                    .await?;
            }
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Items {
    Outlets,
    PermitLimits,
    PermitId,
    Code,
    SinceVersion,
    RetiredInVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum Findings {
    Table,
    LimitId,
    PermitVersion,
}
