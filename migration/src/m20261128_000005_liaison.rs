//! The liaison schema: enforcement feedback to permit offices (plan §5(3)) with the findings it
//! rests on and the permit changes made in response, and bulletins (信息通报) with their links to
//! findings and enforcement actions and their acknowledgements.
//!
//! Same conventions as before: enumerated columns are `varchar(24)` holding the upper-case key,
//! foreign keys are `RESTRICT`, index names start with their table's name, JSON columns are plain
//! `json`, so a feedback's frozen figures read back exactly as written.
//! `feedback.poster_district_code` has no foreign key (it is copied from the poster's
//! credentials, like `change_events.district_code`), nor has
//! `feedback_permit_changes.permit_version`.

use sea_orm_migration::{prelude::*, schema::*};

/// Width of every enumerated column; the longest key here (`TIGHTEN_PERMIT_CONDITION`) is 24.
const ENUM_LEN: u32 = 24;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Feedback::Table)
                    .col(big_pk_auto(Feedback::Id))
                    .col(string_len(Feedback::PosterSubject, 128))
                    .col(string_len_null(Feedback::PosterAgencyCode, 32))
                    .col(string_len_null(Feedback::PosterDistrictCode, 6))
                    .col(string_len(Feedback::AddressedAgencyCode, 32))
                    .col(json(Feedback::PatternCodes))
                    .col(string_len_null(Feedback::PatternIndustry, 8))
                    .col(string_len_null(Feedback::PatternDistrictCode, 6))
                    .col(date(Feedback::PeriodFrom))
                    .col(date(Feedback::PeriodTo))
                    .col(json(Feedback::Figures))
                    .col(enum_key(Feedback::Recommendation))
                    .col(text(Feedback::RecommendationText))
                    .col(enum_key(Feedback::Status))
                    .col(text_null(Feedback::AnswerText))
                    .col(string_len_null(Feedback::AnsweredBySubject, 128))
                    .col(timestamp_with_time_zone_null(Feedback::AnsweredAt))
                    .col(integer(Feedback::Version))
                    .col(timestamp_with_time_zone(Feedback::CreatedAt))
                    .col(timestamp_with_time_zone(Feedback::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_feedback_poster_agency",
                        (Feedback::Table, Feedback::PosterAgencyCode),
                        (Agencies::Table, Agencies::Code),
                    ))
                    .foreign_key(&mut fk(
                        "fk_feedback_addressed_agency",
                        (Feedback::Table, Feedback::AddressedAgencyCode),
                        (Agencies::Table, Agencies::Code),
                    ))
                    .foreign_key(&mut fk(
                        "fk_feedback_pattern_district",
                        (Feedback::Table, Feedback::PatternDistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_feedback_addressed_agency_code",
                &[Feedback::AddressedAgencyCode][..],
            ),
            (
                "idx_feedback_poster_agency_code",
                &[Feedback::PosterAgencyCode],
            ),
            ("idx_feedback_status", &[Feedback::Status]),
        ] {
            manager
                .create_index(index(name, Feedback::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(FeedbackFindings::Table)
                    .col(big_integer(FeedbackFindings::FeedbackId))
                    .col(big_integer(FeedbackFindings::FindingId))
                    .primary_key(
                        Index::create()
                            .col(FeedbackFindings::FeedbackId)
                            .col(FeedbackFindings::FindingId),
                    )
                    .foreign_key(&mut fk(
                        "fk_feedback_findings_feedback",
                        (FeedbackFindings::Table, FeedbackFindings::FeedbackId),
                        (Feedback::Table, Feedback::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_feedback_findings_finding",
                        (FeedbackFindings::Table, FeedbackFindings::FindingId),
                        (Findings::Table, Findings::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_feedback_findings_finding_id",
                FeedbackFindings::Table,
                &[FeedbackFindings::FindingId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FeedbackPermitChanges::Table)
                    .col(big_integer(FeedbackPermitChanges::FeedbackId))
                    .col(big_integer(FeedbackPermitChanges::PermitId))
                    .col(integer(FeedbackPermitChanges::PermitVersion))
                    .primary_key(
                        Index::create()
                            .col(FeedbackPermitChanges::FeedbackId)
                            .col(FeedbackPermitChanges::PermitId)
                            .col(FeedbackPermitChanges::PermitVersion),
                    )
                    .foreign_key(&mut fk(
                        "fk_feedback_permit_changes_feedback",
                        (
                            FeedbackPermitChanges::Table,
                            FeedbackPermitChanges::FeedbackId,
                        ),
                        (Feedback::Table, Feedback::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_feedback_permit_changes_permit",
                        (
                            FeedbackPermitChanges::Table,
                            FeedbackPermitChanges::PermitId,
                        ),
                        (Permits::Table, Permits::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // The primary key serves lookups by feedback; this one the feedback behind a permit's
        // changes.
        manager
            .create_index(index(
                "idx_feedback_permit_changes_permit_id",
                FeedbackPermitChanges::Table,
                &[FeedbackPermitChanges::PermitId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Bulletins::Table)
                    .col(big_pk_auto(Bulletins::Id))
                    .col(enum_key(Bulletins::Kind))
                    .col(string_len(Bulletins::Title, 200))
                    .col(text(Bulletins::Body))
                    .col(boolean(Bulletins::Public))
                    .col(json(Bulletins::AudienceAgencies))
                    .col(json(Bulletins::AudienceRoles))
                    .col(json(Bulletins::AudienceDistricts))
                    .col(string_len(Bulletins::PublisherSubject, 128))
                    .col(string_len_null(Bulletins::PublisherAgencyCode, 32))
                    .col(timestamp_with_time_zone(Bulletins::PublishedAt))
                    .foreign_key(&mut fk(
                        "fk_bulletins_publisher_agency",
                        (Bulletins::Table, Bulletins::PublisherAgencyCode),
                        (Agencies::Table, Agencies::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_bulletins_published_at", &[Bulletins::PublishedAt][..]),
            ("idx_bulletins_kind", &[Bulletins::Kind]),
        ] {
            manager
                .create_index(index(name, Bulletins::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(BulletinLinks::Table)
                    .col(big_pk_auto(BulletinLinks::Id))
                    .col(big_integer(BulletinLinks::BulletinId))
                    .col(big_integer_null(BulletinLinks::FindingId))
                    .col(big_integer_null(BulletinLinks::ActionId))
                    .foreign_key(&mut fk(
                        "fk_bulletin_links_bulletin",
                        (BulletinLinks::Table, BulletinLinks::BulletinId),
                        (Bulletins::Table, Bulletins::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_bulletin_links_finding",
                        (BulletinLinks::Table, BulletinLinks::FindingId),
                        (Findings::Table, Findings::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_bulletin_links_action",
                        (BulletinLinks::Table, BulletinLinks::ActionId),
                        (EnforcementActions::Table, EnforcementActions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_bulletin_links_bulletin_id",
                BulletinLinks::Table,
                &[BulletinLinks::BulletinId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BulletinAcknowledgements::Table)
                    .col(big_integer(BulletinAcknowledgements::BulletinId))
                    .col(string_len(BulletinAcknowledgements::AgencyCode, 32))
                    .col(string_len(
                        BulletinAcknowledgements::AcknowledgedBySubject,
                        128,
                    ))
                    .col(timestamp_with_time_zone(
                        BulletinAcknowledgements::AcknowledgedAt,
                    ))
                    .primary_key(
                        Index::create()
                            .col(BulletinAcknowledgements::BulletinId)
                            .col(BulletinAcknowledgements::AgencyCode),
                    )
                    .foreign_key(&mut fk(
                        "fk_bulletin_acknowledgements_bulletin",
                        (
                            BulletinAcknowledgements::Table,
                            BulletinAcknowledgements::BulletinId,
                        ),
                        (Bulletins::Table, Bulletins::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_bulletin_acknowledgements_agency",
                        (
                            BulletinAcknowledgements::Table,
                            BulletinAcknowledgements::AgencyCode,
                        ),
                        (Agencies::Table, Agencies::Code),
                    ))
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents; the indexes go with their tables.
        let tables: [DynIden; 6] = [
            BulletinAcknowledgements::Table.into_iden(),
            BulletinLinks::Table.into_iden(),
            Bulletins::Table.into_iden(),
            FeedbackPermitChanges::Table.into_iden(),
            FeedbackFindings::Table.into_iden(),
            Feedback::Table.into_iden(),
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

// Tables of earlier migrations, with only the columns referenced here.

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
enum Permits {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Findings {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum EnforcementActions {
    Table,
    Id,
}

// Tables of this migration.

#[derive(DeriveIden, Clone, Copy)]
enum Feedback {
    Table,
    Id,
    PosterSubject,
    PosterAgencyCode,
    PosterDistrictCode,
    AddressedAgencyCode,
    PatternCodes,
    PatternIndustry,
    PatternDistrictCode,
    PeriodFrom,
    PeriodTo,
    Figures,
    Recommendation,
    RecommendationText,
    Status,
    AnswerText,
    AnsweredBySubject,
    AnsweredAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum FeedbackFindings {
    Table,
    FeedbackId,
    FindingId,
}

#[derive(DeriveIden, Clone, Copy)]
enum FeedbackPermitChanges {
    Table,
    FeedbackId,
    PermitId,
    PermitVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum Bulletins {
    Table,
    Id,
    Kind,
    Title,
    Body,
    Public,
    AudienceAgencies,
    AudienceRoles,
    AudienceDistricts,
    PublisherSubject,
    PublisherAgencyCode,
    PublishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum BulletinLinks {
    Table,
    Id,
    BulletinId,
    FindingId,
    ActionId,
}

#[derive(DeriveIden, Clone, Copy)]
enum BulletinAcknowledgements {
    Table,
    BulletinId,
    AgencyCode,
    AcknowledgedBySubject,
    AcknowledgedAt,
}
