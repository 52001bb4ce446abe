//! Exports people open: findings, inspections, campaign coverage and summary reports as CSV or
//! XLSX with Chinese column headings (for the district's report to the municipal bureau), and
//! units as GeoJSON for GIS tools (`geojson`). The JSON-lines change feed is `crate::export`.
//!
//! Every export reads through the same domain functions as the GraphQL queries, with the same
//! filter (the GraphQL input types, sent as JSON) and the caller's scope, so an export holds
//! exactly what the caller could page through. Rows are read a page at a time and written as
//! they come: CSV goes out page by page, XLSX rows go to a temporary file (constant-memory
//! mode) and the finished file is sent from there. Used by `GET /exports/…` and by
//! `permit-exchange export KIND`.

pub mod geojson;
pub mod table;

use std::collections::{HashMap, HashSet};

use sea_orm::DatabaseConnection;

use permit_core::auth::Principal;
use permit_core::domain::page::{MAX_PAGE_SIZE, PageArgs};
use std::sync::Arc;

use crate::graphql::ids;
use entity::enums::{
    FindingSeverity, FindingStatus, InspectionMode, InspectionSource, ViolationCategory,
};
use permit_core::db::Database;
use permit_core::domain::reference::{ReferenceCache, ReferenceData};
use permit_core::domain::{campaigns, findings, inspections, permits, units};
use permit_core::error::{AppError, AppResult};
use table::{Cell, Row};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Findings,
    Inspections,
    /// A campaign's coverage by district (needs a campaign).
    Coverage,
    /// A campaign's submitted district summary reports (needs a campaign).
    SummaryReports,
}

impl Kind {
    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "findings" => Some(Kind::Findings),
            "inspections" => Some(Kind::Inspections),
            "coverage" => Some(Kind::Coverage),
            "summary-reports" => Some(Kind::SummaryReports),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Findings => "findings",
            Kind::Inspections => "inspections",
            Kind::Coverage => "coverage",
            Kind::SummaryReports => "summary-reports",
        }
    }

    /// The sheet's name (Excel allows 31 characters).
    pub fn sheet_name(self) -> &'static str {
        match self {
            Kind::Findings => "违法行为",
            Kind::Inspections => "检查记录",
            Kind::Coverage => "检查覆盖情况",
            Kind::SummaryReports => "总结报告",
        }
    }

    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Findings => &[
                "记录编号",
                "统一社会信用代码",
                "单位名称",
                "区县代码",
                "区县",
                "行业代码",
                "检查日期",
                "违法代码",
                "违法类别",
                "违法行为",
                "法律依据",
                "严重程度",
                "状态",
                "排污许可证编号",
                "污染物",
                "实测值",
                "计量单位",
                "许可限值",
                "整改期限",
                "问题描述",
            ],
            Kind::Inspections => &[
                "记录编号",
                "统一社会信用代码",
                "单位名称",
                "区县代码",
                "区县",
                "检查日期",
                "检查来源",
                "检查方式",
                "检查机构",
                "发现问题数",
            ],
            Kind::Coverage => &[
                "区县代码",
                "区县",
                "应检单位数",
                "已检单位数",
                "未检单位数",
                "完成率",
                "按期完成",
            ],
            Kind::SummaryReports => &[
                "区县代码",
                "区县",
                "提交时间",
                "是否逾期",
                "应检单位数",
                "已检单位数",
                "检查次数",
                "发现问题数",
                "立案数",
                "罚款金额（元）",
                "责令整改数",
                "已整改数",
                "整改率",
            ],
        }
    }
}

/// The file format of a tabular export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// What an export is asked for: the kind, the GraphQL filter as JSON (`FindingFilter`,
/// `InspectionFilter`), and the campaign for coverage and summary reports.
#[derive(Debug, Clone)]
pub struct Request {
    pub kind: Kind,
    pub filter: Option<serde_json::Value>,
    /// An opaque `Campaign` id, as the API gives it.
    pub campaign_id: Option<String>,
}

/// Rows of one export, a page at a time.
pub struct Rows {
    db: DatabaseConnection,
    /// The instance's reference data (district names, code labels).
    reference: Arc<ReferenceCache>,
    principal: Principal,
    source: Source,
    done: bool,
}

enum Source {
    Findings {
        list: findings::FindingList,
        after: Option<String>,
    },
    Inspections {
        list: inspections::InspectionList,
        after: Option<String>,
    },
    /// Small exports, computed at once (one row a district).
    Ready(Vec<Row>),
}

/// Text in a filter is one-line text, as in GraphQL requests (`input`): no control
/// characters (NUL above all, which PostgreSQL cannot take).
fn check_filter_text(value: &serde_json::Value) -> AppResult<()> {
    match value {
        serde_json::Value::String(s) if s.chars().any(char::is_control) || s.len() > 1000 => {
            Err(AppError::invalid(
                "filter",
                "text without control characters, at most 1000 characters",
            ))
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(check_filter_text),
        serde_json::Value::Object(map) => map.values().try_for_each(check_filter_text),
        _ => Ok(()),
    }
}

async fn campaign(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Option<&str>,
) -> AppResult<entity::campaigns::Model> {
    let id = id.ok_or_else(|| AppError::invalid("campaignId", "name the campaign"))?;
    let id = ids::decode(
        crate::graphql::campaigns::CAMPAIGN,
        "campaignId",
        &async_graphql::ID(id.to_owned()),
    )?;
    campaigns::get(db, Some(principal), id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("campaign {id}")))
}

impl Rows {
    /// Checks the request (role, filter) before anything is sent, so a refusal is an error
    /// answer, not a broken file.
    pub async fn open(
        database: &Database,
        principal: &Principal,
        request: &Request,
    ) -> AppResult<Rows> {
        let db = &database.conn;
        let reference = database.reference.get(db).await?;
        if let Some(filter) = &request.filter {
            check_filter_text(filter)?;
        }
        let filter = request.filter.clone();
        let source = match request.kind {
            Kind::Findings => {
                let filter = crate::graphql::enforcement::finding_filter_from_json(filter)?;
                Source::Findings {
                    list: findings::list(Some(principal), &filter)?,
                    after: None,
                }
            }
            Kind::Inspections => {
                let filter = crate::graphql::enforcement::inspection_filter_from_json(filter)?;
                Source::Inspections {
                    list: inspections::list(Some(principal), &filter)?,
                    after: None,
                }
            }
            Kind::Coverage => {
                let campaign = campaign(db, principal, request.campaign_id.as_deref()).await?;
                let (by_district, overall) =
                    campaigns::coverage(db, Some(principal), &campaign, None).await?;
                let mut rows: Vec<Row> = by_district
                    .iter()
                    .map(|c| coverage_row(c, reference))
                    .collect();
                rows.push(coverage_row(&overall, reference));
                Source::Ready(rows)
            }
            Kind::SummaryReports => {
                let campaign = campaign(db, principal, request.campaign_id.as_deref()).await?;
                let reports = campaigns::reports(db, Some(principal), campaign.id).await?;
                Source::Ready(reports.iter().map(|r| summary_row(r, reference)).collect())
            }
        };
        // Who took which export, as for other reads of case data in bulk.
        permit_core::domain::changes::audit(db, principal, "EXPORT", None, &[]).await?;
        Ok(Rows {
            db: db.clone(),
            reference: database.reference.clone(),
            principal: principal.clone(),
            source,
            done: false,
        })
    }

    /// The next page of rows; `None` once every row was given.
    pub async fn next_page(&mut self) -> AppResult<Option<Vec<Row>>> {
        if self.done {
            return Ok(None);
        }
        let args = |after: &Option<String>| PageArgs {
            first: Some(MAX_PAGE_SIZE as i32),
            after: after.clone(),
            ..Default::default()
        };
        match &mut self.source {
            Source::Ready(rows) => {
                self.done = true;
                Ok(Some(std::mem::take(rows)))
            }
            Source::Findings { list, after } => {
                let page = list.page(&self.db, &args(after)).await?;
                self.done = !page.has_next_page;
                *after = page.items.last().map(|(cursor, _)| cursor.clone());
                let rows: Vec<_> = page.items.into_iter().map(|(_, f)| f).collect();
                let reference = self.reference.get(&self.db).await?;
                Ok(Some(
                    finding_rows(&self.db, reference, &self.principal, rows).await?,
                ))
            }
            Source::Inspections { list, after } => {
                let page = list.page(&self.db, &args(after)).await?;
                self.done = !page.has_next_page;
                *after = page.items.last().map(|(cursor, _)| cursor.clone());
                let rows: Vec<_> = page.items.into_iter().map(|(_, i)| i).collect();
                let reference = self.reference.get(&self.db).await?;
                Ok(Some(
                    inspection_rows(&self.db, reference, &self.principal, rows).await?,
                ))
            }
        }
    }
}

fn district_name(reference: &ReferenceData, code: &str) -> Cell {
    reference
        .districts
        .get(code)
        .map(|d| Cell::from(d.name_zh.as_str()))
        .unwrap_or(Cell::Empty)
}

pub fn status_zh(status: FindingStatus) -> &'static str {
    match status {
        FindingStatus::Open => "待处理",
        FindingStatus::RectificationOrdered => "责令整改",
        FindingStatus::Rectified => "已整改",
        FindingStatus::CaseFiled => "已立案",
        FindingStatus::Penalised => "已处罚",
        FindingStatus::Closed => "已结案",
        FindingStatus::Dismissed => "不予处罚",
    }
}

fn severity_zh(severity: FindingSeverity) -> &'static str {
    match severity {
        FindingSeverity::Minor => "轻微",
        FindingSeverity::General => "一般",
        FindingSeverity::Serious => "严重",
    }
}

fn category_zh(category: ViolationCategory) -> &'static str {
    match category {
        ViolationCategory::UnpermittedDischarge => "无证排污",
        ViolationCategory::PermitViolation => "违反排污许可证规定",
        ViolationCategory::SelfMonitoring => "违反自行监测要求",
        ViolationCategory::OtherManagement => "违反其他环境管理要求",
    }
}

fn source_zh(source: InspectionSource) -> &'static str {
    match source {
        InspectionSource::Routine => "日常检查",
        InspectionSource::SpecialCampaign => "专项行动",
        InspectionSource::RandomDraw => "双随机抽查",
        InspectionSource::Complaint => "投诉举报",
        InspectionSource::Referral => "转办",
        InspectionSource::PostPermitCheck => "证后核查",
        InspectionSource::JointMunicipal => "市级联合抽查",
    }
}

fn mode_zh(mode: InspectionMode) -> &'static str {
    match mode {
        InspectionMode::OnSite => "现场检查",
        InspectionMode::NonSite => "非现场检查",
    }
}

/// One page of findings as rows: their units, permits and inspections read in one statement
/// each, under the caller's scope.
async fn finding_rows(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    principal: &Principal,
    page: Vec<entity::findings::Model>,
) -> AppResult<Vec<Row>> {
    let unit_ids: Vec<i64> = unique(page.iter().map(|f| f.unit_id));
    let permit_ids: Vec<i64> = unique(page.iter().filter_map(|f| f.permit_id));
    let inspection_ids: Vec<i64> = unique(page.iter().map(|f| f.inspection_id));
    let units: HashMap<i64, entity::units::Model> = units::by_ids(db, principal, &unit_ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let permits: HashMap<i64, String> = if permit_ids.is_empty() {
        HashMap::new()
    } else {
        permits::by_ids(db, principal, &permit_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.permit_number))
            .collect()
    };
    let inspected_on: HashMap<i64, chrono::NaiveDate> =
        inspections::by_ids(db, principal, &inspection_ids)
            .await?
            .into_iter()
            .map(|i| (i.id, i.inspection_date))
            .collect();
    Ok(page
        .into_iter()
        .map(|f| {
            let unit = units.get(&f.unit_id);
            let code = reference.violation_codes.get(&f.violation_code);
            vec![
                Cell::from(ids::encode(crate::graphql::enforcement::FINDING, f.id).to_string()),
                Cell::from(unit.map(|u| u.credit_code.clone())),
                Cell::from(unit.map(|u| u.name.clone())),
                Cell::from(f.district_code.as_str()),
                district_name(reference, &f.district_code),
                Cell::from(unit.map(|u| u.industry_code.clone())),
                Cell::from(
                    inspected_on
                        .get(&f.inspection_id)
                        .copied()
                        .unwrap_or(f.found_on),
                ),
                Cell::from(f.violation_code.as_str()),
                Cell::from(category_zh(f.category)),
                Cell::from(code.map(|c| c.label_zh.clone())),
                Cell::from(code.map(|c| c.article.clone())),
                Cell::from(severity_zh(f.severity)),
                Cell::from(status_zh(f.status)),
                Cell::from(f.permit_id.and_then(|p| permits.get(&p).cloned())),
                Cell::from(f.pollutant),
                Cell::from(f.measured_value),
                Cell::from(f.measured_unit),
                Cell::from(f.permitted_value),
                Cell::from(f.rectification_deadline),
                Cell::from(f.description),
            ]
        })
        .collect())
}

fn unique(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.filter(|id| seen.insert(*id)).collect()
}

async fn inspection_rows(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    principal: &Principal,
    page: Vec<entity::inspections::Model>,
) -> AppResult<Vec<Row>> {
    let unit_ids = unique(page.iter().map(|i| i.unit_id));
    let inspection_ids: Vec<i64> = page.iter().map(|i| i.id).collect();
    let units: HashMap<i64, entity::units::Model> = units::by_ids(db, principal, &unit_ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    // Findings the caller may read, counted per inspection in one statement.
    let counts = findings::count_per_inspection(db, principal, &inspection_ids).await?;
    Ok(page
        .into_iter()
        .map(|i| {
            let unit = units.get(&i.unit_id);
            vec![
                Cell::from(ids::encode(crate::graphql::enforcement::INSPECTION, i.id).to_string()),
                Cell::from(unit.map(|u| u.credit_code.clone())),
                Cell::from(unit.map(|u| u.name.clone())),
                Cell::from(i.district_code.as_str()),
                district_name(reference, &i.district_code),
                Cell::from(i.inspection_date),
                Cell::from(source_zh(i.source)),
                Cell::from(mode_zh(i.mode)),
                Cell::from(
                    reference
                        .agencies
                        .get(&i.agency_code)
                        .map(|a| a.name_zh.clone())
                        .unwrap_or_else(|| i.agency_code.clone()),
                ),
                Cell::Int(counts.get(&i.id).copied().unwrap_or(0)),
            ]
        })
        .collect())
}

fn coverage_row(c: &campaigns::Coverage, reference: &ReferenceData) -> Row {
    let (code, name) = match &c.district_code {
        Some(code) => (Cell::from(code.as_str()), district_name(reference, code)),
        None => (Cell::Empty, Cell::from("合计")),
    };
    vec![
        code,
        name,
        Cell::Int(c.in_scope),
        Cell::Int(c.inspected),
        Cell::Int(c.remaining),
        Cell::Float((c.share_done * 10_000.0).round() / 10_000.0),
        Cell::from(if c.on_course { "是" } else { "否" }),
    ]
}

fn summary_row(r: &entity::summary_reports::Model, reference: &ReferenceData) -> Row {
    let number = |key: &str| r.snapshot.get(key).and_then(|v| v.as_i64()).map(Cell::Int);
    vec![
        Cell::from(r.district_code.as_str()),
        district_name(reference, &r.district_code),
        // Beijing time, as the offices read it.
        Cell::from(
            chrono::FixedOffset::east_opt(8 * 3600)
                .map(|tz| {
                    r.submitted_at
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_else(|| r.submitted_at.to_rfc3339()),
        ),
        Cell::from(if r.late { "是" } else { "否" }),
        number("in_scope").into(),
        number("inspected").into(),
        number("inspections").into(),
        number("findings").into(),
        number("cases").into(),
        number("fines_yuan").into(),
        number("rectification_ordered").into(),
        number("rectified").into(),
        r.snapshot
            .get("rectification_rate")
            .and_then(|v| v.as_f64())
            .map(Cell::Float)
            .into(),
    ]
}

/// Writes a whole tabular export to `out` (the CLI); returns the number of rows.
pub async fn write_table(
    db: &Database,
    principal: &Principal,
    request: &Request,
    format: Format,
    out: &mut (impl std::io::Write + Send),
) -> Result<u64, crate::export::ExportError> {
    let fail = |e: AppError| crate::export::ExportError::Feed(e.message());
    let mut rows = Rows::open(db, principal, request).await.map_err(fail)?;
    let mut written = 0u64;
    match format {
        Format::Csv => {
            out.write_all(&table::csv_head(request.kind.columns()))?;
            while let Some(page) = rows.next_page().await.map_err(fail)? {
                written += page.len() as u64;
                out.write_all(&table::csv_rows(page))?;
            }
        }
        Format::Xlsx => {
            let mut sheet =
                table::XlsxSheet::new(request.kind.sheet_name(), request.kind.columns())?;
            while let Some(page) = rows.next_page().await.map_err(fail)? {
                written += page.len() as u64;
                sheet.append(page)?;
            }
            sheet.finish(&mut *out)?;
        }
    }
    out.flush()?;
    Ok(written)
}

/// Writes the units' GeoJSON to `out` (the CLI).
pub async fn write_geojson(
    db: &DatabaseConnection,
    principal: &Principal,
    filter: Option<serde_json::Value>,
    out: &mut impl std::io::Write,
) -> Result<(), crate::export::ExportError> {
    let fail = |e: AppError| crate::export::ExportError::Feed(e.message());
    let mut features = geojson::Features::open(db, principal, filter).map_err(fail)?;
    out.write_all(geojson::Features::head())?;
    while let Some(chunk) = features.next_chunk().await.map_err(fail)? {
        out.write_all(&chunk)?;
    }
    out.write_all(geojson::Features::tail())?;
    out.flush()?;
    Ok(())
}
