//! Execution reports (执行报告, Art 22; issue 17): one row per permit, frequency and period
//! submitted, with the day it was submitted and a summary of its contents. The period is
//! unique per permit and frequency.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Reports::Table)
                    .col(big_pk_auto(Reports::Id))
                    .col(big_integer(Reports::PermitId))
                    .col(big_integer(Reports::UnitId))
                    .col(string_len(Reports::DistrictCode, 6))
                    .col(string_len(Reports::Frequency, 24))
                    .col(date(Reports::PeriodStart))
                    .col(date(Reports::PeriodEnd))
                    .col(date(Reports::SubmittedOn))
                    .col(text(Reports::Summary))
                    .col(string_len(Reports::RecordedBySubject, 128))
                    .col(string_len_null(Reports::RecordedByAgency, 32))
                    .col(timestamp_with_time_zone(Reports::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_execution_reports_permit")
                            .from(Reports::Table, Reports::PermitId)
                            .to(Permits::Table, Permits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_execution_reports_period")
                    .table(Reports::Table)
                    .col(Reports::PermitId)
                    .col(Reports::Frequency)
                    .col(Reports::PeriodStart)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Reports::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Reports {
    #[sea_orm(iden = "execution_reports")]
    Table,
    Id,
    PermitId,
    UnitId,
    DistrictCode,
    Frequency,
    PeriodStart,
    PeriodEnd,
    SubmittedOn,
    Summary,
    RecordedBySubject,
    RecordedByAgency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
}
