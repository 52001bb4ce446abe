//! Violation candidates (issue 17): what the monitoring data suggests, for an officer to
//! confirm as a finding or dismiss with a reason.
//!
//! `dedupe_key` names what a candidate is about (`EX-1:r<reading>`, `AM-2:<requirement>:<from>`,
//! …), unique, so detecting twice never doubles a candidate. `reading_id` is the reading an EX-1
//! rests on; `window_from`/`window_to` (Unix seconds) the window an AM-2 or SM-1 counted, with
//! `expected` and `observed` values. `finding_id` is set once a finding was recorded from it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Candidates::Table)
                    .col(big_pk_auto(Candidates::Id))
                    .col(string_len(Candidates::Code, 8))
                    .col(string_len(Candidates::DistrictCode, 6))
                    .col(big_integer(Candidates::UnitId))
                    .col(big_integer(Candidates::PermitId))
                    .col(big_integer_null(Candidates::OutletId))
                    .col(string_len_null(Candidates::Pollutant, 64))
                    .col(big_integer_null(Candidates::ReadingId))
                    .col(big_integer_null(Candidates::WindowFrom))
                    .col(big_integer_null(Candidates::WindowTo))
                    .col(double_null(Candidates::MeasuredValue))
                    .col(double_null(Candidates::PermittedValue))
                    .col(string_len_null(Candidates::Unit, 16))
                    .col(integer_null(Candidates::Expected))
                    .col(integer_null(Candidates::Observed))
                    .col(string_len(Candidates::Status, 24))
                    .col(text_null(Candidates::DismissedReason))
                    .col(big_integer_null(Candidates::FindingId))
                    .col(string_len(Candidates::DedupeKey, 128))
                    .col(timestamp_with_time_zone(Candidates::DetectedAt))
                    .col(string_len_null(Candidates::DecidedBySubject, 128))
                    .col(timestamp_with_time_zone_null(Candidates::DecidedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_violation_candidates_permit")
                            .from(Candidates::Table, Candidates::PermitId)
                            .to(Permits::Table, Permits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_violation_candidates_key")
                    .table(Candidates::Table)
                    .col(Candidates::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_violation_candidates_district")
                    .table(Candidates::Table)
                    .col(Candidates::DistrictCode)
                    .col(Candidates::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_violation_candidates_finding")
                    .table(Candidates::Table)
                    .col(Candidates::FindingId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Candidates::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Candidates {
    #[sea_orm(iden = "violation_candidates")]
    Table,
    Id,
    Code,
    DistrictCode,
    UnitId,
    PermitId,
    OutletId,
    Pollutant,
    ReadingId,
    WindowFrom,
    WindowTo,
    MeasuredValue,
    PermittedValue,
    Unit,
    Expected,
    Observed,
    Status,
    DismissedReason,
    FindingId,
    DedupeKey,
    DetectedAt,
    DecidedBySubject,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
}
