//! Inspections, findings and enforcement actions: the consistency rules, the lifecycle, actions
//! coded to the Regulation, access by role, and patterns computed in SQL.
//!
//! Here: the scene other tests build on (a unit, its permit, inspectors and an inspection),
//! inspection teams, and duplicates; the rest by concept in the submodules.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures;
use crate::helpers::{TestApp, error_code, error_field};

mod access;
mod actions;
mod findings;
mod patterns;

const REGISTER_INSPECTOR: &str =
    "mutation($input: RegisterInspectorInput!) { registerInspector(input: $input) { id name } }";
const RECORD_INSPECTION: &str = "mutation($input: RecordInspectionInput!, $key: String) { recordInspection(input: $input, idempotencyKey: $key) { id date } }";
pub const RECORD_FINDING: &str = "mutation($input: RecordFindingInput!) { recordFinding(input: $input) { id status version permittedValue code { code article } } }";
pub const ADVANCE: &str = "mutation($id: ID!, $v: Int!, $input: AdvanceFindingInput!) { advanceFinding(id: $id, expectedVersion: $v, input: $input) { status version } }";
pub const ACTION: &str = "mutation($input: RecordEnforcementActionInput!) { recordEnforcementAction(input: $input) { id kind amountYuan totalYuan } }";

/// A KEY unit with a permit, three inspectors of the district, and an on-site inspection.
pub struct Scene {
    pub unit: Value,
    pub permit: Value,
    pub inspectors: Vec<String>,
    pub inspection: String,
    pub officer: String,
}

pub fn days_ago(n: i64) -> String {
    (permit_core::domain::clock::today() - chrono::Duration::days(n)).to_string()
}

pub async fn scene(app: &TestApp, district: &str, serial: u32) -> Scene {
    let (unit, permit) = fixtures::unit_with_permit(app, district, serial).await;
    let officer = app.token(Role::EnforcementOfficer, Some(district));
    let mut inspectors = Vec::new();
    for i in 0..3 {
        let data = app
            .data(
                &officer,
                REGISTER_INSPECTOR,
                json!({ "input": {
                "name": format!("检查员{serial}{i}"), "agencyCode": format!("{district}-ENF"),
                "certificateNumber": format!("CQ{district}{serial:03}{i}") } }),
            )
            .await;
        inspectors.push(
            data["registerInspector"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let inspection = record_inspection(app, &officer, &unit, &inspectors[..2], &days_ago(1)).await;
    Scene {
        unit,
        permit,
        inspectors,
        inspection,
        officer,
    }
}

async fn record_inspection(
    app: &TestApp,
    token: &str,
    unit: &Value,
    team: &[String],
    date: &str,
) -> String {
    let data = app
        .data(
            token,
            RECORD_INSPECTION,
            json!({ "input": {
            "unitId": unit["id"], "date": date, "source": "SPECIAL_CAMPAIGN", "mode": "ON_SITE",
            "inspectorIds": team, "materialsReviewed": ["LEDGER", "EXECUTION_REPORTS"],
            "checklist": [{ "item": "排放口规范化", "result": "FAIL", "note": "标识牌缺失" }] } }),
        )
        .await;
    data["recordInspection"]["id"]
        .as_str()
        .expect("inspection id")
        .to_owned()
}

pub fn finding_input(inspection: &str, code: &str, permit: Option<&Value>) -> Value {
    json!({
        "inspectionId": inspection, "code": code, "permitId": permit.map(|p| p["id"].clone()),
        "severity": "GENERAL", "description": "现场检查发现问题",
        "rectificationDeadline": (permit_core::domain::clock::today() + chrono::Duration::days(30)).to_string()
    })
}

pub async fn finding(app: &TestApp, s: &Scene, code: &str) -> Value {
    let data = app
        .data(
            &s.officer,
            RECORD_FINDING,
            json!({ "input": finding_input(&s.inspection, code, Some(&s.permit)) }),
        )
        .await;
    data["recordFinding"].clone()
}

db_test!(inspections_need_a_proper_team_in_scope, |app| {
    let s = scene(&app, "500103", 1).await;
    // One inspector on site.
    let one = app
        .gql(Some(&s.officer), RECORD_INSPECTION, json!({ "input": {
            "unitId": s.unit["id"], "date": days_ago(1), "source": "ROUTINE", "mode": "ON_SITE", "inspectorIds": [s.inspectors[0]] } }))
        .await;
    assert_eq!(error_field(&one), Some("input.inspectorIds"), "{one}");
    // A recused inspector.
    app.data(&s.officer, "mutation($i: ID!, $u: ID!) { declareConflict(input: { inspectorId: $i, unitId: $u, reason: \"亲属任职\" }) { declaredOn } }",
        json!({ "i": s.inspectors[2], "u": s.unit["id"] })).await;
    let recused = app
        .gql(Some(&s.officer), RECORD_INSPECTION, json!({ "input": {
            "unitId": s.unit["id"], "date": days_ago(1), "source": "ROUTINE", "mode": "ON_SITE", "inspectorIds": [s.inspectors[0], s.inspectors[2]] } }))
        .await;
    assert_eq!(error_code(&recused), Some("BAD_USER_INPUT"), "{recused}");
    assert!(
        recused["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("回避"),
        "{recused}"
    );
    // The future.
    let future = app
        .gql(Some(&s.officer), RECORD_INSPECTION, json!({ "input": {
            "unitId": s.unit["id"], "date": days_ago(-3), "source": "ROUTINE", "mode": "NON_SITE", "inspectorIds": [s.inspectors[0]] } }))
        .await;
    assert_eq!(error_field(&future), Some("input.date"), "{future}");
    // Another district's enforcement cannot record here, neither inspections nor findings.
    let other = app.token(Role::EnforcementOfficer, Some("500112"));
    let body = app
        .gql(Some(&other), RECORD_INSPECTION, json!({ "input": {
            "unitId": s.unit["id"], "date": days_ago(1), "source": "ROUTINE", "mode": "ON_SITE", "inspectorIds": [s.inspectors[0], s.inspectors[1]] } }))
        .await;
    assert!(
        matches!(error_code(&body), Some("NOT_FOUND" | "FORBIDDEN")),
        "{body}"
    );
    let body = app
        .gql(
            Some(&other),
            RECORD_FINDING,
            json!({ "input": finding_input(&s.inspection, "LG-1", Some(&s.permit)) }),
        )
        .await;
    assert!(
        matches!(error_code(&body), Some("NOT_FOUND" | "FORBIDDEN")),
        "{body}"
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM findings").await, 0);
    // Idempotent retry.
    let input = json!({ "unitId": s.unit["id"], "date": days_ago(2), "source": "COMPLAINT", "mode": "NON_SITE", "inspectorIds": [s.inspectors[0]] });
    let a = app
        .data(
            &s.officer,
            RECORD_INSPECTION,
            json!({ "input": input, "key": "insp-1" }),
        )
        .await;
    let b = app
        .data(
            &s.officer,
            RECORD_INSPECTION,
            json!({ "input": input, "key": "insp-1" }),
        )
        .await;
    assert_eq!(a["recordInspection"]["id"], b["recordInspection"]["id"]);
});

/// A duplicate's answer: CONFLICT, the field, and a sentence without the database's words.
fn assert_duplicate(body: &Value, field: &str) {
    assert_eq!(error_code(body), Some("CONFLICT"), "{body}");
    assert_eq!(error_field(body), Some(field), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    for word in ["UNIQUE", "constraint", "duplicate key", "_", "."] {
        assert!(!message.contains(word), "{word} in {message}");
    }
}

// Issue #14.9: duplicate records were answered with the database's text and no field.
db_test!(duplicates_are_conflicts_naming_the_field, |app| {
    let s = scene(&app, "500106", 80).await;
    let mut numbers = Vec::new();
    for _ in 0..2 {
        let ledger = finding(&app, &s, "LG-1").await;
        app.data(
            &s.officer,
            ADVANCE,
            json!({ "id": ledger["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
        )
        .await;
        numbers.push(
            app.gql(
                Some(&s.officer),
                ACTION,
                json!({ "input": {
                "findingId": ledger["id"], "kind": "FINE", "decisionNumber": "渝沙环罚〔2026〕1号",
                "decidedOn": days_ago(0), "amountYuan": 10_000 } }),
            )
            .await,
        );
    }
    assert!(numbers[0].get("errors").is_none(), "{:#}", numbers[0]);
    assert_duplicate(&numbers[1], "input.decisionNumber");

    let declare = "mutation($i: ID!, $u: ID!) { declareConflict(input: { inspectorId: $i, unitId: $u, reason: \"亲属任职\" }) { declaredOn } }";
    let vars = json!({ "i": s.inspectors[2], "u": s.unit["id"] });
    app.data(&s.officer, declare, vars.clone()).await;
    let again = app.gql(Some(&s.officer), declare, vars).await;
    assert_duplicate(&again, "input.unitId");

    let year = permit_core::domain::clock::today().format("%Y").to_string();
    let supervisor = app.token(Role::Supervisor, None);
    let create = "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }";
    let input = json!({ "input": {
        "name": "2026年排污许可专项执法", "startsOn": format!("{year}-01-01"), "endsOn": format!("{year}-12-31"),
        "coverageDeadline": format!("{year}-12-31"), "summaryDeadline": format!("{year}-11-30"),
        "phases": [{ "name": "区县自查", "kind": "SELF_INSPECTION", "startsOn": format!("{year}-01-01"), "endsOn": format!("{year}-09-30") }],
        "samplingRules": [{ "category": "SIMPLIFIED", "share": 0.25, "period": "QUARTER" }] } });
    app.data(&supervisor, create, input.clone()).await;
    let twice = app.gql(Some(&supervisor), create, input).await;
    assert_duplicate(&twice, "input.name");
});
