//! Violation patterns (plan §5(3): enforcement "梳理分析排污许可违法行为的类型、特点"): counts of
//! findings, units affected and fines, grouped by any of code, category, district, industry and
//! month — one GROUP BY in SQL over the findings the caller may read — and beside them the open
//! violation candidates of each group (issue 17), one more GROUP BY over the candidates.

use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, JoinType, Order as SqlOrder, Query, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, StatementBuilder};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::findings::{self, FindingFilter};
use crate::error::{AppError, AppResult};
use entity::enums::{EnforcementActionKind, ViolationCategory};
use entity::{enforcement_actions, findings as finding_rows, units, violation_pattern_cells};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Code,
    Category,
    District,
    Industry,
    Month,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatternRow {
    pub code: Option<String>,
    pub category: Option<ViolationCategory>,
    pub district_code: Option<String>,
    pub industry_code: Option<String>,
    /// `YYYY-MM` of the date found.
    pub month: Option<String>,
    pub findings: i64,
    pub units_affected: i64,
    /// Fines and daily penalties decided on these findings, in yuan.
    pub fines_yuan: i64,
    /// Open violation candidates of the group (`open_candidates`).
    pub open_candidates: i64,
}

pub const MAX_ROWS: u64 = 5000;

/// What a pattern query counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counts {
    FindingsOnly,
    /// The findings, and the open candidates of each group (`PatternRow::open_candidates`);
    /// groups with candidates and no findings follow the others.
    WithCandidates,
}

fn alias(d: Dimension) -> &'static str {
    match d {
        Dimension::Code => "g_code",
        Dimension::Category => "g_category",
        Dimension::District => "g_district",
        Dimension::Industry => "g_industry",
        Dimension::Month => "g_month",
    }
}

fn dimension_expr(d: Dimension, backend: DatabaseBackend) -> SimpleExpr {
    match d {
        Dimension::Code => Expr::col((finding_rows::Entity, finding_rows::Column::ViolationCode)),
        Dimension::Category => Expr::col((finding_rows::Entity, finding_rows::Column::Category)),
        Dimension::District => {
            Expr::col((finding_rows::Entity, finding_rows::Column::DistrictCode))
        }
        Dimension::Industry => Expr::col((units::Entity, units::Column::IndustryCode)),
        // Dates are text on SQLite and `date` on PostgreSQL.
        Dimension::Month => match backend {
            DatabaseBackend::Postgres => {
                Expr::cust("to_char(\"findings\".\"found_on\", 'YYYY-MM')")
            }
            _ => Expr::cust("substr(\"findings\".\"found_on\", 1, 7)"),
        },
    }
}

pub async fn violation_patterns(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    filter: &FindingFilter,
    group_by: &[Dimension],
    limit: u64,
    counts: Counts,
) -> AppResult<Vec<PatternRow>> {
    if group_by.is_empty() {
        return Err(AppError::invalid(
            "groupBy",
            "group by at least one of CODE, CATEGORY, DISTRICT, INDUSTRY, MONTH",
        ));
    }
    if limit == 0 || limit > MAX_ROWS {
        return Err(AppError::invalid("limit", format!("1 to {MAX_ROWS} rows")));
    }
    let mut dims = group_by.to_vec();
    dims.dedup();
    let mut rows = if answers_from_cells(filter, &dims) {
        from_cells(db, principal, filter, &dims, limit).await?
    } else {
        from_findings(db, principal, filter, &dims, limit).await?
    };
    if counts == Counts::FindingsOnly {
        return Ok(rows);
    }
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    let mut candidates = open_candidates(db, principal, filter, &dims).await?;
    for row in &mut rows {
        row.open_candidates = candidates.remove(&key_of(row, &dims)).unwrap_or(0);
    }
    // Groups with candidates and no findings yet come after the others, within the limit.
    let room = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(rows.len());
    let mut only_candidates: Vec<(Vec<Option<String>>, i64)> = candidates.into_iter().collect();
    only_candidates.sort();
    for (key, count) in only_candidates.into_iter().take(room) {
        rows.push(row_of_key(&key, &dims, count)?);
    }
    Ok(rows)
}

/// A group's key in `dims` order, as text (categories by their stored value).
fn key_of(row: &PatternRow, dims: &[Dimension]) -> Vec<Option<String>> {
    dims.iter()
        .map(|d| match d {
            Dimension::Code => row.code.clone(),
            Dimension::Category => row.category.map(|c| sea_orm::ActiveEnum::to_value(&c)),
            Dimension::District => row.district_code.clone(),
            Dimension::Industry => row.industry_code.clone(),
            Dimension::Month => row.month.clone(),
        })
        .collect()
}

fn row_of_key(key: &[Option<String>], dims: &[Dimension], open: i64) -> AppResult<PatternRow> {
    let mut row = PatternRow {
        open_candidates: open,
        ..PatternRow::default()
    };
    for (d, value) in dims.iter().zip(key) {
        let value = value.clone();
        match d {
            Dimension::Code => row.code = value,
            Dimension::Category => {
                row.category = value
                    .map(|v| {
                        <ViolationCategory as sea_orm::ActiveEnum>::try_from_value(&v)
                            .map_err(AppError::internal)
                    })
                    .transpose()?
            }
            Dimension::District => row.district_code = value,
            Dimension::Industry => row.industry_code = value,
            Dimension::Month => row.month = value,
        }
    }
    Ok(row)
}

/// Open candidates per group: under the candidates' own scope (`access::candidate_filter`),
/// and the filters that apply to a candidate (district, code, category, industry, permit,
/// unit); a finding's status, severity, dates, inspection and campaign do not. A candidate's
/// month is the month it was detected, in the service's time zone.
async fn open_candidates(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: &FindingFilter,
    dims: &[Dimension],
) -> AppResult<std::collections::HashMap<Vec<Option<String>>, i64>> {
    use entity::enums::CandidateStatus;
    use entity::{permits, violation_candidates as candidates, violation_codes};
    let backend = db.get_database_backend();
    let offset = crate::domain::clock::service_offset().local_minus_utc();
    let mut query = Query::select();
    query
        .from(candidates::Entity)
        .join(
            JoinType::InnerJoin,
            units::Entity,
            Expr::col((units::Entity, units::Column::Id))
                .equals((candidates::Entity, candidates::Column::UnitId)),
        )
        .join(
            JoinType::InnerJoin,
            violation_codes::Entity,
            Expr::col((violation_codes::Entity, violation_codes::Column::Code))
                .equals((candidates::Entity, candidates::Column::Code)),
        )
        .cond_where(access::candidate_filter(principal))
        .and_where(
            Expr::col((candidates::Entity, candidates::Column::Status))
                .eq(sea_orm::ActiveEnum::to_value(&CandidateStatus::Open)),
        );
    if let Some(d) = &filter.district {
        query.and_where(
            Expr::col((candidates::Entity, candidates::Column::DistrictCode)).eq(d.trim()),
        );
    }
    if let Some(c) = &filter.code {
        query.and_where(
            Expr::col((candidates::Entity, candidates::Column::Code))
                .eq(c.trim().to_ascii_uppercase()),
        );
    }
    if let Some(c) = filter.category {
        query.and_where(
            Expr::col((violation_codes::Entity, violation_codes::Column::Category))
                .eq(sea_orm::ActiveEnum::to_value(&c)),
        );
    }
    if let Some(industry) = &filter.industry {
        use sea_orm::ColumnTrait;
        query.and_where(
            units::Column::IndustryCode.starts_with(industry.trim().to_ascii_uppercase()),
        );
    }
    if let Some(id) = filter.permit_id {
        query.and_where(Expr::col((candidates::Entity, candidates::Column::PermitId)).eq(id));
    }
    if let Some(id) = filter.unit_id {
        query.and_where(Expr::col((candidates::Entity, candidates::Column::UnitId)).eq(id));
    }
    if let Some(number) = &filter.permit_number {
        query.and_where(
            Expr::col((candidates::Entity, candidates::Column::PermitId)).in_subquery(
                Query::select()
                    .column(permits::Column::Id)
                    .from(permits::Entity)
                    .and_where(Expr::col(permits::Column::PermitNumber).eq(number.trim()))
                    .to_owned(),
            ),
        );
    }
    for d in dims {
        let expr = match d {
            Dimension::Code => Expr::col((candidates::Entity, candidates::Column::Code)),
            Dimension::Category => {
                Expr::col((violation_codes::Entity, violation_codes::Column::Category))
            }
            Dimension::District => {
                Expr::col((candidates::Entity, candidates::Column::DistrictCode))
            }
            Dimension::Industry => Expr::col((units::Entity, units::Column::IndustryCode)),
            // `offset` is the service's own constant, not input.
            Dimension::Month => match backend {
                DatabaseBackend::Postgres => Expr::cust(format!(
                    "to_char((\"violation_candidates\".\"detected_at\" AT TIME ZONE 'UTC') + interval '{offset} seconds', 'YYYY-MM')"
                )),
                _ => Expr::cust(format!(
                    "strftime('%Y-%m', \"violation_candidates\".\"detected_at\", '{offset:+} seconds')"
                )),
            },
        };
        query.expr_as(expr.clone(), Alias::new(alias(*d)));
        query.add_group_by([expr]);
    }
    query.expr_as(Expr::cust("COUNT(*)"), Alias::new("n_open"));
    let rows = db
        .query_all_raw(StatementBuilder::build(&query, &backend))
        .await?;
    rows.into_iter()
        .map(|row| {
            let key = dims
                .iter()
                .map(|d| row.try_get::<Option<String>>("", alias(*d)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((key, row.try_get::<i64>("", "n_open")?))
        })
        .collect()
}

/// The finding counts of the groups, from the findings themselves.
async fn from_findings(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    filter: &FindingFilter,
    dims: &[Dimension],
    limit: u64,
) -> AppResult<Vec<PatternRow>> {
    let backend = db.get_database_backend();

    // Fines per finding: a fine counts once, a daily penalty per day.
    let fine = EnforcementActionKind::Fine;
    let daily = EnforcementActionKind::DailyContinuousPenalty;
    let per_finding = Query::select()
        .column(enforcement_actions::Column::FindingId)
        .expr_as(
            Func::sum(
                Expr::case(
                    Expr::col(enforcement_actions::Column::Kind)
                        .eq(sea_orm::ActiveEnum::to_value(&daily)),
                    Expr::col(enforcement_actions::Column::AmountYuan).mul(Func::coalesce([
                        Expr::col(enforcement_actions::Column::Days),
                        Expr::val(1),
                    ])),
                )
                .finally(Expr::col(enforcement_actions::Column::AmountYuan)),
            ),
            Alias::new("fines"),
        )
        .from(enforcement_actions::Entity)
        .and_where(Expr::col(enforcement_actions::Column::Kind).is_in([
            sea_orm::ActiveEnum::to_value(&fine),
            sea_orm::ActiveEnum::to_value(&daily),
        ]))
        .group_by_col(enforcement_actions::Column::FindingId)
        .to_owned();

    // The same scoped, filtered rows as `findings` (the access policy applies unchanged).
    let mut query = findings::list(principal, filter)?.into_statement();
    query.clear_selects();
    query
        .join(
            JoinType::InnerJoin,
            units::Entity,
            Expr::col((units::Entity, units::Column::Id))
                .equals((finding_rows::Entity, finding_rows::Column::UnitId)),
        )
        .join_subquery(
            JoinType::LeftJoin,
            per_finding,
            Alias::new("fines_per_finding"),
            Expr::col((
                Alias::new("fines_per_finding"),
                enforcement_actions::Column::FindingId,
            ))
            .equals((finding_rows::Entity, finding_rows::Column::Id)),
        );
    for d in dims {
        let expr = dimension_expr(*d, backend);
        query.expr_as(expr.clone(), Alias::new(alias(*d)));
        query.add_group_by([expr]);
    }
    let count_all = Alias::new("n_findings");
    query
        .expr_as(
            Func::count(Expr::col((finding_rows::Entity, finding_rows::Column::Id))),
            count_all.clone(),
        )
        .expr_as(
            Expr::cust("COUNT(DISTINCT \"findings\".\"unit_id\")"),
            Alias::new("n_units"),
        )
        .expr_as(
            Expr::cust("CAST(COALESCE(SUM(\"fines_per_finding\".\"fines\"), 0) AS BIGINT)"),
            Alias::new("fines_yuan"),
        )
        .order_by(count_all, SqlOrder::Desc)
        .limit(limit);
    for d in dims {
        query.order_by(Alias::new(alias(*d)), SqlOrder::Asc);
    }
    let statement = StatementBuilder::build(&query, &backend);
    let rows = db.query_all_raw(statement).await?;
    rows.into_iter()
        .map(|row| {
            let text = |d: Dimension| -> AppResult<Option<String>> {
                if dims.contains(&d) {
                    Ok(row.try_get::<Option<String>>("", alias(d))?)
                } else {
                    Ok(None)
                }
            };
            let category = match text(Dimension::Category)? {
                Some(key) => Some(
                    <ViolationCategory as sea_orm::ActiveEnum>::try_from_value(&key)
                        .map_err(AppError::internal)?,
                ),
                None => None,
            };
            Ok(PatternRow {
                code: text(Dimension::Code)?,
                category,
                district_code: text(Dimension::District)?,
                industry_code: text(Dimension::Industry)?,
                month: text(Dimension::Month)?,
                findings: row.try_get::<i64>("", "n_findings")?,
                units_affected: row.try_get::<i64>("", "n_units")?,
                fines_yuan: row.try_get::<i64>("", "fines_yuan")?,
                open_candidates: 0,
            })
        })
        .collect()
}

/// Whether `violation_pattern_cells` hold the answer: grouped by code (a unit counts once per
/// code, so units add up across districts but not across codes), optionally by district and
/// category, filtered by nothing finer than district, code and category.
fn answers_from_cells(filter: &FindingFilter, dims: &[Dimension]) -> bool {
    let FindingFilter {
        district: _,
        code: _,
        category: _,
        status,
        severity,
        found_from,
        found_to,
        industry,
        permit_number,
        permit_id,
        unit_id,
        inspection_id,
        campaign_id,
    } = filter;
    dims.contains(&Dimension::Code)
        && dims.iter().all(|d| {
            matches!(
                d,
                Dimension::Code | Dimension::District | Dimension::Category
            )
        })
        && status.is_none()
        && severity.is_none()
        && found_from.is_none()
        && found_to.is_none()
        && industry.is_none()
        && permit_number.is_none()
        && permit_id.is_none()
        && unit_id.is_none()
        && inspection_id.is_none()
        && campaign_id.is_none()
}

/// The patterns from the cells: at most one row per district and code, whatever the number of
/// findings, under the same access rules as the findings themselves.
async fn from_cells(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    filter: &FindingFilter,
    dims: &[Dimension],
    limit: u64,
) -> AppResult<Vec<PatternRow>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let principal = access::authorize(principal, Operation::ReadEnforcement)?;
    let closed_only = access::sees_closed_findings_only(principal);
    let mut select = violation_pattern_cells::Entity::find().filter(access::district_filter(
        principal,
        violation_pattern_cells::Column::DistrictCode,
    ));
    if let Some(d) = &filter.district {
        select = select.filter(violation_pattern_cells::Column::DistrictCode.eq(d.clone()));
    }
    if let Some(c) = &filter.code {
        select = select.filter(
            violation_pattern_cells::Column::ViolationCode.eq(c.trim().to_ascii_uppercase()),
        );
    }
    if let Some(c) = filter.category {
        select = select.filter(violation_pattern_cells::Column::Category.eq(c));
    }
    let mut groups: std::collections::BTreeMap<Vec<String>, PatternRow> = Default::default();
    for cell in select.all(db).await? {
        let (findings, units, fines) = if closed_only {
            (cell.findings_closed, cell.units_closed, cell.fines_closed)
        } else {
            (cell.findings_all, cell.units_all, cell.fines_all)
        };
        if findings == 0 {
            continue;
        }
        let category_key = sea_orm::ActiveEnum::to_value(&cell.category);
        let key: Vec<String> = dims
            .iter()
            .map(|d| match d {
                Dimension::Code => cell.violation_code.clone(),
                Dimension::District => cell.district_code.clone(),
                _ => category_key.clone(),
            })
            .collect();
        let row = groups.entry(key).or_insert_with(|| PatternRow {
            code: dims
                .contains(&Dimension::Code)
                .then(|| cell.violation_code.clone()),
            category: dims.contains(&Dimension::Category).then_some(cell.category),
            district_code: dims
                .contains(&Dimension::District)
                .then(|| cell.district_code.clone()),
            ..PatternRow::default()
        });
        row.findings += findings;
        row.units_affected += units;
        row.fines_yuan += fines;
    }
    // The live query's order: most findings first, then the groups' keys in `dims` order.
    let mut rows: Vec<(Vec<String>, PatternRow)> = groups.into_iter().collect();
    rows.sort_by(|(a_key, a), (b_key, b)| {
        b.findings.cmp(&a.findings).then_with(|| a_key.cmp(b_key))
    });
    Ok(rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|(_, row)| row)
        .collect())
}
