//! Violation patterns (plan §5(3): enforcement "梳理分析排污许可违法行为的类型、特点"): counts of
//! findings, units affected and fines, grouped by any of code, category, district, industry and
//! month — one GROUP BY in SQL over the findings the caller may read.

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
}

pub const MAX_ROWS: u64 = 5000;

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
    if answers_from_cells(filter, &dims) {
        return from_cells(db, principal, filter, &dims, limit).await;
    }
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
    for d in &dims {
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
    for d in &dims {
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
