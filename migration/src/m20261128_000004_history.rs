//! The history schema: the change feed (`change_events`), the audit log (`audit_events`), and the
//! version history of units (`unit_versions`).
//!
//! Same conventions as before: foreign keys are `RESTRICT`, index names start with their table's
//! name, JSON columns are plain `json`. The enumerated columns here (`kind`, `operation`,
//! `actor_level`, `action`, …) are plain strings of their own widths rather than enum keys:
//! `change_events.kind` names record kinds from every part of the schema and grows with it.
//! `change_events.district_code` has no foreign key, as municipal records have no district; and
//! `change_events.record_id` / `audit_events.record_ids` point into many tables, so they have
//! none either. Both logs are append-only.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChangeEvents::Table)
                    // The id is the feed's sequence: consumers resume after the last id they saw.
                    .col(big_pk_auto(ChangeEvents::Id))
                    .col(big_integer(ChangeEvents::Txid))
                    .col(string_len(ChangeEvents::Kind, 24))
                    .col(big_integer(ChangeEvents::RecordId))
                    .col(integer_null(ChangeEvents::Version))
                    .col(string_len(ChangeEvents::Operation, 24))
                    .col(string_len_null(ChangeEvents::State, 32))
                    .col(string_len_null(ChangeEvents::DistrictCode, 6))
                    .col(string_len(ChangeEvents::ActorSubject, 128))
                    .col(string_len_null(ChangeEvents::ActorAgency, 32))
                    .col(string_len(ChangeEvents::ActorLevel, 16))
                    .col(string_len_null(ChangeEvents::RequestId, 32))
                    .col(timestamp_with_time_zone(ChangeEvents::CommittedAt))
                    .to_owned(),
            )
            .await?;
        // (txid, id) groups the events of one transaction; (kind, record_id, id) serves one
        // record's history in order.
        for (name, cols) in [
            (
                "idx_change_events_txid_id",
                &[ChangeEvents::Txid, ChangeEvents::Id][..],
            ),
            (
                "idx_change_events_record",
                &[ChangeEvents::Kind, ChangeEvents::RecordId, ChangeEvents::Id],
            ),
        ] {
            manager
                .create_index(index(name, ChangeEvents::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(string_len(AuditEvents::Subject, 128))
                    .col(string_len_null(AuditEvents::Agency, 32))
                    .col(string_len(AuditEvents::Role, 24))
                    .col(string_len_null(AuditEvents::OperationName, 128))
                    .col(string_len_null(AuditEvents::RequestId, 32))
                    .col(string_len(AuditEvents::Action, 32))
                    .col(string_len_null(AuditEvents::RecordKind, 24))
                    .col(json(AuditEvents::RecordIds))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_audit_events_at", &[AuditEvents::At][..]),
            (
                "idx_audit_events_subject_at",
                &[AuditEvents::Subject, AuditEvents::At],
            ),
            ("idx_audit_events_request_id", &[AuditEvents::RequestId]),
        ] {
            manager
                .create_index(index(name, AuditEvents::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(UnitVersions::Table)
                    .col(big_pk_auto(UnitVersions::Id))
                    .col(big_integer(UnitVersions::UnitId))
                    .col(integer(UnitVersions::Version))
                    .col(json(UnitVersions::Snapshot))
                    .col(string_len(UnitVersions::ChangedBySubject, 128))
                    .col(string_len_null(UnitVersions::ChangedByAgency, 32))
                    .col(timestamp_with_time_zone(UnitVersions::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_unit_versions_unit",
                        (UnitVersions::Table, UnitVersions::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // Unique, so two concurrent changes of one unit cannot both write version n+1; its
        // leading column also serves lookups by unit.
        manager
            .create_index(
                index(
                    "uq_unit_versions_unit_version",
                    UnitVersions::Table,
                    &[UnitVersions::UnitId, UnitVersions::Version],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents; the indexes go with their tables.
        let tables: [DynIden; 3] = [
            UnitVersions::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            ChangeEvents::Table.into_iden(),
        ];
        for table in tables {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn fk<FT, FC, TT, TC>(name: &str, from: (FT, FC), to: (TT, TC)) -> ForeignKeyCreateStatement
where
    FT: IntoIden,
    FC: IntoIden,
    TT: IntoIden,
    TC: IntoIden,
{
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index<T: IntoIden, C: IntoIden + Copy>(
    name: &str,
    table: T,
    cols: &[C],
) -> IndexCreateStatement {
    let mut stmt = Index::create().name(name).table(table).to_owned();
    for col in cols {
        stmt.col(*col);
    }
    stmt
}

// Tables of earlier migrations, with only the columns referenced here.

#[derive(DeriveIden, Clone, Copy)]
enum Units {
    Table,
    Id,
}

// Tables of this migration.

#[derive(DeriveIden, Clone, Copy)]
enum ChangeEvents {
    Table,
    Id,
    Txid,
    Kind,
    RecordId,
    Version,
    Operation,
    State,
    DistrictCode,
    ActorSubject,
    ActorAgency,
    ActorLevel,
    RequestId,
    CommittedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    Id,
    At,
    Subject,
    Agency,
    Role,
    OperationName,
    RequestId,
    Action,
    RecordKind,
    RecordIds,
}

#[derive(DeriveIden, Clone, Copy)]
enum UnitVersions {
    Table,
    Id,
    UnitId,
    Version,
    Snapshot,
    ChangedBySubject,
    ChangedByAgency,
    CreatedAt,
}
