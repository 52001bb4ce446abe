//! Evidence files uploaded by GraphQL multipart and downloaded under the record's access rule:
//! the round trip, case material, limits, the store's keys, and what a page of files costs.

use permit_api::graphql::ids;
use permit_core::auth::Role;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{BOUNDARY, finding_and_districts, get, multipart_body};
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

const FILES_PAGE: &str = r#"query($n: Int!) {
  findings(first: $n) { edges { node { files { sha256 } inspection { files { sha256 } } } } }
}"#;

// A page's files come through one loader: the same statements for 10 findings as for 100.
db_test!(files_of_a_page_cost_the_same_whatever_its_size, |app| {
    app.seed_demo(400).await;
    let token = app.token(Role::Supervisor, None);
    let sizes = [json!({ "n": 10 }), json!({ "n": 100 })];
    let counts = app
        .small_and_large_page_costs(&token, FILES_PAGE, sizes, |asked, data| {
            let edges = data["findings"]["edges"].as_array().map(Vec::len);
            assert_eq!(edges, asked["n"].as_u64().map(|n| n as usize));
        })
        .await;
    assert!(counts[1] <= counts[0] + 1, "10 vs 100 findings: {counts:?}");
    assert!(
        counts[1] <= 6,
        "a few batched statements, got {}",
        counts[1]
    );
});
