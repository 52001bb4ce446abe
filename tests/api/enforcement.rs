//! Inspections, findings and enforcement actions: the consistency rules, the lifecycle, actions
//! coded to the Regulation, access by role, and patterns computed in SQL.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures;
use crate::helpers::{TestApp, error_code, error_field};

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

db_test!(findings_are_checked_against_the_permit_on_the_day, |app| {
    let s = scene(&app, "500103", 2).await;
    let refused = |body: &Value, field: &str| {
        assert_eq!(error_code(body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(error_field(body), Some(field), "{body}");
    };
    // NP-1 while a permit was valid; NP-2 naming a valid permit; LG-1 without a permit; RG-1 on a KEY unit.
    let body = app
        .gql(
            Some(&s.officer),
            RECORD_FINDING,
            json!({ "input": finding_input(&s.inspection, "NP-1", None) }),
        )
        .await;
    refused(&body, "input.code");
    let body = app
        .gql(
            Some(&s.officer),
            RECORD_FINDING,
            json!({ "input": finding_input(&s.inspection, "NP-2", Some(&s.permit)) }),
        )
        .await;
    refused(&body, "input.permitId");
    let body = app
        .gql(
            Some(&s.officer),
            RECORD_FINDING,
            json!({ "input": finding_input(&s.inspection, "LG-1", None) }),
        )
        .await;
    refused(&body, "input.permitId");
    let body = app
        .gql(
            Some(&s.officer),
            RECORD_FINDING,
            json!({ "input": finding_input(&s.inspection, "RG-1", None) }),
        )
        .await;
    refused(&body, "input.code");
    let body = app
        .gql(
            Some(&s.officer),
            RECORD_FINDING,
            json!({ "input": finding_input(&s.inspection, "XX-9", Some(&s.permit)) }),
        )
        .await;
    refused(&body, "input.code");

    // EX-1: within the limit is refused, above it is a finding carrying the limit.
    let mut ex = finding_input(&s.inspection, "EX-1", Some(&s.permit));
    ex["outletCode"] = json!("DA001");
    ex["pollutant"] = json!("颗粒物");
    ex["measuredUnit"] = json!("mg/m3");
    ex["measuredValue"] = json!(18.0);
    let body = app
        .gql(Some(&s.officer), RECORD_FINDING, json!({ "input": ex }))
        .await;
    refused(&body, "input.measuredValue");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("within the permitted 20"),
        "{body}"
    );
    ex["measuredUnit"] = json!("mg/L");
    ex["measuredValue"] = json!(35.0);
    let body = app
        .gql(Some(&s.officer), RECORD_FINDING, json!({ "input": ex }))
        .await;
    refused(&body, "input.measuredUnit");
    ex["measuredUnit"] = json!("mg/m³");
    ex["pollutant"] = json!("汞");
    let body = app
        .gql(Some(&s.officer), RECORD_FINDING, json!({ "input": ex }))
        .await;
    refused(&body, "input.pollutant");
    ex["pollutant"] = json!("颗粒物");
    ex["evidence"] = json!([{ "fileName": "现场照片_01.jpg", "mediaType": "image/jpeg", "sizeBytes": 2048, "sha256": "abc" }]);
    let body = app
        .gql(Some(&s.officer), RECORD_FINDING, json!({ "input": ex }))
        .await;
    refused(&body, "input.evidence[0].sha256");
    ex["evidence"][0]["sha256"] =
        json!("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    let ok = app
        .data(&s.officer, RECORD_FINDING, json!({ "input": ex }))
        .await;
    assert_eq!(ok["recordFinding"]["permittedValue"], 20.0);
    assert_eq!(ok["recordFinding"]["status"], "OPEN");
    assert_eq!(ok["recordFinding"]["code"]["article"], "34(1)");

    // NP-1 is right for a unit that never had a permit.
    let bare =
        fixtures::register_unit(&app, "500103", 202, "无证排污测试有限公司", "SIMPLIFIED").await;
    let inspection =
        record_inspection(&app, &s.officer, &bare, &s.inspectors[..2], &days_ago(1)).await;
    let np1 = app
        .data(
            &s.officer,
            RECORD_FINDING,
            json!({ "input": finding_input(&inspection, "NP-1", None) }),
        )
        .await;
    assert_eq!(np1["recordFinding"]["code"]["code"], "NP-1");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM findings").await, 2);
});

db_test!(a_finding_walks_its_lifecycle, |app| {
    let s = scene(&app, "500105", 3).await;
    let f = finding(&app, &s, "LG-1").await;
    let id = f["id"].clone();
    let skipped = app
        .gql(
            Some(&s.officer),
            ADVANCE,
            json!({ "id": id, "v": 1, "input": { "to": "RECTIFIED" } }),
        )
        .await;
    assert_eq!(
        error_code(&skipped),
        Some("INVALID_TRANSITION"),
        "{skipped}"
    );
    assert_eq!(skipped["errors"][0]["extensions"]["from"], "OPEN");
    assert_eq!(skipped["errors"][0]["extensions"]["to"], "RECTIFIED");
    let ordered = app.data(&s.officer, ADVANCE, json!({ "id": id, "v": 1, "input": { "to": "RECTIFICATION_ORDERED", "reason": "责令改正" } })).await;
    assert_eq!(ordered["advanceFinding"]["version"], 2);
    let no_reinspection = app
        .gql(
            Some(&s.officer),
            ADVANCE,
            json!({ "id": id, "v": 2, "input": { "to": "RECTIFIED" } }),
        )
        .await;
    assert_eq!(
        error_field(&no_reinspection),
        Some("input.reinspectionId"),
        "{no_reinspection}"
    );
    let stale = app
        .gql(
            Some(&s.officer),
            ADVANCE,
            json!({ "id": id, "v": 1, "input": { "to": "CASE_FILED" } }),
        )
        .await;
    assert_eq!(error_code(&stale), Some("CONFLICT"), "{stale}");
    let reinspection =
        record_inspection(&app, &s.officer, &s.unit, &s.inspectors[..2], &days_ago(0)).await;
    let rectified = app
        .data(&s.officer, ADVANCE, json!({ "id": id, "v": 2, "input": { "to": "RECTIFIED", "reinspectionId": reinspection } }))
        .await;
    assert_eq!(rectified["advanceFinding"]["status"], "RECTIFIED");
    let closed = app
        .data(
            &s.officer,
            ADVANCE,
            json!({ "id": id, "v": 3, "input": { "to": "CLOSED" } }),
        )
        .await;
    assert_eq!(closed["advanceFinding"]["status"], "CLOSED");
    let history = app
        .data(&s.officer, "query($id: ID!) { finding(id: $id) { history { from to reason reinspection { id } actor } } }", json!({ "id": id }))
        .await;
    let moves: Vec<(Value, Value)> = history["finding"]["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| (h["from"].clone(), h["to"].clone()))
        .collect();
    assert_eq!(
        moves,
        vec![
            (Value::Null, json!("OPEN")),
            (json!("OPEN"), json!("RECTIFICATION_ORDERED")),
            (json!("RECTIFICATION_ORDERED"), json!("RECTIFIED")),
            (json!("RECTIFIED"), json!("CLOSED")),
        ]
    );
    assert_eq!(
        history["finding"]["history"][2]["reinspection"]["id"],
        reinspection.as_str()
    );
    let dismiss = app
        .gql(
            Some(&s.officer),
            ADVANCE,
            json!({ "id": id, "v": 4, "input": { "to": "DISMISSED", "reason": "x" } }),
        )
        .await;
    assert_eq!(
        error_code(&dismiss),
        Some("INVALID_TRANSITION"),
        "{dismiss}"
    );
});

db_test!(actions_follow_the_articles, |app| {
    let s = scene(&app, "500106", 4).await;
    let ledger = finding(&app, &s, "LG-1").await;
    let fine = |finding: &Value, amount: i64, number: &str| {
        json!({ "input": {
        "findingId": finding["id"], "kind": "FINE", "decisionNumber": number, "decidedOn": days_ago(0), "amountYuan": amount } })
    };
    // A penalty needs a filed case.
    let early = app
        .gql(Some(&s.officer), ACTION, fine(&ledger, 10_000, "CQ-1"))
        .await;
    assert_eq!(error_code(&early), Some("INVALID_TRANSITION"), "{early}");
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": ledger["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    let out_of_range = app
        .gql(Some(&s.officer), ACTION, fine(&ledger, 50_000, "CQ-1"))
        .await;
    assert_eq!(
        error_field(&out_of_range),
        Some("input.amountYuan"),
        "{out_of_range}"
    );
    let message = out_of_range["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("5000–20000") && message.contains("Art 37(1)"),
        "{message}"
    );
    let fined = app
        .data(&s.officer, ACTION, fine(&ledger, 10_000, "CQ-1"))
        .await;
    assert_eq!(fined["recordEnforcementAction"]["amountYuan"], 10_000);
    let status = app
        .data(
            &s.officer,
            "query($id: ID!) { finding(id: $id) { status actions { kind decisionNumber } } }",
            json!({ "id": ledger["id"] }),
        )
        .await;
    assert_eq!(
        status["finding"]["status"], "PENALISED",
        "a penalty moves the case on"
    );
    assert_eq!(status["finding"]["actions"][0]["decisionNumber"], "CQ-1");
    // Daily continuous penalty (Art 38): the original fine per day, for discharges only.
    let daily = |finding: &Value, amount: i64| {
        json!({ "input": { "findingId": finding["id"], "kind": "DAILY_CONTINUOUS_PENALTY",
        "decisionNumber": "CQ-2", "decidedOn": days_ago(0), "amountYuan": amount, "days": 5 } })
    };
    let not_a_discharge = app
        .gql(Some(&s.officer), ACTION, daily(&ledger, 10_000))
        .await;
    assert_eq!(
        error_field(&not_a_discharge),
        Some("input.kind"),
        "a ledger not kept is not a discharge: {not_a_discharge}"
    );
    let hidden_pipe = finding(&app, &s, "EV-1").await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": hidden_pipe["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    app.data(&s.officer, ACTION, fine(&hidden_pipe, 200_000, "CQ-5"))
        .await;
    let wrong = app
        .gql(Some(&s.officer), ACTION, daily(&hidden_pipe, 190_000))
        .await;
    assert_eq!(error_field(&wrong), Some("input.amountYuan"), "{wrong}");
    let ok = app
        .data(&s.officer, ACTION, daily(&hidden_pipe, 200_000))
        .await;
    assert_eq!(ok["recordEnforcementAction"]["totalYuan"], 1_000_000);
    // Decision numbers are unique.
    let duplicate = app
        .gql(Some(&s.officer), ACTION, daily(&hidden_pipe, 200_000))
        .await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"), "{duplicate}");

    // Permit withdrawal moves the permit to WITHDRAWN in the same transaction.
    let ev = finding(&app, &s, "EV-3").await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": ev["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    let withdrawal = |finding: &Value, number: &str| {
        json!({ "input": {
        "findingId": finding["id"], "kind": "PERMIT_WITHDRAWAL", "decisionNumber": number, "decidedOn": days_ago(0) } })
    };
    app.data(&s.officer, ACTION, withdrawal(&ev, "CQ-3")).await;
    let permit = app
        .data(
            &s.officer,
            "query($id: ID!) { permit(id: $id) { status version versions { changeKind reason } } }",
            json!({ "id": s.permit["id"] }),
        )
        .await;
    assert_eq!(permit["permit"]["status"], "WITHDRAWN");
    assert_eq!(permit["permit"]["versions"][1]["changeKind"], "WITHDRAWN");
    assert!(
        permit["permit"]["versions"][1]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("CQ-3")
    );
    // A second withdrawal fails on the permit state machine and leaves no action behind.
    let other = finding(&app, &s, "EV-2").await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": other["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    let again = app
        .gql(Some(&s.officer), ACTION, withdrawal(&other, "CQ-4"))
        .await;
    assert_eq!(error_code(&again), Some("INVALID_TRANSITION"), "{again}");
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM enforcement_actions WHERE decision_number = 'CQ-4'")
            .await,
        0
    );
    let other_now = app
        .data(
            &s.officer,
            "query($id: ID!) { finding(id: $id) { status } }",
            json!({ "id": other["id"] }),
        )
        .await;
    assert_eq!(
        other_now["finding"]["status"], "CASE_FILED",
        "nothing half-written"
    );
});

db_test!(who_reads_findings, |app| {
    let s = scene(&app, "500103", 5).await;
    let open = finding(&app, &s, "LG-1").await;
    let closing = finding(&app, &s, "SM-1").await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": closing["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    app.data(&s.officer, ACTION, json!({ "input": { "findingId": closing["id"], "kind": "FINE", "decisionNumber": "CQ-R1", "decidedOn": days_ago(0), "amountYuan": 30000 } })).await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": closing["id"], "v": 3, "input": { "to": "CLOSED" } }),
    )
    .await;
    let query = "query($n: String) { findings(first: 10, filter: { permitNumber: $n }) { totalCount edges { node { id status code { code } permit { permitNumber } unit { name } inspection { inspectors { name } } history { actor } } } } }";
    let vars = json!({ "n": s.permit["permitNumber"] });
    // The permit office of the district reads the findings on its permits.
    let office = app
        .data(
            &app.token(Role::PermitOfficer, Some("500103")),
            query,
            vars.clone(),
        )
        .await;
    assert_eq!(office["findings"]["totalCount"], 2);
    assert_eq!(
        office["findings"]["edges"][0]["node"]["permit"]["permitNumber"],
        s.permit["permitNumber"]
    );
    // Another district's office sees none of them.
    let elsewhere = app
        .data(
            &app.token(Role::PermitOfficer, Some("500112")),
            query,
            vars.clone(),
        )
        .await;
    assert_eq!(elsewhere["findings"]["totalCount"], 0);
    // Integrators: closed findings only, without inspector names or actors.
    let integrator = app
        .data(&app.token(Role::Integrator, None), query, vars.clone())
        .await;
    assert_eq!(integrator["findings"]["totalCount"], 1);
    let node = &integrator["findings"]["edges"][0]["node"];
    assert_eq!(node["id"], closing["id"]);
    assert!(
        node["inspection"]["inspectors"].is_null() && node["history"][0]["actor"].is_null(),
        "{node}"
    );
    let hidden = app
        .data(
            &app.token(Role::Integrator, None),
            "query($id: ID!) { finding(id: $id) { id } }",
            json!({ "id": open["id"] }),
        )
        .await;
    assert!(hidden["finding"].is_null());
    // Monitoring has no part in cases.
    let monitoring = app
        .gql(
            Some(&app.token(Role::Monitoring, None)),
            query,
            vars.clone(),
        )
        .await;
    assert_eq!(error_code(&monitoring), Some("FORBIDDEN"), "{monitoring}");
    // Nested: the permit's newest findings.
    let nested = app
        .data(&app.token(Role::Supervisor, None), "query($n: String!) { permitByNumber(permitNumber: $n) { findings(first: 1) { nodes { id }} unit { inspections { nodes { id } } } } }", json!({ "n": s.permit["permitNumber"] }))
        .await;
    assert_eq!(
        nested["permitByNumber"]["findings"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        nested["permitByNumber"]["unit"]["inspections"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
});

db_test!(patterns_match_a_direct_count, |app| {
    let a = scene(&app, "500103", 6).await;
    let b = scene(&app, "500112", 7).await;
    for code in ["LG-1", "LG-1", "SM-1", "ER-1"] {
        finding(&app, &a, code).await;
    }
    for code in ["LG-1", "OU-3"] {
        finding(&app, &b, code).await;
    }
    let fined = finding(&app, &b, "SM-2").await;
    app.data(
        &b.officer,
        ADVANCE,
        json!({ "id": fined["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    app.data(&b.officer, ACTION, json!({ "input": { "findingId": fined["id"], "kind": "FINE", "decisionNumber": "CQ-P1", "decidedOn": days_ago(0), "amountYuan": 25000 } })).await;

    let data = app
        .data(&app.token(Role::Supervisor, None), "{ violationPatterns(groupBy: [DISTRICT, CODE]) { district { code } code { code } findings unitsAffected finesYuan } }", json!({}))
        .await;
    let rows = data["violationPatterns"].as_array().expect("rows");
    let total: i64 = rows.iter().filter_map(|r| r["findings"].as_i64()).sum();
    assert_eq!(total, app.scalar_i64("SELECT COUNT(*) FROM findings").await);
    for row in rows {
        let district = row["district"]["code"].as_str().expect("district");
        let code = row["code"]["code"].as_str().expect("code");
        let direct = app
            .scalar_i64(&format!("SELECT COUNT(*) FROM findings WHERE district_code = '{district}' AND violation_code = '{code}'"))
            .await;
        assert_eq!(row["findings"].as_i64(), Some(direct), "{district} {code}");
    }
    let lg1_yuzhong = rows
        .iter()
        .find(|r| r["district"]["code"] == "500103" && r["code"]["code"] == "LG-1")
        .expect("group");
    assert_eq!(lg1_yuzhong["findings"], 2);
    assert_eq!(lg1_yuzhong["unitsAffected"], 1);
    let sm2 = rows
        .iter()
        .find(|r| r["code"]["code"] == "SM-2")
        .expect("group");
    assert_eq!(sm2["finesYuan"], 25000);
    // District officers see their own district only; months group too.
    let own = app
        .data(
            &a.officer,
            "{ violationPatterns(groupBy: [MONTH, CATEGORY]) { month category findings } }",
            json!({}),
        )
        .await;
    let own_total: i64 = own["violationPatterns"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["findings"].as_i64())
        .sum();
    assert_eq!(own_total, 4);
    assert!(
        own["violationPatterns"][0]["month"]
            .as_str()
            .is_some_and(|m| m.len() == 7)
    );
});

#[derive(Clone, Copy, Debug, PartialEq)]
enum Attempt {
    ReadFindings,
    ReadInspections,
    Patterns,
    ListInspectors,
    RecordInspection,
    RecordFinding,
    AdvanceFinding,
    RecordAction,
}

db_test!(enforcement_role_matrix, |app| {
    use Attempt::*;
    let s = scene(&app, "500103", 8).await;
    let admin = app.token(Role::Admin, None);
    let principals: [(Role, Option<&str>); 9] = [
        (Role::PermitOfficer, Some("500103")),
        (Role::PermitOfficer, None),
        (Role::EnforcementOfficer, Some("500103")),
        (Role::EnforcementOfficer, Some("500112")),
        (Role::EnforcementOfficer, None),
        (Role::Supervisor, None),
        (Role::Monitoring, None),
        (Role::Integrator, None),
        (Role::Admin, None),
    ];
    let attempts = [
        ReadFindings,
        ReadInspections,
        Patterns,
        ListInspectors,
        RecordInspection,
        RecordFinding,
        AdvanceFinding,
        RecordAction,
    ];
    let mut serial = 0;
    for (role, district) in principals {
        let token = app.token(role, district);
        for what in attempts {
            serial += 1;
            // A fresh OPEN finding for moves and actions, made by an admin.
            let target = app
                .data(
                    &admin,
                    RECORD_FINDING,
                    json!({ "input": finding_input(&s.inspection, "LG-2", Some(&s.permit)) }),
                )
                .await["recordFinding"]
                .clone();
            let body = match what {
                ReadFindings => app.gql(Some(&token), "{ findings { totalCount } }", json!({})).await,
                ReadInspections => app.gql(Some(&token), "{ inspections { totalCount } }", json!({})).await,
                Patterns => app.gql(Some(&token), "{ violationPatterns(groupBy: [CODE]) { findings } }", json!({})).await,
                ListInspectors => app.gql(Some(&token), "{ inspectors { nodes { name } } }", json!({})).await,
                RecordInspection => {
                    app.gql(Some(&token), RECORD_INSPECTION, json!({ "input": {
                        "unitId": s.unit["id"], "date": days_ago(1), "source": "ROUTINE", "mode": "NON_SITE", "inspectorIds": [s.inspectors[0]] } }))
                        .await
                }
                RecordFinding => {
                    app.gql(Some(&token), RECORD_FINDING, json!({ "input": finding_input(&s.inspection, "LG-1", Some(&s.permit)) })).await
                }
                AdvanceFinding => {
                    app.gql(Some(&token), ADVANCE, json!({ "id": target["id"], "v": 1, "input": { "to": "RECTIFICATION_ORDERED" } })).await
                }
                RecordAction => {
                    app.gql(Some(&token), ACTION, json!({ "input": { "findingId": target["id"], "kind": "CORRECTION_ORDER",
                        "decisionNumber": format!("CQ-M{serial}"), "decidedOn": days_ago(0) } }))
                        .await
                }
            };
            let enforcement_in_scope = matches!(role, Role::Admin)
                || (role == Role::EnforcementOfficer && district != Some("500112"));
            let allowed = match what {
                ReadFindings | ReadInspections | Patterns => role != Role::Monitoring,
                ListInspectors => !matches!(role, Role::Monitoring | Role::Integrator),
                RecordInspection | RecordFinding | AdvanceFinding | RecordAction => {
                    enforcement_in_scope
                }
            };
            if allowed {
                assert!(
                    body.get("errors").is_none(),
                    "{role:?} {district:?} {what:?} should pass: {body}"
                );
            } else {
                let code = error_code(&body);
                let expected = if role == Role::EnforcementOfficer {
                    // Out of district: the record is not visible at all.
                    matches!(code, Some("NOT_FOUND" | "FORBIDDEN"))
                } else {
                    code == Some("FORBIDDEN")
                };
                assert!(expected, "{role:?} {district:?} {what:?}: {body}");
            }
        }
    }
});

db_test!(patterns_over_the_demo_data_match_sql, |app| {
    app.seed_demo(600).await;
    let data = app
        .data(&app.token(Role::Supervisor, None), "{ violationPatterns(groupBy: [DISTRICT, CODE], limit: 5000) { district { code } code { code } findings unitsAffected } }", json!({}))
        .await;
    let rows = data["violationPatterns"].as_array().expect("rows");
    let groups = app
        .scalar_i64("SELECT COUNT(*) FROM (SELECT district_code, violation_code FROM findings GROUP BY district_code, violation_code) g")
        .await;
    assert_eq!(rows.len() as i64, groups);
    for row in rows {
        let district = row["district"]["code"].as_str().expect("district");
        let code = row["code"]["code"].as_str().expect("code");
        let direct = app
            .scalar_i64(&format!("SELECT COUNT(*) FROM findings WHERE district_code = '{district}' AND violation_code = '{code}'"))
            .await;
        let units = app
            .scalar_i64(&format!("SELECT COUNT(DISTINCT unit_id) FROM findings WHERE district_code = '{district}' AND violation_code = '{code}'"))
            .await;
        assert_eq!(row["findings"].as_i64(), Some(direct), "{district} {code}");
        assert_eq!(
            row["unitsAffected"].as_i64(),
            Some(units),
            "{district} {code}"
        );
    }
});

db_test!(np3_needs_an_ended_permit, |app| {
    let s = scene(&app, "500107", 30).await;
    // NP-3 against a valid permit is refused.
    let body = app
        .gql(
            Some(&s.officer),
            RECORD_FINDING,
            json!({ "input": finding_input(&s.inspection, "NP-3", Some(&s.permit)) }),
        )
        .await;
    assert_eq!(error_field(&body), Some("input.permitId"), "{body}");
    // Once the permit is revoked, discharging is NP-3 (the revocation counts from its day).
    let office = app.token(Role::PermitOfficer, Some("500107"));
    app.data(&office, "mutation($id: ID!) { revokePermit(id: $id, expectedVersion: 1, reason: \"以欺骗手段取得\") { status } }", json!({ "id": s.permit["id"] })).await;
    let later =
        record_inspection(&app, &s.officer, &s.unit, &s.inspectors[..2], &days_ago(0)).await;
    let ok = app
        .data(
            &s.officer,
            RECORD_FINDING,
            json!({ "input": finding_input(&later, "NP-3", Some(&s.permit)) }),
        )
        .await;
    assert_eq!(ok["recordFinding"]["code"]["code"], "NP-3");
    // A code that needs a valid permit no longer fits.
    let body = app
        .gql(
            Some(&s.officer),
            RECORD_FINDING,
            json!({ "input": finding_input(&later, "LG-1", Some(&s.permit)) }),
        )
        .await;
    assert_eq!(error_field(&body), Some("input.permitId"), "{body}");
    // NP-2 is for an expired permit, not a revoked one.
    let body = app
        .gql(
            Some(&s.officer),
            RECORD_FINDING,
            json!({ "input": finding_input(&later, "NP-2", Some(&s.permit)) }),
        )
        .await;
    assert_eq!(error_field(&body), Some("input.permitId"), "{body}");
});

db_test!(pattern_cells_answer_like_the_live_query, |app| {
    app.seed_demo(200).await;
    // Writes through the service after the bulk load: a unit's first and second finding of a
    // code, a fine, and a move into CLOSED (which integrators then see).
    let s = scene(&app, "500103", 8).await;
    finding(&app, &s, "LG-1").await;
    let closed = finding(&app, &s, "LG-1").await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": closed["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    app.data(&s.officer, ACTION, json!({ "input": { "findingId": closed["id"], "kind": "FINE", "decisionNumber": "CQ-CELLS-1", "decidedOn": days_ago(0), "amountYuan": 15000 } })).await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": closed["id"], "v": 3, "input": { "to": "CLOSED" } }),
    )
    .await;
    let fields = "findings unitsAffected finesYuan district { code } code { code } category";
    for role in [Role::Supervisor, Role::Integrator] {
        let token = app.token(role, None);
        for group_by in ["[DISTRICT, CODE]", "[CODE]", "[CATEGORY, CODE]"] {
            let from_cells = app
                .data(
                    &token,
                    &format!(
                        "{{ violationPatterns(groupBy: {group_by}, limit: 5000) {{ {fields} }} }}"
                    ),
                    json!({}),
                )
                .await;
            // A filter the cells cannot answer sends the same question to the live GROUP BY.
            let live = app
                .data(&token, &format!("{{ violationPatterns(groupBy: {group_by}, limit: 5000, filter: {{ foundFrom: \"1900-01-01\" }}) {{ {fields} }} }}"), json!({}))
                .await;
            assert_eq!(from_cells, live, "{role:?} {group_by}");
            assert!(
                from_cells["violationPatterns"]
                    .as_array()
                    .is_some_and(|rows| !rows.is_empty()),
                "{role:?} {group_by}"
            );
        }
    }
});

// Issue #14.4: RG-1 ("not registered", Art 43) is refused for a unit registered on the
// inspection date, and accepted for one registered only afterwards.
db_test!(
    rg1_needs_a_unit_unregistered_on_the_inspection_date,
    |app| {
        let s = scene(&app, "500103", 70).await;
        let admin = app.token(Role::Admin, None);
        let registered =
            fixtures::register_unit(&app, "500103", 71, "重庆小型印刷厂", "REGISTRATION").await;
        app.data(&admin, "mutation($id: ID!, $on: NaiveDate) { registerDischarge(input: { unitId: $id, registeredOn: $on }) { status } }",
        json!({ "id": registered["id"], "on": days_ago(5) })).await;
        let inspection = record_inspection(
            &app,
            &s.officer,
            &registered,
            &s.inspectors[..2],
            &days_ago(3),
        )
        .await;
        let body = app
            .gql(
                Some(&s.officer),
                RECORD_FINDING,
                json!({ "input": finding_input(&inspection, "RG-1", None) }),
            )
            .await;
        assert_eq!(error_field(&body), Some("input.code"), "{body}");

        let late =
            fixtures::register_unit(&app, "500103", 72, "重庆小型洗涤厂", "REGISTRATION").await;
        let inspection =
            record_inspection(&app, &s.officer, &late, &s.inspectors[..2], &days_ago(3)).await;
        app.data(&admin, "mutation($id: ID!, $on: NaiveDate) { registerDischarge(input: { unitId: $id, registeredOn: $on }) { status } }",
        json!({ "id": late["id"], "on": days_ago(1) })).await;
        let found = app
            .data(
                &s.officer,
                RECORD_FINDING,
                json!({ "input": finding_input(&inspection, "RG-1", None) }),
            )
            .await;
        assert_eq!(found["recordFinding"]["code"]["code"], "RG-1");
    }
);

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

// Issue #14.10: the taxonomy says which measures each code allows; Art 37 (LG-1, a ledger not
// kept) provides a fine, not a permit withdrawal.
db_test!(actions_are_those_the_article_provides, |app| {
    let s = scene(&app, "500106", 90).await;
    let ledger = finding(&app, &s, "LG-1").await;
    app.data(
        &s.officer,
        ADVANCE,
        json!({ "id": ledger["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    let withdraw = app
        .gql(
            Some(&s.officer),
            ACTION,
            json!({ "input": {
            "findingId": ledger["id"], "kind": "PERMIT_WITHDRAWAL", "decisionNumber": "CQ-W-1",
            "decidedOn": days_ago(0) } }),
        )
        .await;
    assert_eq!(error_field(&withdraw), Some("input.kind"), "{withdraw}");
    let permit = app
        .data(
            &s.officer,
            "query($id: ID!) { permit(id: $id) { status } }",
            json!({ "id": s.permit["id"] }),
        )
        .await;
    assert_eq!(permit["permit"]["status"], "VALID");
    let seal = app
        .gql(
            Some(&s.officer),
            ACTION,
            json!({ "input": {
            "findingId": ledger["id"], "kind": "SEAL_UP", "decisionNumber": "CQ-W-2",
            "decidedOn": days_ago(0) } }),
        )
        .await;
    assert_eq!(error_field(&seal), Some("input.kind"), "{seal}");
});
