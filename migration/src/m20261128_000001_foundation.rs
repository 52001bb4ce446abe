//! The first schema: reference tables (districts, agencies, violation codes), units, permits with
//! their versions, outlets and limits, registrations, and idempotency keys.
//!
//! Enumerated columns are `varchar(24)` holding the upper-case key, not native enums, so the
//! schema is the same on SQLite and PostgreSQL. Foreign keys are `RESTRICT`: permits and their
//! history are never deleted, so a cascading delete would only ever hide a mistake.

use sea_orm_migration::{prelude::*, schema::*};

/// Width of every enumerated column; the longest key (`UNPERMITTED_DISCHARGE`) is 21.
const ENUM_LEN: u32 = 24;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Districts::Table)
                    .col(string_len(Districts::Code, 6).primary_key())
                    .col(string(Districts::NameZh))
                    .col(enum_key(Districts::Kind))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Agencies::Table)
                    .col(string_len(Agencies::Code, 32).primary_key())
                    .col(string(Agencies::NameZh))
                    .col(enum_key(Agencies::Kind))
                    .col(enum_key(Agencies::Level))
                    .col(string_len_null(Agencies::DistrictCode, 6))
                    .foreign_key(&mut fk(
                        "fk_agencies_district",
                        (Agencies::Table, Agencies::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ViolationCodes::Table)
                    .col(string_len(ViolationCodes::Code, 8).primary_key())
                    .col(enum_key(ViolationCodes::Category))
                    .col(string_len(ViolationCodes::Article, 32))
                    .col(string(ViolationCodes::LabelZh))
                    .col(string(ViolationCodes::LabelEn))
                    .col(big_integer_null(ViolationCodes::FineMin))
                    .col(big_integer_null(ViolationCodes::FineMax))
                    .col(text(ViolationCodes::PenaltyNote))
                    .col(integer(ViolationCodes::SortOrder))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Units::Table)
                    .col(big_pk_auto(Units::Id))
                    .col(string_len_uniq(Units::CreditCode, 18))
                    .col(string_len(Units::Name, 200))
                    .col(string_len_null(Units::LegalRepresentative, 100))
                    .col(string_len_null(Units::ContactPhone, 32))
                    .col(string_len(Units::Address, 300))
                    .col(string_len(Units::DistrictCode, 6))
                    .col(string_len(Units::IndustryCode, 8))
                    .col(enum_key(Units::ManagementCategory))
                    .col(enum_key(Units::CreditLevel))
                    .col(boolean(Units::PositiveList))
                    .col(string_len_null(Units::PositiveListReason, 300))
                    .col(date_null(Units::PositiveListExpiresOn))
                    .col(integer(Units::Version))
                    .col(timestamp_with_time_zone(Units::CreatedAt))
                    .col(timestamp_with_time_zone(Units::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_units_district",
                        (Units::Table, Units::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        // (district_code, id) serves the district-scoped keyset pagination every list query does.
        for (name, cols) in [
            (
                "idx_units_district_id",
                &[Units::DistrictCode, Units::Id][..],
            ),
            (
                "idx_units_district_name",
                &[Units::DistrictCode, Units::Name],
            ),
            (
                "idx_units_management_category",
                &[Units::ManagementCategory],
            ),
            ("idx_units_industry_code", &[Units::IndustryCode]),
        ] {
            manager
                .create_index(index(name, Units::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Permits::Table)
                    .col(big_pk_auto(Permits::Id))
                    .col(string_len_uniq(Permits::PermitNumber, 22))
                    .col(big_integer(Permits::UnitId))
                    .col(string_len(Permits::DistrictCode, 6))
                    .col(string_len(Permits::IssuingAgencyCode, 32))
                    .col(enum_key(Permits::ManagementCategory))
                    .col(enum_key(Permits::Status))
                    .col(date(Permits::IssuedOn))
                    .col(date(Permits::ValidFrom))
                    .col(date(Permits::ValidTo))
                    .col(integer(Permits::Version))
                    .col(timestamp_with_time_zone(Permits::CreatedAt))
                    .col(timestamp_with_time_zone(Permits::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_permits_unit",
                        (Permits::Table, Permits::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_permits_district",
                        (Permits::Table, Permits::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .foreign_key(&mut fk(
                        "fk_permits_issuing_agency",
                        (Permits::Table, Permits::IssuingAgencyCode),
                        (Agencies::Table, Agencies::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        // (status, valid_to) and valid_to serve the expiry sweeps and "expiring soon" lists.
        for (name, cols) in [
            ("idx_permits_unit_id", &[Permits::UnitId][..]),
            (
                "idx_permits_district_id",
                &[Permits::DistrictCode, Permits::Id],
            ),
            (
                "idx_permits_district_valid_to",
                &[Permits::DistrictCode, Permits::ValidTo],
            ),
            (
                "idx_permits_status_valid_to",
                &[Permits::Status, Permits::ValidTo],
            ),
            ("idx_permits_valid_to", &[Permits::ValidTo]),
        ] {
            manager
                .create_index(index(name, Permits::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(PermitVersions::Table)
                    .col(big_pk_auto(PermitVersions::Id))
                    .col(big_integer(PermitVersions::PermitId))
                    .col(integer(PermitVersions::Version))
                    .col(enum_key(PermitVersions::ChangeKind))
                    .col(text_null(PermitVersions::Reason))
                    .col(enum_key(PermitVersions::Status))
                    .col(date(PermitVersions::ValidFrom))
                    .col(date(PermitVersions::ValidTo))
                    // jsonb on PostgreSQL; SQLite stores the text under a type name it ignores.
                    .col(json_binary(PermitVersions::Snapshot))
                    .col(string_len(PermitVersions::ChangedBySubject, 128))
                    .col(string_len_null(PermitVersions::ChangedByAgency, 32))
                    .col(timestamp_with_time_zone(PermitVersions::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_permit_versions_permit",
                        (PermitVersions::Table, PermitVersions::PermitId),
                        (Permits::Table, Permits::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // Unique, so two concurrent changes of one permit cannot both write version n+1.
        manager
            .create_index(
                index(
                    "uq_permit_versions_permit_version",
                    PermitVersions::Table,
                    &[PermitVersions::PermitId, PermitVersions::Version],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outlets::Table)
                    .col(big_pk_auto(Outlets::Id))
                    .col(big_integer(Outlets::PermitId))
                    .col(string_len(Outlets::Code, 5))
                    .col(enum_key(Outlets::Medium))
                    .col(enum_key(Outlets::Category))
                    .col(string_len_null(Outlets::Name, 100))
                    .foreign_key(&mut fk(
                        "fk_outlets_permit",
                        (Outlets::Table, Outlets::PermitId),
                        (Permits::Table, Permits::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_outlets_permit_code",
                    Outlets::Table,
                    &[Outlets::PermitId, Outlets::Code],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PermitLimits::Table)
                    .col(big_pk_auto(PermitLimits::Id))
                    .col(big_integer(PermitLimits::PermitId))
                    .col(big_integer(PermitLimits::OutletId))
                    .col(string_len(PermitLimits::Pollutant, 64))
                    .col(double_null(PermitLimits::ConcentrationLimit))
                    .col(string_len_null(PermitLimits::ConcentrationUnit, 16))
                    .col(string_len_null(PermitLimits::AveragingPeriod, ENUM_LEN))
                    .col(double_null(PermitLimits::AnnualQuantityTpa))
                    .foreign_key(&mut fk(
                        "fk_permit_limits_permit",
                        (PermitLimits::Table, PermitLimits::PermitId),
                        (Permits::Table, Permits::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_permit_limits_outlet",
                        (PermitLimits::Table, PermitLimits::OutletId),
                        (Outlets::Table, Outlets::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_permit_limits_permit_id", &[PermitLimits::PermitId]),
            ("idx_permit_limits_outlet_id", &[PermitLimits::OutletId]),
        ] {
            manager
                .create_index(index(name, PermitLimits::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Registrations::Table)
                    .col(big_pk_auto(Registrations::Id))
                    .col(string_len_uniq(Registrations::RegistrationNumber, 22))
                    .col(big_integer(Registrations::UnitId))
                    .col(string_len(Registrations::DistrictCode, 6))
                    .col(date(Registrations::RegisteredOn))
                    .col(date(Registrations::ValidTo))
                    .col(enum_key(Registrations::Status))
                    .col(timestamp_with_time_zone(Registrations::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_registrations_unit",
                        (Registrations::Table, Registrations::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_registrations_district",
                        (Registrations::Table, Registrations::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_registrations_unit_id",
                Registrations::Table,
                &[Registrations::UnitId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string_len(IdempotencyKeys::Subject, 128))
                    .col(string_len(IdempotencyKeys::Operation, 64))
                    .col(string_len(IdempotencyKeys::IdempotencyKey, 128))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(big_integer(IdempotencyKeys::ResultId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Subject)
                            .col(IdempotencyKeys::Operation)
                            .col(IdempotencyKeys::IdempotencyKey),
                    )
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents; the indexes go with their tables.
        let tables: [DynIden; 10] = [
            IdempotencyKeys::Table.into_iden(),
            Registrations::Table.into_iden(),
            PermitLimits::Table.into_iden(),
            Outlets::Table.into_iden(),
            PermitVersions::Table.into_iden(),
            Permits::Table.into_iden(),
            Units::Table.into_iden(),
            ViolationCodes::Table.into_iden(),
            Agencies::Table.into_iden(),
            Districts::Table.into_iden(),
        ];
        for table in tables {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// A NOT NULL column holding an enum key.
fn enum_key<T: IntoIden>(col: T) -> ColumnDef {
    string_len(col, ENUM_LEN)
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

#[derive(DeriveIden, Clone, Copy)]
enum Districts {
    Table,
    Code,
    NameZh,
    Kind,
}

#[derive(DeriveIden, Clone, Copy)]
enum Agencies {
    Table,
    Code,
    NameZh,
    Kind,
    Level,
    DistrictCode,
}

#[derive(DeriveIden, Clone, Copy)]
enum ViolationCodes {
    Table,
    Code,
    Category,
    Article,
    LabelZh,
    LabelEn,
    FineMin,
    FineMax,
    PenaltyNote,
    SortOrder,
}

#[derive(DeriveIden, Clone, Copy)]
enum Units {
    Table,
    Id,
    CreditCode,
    Name,
    LegalRepresentative,
    ContactPhone,
    Address,
    DistrictCode,
    IndustryCode,
    ManagementCategory,
    CreditLevel,
    PositiveList,
    PositiveListReason,
    PositiveListExpiresOn,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Permits {
    Table,
    Id,
    PermitNumber,
    UnitId,
    DistrictCode,
    IssuingAgencyCode,
    ManagementCategory,
    Status,
    IssuedOn,
    ValidFrom,
    ValidTo,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PermitVersions {
    Table,
    Id,
    PermitId,
    Version,
    ChangeKind,
    Reason,
    Status,
    ValidFrom,
    ValidTo,
    Snapshot,
    ChangedBySubject,
    ChangedByAgency,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Outlets {
    Table,
    Id,
    PermitId,
    Code,
    Medium,
    Category,
    Name,
}

#[derive(DeriveIden, Clone, Copy)]
enum PermitLimits {
    Table,
    Id,
    PermitId,
    OutletId,
    Pollutant,
    ConcentrationLimit,
    ConcentrationUnit,
    AveragingPeriod,
    AnnualQuantityTpa,
}

#[derive(DeriveIden, Clone, Copy)]
enum Registrations {
    Table,
    Id,
    RegistrationNumber,
    UnitId,
    DistrictCode,
    RegisteredOn,
    ValidTo,
    Status,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IdempotencyKeys {
    Table,
    Subject,
    Operation,
    IdempotencyKey,
    RequestHash,
    ResultId,
    CreatedAt,
}
