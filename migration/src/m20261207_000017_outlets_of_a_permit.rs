//! Every outlet of a permit, in every version, by an index (issue 15). The unique index of
//! migration 9 covers only the current outlets (`WHERE retired_in_version IS NULL`), so a read
//! of all of a permit's outlets (a planned read, the outlets' DataLoader, a historical read)
//! scanned the whole table: 15 ms a permit at 100 000 units.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_outlets_permit_code";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Outlets::Table)
                    .col(Outlets::PermitId)
                    .col(Outlets::Code)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Outlets::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Outlets {
    Table,
    PermitId,
    Code,
}
