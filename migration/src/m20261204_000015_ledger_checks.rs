//! Ledger checks (环境管理台账, Art 21; issue 17): what an inspection found of a unit's
//! environmental management ledger for a period: kept, incomplete, not kept or untrue. One row
//! per inspection and period start.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Checks::Table)
                    .col(big_pk_auto(Checks::Id))
                    .col(big_integer(Checks::InspectionId))
                    .col(big_integer(Checks::PermitId))
                    .col(big_integer(Checks::UnitId))
                    .col(string_len(Checks::DistrictCode, 6))
                    .col(date(Checks::PeriodStart))
                    .col(date(Checks::PeriodEnd))
                    .col(string_len(Checks::Result, 24))
                    .col(text_null(Checks::Note))
                    .col(string_len(Checks::RecordedBySubject, 128))
                    .col(string_len_null(Checks::RecordedByAgency, 32))
                    .col(timestamp_with_time_zone(Checks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ledger_checks_inspection")
                            .from(Checks::Table, Checks::InspectionId)
                            .to(Inspections::Table, Inspections::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ledger_checks_permit")
                            .from(Checks::Table, Checks::PermitId)
                            .to(Permits::Table, Permits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_ledger_checks_period")
                    .table(Checks::Table)
                    .col(Checks::InspectionId)
                    .col(Checks::PeriodStart)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Checks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Checks {
    #[sea_orm(iden = "ledger_checks")]
    Table,
    Id,
    InspectionId,
    PermitId,
    UnitId,
    DistrictCode,
    PeriodStart,
    PeriodEnd,
    Result,
    Note,
    RecordedBySubject,
    RecordedByAgency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Inspections {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
}
