//! Office work (issue 18): evidence files uploaded by GraphQL multipart and downloaded under the
//! record's access rule; findings, inspections and campaign exports as CSV and XLSX (read back
//! with calamine); units with coordinates, the `within` filter and the GeoJSON export.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use permit_api::graphql::ids;
use permit_core::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db_test;
use crate::helpers::{Backend, TestApp, error_code, error_field};

const UPLOAD: &str = r#"
mutation($input: UploadEvidenceInput!) {
  uploadEvidence(input: $input) { id fileName mediaType sizeBytes sha256 downloadPath uploadedBy }
}"#;

/// A small JPEG as far as anyone checking magic bytes can tell.
fn jpeg(len: usize) -> Vec<u8> {
    let mut bytes = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
    bytes.extend((0..len.saturating_sub(bytes.len())).map(|i| (i % 251) as u8));
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub const BOUNDARY: &str = "----permit-exchange-test-7b1e";

/// A GraphQL multipart request body (graphql-multipart-request-spec) with one file at
/// `variables.input.file`.
pub fn multipart_body(
    operations: &Value,
    file_name: &str,
    content_type: &str,
    file: &[u8],
) -> Vec<u8> {
    let mut body = Vec::new();
    let mut part = |headers: &str, content: &[u8]| {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part(
        "Content-Disposition: form-data; name=\"operations\"",
        operations.to_string().as_bytes(),
    );
    part(
        "Content-Disposition: form-data; name=\"map\"",
        br#"{"0":["variables.input.file"]}"#,
    );
    part(
        &format!(
            "Content-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}"
        ),
        file,
    );
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

struct Sent {
    status: u16,
    body: Value,
}

async fn upload(
    app: &TestApp,
    token: &str,
    input: Value,
    file: &[u8],
    content_type: &str,
    preflight: bool,
) -> Sent {
    // The spec's placeholder: the map puts the file where the operations have a null.
    let mut input = input;
    input["file"] = Value::Null;
    let operations = json!({ "query": UPLOAD, "variables": { "input": input } });
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart_body(
            &operations,
            "现场照片 1.jpg",
            content_type,
            file,
        ));
    if preflight {
        request = request.header("apollo-require-preflight", "true");
    }
    let response = request.send().await.expect("upload");
    let status = response.status().as_u16();
    Sent {
        status,
        body: response.json().await.expect("json"),
    }
}

async fn text(app: &TestApp, sql: &str) -> String {
    let backend = app.db.conn.get_database_backend();
    app.db
        .conn
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<String>(0)
        .expect("text")
}

/// A finding's id and district, and a district with other findings.
async fn finding_and_districts(app: &TestApp) -> (i64, String, String) {
    let district = text(
        app,
        "SELECT district_code FROM findings GROUP BY district_code ORDER BY COUNT(*) DESC, district_code LIMIT 1",
    )
    .await;
    let other = text(
        app,
        &format!(
            "SELECT district_code FROM findings WHERE district_code <> '{district}' \
             GROUP BY district_code ORDER BY COUNT(*) DESC, district_code LIMIT 1"
        ),
    )
    .await;
    let id = app
        .scalar_i64(&format!(
            "SELECT MIN(id) FROM findings WHERE district_code = '{district}' AND status <> 'CLOSED'"
        ))
        .await;
    (id, district, other)
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("get")
}

db_test!(evidence_round_trip_under_the_findings_rule, |app| {
    app.seed_demo(120).await;
    let (finding, district, other) = finding_and_districts(&app).await;
    let officer = app.token(Role::EnforcementOfficer, Some(&district));
    let file = jpeg(5000);
    let finding_id = ids::encode("Finding", finding).to_string();
    let sent = upload(
        &app,
        &officer,
        json!({ "findingId": finding_id, "sha256": sha256_hex(&file).to_uppercase() }),
        &file,
        "image/jpeg",
        true,
    )
    .await;
    assert_eq!(sent.status, 200, "{:#}", sent.body);
    let saved = &sent.body["data"]["uploadEvidence"];
    assert_eq!(saved["mediaType"], "image/jpeg", "{:#}", sent.body);
    assert_eq!(saved["sizeBytes"], 5000);
    assert_eq!(saved["fileName"], "现场照片 1.jpg");
    assert_eq!(saved["sha256"], sha256_hex(&file));
    let path = saved["downloadPath"].as_str().expect("path").to_owned();
    assert!(path.starts_with("/evidence/") && path.len() == "/evidence/".len() + 32);

    // The finding lists it.
    let data = app
        .data(
            &officer,
            "query($id: ID!) { finding(id: $id) { files { downloadPath sha256 } } }",
            json!({ "id": finding_id }),
        )
        .await;
    assert_eq!(data["finding"]["files"][0]["downloadPath"], path.as_str());

    // Download: the same bytes, the recognised type, the name, and an audit row.
    let response = get(&app, Some(&officer), &path).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers["content-disposition"].to_str().expect("ascii");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("UTF-8''%E7%8E%B0"), "{disposition}");
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        file.as_slice()
    );
    let audited = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'DOWNLOAD_EVIDENCE' \
             AND record_kind = 'FINDING' AND subject = 'enforcement_officer@{district}'"
        ))
        .await;
    assert_eq!(audited, 1);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action = 'UPLOAD_EVIDENCE'")
            .await,
        1
    );

    // Out of scope: another district's officer, an integrator (the finding is open),
    // monitoring: NOT_FOUND, naming nothing. No token: 401.
    for token in [
        app.token(Role::EnforcementOfficer, Some(&other)),
        app.token(Role::PermitOfficer, Some(&other)),
        app.token(Role::Integrator, None),
    ] {
        let response = get(&app, Some(&token), &path).await;
        assert_eq!(response.status(), 404);
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body:#}");
    }
    let monitoring = get(&app, Some(&app.token(Role::Monitoring, None)), &path).await;
    assert_eq!(monitoring.status(), 403);
    assert_eq!(get(&app, None, &path).await.status(), 401);
    let guessed = get(
        &app,
        Some(&officer),
        "/evidence/00000000000000000000000000000000",
    )
    .await;
    assert_eq!(guessed.status(), 404);
    // Municipal supervision reads it.
    let supervisor = app.token(Role::Supervisor, None);
    assert_eq!(get(&app, Some(&supervisor), &path).await.status(), 200);

    // Uploading to another district's finding is NOT_FOUND too.
    let outsider = app.token(Role::EnforcementOfficer, Some(&other));
    let sent = upload(
        &app,
        &outsider,
        json!({ "findingId": finding_id, "sha256": sha256_hex(&file) }),
        &file,
        "image/jpeg",
        true,
    )
    .await;
    assert_eq!(error_code(&sent.body), Some("NOT_FOUND"), "{:#}", sent.body);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM evidence_files").await,
        1
    );
});

db_test!(inspection_evidence_is_case_material, |app| {
    app.seed_demo(120).await;
    let (finding, district, _) = finding_and_districts(&app).await;
    let inspection = app
        .scalar_i64(&format!(
            "SELECT inspection_id FROM findings WHERE id = {finding}"
        ))
        .await;
    let officer = app.token(Role::EnforcementOfficer, Some(&district));
    let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n".to_vec();
    let sent = upload(
        &app,
        &officer,
        json!({
            "inspectionId": ids::encode("Inspection", inspection).to_string(),
            "sha256": sha256_hex(&pdf),
            "capturedAt": "2021-05-06T09:30:00+08:00",
        }),
        &pdf,
        "application/octet-stream",
        true,
    )
    .await;
    let saved = &sent.body["data"]["uploadEvidence"];
    assert_eq!(saved["mediaType"], "application/pdf", "{:#}", sent.body);
    let path = saved["downloadPath"].as_str().expect("path");
    assert_eq!(get(&app, Some(&officer), path).await.status(), 200);
    // The inspection has an open finding: integrators neither list nor download its files.
    let integrator = app.token(Role::Integrator, None);
    assert_eq!(get(&app, Some(&integrator), path).await.status(), 404);
    let data = app
        .data(
            &integrator,
            "query($id: ID!) { inspection(id: $id) { files { id } } }",
            json!({ "id": ids::encode("Inspection", inspection).to_string() }),
        )
        .await;
    assert_eq!(data["inspection"]["files"], json!([]));
    // Once every finding is closed they do.
    app.db
        .conn
        .execute_unprepared(&format!(
            "UPDATE findings SET status = 'CLOSED' WHERE inspection_id = {inspection}"
        ))
        .await
        .expect("close");
    assert_eq!(get(&app, Some(&integrator), path).await.status(), 200);
});

db_test!(
    uploads_are_refused_without_preflight_oversize_or_of_another_type,
    |app| {
        app.seed_demo(60).await;
        let (finding, district, _) = finding_and_districts(&app).await;
        let officer = app.token(Role::EnforcementOfficer, Some(&district));
        let finding_id = ids::encode("Finding", finding).to_string();
        let file = jpeg(2000);
        let input = json!({ "findingId": finding_id, "sha256": sha256_hex(&file) });

        // A forged form post: no preflight header.
        let sent = upload(&app, &officer, input.clone(), &file, "image/jpeg", false).await;
        assert_eq!(sent.status, 400);
        assert_eq!(error_code(&sent.body), Some("BAD_USER_INPUT"));
        assert!(
            sent.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Apollo-Require-Preflight"))
        );

        // Content that is not an accepted type, whatever it is called.
        let script = b"<html><script>alert(1)</script></html>".to_vec();
        let sent = upload(
            &app,
            &officer,
            json!({ "findingId": finding_id, "sha256": sha256_hex(&script) }),
            &script,
            "image/jpeg",
            true,
        )
        .await;
        assert_eq!(
            error_code(&sent.body),
            Some("BAD_USER_INPUT"),
            "{:#}",
            sent.body
        );
        assert_eq!(error_field(&sent.body), Some("input.file"));
        // A JPEG declared as a PDF.
        let sent = upload(
            &app,
            &officer,
            input.clone(),
            &file,
            "application/pdf",
            true,
        )
        .await;
        assert_eq!(
            error_field(&sent.body),
            Some("input.file"),
            "{:#}",
            sent.body
        );
        // Damaged on the way: the hash does not match.
        let sent = upload(
            &app,
            &officer,
            json!({ "findingId": finding_id, "sha256": sha256_hex(b"something else") }),
            &file,
            "image/jpeg",
            true,
        )
        .await;
        assert_eq!(
            error_field(&sent.body),
            Some("input.sha256"),
            "{:#}",
            sent.body
        );
        // The placeholder without a file, in a plain JSON request.
        let body = app
            .gql(
                Some(&officer),
                UPLOAD,
                json!({ "input": { "findingId": finding_id, "sha256": sha256_hex(&file),
                               "file": "#__graphql_file__:0" } }),
            )
            .await;
        assert_eq!(error_field(&body), Some("input.file"), "{body:#}");
        // Roles that record no findings.
        let permit_officer = app.token(Role::PermitOfficer, Some(&district));
        let sent = upload(
            &app,
            &permit_officer,
            input.clone(),
            &file,
            "image/jpeg",
            true,
        )
        .await;
        assert_eq!(error_code(&sent.body), Some("FORBIDDEN"), "{:#}", sent.body);
        assert_eq!(
            app.scalar_i64("SELECT COUNT(*) FROM evidence_files").await,
            0
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_upload_is_refused_with_the_limit_named() {
    let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
        config.limits.max_upload_bytes = 4096;
    })
    .await;
    app.seed_demo(60).await;
    let (finding, district, _) = finding_and_districts(&app).await;
    let officer = app.token(Role::EnforcementOfficer, Some(&district));
    let finding_id = ids::encode("Finding", finding).to_string();
    for size in [5000, 400_000] {
        let file = jpeg(size);
        let sent = upload(
            &app,
            &officer,
            json!({ "findingId": finding_id, "sha256": sha256_hex(&file) }),
            &file,
            "image/jpeg",
            true,
        )
        .await;
        assert_eq!(sent.status, 413, "{size}: {:#}", sent.body);
        assert_eq!(error_code(&sent.body), Some("QUERY_TOO_COMPLEX"));
        assert!(
            sent.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("LIMIT_MAX_UPLOAD_BYTES"))
        );
    }
    let file = jpeg(4000);
    let sent = upload(
        &app,
        &officer,
        json!({ "findingId": finding_id, "sha256": sha256_hex(&file) }),
        &file,
        "image/jpeg",
        true,
    )
    .await;
    assert_eq!(sent.status, 200, "{:#}", sent.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_directory_keeps_files_under_keys_no_client_chose() {
    let dir = tempfile::tempdir().expect("dir");
    let store = permit_core::storage::EvidenceStore::open(&dir.path().display().to_string())
        .expect("store");
    let app = TestApp::spawn_configured(Backend::Sqlite, move |config| {
        config.evidence = store;
    })
    .await;
    app.seed_demo(60).await;
    let (finding, district, _) = finding_and_districts(&app).await;
    let officer = app.token(Role::EnforcementOfficer, Some(&district));
    let file = jpeg(3000);
    let hash = sha256_hex(&file);
    let sent = upload(
        &app,
        &officer,
        json!({ "findingId": ids::encode("Finding", finding).to_string(), "sha256": hash }),
        &file,
        "image/jpeg",
        true,
    )
    .await;
    let path = sent.body["data"]["uploadEvidence"]["downloadPath"]
        .as_str()
        .expect("uploaded")
        .to_owned();
    let public_id = path.trim_start_matches("/evidence/");
    let stored = dir.path().join("evidence").join(&hash).join(public_id);
    assert_eq!(std::fs::read(&stored).expect("stored file"), file);
    let response = get(&app, Some(&officer), &path).await;
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        file.as_slice()
    );
}

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

db_test!(findings_export_as_xlsx_and_csv_in_scope, |app| {
    app.seed_demo(150).await;
    let (finding, district, other) = finding_and_districts(&app).await;
    // A description a spreadsheet would take for a formula, with a comma, quotes and a break.
    let tricky = "=HYPERLINK(\"http://x\"),\"a\"\nb";
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
            [tricky.into(), finding.into()],
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

    // XLSX: Chinese headings, one row per finding of the district, nothing of another.
    let response = get(&app, Some(&officer), "/exports/findings.xlsx").await;
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
    assert_eq!(rows.len() as i64 - 1, in_district);
    assert!(
        rows[1..].iter().all(|r| r[3] == district),
        "only {district}"
    );
    let id = ids::encode("Finding", finding).to_string();
    let row = rows.iter().find(|r| r[0] == id).expect("the finding");
    // XLSX cells are typed: the text arrives as it was typed, not as a formula.
    assert_eq!(row[19], tricky);
    assert!(
        row[6].len() == 10 && row[6].starts_with("20"),
        "a date: {}",
        row[6]
    );

    // CSV: UTF-8 with BOM, RFC 4180 quoting, the formula defused, the same rows.
    let response = get(&app, Some(&officer), "/exports/findings.csv").await;
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
    assert_eq!(records[0], rows[0]);
    assert_eq!(records.len() as i64 - 1, in_district);
    let record = records.iter().find(|r| r[0] == id).expect("the finding");
    assert_eq!(record[19], format!("'{tricky}"));

    // The same filters as `findings`: one code of the district, as the query counts it.
    let code = text_of(&app, finding, "violation_code").await;
    let filter = json!({ "code": code, "district": district });
    let counted = app
        .data(
            &officer,
            "query($f: FindingFilter) { findings(filter: $f) { totalCount } }",
            json!({ "f": filter }),
        )
        .await["findings"]["totalCount"]
        .as_i64()
        .expect("count");
    let response = get(
        &app,
        Some(&officer),
        &format!("/exports/findings.csv?{}", filter_query(&filter)),
    )
    .await;
    let records =
        csv_records(std::str::from_utf8(&response.bytes().await.expect("b")[3..]).expect("utf-8"));
    assert_eq!(records.len() as i64 - 1, counted);
    assert!(records[1..].iter().all(|r| r[7] == code));

    // Another district's filter gives the officer nothing; integrators get closed cases only.
    let response = get(
        &app,
        Some(&officer),
        &format!(
            "/exports/findings.xlsx?{}",
            filter_query(&json!({ "district": other }))
        ),
    )
    .await;
    assert_eq!(sheet_rows(&response.bytes().await.expect("bytes")).len(), 1);
    let integrator = app.token(Role::Integrator, None);
    let response = get(&app, Some(&integrator), "/exports/findings.csv").await;
    let records =
        csv_records(std::str::from_utf8(&response.bytes().await.expect("b")[3..]).expect("utf-8"));
    let closed = app
        .scalar_i64("SELECT COUNT(*) FROM findings WHERE status = 'CLOSED'")
        .await;
    assert_eq!(records.len() as i64 - 1, closed);
    assert!(records[1..].iter().all(|r| r[12] == "已结案"));

    // Refusals are typed JSON errors.
    let response = get(
        &app,
        Some(&officer),
        "/exports/findings.xlsx?filter=%7Bnope",
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let response = get(
        &app,
        Some(&officer),
        &format!(
            "/exports/findings.csv?{}",
            filter_query(&json!({ "status": "NOPE" }))
        ),
    )
    .await;
    assert_eq!(response.status(), 400);
    let monitoring = app.token(Role::Monitoring, None);
    let response = get(&app, Some(&monitoring), "/exports/findings.csv").await;
    assert_eq!(response.status(), 403);
    assert_eq!(get(&app, None, "/exports/findings.csv").await.status(), 401);
    assert_eq!(
        get(&app, Some(&officer), "/exports/secrets.csv")
            .await
            .status(),
        404
    );
});

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

/// RFC 7946, structurally: a FeatureCollection of Features with Point geometries of two
/// numbers, longitude first, and an object of properties.
fn check_geojson(value: &Value) -> Vec<&Value> {
    assert_eq!(value["type"], "FeatureCollection");
    let features = value["features"].as_array().expect("features");
    for feature in features {
        assert_eq!(feature["type"], "Feature");
        assert!(feature["id"].is_string());
        assert_eq!(feature["geometry"]["type"], "Point");
        let coordinates = feature["geometry"]["coordinates"]
            .as_array()
            .expect("coordinates");
        assert_eq!(coordinates.len(), 2);
        let (lon, lat) = (
            coordinates[0].as_f64().expect("longitude"),
            coordinates[1].as_f64().expect("latitude"),
        );
        assert!((105.28..=110.20).contains(&lon), "longitude {lon}");
        assert!((28.16..=32.21).contains(&lat), "latitude {lat}");
        assert!(feature["properties"].is_object());
    }
    features.iter().collect()
}

db_test!(units_geojson_counts_open_findings_in_scope, |app| {
    app.seed_demo(120).await;
    let (_, district, _) = finding_and_districts(&app).await;
    let officer = app.token(Role::EnforcementOfficer, Some(&district));
    let response = get(&app, Some(&officer), "/exports/units.geojson").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/geo+json");
    let value: Value = response.json().await.expect("GeoJSON is JSON");
    let features = check_geojson(&value);
    let units = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM units WHERE district_code = '{district}' AND longitude IS NOT NULL"
        ))
        .await;
    assert_eq!(features.len() as i64, units);
    assert!(
        features
            .iter()
            .all(|f| f["properties"]["districtCode"] == district.as_str())
    );
    let open: i64 = features
        .iter()
        .map(|f| f["properties"]["openFindings"].as_i64().expect("a count"))
        .sum();
    let expected = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM findings WHERE district_code = '{district}' \
             AND status NOT IN ('CLOSED', 'DISMISSED')"
        ))
        .await;
    assert_eq!(open, expected);
    // Integrators get the map without open cases.
    let integrator = app.token(Role::Integrator, None);
    let value: Value = get(&app, Some(&integrator), "/exports/units.geojson")
        .await
        .json()
        .await
        .expect("json");
    let features = check_geojson(&value);
    assert!(!features.is_empty());
    assert!(
        features
            .iter()
            .all(|f| f["properties"]["openFindings"].is_null())
    );
    assert!(
        features
            .iter()
            .all(|f| f["properties"].get("legalRepresentative").is_none())
    );
    // Python's geojson package, where it is installed, agrees.
    if let Some(verdict) = python_geojson_check(&value) {
        assert!(verdict, "python geojson says the collection is invalid");
    }
});

/// `Some(valid)` from Python's `geojson` package, `None` (and a note) where python3 or the
/// package is missing: the structural check above is the test, this is a second opinion.
fn python_geojson_check(value: &Value) -> Option<bool> {
    use std::io::Write;
    let script = "import sys, geojson\nobj = geojson.loads(sys.stdin.read())\nsys.exit(0 if obj.is_valid else 1)\n";
    let child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("python3 not available: GeoJSON checked structurally only");
        return None;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(value.to_string().as_bytes());
    }
    let output = child.wait_with_output().ok()?;
    if String::from_utf8_lossy(&output.stderr).contains("No module named") {
        eprintln!("python geojson not installed: GeoJSON checked structurally only");
        return None;
    }
    Some(output.status.success())
}

const REGISTER: &str = r#"
mutation($input: RegisterUnitInput!) {
  registerUnit(input: $input) { id longitude latitude version }
}"#;

db_test!(unit_positions_lie_in_chongqing_and_filter_by_box, |app| {
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    let mut input = crate::fixtures::unit_input("500103", 7001, "重庆渝中测绘有限公司", "KEY");
    // Beijing, swapped coordinates, and one without the other are refused with the field.
    for (lon, lat, field) in [
        (json!(116.40), json!(39.90), "input.longitude"),
        (json!(29.55), json!(106.57), "input.longitude"),
        (json!(106.57), json!(35.0), "input.latitude"),
        (json!(106.57), Value::Null, "input.latitude"),
    ] {
        input["longitude"] = lon;
        input["latitude"] = lat;
        let body = app
            .gql(Some(&officer), REGISTER, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body:#}");
        assert_eq!(error_field(&body), Some(field), "{body:#}");
    }
    input["longitude"] = json!(106.5712);
    input["latitude"] = json!(29.5567);
    let unit = app
        .data(&officer, REGISTER, json!({ "input": input }))
        .await["registerUnit"]
        .clone();
    assert_eq!(unit["longitude"], 106.5712);
    let second = crate::fixtures::unit_input("500103", 7002, "重庆渝中第二测绘有限公司", "KEY");
    app.data(&officer, REGISTER, json!({ "input": second }))
        .await;

    let within = |min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64| {
        json!({ "f": { "within": {
            "minLongitude": min_lon, "minLatitude": min_lat,
            "maxLongitude": max_lon, "maxLatitude": max_lat } } })
    };
    let query = "query($f: UnitFilter) { units(filter: $f) { totalCount edges { node { id } } } }";
    let inside = app
        .data(&officer, query, within(106.5, 29.5, 106.6, 29.6))
        .await;
    assert_eq!(inside["units"]["totalCount"], 1);
    assert_eq!(inside["units"]["edges"][0]["node"]["id"], unit["id"]);
    let outside = app
        .data(&officer, query, within(107.0, 29.0, 108.0, 30.0))
        .await;
    assert_eq!(outside["units"]["totalCount"], 0);
    let body = app
        .gql(Some(&officer), query, within(106.6, 29.5, 106.5, 29.6))
        .await;
    assert_eq!(
        error_field(&body),
        Some("filter.within.minLongitude"),
        "{body:#}"
    );

    // Moving it is an update like any other (a new version).
    let moved = app
        .data(
            &officer,
            "mutation($id: ID!, $v: Int!) { updateUnit(id: $id, expectedVersion: $v, input: { longitude: 106.58, latitude: 29.56 }) { longitude latitude version } }",
            json!({ "id": unit["id"], "v": unit["version"] }),
        )
        .await;
    assert_eq!(moved["updateUnit"]["latitude"], 29.56);
    assert_eq!(moved["updateUnit"]["version"], 2);
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

const FILES_PAGE: &str = r#"query($n: Int!) {
  findings(first: $n) { edges { node { files { sha256 } inspection { files { sha256 } } } } }
}"#;

// A page's files come through one loader: the same statements for 10 findings as for 100.
db_test!(files_of_a_page_cost_the_same_whatever_its_size, |app| {
    app.seed_demo(400).await;
    let token = app.token(Role::Supervisor, None);
    let mut counts = Vec::new();
    for n in [10, 100] {
        let mut fewest = u64::MAX;
        for _ in 0..5 {
            let before = app.db.statement_count();
            let data = app.data(&token, FILES_PAGE, json!({ "n": n })).await;
            let after = app.db.statement_count();
            assert_eq!(
                data["findings"]["edges"].as_array().map(Vec::len),
                Some(n as usize)
            );
            fewest = fewest.min(after - before);
        }
        counts.push(fewest);
    }
    assert!(counts[1] <= counts[0] + 1, "10 vs 100 findings: {counts:?}");
    assert!(
        counts[1] <= 6,
        "a few batched statements, got {}",
        counts[1]
    );
});
