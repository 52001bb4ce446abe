//! Findings: checked against the permit as it stood on the inspection day, the lifecycle, and
//! the codes that need a permit ended (NP-3) or a unit unregistered on the day (RG-1).

use permit_core::auth::Role;
use serde_json::{Value, json};

use super::{ADVANCE, RECORD_FINDING, days_ago, finding, finding_input, record_inspection, scene};
use crate::db_test;
use crate::fixtures;
use crate::helpers::{error_code, error_field};

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
