//! The change feed under concurrent writers, as-of reads, provenance and the audit trail.

use std::collections::HashSet;

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures::{self, REGISTER_UNIT};
use crate::helpers::{TestApp, error_code};

const FEED: &str = "query($after: String, $first: Int!) { changes(after: $after, first: $first) { hasNextPage endCursor edges { cursor node { kind recordId version operation state actor { subject level agency { code } } } } } }";

/// Reads the feed from the start until it holds `expected` changes (or a minute passes).
async fn settled_feed(app: &TestApp, token: &str, expected: usize) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let page = read_page(app, token, &None, 1000).await;
        let n = page["edges"].as_array().map(Vec::len).unwrap_or(0);
        if n >= expected || std::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn read_page(app: &TestApp, token: &str, after: &Option<String>, first: i64) -> Value {
    app.data(token, FEED, json!({ "after": after, "first": first }))
        .await["changes"]
        .clone()
}

db_test!(a_reader_never_misses_or_repeats_a_change, |app| {
    let writers = 4;
    let per_writer = 20;
    let admin = app.token(Role::Admin, None);
    let reader_token = app.token(Role::Supervisor, None);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    // The reader pages from its cursor while the writers commit.
    let reader = {
        let app_base = app.base.clone();
        let client = app.client.clone();
        let token = reader_token.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut cursor: Option<String> = None;
            let mut seen: Vec<(String, String, i64)> = Vec::new();
            let mut drained_after_done = 0;
            let expected = writers * per_writer;
            let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
            loop {
                let body: Value = client
                    .post(format!("{app_base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": FEED, "variables": { "after": cursor, "first": 7 } }))
                    .send()
                    .await
                    .expect("send")
                    .json()
                    .await
                    .expect("json");
                let page = &body["data"]["changes"];
                let edges = page["edges"].as_array().cloned().unwrap_or_default();
                for e in &edges {
                    let n = &e["node"];
                    seen.push((
                        n["kind"].as_str().unwrap_or("").to_owned(),
                        n["recordId"].as_str().unwrap_or("").to_owned(),
                        n["version"].as_i64().unwrap_or(0),
                    ));
                }
                cursor = page["endCursor"].as_str().map(str::to_owned);
                if edges.is_empty() {
                    // The feed waits for transactions older than the oldest running one: on a
                    // shared PostgreSQL cluster another database's long transaction holds it
                    // back a while. Read until everything committed has arrived (or give up).
                    if done.load(std::sync::atomic::Ordering::SeqCst) {
                        if seen.len() >= expected {
                            drained_after_done += 1;
                            if drained_after_done >= 3 {
                                break;
                            }
                        } else if std::time::Instant::now() > give_up {
                            break;
                        }
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
            seen
        })
    };
    let mut handles = Vec::new();
    for w in 0..writers {
        let app_base = app.base.clone();
        let client = app.client.clone();
        let token = admin.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let district = ["500103", "500112", "500105", "500106"][w % 4];
                let input = fixtures::unit_input(
                    district,
                    (w * 1000 + i) as u32 + 10_000,
                    "并发写入测试有限公司",
                    "SIMPLIFIED",
                );
                let body: Value = client
                    .post(format!("{app_base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": REGISTER_UNIT, "variables": { "input": input } }))
                    .send()
                    .await
                    .expect("send")
                    .json()
                    .await
                    .expect("json");
                assert!(body.get("errors").is_none(), "{body}");
            }
        }));
    }
    for h in handles {
        h.await.expect("writer");
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.expect("reader");
    let unique: HashSet<&(String, String, i64)> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no change seen twice");
    let committed = app.scalar_i64("SELECT COUNT(*) FROM change_events").await;
    assert_eq!(committed, (writers * per_writer) as i64);
    assert_eq!(seen.len() as i64, committed, "every committed change seen");
    // And a fresh reader from the start agrees (once older transactions elsewhere have ended).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let all = read_page(&app, &reader_token, &None, 1000).await;
        let n = all["edges"].as_array().map(Vec::len).unwrap_or(0);
        if n == committed as usize || std::time::Instant::now() > deadline {
            assert_eq!(n, committed as usize);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
});

db_test!(as_of_reads_follow_the_versions, |app| {
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (unit, permit) = fixtures::unit_with_permit(&app, "500103", 801).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    app.data(&officer, "mutation($id: ID!) { renewPermit(id: $id, expectedVersion: 1, input: { reason: \"延续\" }) { version } }", json!({ "id": permit["id"] })).await;
    app.data(&officer, "mutation($id: ID!) { updateUnit(id: $id, expectedVersion: 1, input: { name: \"更名后有限公司\" }) { version } }", json!({ "id": unit["id"] })).await;
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    let read = "query($id: ID!, $u: ID!, $at: DateTime) { permit(id: $id, asOf: $at) { version status validFrom validTo } unit(id: $u, asOf: $at) { name version } }";
    let then = app
        .data(
            &officer,
            read,
            json!({ "id": permit["id"], "u": unit["id"], "at": between.to_rfc3339() }),
        )
        .await;
    assert_eq!(then["permit"]["version"], 1);
    assert_eq!(then["permit"]["validTo"], permit["validTo"]);
    assert_eq!(then["unit"]["name"], "重庆测试化工有限公司");
    let now = app
        .data(
            &officer,
            read,
            json!({ "id": permit["id"], "u": unit["id"], "at": after.to_rfc3339() }),
        )
        .await;
    assert_eq!(now["permit"]["version"], 2);
    assert_ne!(now["permit"]["validTo"], permit["validTo"]);
    assert_eq!(now["unit"]["name"], "更名后有限公司");
    let earlier = app
        .data(
            &officer,
            read,
            json!({ "id": permit["id"], "u": unit["id"], "at": before.to_rfc3339() }),
        )
        .await;
    assert!(
        earlier["permit"].is_null() && earlier["unit"].is_null(),
        "{earlier}"
    );
    // Provenance: created and changed by whom, from which level.
    let prov = app
        .data(&officer, "query($id: ID!) { permit(id: $id) { provenance { createdBy { subject level } updatedBy { subject level agency { code } } } } }", json!({ "id": permit["id"] }))
        .await;
    assert_eq!(
        prov["permit"]["provenance"]["createdBy"]["level"], "MUNICIPAL",
        "issued by an admin token"
    );
    assert_eq!(
        prov["permit"]["provenance"]["updatedBy"]["level"],
        "DISTRICT"
    );
    assert_eq!(
        prov["permit"]["provenance"]["updatedBy"]["agency"]["code"],
        "500103-PMT"
    );
});

db_test!(a_failed_mutation_leaves_no_change_and_no_audit_row, |app| {
    let (_, permit) = fixtures::unit_with_permit(&app, "500106", 802).await;
    let officer = app.token(Role::EnforcementOfficer, Some("500106"));
    let team: Vec<String> = {
        let mut ids = Vec::new();
        for i in 0..2 {
            let d = app.data(&officer, "mutation($input: RegisterInspectorInput!) { registerInspector(input: $input) { id } }", json!({ "input": {
                "name": format!("审计{i}"), "agencyCode": "500106-ENF", "certificateNumber": format!("AUD500106{i}") } })).await;
            ids.push(
                d["registerInspector"]["id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            );
        }
        ids
    };
    let unit_id = app
        .data(
            &officer,
            "query($n: String!) { permitByNumber(permitNumber: $n) { unit { id } } }",
            json!({ "n": permit["permitNumber"] }),
        )
        .await["permitByNumber"]["unit"]["id"]
        .clone();
    let inspection = app.data(&officer, "mutation($input: RecordInspectionInput!) { recordInspection(input: $input) { id } }", json!({ "input": {
        "unitId": unit_id, "date": permit_core::domain::clock::today().to_string(), "source": "ROUTINE", "mode": "ON_SITE", "inspectorIds": team } })).await["recordInspection"]["id"].clone();
    let finding = app.data(&officer, "mutation($input: RecordFindingInput!) { recordFinding(input: $input) { id } }", json!({ "input": {
        "inspectionId": inspection, "code": "EV-3", "permitId": permit["id"], "severity": "SERIOUS", "description": "治理设施未运行" } })).await["recordFinding"]["id"].clone();
    app.data(&officer, "mutation($id: ID!) { advanceFinding(id: $id, expectedVersion: 1, input: { to: CASE_FILED }) { status } }", json!({ "id": finding })).await;
    let action = |kind: &str| json!({ "input": { "findingId": finding, "kind": kind, "decisionNumber": "CQ-DUP-1", "decidedOn": permit_core::domain::clock::today().to_string() } });
    let mutation = "mutation($input: RecordEnforcementActionInput!) { recordEnforcementAction(input: $input) { id } }";
    app.data(&officer, mutation, action("POLICE_REFERRAL"))
        .await;
    let changes_before = app.scalar_i64("SELECT COUNT(*) FROM change_events").await;
    let audit_before = app.scalar_i64("SELECT COUNT(*) FROM audit_events").await;
    // The withdrawal writes the permit's change, then fails on the duplicate decision number.
    let failed = app
        .gql(Some(&officer), mutation, action("PERMIT_WITHDRAWAL"))
        .await;
    assert_eq!(error_code(&failed), Some("CONFLICT"), "{failed}");
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM change_events").await,
        changes_before
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM audit_events").await,
        audit_before
    );
    let still = app
        .data(
            &officer,
            "query($id: ID!) { permit(id: $id) { status version } }",
            json!({ "id": permit["id"] }),
        )
        .await;
    assert_eq!(still["permit"]["status"], "VALID");
    assert_eq!(still["permit"]["version"], 1);
});

db_test!(audit_trail_and_feed_scope, |app| {
    fixtures::register_unit(&app, "500103", 803, "审计测试甲有限公司", "KEY").await;
    fixtures::register_unit(&app, "500112", 804, "审计测试乙有限公司", "KEY").await;
    let supervisor = app.token(Role::Supervisor, None);
    // A read of personal data is audited; an integrator's read (no personal data) is not.
    app.data(
        &supervisor,
        "query ReadContacts { units { edges { node { legalRepresentative contactPhone } } } }",
        json!({}),
    )
    .await;
    app.data(
        &app.token(Role::Integrator, None),
        "{ units { edges { node { legalRepresentative } } } }",
        json!({}),
    )
    .await;
    let events = app
        .data(&supervisor, "{ auditEvents(first: 50) { nodes { action operationName subject role recordKind recordIds requestId }} }", json!({}))
        .await;
    let rows = events["auditEvents"]["nodes"].as_array().expect("rows");
    let reads: Vec<&Value> = rows
        .iter()
        .filter(|r| r["action"] == "READ_PERSONAL_DATA")
        .collect();
    assert_eq!(reads.len(), 1, "{rows:?}");
    assert_eq!(reads[0]["operationName"], "ReadContacts");
    assert_eq!(reads[0]["recordIds"].as_array().map(Vec::len), Some(2));
    assert!(
        reads[0]["requestId"]
            .as_str()
            .is_some_and(|r| r.len() == 16)
    );
    let writes: Vec<&Value> = rows.iter().filter(|r| r["action"] == "MUTATION").collect();
    assert_eq!(writes.len(), 2);
    assert!(
        writes
            .iter()
            .all(|w| w["operationName"] == "registerUnit" && w["recordKind"] == "UNIT")
    );
    let filtered = app
        .data(
            &supervisor,
            "{ auditEvents(filter: { action: \"MUTATION\" }) { nodes { action }} }",
            json!({}),
        )
        .await;
    assert_eq!(
        filtered["auditEvents"]["nodes"].as_array().map(Vec::len),
        Some(2)
    );
    let denied = app
        .gql(
            Some(&app.token(Role::EnforcementOfficer, None)),
            "{ auditEvents { nodes { id }} }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"), "{denied}");
    // A district's feed holds only its district's records. (The feed shows a transaction once
    // every older one in the cluster has ended, so a busy shared server may need a moment.)
    let district_token = app.token(Role::EnforcementOfficer, Some("500103"));
    let whole = settled_feed(&app, &supervisor, 2).await;
    assert_eq!(whole, 2);
    let own = read_page(&app, &district_token, &None, 100).await;
    assert_eq!(own["edges"].as_array().map(Vec::len), Some(1));
    // The export writes the same feed as JSON lines, each with its cursor.
    let mut out = Vec::new();
    let (count, last) = permit_api::export::export_jsonl(&app.db.conn, None, &mut out)
        .await
        .expect("export");
    assert_eq!(count, 2);
    let lines: Vec<Value> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["cursor"].as_str(), last.as_deref());
    let mut rest = Vec::new();
    let (more, _) = permit_api::export::export_jsonl(&app.db.conn, last, &mut rest)
        .await
        .expect("export");
    assert_eq!(more, 0, "resuming from the last cursor finds nothing new");
});
