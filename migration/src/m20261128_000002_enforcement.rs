//! The enforcement schema: inspectors and their declared conflicts of interest, inspections with
//! their inspectors, findings with evidence and status transitions, and enforcement actions.
//!
//! Same conventions as the foundation: enumerated columns are `varchar(24)` holding the
//! upper-case key, foreign keys are `RESTRICT`, index names start with their table's name.
//! `inspections.campaign_id` has no foreign key yet; campaigns come in a later migration.

use sea_orm_migration::{prelude::*, schema::*};

/// Width of every enumerated column; the longest key (`DAILY_CONTINUOUS_PENALTY`) is 24.
const ENUM_LEN: u32 = 24;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Inspectors::Table)
                    .col(big_pk_auto(Inspectors::Id))
                    .col(string_len(Inspectors::Name, 50))
                    .col(string_len(Inspectors::AgencyCode, 32))
                    .col(string_len_uniq(Inspectors::CertificateNumber, 32))
                    .col(boolean(Inspectors::Active))
                    .col(timestamp_with_time_zone(Inspectors::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_inspectors_agency",
                        (Inspectors::Table, Inspectors::AgencyCode),
                        (Agencies::Table, Agencies::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_inspectors_agency_code",
                Inspectors::Table,
                &[Inspectors::AgencyCode],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InspectorConflicts::Table)
                    .col(big_pk_auto(InspectorConflicts::Id))
                    .col(big_integer(InspectorConflicts::InspectorId))
                    .col(big_integer(InspectorConflicts::UnitId))
                    .col(text(InspectorConflicts::Reason))
                    .col(date(InspectorConflicts::DeclaredOn))
                    .col(timestamp_with_time_zone(InspectorConflicts::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_inspector_conflicts_inspector",
                        (InspectorConflicts::Table, InspectorConflicts::InspectorId),
                        (Inspectors::Table, Inspectors::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_inspector_conflicts_unit",
                        (InspectorConflicts::Table, InspectorConflicts::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // One declaration per pair; its leading column also serves lookups by inspector.
        manager
            .create_index(
                index(
                    "uq_inspector_conflicts_inspector_unit",
                    InspectorConflicts::Table,
                    &[InspectorConflicts::InspectorId, InspectorConflicts::UnitId],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_inspector_conflicts_unit_id",
                InspectorConflicts::Table,
                &[InspectorConflicts::UnitId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Inspections::Table)
                    .col(big_pk_auto(Inspections::Id))
                    .col(big_integer(Inspections::UnitId))
                    .col(string_len(Inspections::DistrictCode, 6))
                    .col(string_len(Inspections::AgencyCode, 32))
                    .col(date(Inspections::InspectionDate))
                    .col(enum_key(Inspections::Source))
                    .col(enum_key(Inspections::Mode))
                    .col(big_integer_null(Inspections::CampaignId))
                    .col(json(Inspections::MaterialsReviewed))
                    .col(json(Inspections::Checklist))
                    .col(text_null(Inspections::Notes))
                    .col(string_len(Inspections::RecordedBySubject, 128))
                    .col(timestamp_with_time_zone(Inspections::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_inspections_unit",
                        (Inspections::Table, Inspections::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_inspections_district",
                        (Inspections::Table, Inspections::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .foreign_key(&mut fk(
                        "fk_inspections_agency",
                        (Inspections::Table, Inspections::AgencyCode),
                        (Agencies::Table, Agencies::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_inspections_district_inspection_date",
                &[Inspections::DistrictCode, Inspections::InspectionDate][..],
            ),
            (
                "idx_inspections_unit_inspection_date",
                &[Inspections::UnitId, Inspections::InspectionDate],
            ),
            ("idx_inspections_campaign_id", &[Inspections::CampaignId]),
        ] {
            manager
                .create_index(index(name, Inspections::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(InspectionInspectors::Table)
                    .col(big_integer(InspectionInspectors::InspectionId))
                    .col(big_integer(InspectionInspectors::InspectorId))
                    .primary_key(
                        Index::create()
                            .col(InspectionInspectors::InspectionId)
                            .col(InspectionInspectors::InspectorId),
                    )
                    .foreign_key(&mut fk(
                        "fk_inspection_inspectors_inspection",
                        (
                            InspectionInspectors::Table,
                            InspectionInspectors::InspectionId,
                        ),
                        (Inspections::Table, Inspections::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_inspection_inspectors_inspector",
                        (
                            InspectionInspectors::Table,
                            InspectionInspectors::InspectorId,
                        ),
                        (Inspectors::Table, Inspectors::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_inspection_inspectors_inspector_id",
                InspectionInspectors::Table,
                &[InspectionInspectors::InspectorId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Findings::Table)
                    .col(big_pk_auto(Findings::Id))
                    .col(big_integer(Findings::InspectionId))
                    .col(big_integer(Findings::UnitId))
                    .col(string_len(Findings::DistrictCode, 6))
                    .col(big_integer_null(Findings::PermitId))
                    .col(string_len(Findings::ViolationCode, 8))
                    .col(enum_key(Findings::Category))
                    .col(date(Findings::FoundOn))
                    .col(big_integer_null(Findings::OutletId))
                    .col(string_len_null(Findings::Pollutant, 64))
                    .col(double_null(Findings::MeasuredValue))
                    .col(string_len_null(Findings::MeasuredUnit, 16))
                    .col(double_null(Findings::PermittedValue))
                    .col(enum_key(Findings::Severity))
                    .col(text(Findings::Description))
                    .col(date_null(Findings::RectificationDeadline))
                    .col(enum_key(Findings::Status))
                    .col(integer(Findings::Version))
                    .col(timestamp_with_time_zone(Findings::CreatedAt))
                    .col(timestamp_with_time_zone(Findings::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_findings_inspection",
                        (Findings::Table, Findings::InspectionId),
                        (Inspections::Table, Inspections::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_findings_unit",
                        (Findings::Table, Findings::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_findings_district",
                        (Findings::Table, Findings::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .foreign_key(&mut fk(
                        "fk_findings_permit",
                        (Findings::Table, Findings::PermitId),
                        (Permits::Table, Permits::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_findings_violation_code",
                        (Findings::Table, Findings::ViolationCode),
                        (ViolationCodes::Table, ViolationCodes::Code),
                    ))
                    .foreign_key(&mut fk(
                        "fk_findings_outlet",
                        (Findings::Table, Findings::OutletId),
                        (Outlets::Table, Outlets::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // The (…, found_on) pairs serve the pattern analyses: code × district × period, and the
        // findings on one permit over time.
        for (name, cols) in [
            (
                "idx_findings_district_found_on",
                &[Findings::DistrictCode, Findings::FoundOn][..],
            ),
            (
                "idx_findings_violation_code_found_on",
                &[Findings::ViolationCode, Findings::FoundOn],
            ),
            (
                "idx_findings_permit_found_on",
                &[Findings::PermitId, Findings::FoundOn],
            ),
            ("idx_findings_unit_id", &[Findings::UnitId]),
            ("idx_findings_status", &[Findings::Status]),
            (
                "idx_findings_category_found_on",
                &[Findings::Category, Findings::FoundOn],
            ),
            ("idx_findings_inspection_id", &[Findings::InspectionId]),
        ] {
            manager
                .create_index(index(name, Findings::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(FindingEvidence::Table)
                    .col(big_pk_auto(FindingEvidence::Id))
                    .col(big_integer(FindingEvidence::FindingId))
                    .col(string_len(FindingEvidence::FileName, 255))
                    .col(string_len(FindingEvidence::MediaType, 100))
                    .col(big_integer(FindingEvidence::SizeBytes))
                    .col(string_len(FindingEvidence::Sha256, 64))
                    .col(timestamp_with_time_zone_null(FindingEvidence::CapturedAt))
                    .foreign_key(&mut fk(
                        "fk_finding_evidence_finding",
                        (FindingEvidence::Table, FindingEvidence::FindingId),
                        (Findings::Table, Findings::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_finding_evidence_finding_id",
                FindingEvidence::Table,
                &[FindingEvidence::FindingId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FindingTransitions::Table)
                    .col(big_pk_auto(FindingTransitions::Id))
                    .col(big_integer(FindingTransitions::FindingId))
                    .col(enum_key_null(FindingTransitions::FromStatus))
                    .col(enum_key(FindingTransitions::ToStatus))
                    .col(text_null(FindingTransitions::Reason))
                    .col(big_integer_null(FindingTransitions::ReinspectionId))
                    .col(string_len(FindingTransitions::ActorSubject, 128))
                    .col(string_len_null(FindingTransitions::ActorAgency, 32))
                    .col(timestamp_with_time_zone(FindingTransitions::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_finding_transitions_finding",
                        (FindingTransitions::Table, FindingTransitions::FindingId),
                        (Findings::Table, Findings::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_finding_transitions_reinspection",
                        (
                            FindingTransitions::Table,
                            FindingTransitions::ReinspectionId,
                        ),
                        (Inspections::Table, Inspections::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // (finding_id, id) reads one finding's history in order.
        manager
            .create_index(index(
                "idx_finding_transitions_finding_id",
                FindingTransitions::Table,
                &[FindingTransitions::FindingId, FindingTransitions::Id],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EnforcementActions::Table)
                    .col(big_pk_auto(EnforcementActions::Id))
                    .col(big_integer(EnforcementActions::FindingId))
                    .col(enum_key(EnforcementActions::Kind))
                    .col(string_len_uniq(EnforcementActions::DecisionNumber, 64))
                    .col(date(EnforcementActions::DecidedOn))
                    .col(big_integer_null(EnforcementActions::AmountYuan))
                    .col(integer_null(EnforcementActions::Days))
                    .col(boolean(EnforcementActions::TypicalCase))
                    .col(text_null(EnforcementActions::Notes))
                    .col(string_len(EnforcementActions::AgencyCode, 32))
                    .col(string_len(EnforcementActions::RecordedBySubject, 128))
                    .col(timestamp_with_time_zone(EnforcementActions::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_enforcement_actions_finding",
                        (EnforcementActions::Table, EnforcementActions::FindingId),
                        (Findings::Table, Findings::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enforcement_actions_agency",
                        (EnforcementActions::Table, EnforcementActions::AgencyCode),
                        (Agencies::Table, Agencies::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_enforcement_actions_finding_id",
                &[EnforcementActions::FindingId][..],
            ),
            (
                "idx_enforcement_actions_kind_decided_on",
                &[EnforcementActions::Kind, EnforcementActions::DecidedOn],
            ),
        ] {
            manager
                .create_index(index(name, EnforcementActions::Table, cols))
                .await?;
        }

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents; the indexes go with their tables.
        let tables: [DynIden; 8] = [
            EnforcementActions::Table.into_iden(),
            FindingTransitions::Table.into_iden(),
            FindingEvidence::Table.into_iden(),
            Findings::Table.into_iden(),
            InspectionInspectors::Table.into_iden(),
            Inspections::Table.into_iden(),
            InspectorConflicts::Table.into_iden(),
            Inspectors::Table.into_iden(),
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

/// A nullable column holding an enum key.
fn enum_key_null<T: IntoIden>(col: T) -> ColumnDef {
    string_len_null(col, ENUM_LEN)
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

// Tables of the foundation migration, with only the columns referenced here.

#[derive(DeriveIden, Clone, Copy)]
enum Districts {
    Table,
    Code,
}

#[derive(DeriveIden, Clone, Copy)]
enum Agencies {
    Table,
    Code,
}

#[derive(DeriveIden, Clone, Copy)]
enum ViolationCodes {
    Table,
    Code,
}

#[derive(DeriveIden, Clone, Copy)]
enum Units {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Permits {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Outlets {
    Table,
    Id,
}

// Tables of this migration.

#[derive(DeriveIden, Clone, Copy)]
enum Inspectors {
    Table,
    Id,
    Name,
    AgencyCode,
    CertificateNumber,
    Active,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum InspectorConflicts {
    Table,
    Id,
    InspectorId,
    UnitId,
    Reason,
    DeclaredOn,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Inspections {
    Table,
    Id,
    UnitId,
    DistrictCode,
    AgencyCode,
    InspectionDate,
    Source,
    Mode,
    CampaignId,
    MaterialsReviewed,
    Checklist,
    Notes,
    RecordedBySubject,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum InspectionInspectors {
    Table,
    InspectionId,
    InspectorId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Findings {
    Table,
    Id,
    InspectionId,
    UnitId,
    DistrictCode,
    PermitId,
    ViolationCode,
    Category,
    FoundOn,
    OutletId,
    Pollutant,
    MeasuredValue,
    MeasuredUnit,
    PermittedValue,
    Severity,
    Description,
    RectificationDeadline,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum FindingEvidence {
    Table,
    Id,
    FindingId,
    FileName,
    MediaType,
    SizeBytes,
    Sha256,
    CapturedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum FindingTransitions {
    Table,
    Id,
    FindingId,
    FromStatus,
    ToStatus,
    Reason,
    ReinspectionId,
    ActorSubject,
    ActorAgency,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum EnforcementActions {
    Table,
    Id,
    FindingId,
    Kind,
    DecisionNumber,
    DecidedOn,
    AmountYuan,
    Days,
    TypicalCase,
    Notes,
    AgencyCode,
    RecordedBySubject,
    CreatedAt,
}
