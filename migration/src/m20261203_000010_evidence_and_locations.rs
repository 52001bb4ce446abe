//! Office work (issue 18): evidence files and where units are.
//!
//! `evidence_files` holds the uploaded files behind a finding or an inspection (photos, scans,
//! monitoring printouts). The bytes live in the object store under `storage_key`, a random key
//! that nothing a client sends is part of; `public_id` is the opaque, random name a download
//! uses. Exactly one of `finding_id` and `inspection_id` is set; `district_code` is the
//! record's, so the access rule of the record applies to its files.
//!
//! `units.longitude` / `units.latitude`: the unit's position (CGCS2000, which agrees with WGS84
//! to well within a metre), nullable because units registered before are not located yet.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EvidenceFiles::Table)
                    .col(big_pk_auto(EvidenceFiles::Id))
                    .col(string_len_uniq(EvidenceFiles::PublicId, 32))
                    .col(big_integer_null(EvidenceFiles::FindingId))
                    .col(big_integer_null(EvidenceFiles::InspectionId))
                    .col(string_len(EvidenceFiles::DistrictCode, 6))
                    .col(string_len(EvidenceFiles::FileName, 255))
                    .col(string_len(EvidenceFiles::MediaType, 100))
                    .col(big_integer(EvidenceFiles::SizeBytes))
                    .col(string_len(EvidenceFiles::Sha256, 64))
                    .col(string_len(EvidenceFiles::StorageKey, 200))
                    .col(timestamp_with_time_zone_null(EvidenceFiles::CapturedAt))
                    .col(string_len(EvidenceFiles::UploadedBySubject, 128))
                    .col(string_len_null(EvidenceFiles::UploadedByAgency, 32))
                    .col(timestamp_with_time_zone(EvidenceFiles::CreatedAt))
                    .check(Expr::cust(
                        "(finding_id IS NULL) <> (inspection_id IS NULL)",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_evidence_files_finding")
                            .from(EvidenceFiles::Table, EvidenceFiles::FindingId)
                            .to(Findings::Table, Findings::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_evidence_files_inspection")
                            .from(EvidenceFiles::Table, EvidenceFiles::InspectionId)
                            .to(Inspections::Table, Inspections::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_evidence_files_finding", EvidenceFiles::FindingId),
            ("idx_evidence_files_inspection", EvidenceFiles::InspectionId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(EvidenceFiles::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        // One column per statement: SQLite's ALTER TABLE takes one at a time.
        for column in [Units::Longitude, Units::Latitude] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Units::Table)
                        .add_column(ColumnDef::new(column).double().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Units::Longitude, Units::Latitude] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Units::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(EvidenceFiles::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EvidenceFiles {
    Table,
    Id,
    PublicId,
    FindingId,
    InspectionId,
    DistrictCode,
    FileName,
    MediaType,
    SizeBytes,
    Sha256,
    StorageKey,
    CapturedAt,
    UploadedBySubject,
    UploadedByAgency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Findings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Inspections {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Longitude,
    Latitude,
}
