//! Monitoring data and what a permit says the unit owes (issue 17).
//!
//! - `monitoring_requirements`: the permit's self-monitoring plan (Art 19) per outlet and
//!   pollutant: manual or automatic (Art 20), and how often. Versioned like limits
//!   (`since_version`, `retired_in_version`): a change keeps an unchanged requirement's row.
//! - `report_duties`: the execution reports (Art 22) the permit requires, by frequency;
//!   versioned the same way.
//! - `readings`: monitoring results per outlet, pollutant and time. `measured_at` is the
//!   instant in Unix seconds (UTC), so both databases order, bucket and compare it as an
//!   integer; `(outlet_id, pollutant, measured_at, source)` is unique, which is what makes a
//!   resent reading (a device retransmitting, an integrator retrying) write nothing new.
//!   `permit_id`, `unit_id` and `district_code` are copied from the outlet's permit so that
//!   scoped lists and the candidates' SQL filter without joins.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MonitoringRequirements::Table)
                    .col(big_pk_auto(MonitoringRequirements::Id))
                    .col(big_integer(MonitoringRequirements::PermitId))
                    .col(big_integer(MonitoringRequirements::OutletId))
                    .col(string_len(MonitoringRequirements::Pollutant, 64))
                    .col(string_len(MonitoringRequirements::Method, 24))
                    .col(string_len(MonitoringRequirements::Frequency, 24))
                    .col(integer(MonitoringRequirements::SinceVersion))
                    .col(integer_null(MonitoringRequirements::RetiredInVersion))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_monitoring_requirements_permit")
                            .from(
                                MonitoringRequirements::Table,
                                MonitoringRequirements::PermitId,
                            )
                            .to(Permits::Table, Permits::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_monitoring_requirements_outlet")
                            .from(
                                MonitoringRequirements::Table,
                                MonitoringRequirements::OutletId,
                            )
                            .to(Outlets::Table, Outlets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_monitoring_requirements_permit")
                    .table(MonitoringRequirements::Table)
                    .col(MonitoringRequirements::PermitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportDuties::Table)
                    .col(big_pk_auto(ReportDuties::Id))
                    .col(big_integer(ReportDuties::PermitId))
                    .col(string_len(ReportDuties::Frequency, 24))
                    .col(integer(ReportDuties::SinceVersion))
                    .col(integer_null(ReportDuties::RetiredInVersion))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_report_duties_permit")
                            .from(ReportDuties::Table, ReportDuties::PermitId)
                            .to(Permits::Table, Permits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_report_duties_permit")
                    .table(ReportDuties::Table)
                    .col(ReportDuties::PermitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Readings::Table)
                    .col(big_pk_auto(Readings::Id))
                    .col(big_integer(Readings::OutletId))
                    .col(big_integer(Readings::PermitId))
                    .col(big_integer(Readings::UnitId))
                    .col(string_len(Readings::DistrictCode, 6))
                    .col(string_len(Readings::Pollutant, 64))
                    .col(big_integer(Readings::MeasuredAt))
                    .col(double(Readings::Value))
                    .col(string_len(Readings::Unit, 16))
                    .col(string_len(Readings::Source, 24))
                    .col(string_len(Readings::Flag, 8))
                    .col(string_len(Readings::RecordedBySubject, 128))
                    .col(string_len_null(Readings::RecordedByAgency, 32))
                    .col(timestamp_with_time_zone(Readings::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_readings_outlet")
                            .from(Readings::Table, Readings::OutletId)
                            .to(Outlets::Table, Outlets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_readings_key")
                    .table(Readings::Table)
                    .col(Readings::OutletId)
                    .col(Readings::Pollutant)
                    .col(Readings::MeasuredAt)
                    .col(Readings::Source)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Lists page by time then id, per district (scoped) and per permit (candidates).
        for (name, first) in [
            ("idx_readings_district_time", Readings::DistrictCode),
            ("idx_readings_permit_time", Readings::PermitId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Readings::Table)
                        .col(first)
                        .col(Readings::MeasuredAt)
                        .col(Readings::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_readings_time")
                    .table(Readings::Table)
                    .col(Readings::MeasuredAt)
                    .col(Readings::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Readings::Table.into_iden(),
            ReportDuties::Table.into_iden(),
            MonitoringRequirements::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MonitoringRequirements {
    Table,
    Id,
    PermitId,
    OutletId,
    Pollutant,
    Method,
    Frequency,
    SinceVersion,
    RetiredInVersion,
}

#[derive(DeriveIden)]
enum ReportDuties {
    Table,
    Id,
    PermitId,
    Frequency,
    SinceVersion,
    RetiredInVersion,
}

#[derive(DeriveIden)]
enum Readings {
    Table,
    Id,
    OutletId,
    PermitId,
    UnitId,
    DistrictCode,
    Pollutant,
    MeasuredAt,
    Value,
    Unit,
    Source,
    Flag,
    RecordedBySubject,
    RecordedByAgency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Permits {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Outlets {
    Table,
    Id,
}
