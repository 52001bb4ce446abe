//! `violation_pattern_cells`: findings, units affected and fines per district × violation code,
//! kept current by every write that changes them (in the writing transaction), so the common
//! pattern question ("which violations, where") is read from ~1,100 rows instead of a GROUP BY
//! over every finding. Two classes of columns: all findings, and closed findings only (what an
//! integrator may see). Filled here from the findings already on file.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Cells::Table)
                    .col(string_len(Cells::DistrictCode, 6))
                    .col(string_len(Cells::ViolationCode, 8))
                    .col(string_len(Cells::Category, 24))
                    .col(big_integer(Cells::FindingsAll))
                    .col(big_integer(Cells::UnitsAll))
                    .col(big_integer(Cells::FinesAll))
                    .col(big_integer(Cells::FindingsClosed))
                    .col(big_integer(Cells::UnitsClosed))
                    .col(big_integer(Cells::FinesClosed))
                    .primary_key(
                        Index::create()
                            .col(Cells::DistrictCode)
                            .col(Cells::ViolationCode),
                    )
                    .to_owned(),
            )
            .await?;
        // Per unit and code: how the maintenance tells whether a unit is new to a cell.
        manager
            .create_index(
                Index::create()
                    .name("idx_findings_unit_violation_code")
                    .table(Findings::Table)
                    .col(Findings::UnitId)
                    .col(Findings::ViolationCode)
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared(REBUILD).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_findings_unit_violation_code")
                    .table(Findings::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Cells::Table).to_owned())
            .await
    }
}

/// The cells from the findings and fines on file (the same arithmetic as the live query: a fine
/// counts once, a daily penalty once per day). Portable SQL: SQLite and PostgreSQL.
pub const REBUILD: &str = r#"
INSERT INTO violation_pattern_cells
  (district_code, violation_code, category, findings_all, units_all, fines_all,
   findings_closed, units_closed, fines_closed)
SELECT f.district_code, f.violation_code, MIN(f.category),
  COUNT(*), COUNT(DISTINCT f.unit_id), CAST(COALESCE(SUM(p.fines), 0) AS BIGINT),
  SUM(CASE WHEN f.status = 'CLOSED' THEN 1 ELSE 0 END),
  COUNT(DISTINCT CASE WHEN f.status = 'CLOSED' THEN f.unit_id END),
  CAST(COALESCE(SUM(CASE WHEN f.status = 'CLOSED' THEN p.fines END), 0) AS BIGINT)
FROM findings f
LEFT JOIN (
  SELECT finding_id,
    SUM(CASE WHEN kind = 'DAILY_CONTINUOUS_PENALTY' THEN amount_yuan * COALESCE(days, 1)
        ELSE amount_yuan END) AS fines
  FROM enforcement_actions
  WHERE kind IN ('FINE', 'DAILY_CONTINUOUS_PENALTY')
  GROUP BY finding_id
) p ON p.finding_id = f.id
GROUP BY f.district_code, f.violation_code
"#;

#[derive(DeriveIden)]
enum Cells {
    #[sea_orm(iden = "violation_pattern_cells")]
    Table,
    DistrictCode,
    ViolationCode,
    Category,
    FindingsAll,
    UnitsAll,
    FinesAll,
    FindingsClosed,
    UnitsClosed,
    FinesClosed,
}

#[derive(DeriveIden)]
enum Findings {
    Table,
    UnitId,
    ViolationCode,
}
