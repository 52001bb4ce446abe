//! Permits: HJ 608 numbers, overlapping validity, the state machine, versions, idempotency.

use permit_exchange::auth::Role;
use serde_json::json;

use crate::db_test;
use crate::fixtures::{self, ISSUE_PERMIT};
use crate::helpers::{error_code, error_field};

db_test!(issue_checks_number_units_and_overlap, |app| {
    let admin = app.token(Role::Admin, None);
    let unit = fixtures::register_unit(&app, "500103", 21, "发证测试有限公司", "KEY").await;
    let unit_id = unit["id"].as_str().expect("id");
    let other_code = fixtures::credit_code("500103", 99);

    // A number that belongs to another unit.
    let mut input = fixtures::permit_input(unit_id, "2025-01-01");
    input["permitNumber"] = json!(format!("{other_code}001P"));
    let body = app
        .gql(Some(&admin), ISSUE_PERMIT, json!({ "input": input }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(error_field(&body), Some("input.permitNumber"));

    // Wrong unit for the medium, and an absurd value: refused at entry.
    let mut input = fixtures::permit_input(unit_id, "2025-01-01");
    input["outlets"][0]["limits"][0]["concentrationUnit"] = json!("mg/L");
    let body = app
        .gql(Some(&admin), ISSUE_PERMIT, json!({ "input": input }))
        .await;
    assert_eq!(
        error_field(&body),
        Some("input.outlets[0].limits[0].concentrationUnit"),
        "{body}"
    );
    let mut input = fixtures::permit_input(unit_id, "2025-01-01");
    input["outlets"][1]["limits"][0]["concentrationLimit"] = json!(-5.0);
    let body = app
        .gql(Some(&admin), ISSUE_PERMIT, json!({ "input": input }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    // More than five years (Art 14).
    let mut input = fixtures::permit_input(unit_id, "2025-01-01");
    input["validTo"] = json!("2030-06-30");
    let body = app
        .gql(Some(&admin), ISSUE_PERMIT, json!({ "input": input }))
        .await;
    assert_eq!(error_field(&body), Some("input.validTo"), "{body}");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM permits").await, 0);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM outlets").await,
        0,
        "nothing half-written"
    );

    // A good one: number assigned from the credit code, five years, outlets and limits.
    let ok = app
        .data(
            &admin,
            ISSUE_PERMIT,
            json!({ "input": fixtures::permit_input(unit_id, "2025-01-01") }),
        )
        .await;
    let permit = &ok["issuePermit"];
    assert_eq!(
        permit["permitNumber"],
        format!("{}001P", unit["creditCode"].as_str().expect("code"))
    );
    assert_eq!(permit["validTo"], "2029-12-31");
    assert_eq!(permit["outlets"][0]["medium"], "AIR");
    assert_eq!(
        permit["outlets"][0]["limits"].as_array().map(Vec::len),
        Some(2)
    );

    // Overlapping validity for the same unit.
    let body = app
        .gql(
            Some(&admin),
            ISSUE_PERMIT,
            json!({ "input": fixtures::permit_input(unit_id, "2027-01-01") }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");

    // REGISTRATION units register instead.
    let reg = fixtures::register_unit(&app, "500103", 22, "登记测试有限公司", "REGISTRATION").await;
    let body = app.gql(Some(&admin), ISSUE_PERMIT, json!({ "input": fixtures::permit_input(reg["id"].as_str().expect("id"), "2025-01-01") })).await;
    assert_eq!(error_field(&body), Some("input.unitId"), "{body}");
    let registered = app
        .data(&admin, "mutation($id: ID!) { registerDischarge(input: { unitId: $id }) { registrationNumber status } }", json!({ "id": reg["id"] }))
        .await;
    assert!(
        registered["registerDischarge"]["registrationNumber"]
            .as_str()
            .is_some_and(|n| n.ends_with("001W"))
    );
});

db_test!(retried_issue_with_the_same_key_creates_one_permit, |app| {
    let admin = app.token(Role::Admin, None);
    let unit = fixtures::register_unit(&app, "500105", 31, "重试测试有限公司", "KEY").await;
    let input = fixtures::permit_input(unit["id"].as_str().expect("id"), "2025-03-01");
    let a = app
        .data(
            &admin,
            ISSUE_PERMIT,
            json!({ "input": input, "key": "issue-31" }),
        )
        .await;
    let b = app
        .data(
            &admin,
            ISSUE_PERMIT,
            json!({ "input": input, "key": "issue-31" }),
        )
        .await;
    assert_eq!(a["issuePermit"]["id"], b["issuePermit"]["id"]);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM permits").await, 1);
    let mut changed = input.clone();
    changed["validFrom"] = json!("2025-04-01");
    let c = app
        .gql(
            Some(&admin),
            ISSUE_PERMIT,
            json!({ "input": changed, "key": "issue-31" }),
        )
        .await;
    assert_eq!(error_code(&c), Some("CONFLICT"), "{c}");
});

db_test!(state_machine_and_versions, |app| {
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    let (_, permit) = fixtures::unit_with_permit(&app, "500103", 41).await;
    let id = permit["id"].clone();
    let renew = "mutation($id: ID!, $v: Int!) { renewPermit(id: $id, expectedVersion: $v, input: { reason: \"延续\" }) { status version validFrom validTo } }";
    let renewed = app.data(&officer, renew, json!({ "id": id, "v": 1 })).await;
    assert_eq!(renewed["renewPermit"]["version"], 2);
    assert_eq!(renewed["renewPermit"]["status"], "VALID");
    let year: i32 = permit_exchange::domain::clock::today()
        .format("%Y")
        .to_string()
        .parse()
        .expect("year");
    assert_eq!(
        renewed["renewPermit"]["validFrom"],
        format!("{}-01-01", year + 5)
    );

    let change = "mutation($id: ID!, $v: Int!, $input: ChangePermitInput!) { changePermit(id: $id, expectedVersion: $v, input: $input) { version outlets { code } } }";
    let changed = app
        .data(&officer, change, json!({ "id": id, "v": 2, "input": { "reason": "新增排放口", "outlets": [
            { "code": "DA002", "category": "MAIN", "limits": [{ "pollutant": "氮氧化物", "concentrationLimit": 100, "concentrationUnit": "mg/m³", "averagingPeriod": "HOURLY" }] }
        ] } }))
        .await;
    assert_eq!(changed["changePermit"]["outlets"][0]["code"], "DA002");

    let withdraw = "mutation($id: ID!, $v: Int!) { withdrawPermit(id: $id, expectedVersion: $v, reason: \"吊销\") { status version } }";
    let withdrawn = app
        .data(&officer, withdraw, json!({ "id": id, "v": 3 }))
        .await;
    assert_eq!(withdrawn["withdrawPermit"]["status"], "WITHDRAWN");
    // Impossible moves out of a final state.
    let again = app
        .gql(Some(&officer), renew, json!({ "id": id, "v": 4 }))
        .await;
    assert_eq!(error_code(&again), Some("INVALID_TRANSITION"), "{again}");
    assert_eq!(again["errors"][0]["extensions"]["from"], "WITHDRAWN");
    assert_eq!(again["errors"][0]["extensions"]["to"], "VALID");
    // A stale version is a conflict, not a lost update.
    let stale = app
        .gql(Some(&officer), withdraw, json!({ "id": id, "v": 1 }))
        .await;
    assert_eq!(error_code(&stale), Some("CONFLICT"), "{stale}");

    let history = app
        .data(&officer, "query($id: ID!) { permit(id: $id) { versions { version changeKind reason validFrom snapshot } } }", json!({ "id": id }))
        .await;
    let kinds: Vec<&str> = history["permit"]["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["changeKind"].as_str())
        .collect();
    assert_eq!(kinds, ["ISSUED", "RENEWED", "CHANGED", "WITHDRAWN"]);
    // The issued version still holds the original outlets.
    assert_eq!(
        history["permit"]["versions"][0]["snapshot"][0]["code"],
        "DA001"
    );
    assert_eq!(
        history["permit"]["versions"][2]["snapshot"][0]["code"],
        "DA002"
    );
});

db_test!(permit_lookup_and_filters, |app| {
    app.seed_demo(200).await;
    let token = app.token(Role::Supervisor, None);
    let all = app.data(&token, "{ permits(first: 1) { totalCount edges { node { permitNumber unit { creditCode } } } } }", json!({})).await;
    let number = all["permits"]["edges"][0]["node"]["permitNumber"]
        .as_str()
        .expect("number")
        .to_owned();
    let found = app
        .data(&token, "query($n: String!) { permitByNumber(permitNumber: $n) { permitNumber unit { creditCode } outlets { code } } }", json!({ "n": number }))
        .await;
    assert_eq!(found["permitByNumber"]["permitNumber"], number.as_str());
    assert!(
        number.starts_with(
            found["permitByNumber"]["unit"]["creditCode"]
                .as_str()
                .expect("code")
        )
    );
    for status in ["VALID", "EXPIRED", "REVOKED"] {
        let data = app
            .data(&token, "query($s: PermitStatus!) { permits(first: 100, filter: { status: $s }) { totalCount edges { node { status } } } }", json!({ "s": status }))
            .await;
        let edges = data["permits"]["edges"].as_array().expect("edges");
        assert!(
            edges.iter().all(|e| e["node"]["status"] == status),
            "{status}"
        );
    }
    let bad = app
        .gql(
            Some(&token),
            "{ permitByNumber(permitNumber: \"123\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"), "{bad}");
});
