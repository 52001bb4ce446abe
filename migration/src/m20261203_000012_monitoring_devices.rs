//! Automatic monitors (issue 17, HJ 212 intake): `monitoring_devices` maps a device's HJ 212
//! `MN` to the outlet it measures, with the access password (`PW`) its packets must carry.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MonitoringDevices::Table)
                    .col(big_pk_auto(MonitoringDevices::Id))
                    .col(string_len(MonitoringDevices::Mn, 24))
                    .col(big_integer(MonitoringDevices::OutletId))
                    .col(string_len(MonitoringDevices::Password, 32))
                    .col(string_len(MonitoringDevices::RegisteredBySubject, 128))
                    .col(string_len_null(MonitoringDevices::RegisteredByAgency, 32))
                    .col(timestamp_with_time_zone(MonitoringDevices::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_monitoring_devices_outlet")
                            .from(MonitoringDevices::Table, MonitoringDevices::OutletId)
                            .to(Outlets::Table, Outlets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_monitoring_devices_mn")
                    .table(MonitoringDevices::Table)
                    .col(MonitoringDevices::Mn)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MonitoringDevices::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum MonitoringDevices {
    Table,
    Id,
    Mn,
    OutletId,
    Password,
    RegisteredBySubject,
    RegisteredByAgency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outlets {
    Table,
    Id,
}
