//! Finding pages are ordered newest first by (found_on, id). The (column, found_on) indexes gave
//! the date order but not the id order within a day, so a page of a busy code and month read
//! and sorted every finding of its last day (hundreds at 100,000 units) to take a hundred. With
//! the id in the index the page is read in order and stops at its size, however many findings
//! share a day: the same cost at 10× the data.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (old index, new index, the filtered column).
const INDEXES: [(&str, &str, Findings); 4] = [
    (
        "idx_findings_violation_code_found_on",
        "idx_findings_violation_code_found_on_id",
        Findings::ViolationCode,
    ),
    (
        "idx_findings_district_found_on",
        "idx_findings_district_found_on_id",
        Findings::DistrictCode,
    ),
    (
        "idx_findings_permit_found_on",
        "idx_findings_permit_found_on_id",
        Findings::PermitId,
    ),
    (
        "idx_findings_category_found_on",
        "idx_findings_category_found_on_id",
        Findings::Category,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (old, new, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(new)
                        .table(Findings::Table)
                        .col(column)
                        .col(Findings::FoundOn)
                        .col(Findings::Id)
                        .to_owned(),
                )
                .await?;
            manager
                .drop_index(Index::drop().name(old).table(Findings::Table).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (old, new, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(old)
                        .table(Findings::Table)
                        .col(column)
                        .col(Findings::FoundOn)
                        .to_owned(),
                )
                .await?;
            manager
                .drop_index(Index::drop().name(new).table(Findings::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Findings {
    Table,
    Id,
    ViolationCode,
    DistrictCode,
    PermitId,
    Category,
    FoundOn,
}
