//! The campaign schema: campaigns (专项行动) with their phases and sampling rules, random draws
//! (双随机) with their items, and the districts' summary reports.
//!
//! Same conventions as before: enumerated columns are `varchar(24)` holding the upper-case key,
//! foreign keys are `RESTRICT`, index names start with their table's name. JSON columns are
//! plain `json`, not `jsonb`: on PostgreSQL `json` keeps the text as written, so a draw's frozen
//! inputs read back exactly as they were hashed. `inspections.campaign_id` still gets no foreign
//! key (SQLite cannot add one to an existing table); its index `idx_inspections_campaign_id`
//! came with the enforcement migration.

use sea_orm_migration::{prelude::*, schema::*};

/// Width of every enumerated column; the longest key here (`JOINT_SPOT_CHECK`) is 16.
const ENUM_LEN: u32 = 24;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(big_pk_auto(Campaigns::Id))
                    .col(string_len_uniq(Campaigns::Name, 200))
                    .col(date(Campaigns::StartsOn))
                    .col(date(Campaigns::EndsOn))
                    .col(enum_key(Campaigns::CoverageCategory))
                    .col(date(Campaigns::CoverageDeadline))
                    .col(date(Campaigns::SummaryDeadline))
                    .col(string_len(Campaigns::CreatedBySubject, 128))
                    .col(string_len_null(Campaigns::CreatedByAgency, 32))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignPhases::Table)
                    .col(big_pk_auto(CampaignPhases::Id))
                    .col(big_integer(CampaignPhases::CampaignId))
                    .col(string_len(CampaignPhases::Name, 100))
                    .col(enum_key(CampaignPhases::Kind))
                    .col(date(CampaignPhases::StartsOn))
                    .col(date(CampaignPhases::EndsOn))
                    .col(integer(CampaignPhases::SortOrder))
                    .foreign_key(&mut fk(
                        "fk_campaign_phases_campaign",
                        (CampaignPhases::Table, CampaignPhases::CampaignId),
                        (Campaigns::Table, Campaigns::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_campaign_phases_campaign_id",
                CampaignPhases::Table,
                &[CampaignPhases::CampaignId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignSamplingRules::Table)
                    .col(big_pk_auto(CampaignSamplingRules::Id))
                    .col(big_integer(CampaignSamplingRules::CampaignId))
                    .col(enum_key(CampaignSamplingRules::ManagementCategory))
                    .col(double(CampaignSamplingRules::Share))
                    .col(enum_key(CampaignSamplingRules::Period))
                    .foreign_key(&mut fk(
                        "fk_campaign_sampling_rules_campaign",
                        (
                            CampaignSamplingRules::Table,
                            CampaignSamplingRules::CampaignId,
                        ),
                        (Campaigns::Table, Campaigns::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // One rule per category; its leading column also serves lookups by campaign.
        manager
            .create_index(
                index(
                    "uq_campaign_sampling_rules_campaign_category",
                    CampaignSamplingRules::Table,
                    &[
                        CampaignSamplingRules::CampaignId,
                        CampaignSamplingRules::ManagementCategory,
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RandomDraws::Table)
                    .col(big_pk_auto(RandomDraws::Id))
                    .col(big_integer_null(RandomDraws::CampaignId))
                    .col(string_len_null(RandomDraws::DistrictCode, 6))
                    .col(enum_key(RandomDraws::Kind))
                    .col(enum_key_null(RandomDraws::ManagementCategory))
                    .col(integer(RandomDraws::RequestedCount))
                    .col(integer(RandomDraws::InspectorsPerUnit))
                    .col(string_len(RandomDraws::Seed, 64))
                    .col(string_len(RandomDraws::AlgorithmVersion, 32))
                    .col(string_len(RandomDraws::InputDigest, 64))
                    .col(json(RandomDraws::FrozenInputs))
                    .col(json(RandomDraws::Result))
                    .col(string_len(RandomDraws::DrawnBySubject, 128))
                    .col(string_len_null(RandomDraws::DrawnByAgency, 32))
                    .col(timestamp_with_time_zone(RandomDraws::DrawnAt))
                    .col(boolean(RandomDraws::Published))
                    .col(date_null(RandomDraws::PublishedOn))
                    .foreign_key(&mut fk(
                        "fk_random_draws_campaign",
                        (RandomDraws::Table, RandomDraws::CampaignId),
                        (Campaigns::Table, Campaigns::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_random_draws_district",
                        (RandomDraws::Table, RandomDraws::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_random_draws_district_drawn_at",
                &[RandomDraws::DistrictCode, RandomDraws::DrawnAt][..],
            ),
            ("idx_random_draws_campaign_id", &[RandomDraws::CampaignId]),
        ] {
            manager
                .create_index(index(name, RandomDraws::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(RandomDrawItems::Table)
                    .col(big_pk_auto(RandomDrawItems::Id))
                    .col(big_integer(RandomDrawItems::DrawId))
                    .col(big_integer_null(RandomDrawItems::UnitId))
                    .col(string_len_null(RandomDrawItems::DistrictCode, 6))
                    .col(string_len_null(RandomDrawItems::GroupLabel, 64))
                    .col(json(RandomDrawItems::InspectorIds))
                    .col(integer(RandomDrawItems::Position))
                    .foreign_key(&mut fk(
                        "fk_random_draw_items_draw",
                        (RandomDrawItems::Table, RandomDrawItems::DrawId),
                        (RandomDraws::Table, RandomDraws::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_random_draw_items_unit",
                        (RandomDrawItems::Table, RandomDrawItems::UnitId),
                        (Units::Table, Units::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_random_draw_items_district",
                        (RandomDrawItems::Table, RandomDrawItems::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_random_draw_items_draw_id",
                &[RandomDrawItems::DrawId][..],
            ),
            ("idx_random_draw_items_unit_id", &[RandomDrawItems::UnitId]),
        ] {
            manager
                .create_index(index(name, RandomDrawItems::Table, cols))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SummaryReports::Table)
                    .col(big_pk_auto(SummaryReports::Id))
                    .col(big_integer(SummaryReports::CampaignId))
                    .col(string_len(SummaryReports::DistrictCode, 6))
                    .col(json(SummaryReports::Snapshot))
                    .col(string_len(SummaryReports::SubmittedBySubject, 128))
                    .col(string_len_null(SummaryReports::SubmittedByAgency, 32))
                    .col(timestamp_with_time_zone(SummaryReports::SubmittedAt))
                    .col(boolean(SummaryReports::Late))
                    .foreign_key(&mut fk(
                        "fk_summary_reports_campaign",
                        (SummaryReports::Table, SummaryReports::CampaignId),
                        (Campaigns::Table, Campaigns::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_summary_reports_district",
                        (SummaryReports::Table, SummaryReports::DistrictCode),
                        (Districts::Table, Districts::Code),
                    ))
                    .to_owned(),
            )
            .await?;
        // One report per district and campaign; its leading column also serves lookups by
        // campaign.
        manager
            .create_index(
                index(
                    "uq_summary_reports_campaign_district",
                    SummaryReports::Table,
                    &[SummaryReports::CampaignId, SummaryReports::DistrictCode],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents; the indexes go with their tables.
        let tables: [DynIden; 6] = [
            SummaryReports::Table.into_iden(),
            RandomDrawItems::Table.into_iden(),
            RandomDraws::Table.into_iden(),
            CampaignSamplingRules::Table.into_iden(),
            CampaignPhases::Table.into_iden(),
            Campaigns::Table.into_iden(),
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

// Tables of earlier migrations, with only the columns referenced here.

#[derive(DeriveIden, Clone, Copy)]
enum Districts {
    Table,
    Code,
}

#[derive(DeriveIden, Clone, Copy)]
enum Units {
    Table,
    Id,
}

// Tables of this migration.

#[derive(DeriveIden, Clone, Copy)]
enum Campaigns {
    Table,
    Id,
    Name,
    StartsOn,
    EndsOn,
    CoverageCategory,
    CoverageDeadline,
    SummaryDeadline,
    CreatedBySubject,
    CreatedByAgency,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CampaignPhases {
    Table,
    Id,
    CampaignId,
    Name,
    Kind,
    StartsOn,
    EndsOn,
    SortOrder,
}

#[derive(DeriveIden, Clone, Copy)]
enum CampaignSamplingRules {
    Table,
    Id,
    CampaignId,
    ManagementCategory,
    Share,
    Period,
}

#[derive(DeriveIden, Clone, Copy)]
enum RandomDraws {
    Table,
    Id,
    CampaignId,
    DistrictCode,
    Kind,
    ManagementCategory,
    RequestedCount,
    InspectorsPerUnit,
    Seed,
    AlgorithmVersion,
    InputDigest,
    FrozenInputs,
    Result,
    DrawnBySubject,
    DrawnByAgency,
    DrawnAt,
    Published,
    PublishedOn,
}

#[derive(DeriveIden, Clone, Copy)]
enum RandomDrawItems {
    Table,
    Id,
    DrawId,
    UnitId,
    DistrictCode,
    GroupLabel,
    InspectorIds,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum SummaryReports {
    Table,
    Id,
    CampaignId,
    DistrictCode,
    Snapshot,
    SubmittedBySubject,
    SubmittedByAgency,
    SubmittedAt,
    Late,
}
