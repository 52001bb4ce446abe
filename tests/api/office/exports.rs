//! Findings, inspections, coverage and summary exports as CSV and XLSX (read back with
//! calamine), in the caller's scope, over GraphQL and from the CLI.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use permit_api::graphql::ids;
use permit_core::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use super::{finding_and_districts, get, text};
use crate::db_test;
use crate::helpers::{Backend, TestApp, error_code};

/// Every cell of a sheet as text (numbers as Rust prints them).
fn sheet_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an XLSX file");
    let name = workbook.sheet_names()[0].clone();
    let range = workbook.worksheet_range(&name).expect("sheet");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::DateTime(d) => {
                        let (y, m, day, ..) = d.to_ymd_hms_milli();
                        format!("{y:04}-{m:02}-{day:02}")
                    }
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// RFC 4180 records of a CSV text (quotes, doubled quotes, line breaks inside quotes).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

fn filter_query(filter: &Value) -> String {
    let encoded: String = filter
        .to_string()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("filter={encoded}")
}

/// A description a spreadsheet would take for a formula, with a comma, quotes and a break.
const TRICKY: &str = "=HYPERLINK(\"http://x\"),\"a\"\nb";

/// The findings export's case: a finding described with `TRICKY`, its district (with the
/// number of findings there and an officer of it), and another district.
struct ExportCase {
    finding: i64,
    district: String,
    other: String,
    officer: String,
    in_district: i64,
}

async fn export_case(app: &TestApp) -> ExportCase {
    let (finding, district, other) = finding_and_districts(app).await;
    let backend = app.db.conn.get_database_backend();
    app.db
        .conn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => {
                    "UPDATE findings SET description = $1 WHERE id = $2"
                }
                _ => "UPDATE findings SET description = ? WHERE id = ?",
            },
            [TRICKY.into(), finding.into()],
        ))
        .await
        .expect("update");
    let officer = app.token(Role::EnforcementOfficer, Some(&district));
    let in_district = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM findings WHERE district_code = '{district}'"
        ))
        .await;
    assert!(in_district > 0);
    ExportCase {
        finding,
        district,
        other,
        officer,
        in_district,
    }
}

db_test!(findings_export_as_xlsx_and_csv_in_scope, |app| {
    app.seed_demo(150).await;
    let case = export_case(&app).await;
    let (header, id) = the_xlsx_has_the_district_s_rows(&app, &case).await;
    the_csv_has_the_same_rows_quoted(&app, &case, &header, &id).await;
    exports_take_the_filters_of_findings(&app, &case).await;
    another_district_gets_nothing_and_integrators_closed_cases(&app, &case).await;
    refusals_are_typed_json_errors(&app, &case).await;
});

/// Answers the heading row and the case finding's id.
async fn the_xlsx_has_the_district_s_rows(app: &TestApp, c: &ExportCase) -> (Vec<String>, String) {
    // XLSX: Chinese headings, one row per finding of the district, nothing of another.
    let response = get(app, Some(&c.officer), "/exports/findings.xlsx").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let rows = sheet_rows(&response.bytes().await.expect("bytes"));
    assert_eq!(rows[0][1], "统一社会信用代码");
    assert_eq!(rows[0][2], "单位名称");
    assert_eq!(rows[0][4], "区县");
    assert_eq!(rows[0][6], "检查日期");
    assert_eq!(rows[0][7], "违法代码");
    assert_eq!(rows[0][12], "状态");
    assert_eq!(rows.len() as i64 - 1, c.in_district);
    assert!(
        rows[1..].iter().all(|r| r[3] == c.district),
        "only {}",
        c.district
    );
    let id = ids::encode("Finding", c.finding).to_string();
    let row = rows.iter().find(|r| r[0] == id).expect("the finding");
    // XLSX cells are typed: the text arrives as it was typed, not as a formula.
    assert_eq!(row[19], TRICKY);
    assert!(
        row[6].len() == 10 && row[6].starts_with("20"),
        "a date: {}",
        row[6]
    );
    (rows[0].clone(), id)
}

async fn the_csv_has_the_same_rows_quoted(
    app: &TestApp,
    c: &ExportCase,
    header: &[String],
    id: &str,
) {
    // CSV: UTF-8 with BOM, RFC 4180 quoting, the formula defused, the same rows.
    let response = get(app, Some(&c.officer), "/exports/findings.csv").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let bytes = response.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://x\"\"),\"\"a\"\"\nb\""),
        "quoted"
    );
    let records = csv_records(text);
    assert_eq!(records[0], header);
    assert_eq!(records.len() as i64 - 1, c.in_district);
    let record = records.iter().find(|r| r[0] == id).expect("the finding");
    assert_eq!(record[19], format!("'{TRICKY}"));
}

async fn exports_take_the_filters_of_findings(app: &TestApp, c: &ExportCase) {
    // The same filters as `findings`: one code of the district, as the query counts it.
    let code = text_of(app, c.finding, "violation_code").await;
    let filter = json!({ "code": code, "district": c.district });
    let counted = app
        .data(
            &c.officer,
            "query($f: FindingFilter) { findings(filter: $f) { totalCount } }",
            json!({ "f": filter }),
        )
        .await["findings"]["totalCount"]
        .as_i64()
        .expect("count");
    let response = get(
        app,
        Some(&c.officer),
        &format!("/exports/findings.csv?{}", filter_query(&filter)),
    )
    .await;
    let records =
        csv_records(std::str::from_utf8(&response.bytes().await.expect("b")[3..]).expect("utf-8"));
    assert_eq!(records.len() as i64 - 1, counted);
    assert!(records[1..].iter().all(|r| r[7] == code));
}

async fn another_district_gets_nothing_and_integrators_closed_cases(app: &TestApp, c: &ExportCase) {
    // Another district's filter gives the officer nothing; integrators get closed cases only.
    let response = get(
        app,
        Some(&c.officer),
        &format!(
            "/exports/findings.xlsx?{}",
            filter_query(&json!({ "district": c.other }))
        ),
    )
    .await;
    assert_eq!(sheet_rows(&response.bytes().await.expect("bytes")).len(), 1);
    let integrator = app.token(Role::Integrator, None);
    let response = get(app, Some(&integrator), "/exports/findings.csv").await;
    let records =
        csv_records(std::str::from_utf8(&response.bytes().await.expect("b")[3..]).expect("utf-8"));
    let closed = app
        .scalar_i64("SELECT COUNT(*) FROM findings WHERE status = 'CLOSED'")
        .await;
    assert_eq!(records.len() as i64 - 1, closed);
    assert!(records[1..].iter().all(|r| r[12] == "已结案"));
}

async fn refusals_are_typed_json_errors(app: &TestApp, c: &ExportCase) {
    // Refusals are typed JSON errors.
    let response = get(
        app,
        Some(&c.officer),
        "/exports/findings.xlsx?filter=%7Bnope",
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let response = get(
        app,
        Some(&c.officer),
        &format!(
            "/exports/findings.csv?{}",
            filter_query(&json!({ "status": "NOPE" }))
        ),
    )
    .await;
    assert_eq!(response.status(), 400);
    let monitoring = app.token(Role::Monitoring, None);
    let response = get(app, Some(&monitoring), "/exports/findings.csv").await;
    assert_eq!(response.status(), 403);
    assert_eq!(get(app, None, "/exports/findings.csv").await.status(), 401);
    assert_eq!(
        get(app, Some(&c.officer), "/exports/secrets.csv")
            .await
            .status(),
        404
    );
}

async fn text_of(app: &TestApp, finding: i64, column: &str) -> String {
    text(
        app,
        &format!("SELECT {column} FROM findings WHERE id = {finding}"),
    )
    .await
}

db_test!(inspections_coverage_and_summary_exports, |app| {
    app.seed_demo(150).await;
    let (_, district, _) = finding_and_districts(&app).await;
    let officer = app.token(Role::EnforcementOfficer, Some(&district));
    let response = get(&app, Some(&officer), "/exports/inspections.xlsx").await;
    assert_eq!(response.status(), 200);
    let rows = sheet_rows(&response.bytes().await.expect("bytes"));
    assert_eq!(rows[0][5], "检查日期");
    let inspections = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM inspections WHERE district_code = '{district}'"
        ))
        .await;
    assert_eq!(rows.len() as i64 - 1, inspections);
    let findings_listed: f64 = rows[1..]
        .iter()
        .map(|r| r[9].parse::<f64>().expect("a count"))
        .sum();
    let findings = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM findings WHERE district_code = '{district}'"
        ))
        .await;
    assert_eq!(findings_listed as i64, findings);

    let campaign = app.scalar_i64("SELECT MIN(id) FROM campaigns").await;
    let campaign_id = ids::encode("Campaign", campaign).to_string();
    let supervisor = app.token(Role::Supervisor, None);
    let response = get(
        &app,
        Some(&supervisor),
        &format!("/exports/coverage.csv?campaignId={campaign_id}"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.expect("bytes");
    let records = csv_records(std::str::from_utf8(&bytes[3..]).expect("utf-8"));
    assert_eq!(records[0][2], "应检单位数");
    assert_eq!(records.last().expect("total")[1], "合计");
    let response = get(
        &app,
        Some(&supervisor),
        &format!("/exports/summary-reports.xlsx?campaignId={campaign_id}"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let rows = sheet_rows(&response.bytes().await.expect("bytes"));
    assert_eq!(rows[0][0], "区县代码");
    let reports = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM summary_reports WHERE campaign_id = {campaign}"
        ))
        .await;
    assert_eq!(rows.len() as i64 - 1, reports);
    let response = get(&app, Some(&supervisor), "/exports/coverage.csv").await;
    assert_eq!(response.status(), 400);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_export_writes_an_xlsx_of_a_district() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.seed_demo(120).await;
    let (_, district, _) = finding_and_districts(&app).await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("f.xlsx");
    let mut file = std::fs::File::create(&path).expect("create");
    let request = permit_api::exports::Request {
        kind: permit_api::exports::Kind::Findings,
        filter: Some(json!({ "district": district })),
        campaign_id: None,
    };
    let written = permit_api::exports::write_table(
        &app.db,
        &permit_api::export::operator(),
        &request,
        permit_api::exports::Format::Xlsx,
        &mut file,
    )
    .await
    .expect("export");
    drop(file);
    let rows = sheet_rows(&std::fs::read(&path).expect("read"));
    assert_eq!(rows.len() as u64 - 1, written);
    let expected = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM findings WHERE district_code = '{district}'"
        ))
        .await;
    assert_eq!(written as i64, expected);
    // Demo units are placed in their district.
    let located = app
        .scalar_i64("SELECT COUNT(*) FROM units WHERE longitude BETWEEN 105.28 AND 110.2 AND latitude BETWEEN 28.16 AND 32.21")
        .await;
    assert_eq!(located, app.scalar_i64("SELECT COUNT(*) FROM units").await);
}
