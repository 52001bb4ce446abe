//! Permits: HJ 608 numbers, overlapping validity, the state machine, versions, idempotency.

use permit_core::auth::Role;
use serde_json::{Value, json};

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
    let year: i32 = permit_core::domain::clock::today()
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

const CHANGE_PERMIT: &str = "mutation($id: ID!, $v: Int!, $input: ChangePermitInput!) { changePermit(id: $id, expectedVersion: $v, input: $input) { version outlets { id code limits { id pollutant concentrationLimit } } } }";

fn outlet_id<'a>(outlets: &'a Value, code: &str) -> &'a Value {
    outlets
        .as_array()
        .and_then(|all| all.iter().find(|o| o["code"] == code))
        .map(|o| &o["id"])
        .unwrap_or(&Value::Null)
}

fn limit_of(limits: &Value, pollutant: &str) -> Value {
    limits
        .as_array()
        .and_then(|all| all.iter().find(|l| l["pollutant"] == pollutant))
        .map(|l| l["concentrationLimit"].clone())
        .unwrap_or(Value::Null)
}

// Issue #14.1: a change after an exceedance failed on the finding's foreign key; outlets and
// limits are versioned, and the finding keeps the limit it was judged against.
db_test!(
    change_after_an_exceedance_keeps_outlets_and_the_findings_limit,
    |app| {
        use crate::enforcement::{RECORD_FINDING, finding_input, scene};
        let s = scene(&app, "500106", 61).await;
        let officer = app.token(Role::PermitOfficer, Some("500106"));
        let id = s.permit["id"].clone();
        let before = app
            .data(
                &officer,
                "query($id: ID!) { permit(id: $id) { outlets { id code } } }",
                json!({ "id": id }),
            )
            .await;
        let da001 = outlet_id(&before["permit"]["outlets"], "DA001").clone();
        let dw001 = outlet_id(&before["permit"]["outlets"], "DW001").clone();

        let mut ex = finding_input(&s.inspection, "EX-1", Some(&s.permit));
        ex["outletCode"] = json!("DA001");
        ex["pollutant"] = json!("颗粒物");
        ex["measuredUnit"] = json!("mg/m³");
        ex["measuredValue"] = json!(35.0);
        let recorded = app
            .data(&s.officer, RECORD_FINDING, json!({ "input": ex }))
            .await;
        let finding_id = recorded["recordFinding"]["id"].clone();

        // The same outlets re-sent unchanged: a new version, the same outlets and limits.
        let mut input = fixtures::permit_input("", "2000-01-01");
        let unchanged = app
            .data(
                &officer,
                CHANGE_PERMIT,
                json!({ "id": id, "v": 1, "input": {
            "reason": "重新核定", "outlets": input["outlets"] } }),
            )
            .await;
        let outlets = &unchanged["changePermit"]["outlets"];
        assert_eq!(outlet_id(outlets, "DA001"), &da001, "{unchanged}");
        assert_eq!(outlet_id(outlets, "DW001"), &dw001, "{unchanged}");

        // Tighten the exceeded limit (the feedback loop's point) and drop DW001.
        input["outlets"][0]["limits"][0]["concentrationLimit"] = json!(10.0);
        let outlets_now = json!([input["outlets"][0]]);
        let tightened = app
            .gql(
                Some(&officer),
                CHANGE_PERMIT,
                json!({ "id": id, "v": 2, "input": {
            "reason": "收紧颗粒物限值", "outlets": outlets_now } }),
            )
            .await;
        assert!(tightened.get("errors").is_none(), "{tightened:#}");
        let outlets = &tightened["data"]["changePermit"]["outlets"];
        assert_eq!(outlets.as_array().map(Vec::len), Some(1), "{tightened}");
        assert_eq!(outlet_id(outlets, "DA001"), &da001, "{tightened}");
        assert_eq!(
            limit_of(&outlets[0]["limits"], "颗粒物"),
            10.0,
            "{tightened}"
        );

        // The finding points at the outlet and the limit as they stood on its date.
        let read = app
        .data(&s.officer, "query($id: ID!) { finding(id: $id) { permittedValue permitVersion outlet { id code limits { pollutant concentrationLimit } } limit { pollutant concentrationLimit sinceVersion retiredInVersion } } }", json!({ "id": finding_id }))
        .await;
        let finding = &read["finding"];
        assert_eq!(finding["outlet"]["id"], da001, "{read}");
        assert_eq!(finding["permittedValue"], 20.0, "{read}");
        assert_eq!(finding["permitVersion"], 1, "{read}");
        assert_eq!(finding["limit"]["concentrationLimit"], 20.0, "{read}");
        assert_eq!(finding["limit"]["retiredInVersion"], 3, "{read}");
        assert_eq!(
            limit_of(&finding["outlet"]["limits"], "颗粒物"),
            20.0,
            "{read}"
        );

        // The permit as read now shows only the current items; its history the old ones.
        let now = app
        .data(&officer, "query($id: ID!) { permit(id: $id) { version outlets { code } limits { pollutant concentrationLimit } } }", json!({ "id": id }))
        .await;
        assert_eq!(now["permit"]["version"], 3);
        assert_eq!(
            now["permit"]["outlets"].as_array().map(Vec::len),
            Some(1),
            "{now}"
        );
        assert_eq!(
            now["permit"]["limits"].as_array().map(Vec::len),
            Some(2),
            "{now}"
        );

        // A code dropped and named again is a new outlet.
        let back = app
            .data(
                &officer,
                CHANGE_PERMIT,
                json!({ "id": id, "v": 3, "input": {
            "reason": "恢复废水排放口", "outlets": input["outlets"] } }),
            )
            .await;
        let dw_again = outlet_id(&back["changePermit"]["outlets"], "DW001");
        assert!(dw_again.is_string() && dw_again != &dw001, "{back}");
    }
);

// Issue #14.2: a renewal (or a later validTo) may not overlap another valid permit of the unit.
db_test!(renewal_and_change_check_overlap_like_issue, |app| {
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    let unit = fixtures::register_unit(&app, "500103", 62, "重庆测试化工有限公司", "KEY").await;
    let unit_id = unit["id"].as_str().expect("id");
    let year: i32 = permit_core::domain::clock::today()
        .format("%Y")
        .to_string()
        .parse()
        .expect("year");
    let issue = |from: String, to: String| {
        let mut input = fixtures::permit_input(unit_id, &from);
        input["validTo"] = json!(to);
        json!({ "input": input })
    };
    let first = app
        .data(
            &officer,
            ISSUE_PERMIT,
            issue(format!("{year}-01-01"), format!("{}-12-31", year + 1)),
        )
        .await;
    let second = app
        .data(
            &officer,
            ISSUE_PERMIT,
            issue(format!("{}-01-01", year + 3), format!("{}-12-31", year + 5)),
        )
        .await;
    let first_id = first["issuePermit"]["id"].clone();
    // Renewing the first would run from year+2 for five years, over the second.
    let renew = "mutation($id: ID!, $v: Int!) { renewPermit(id: $id, expectedVersion: $v, input: { reason: \"延续\" }) { status validFrom validTo } }";
    let renewed = app
        .gql(Some(&officer), renew, json!({ "id": first_id, "v": 1 }))
        .await;
    assert_eq!(error_code(&renewed), Some("CONFLICT"), "{renewed}");
    let change = "mutation($id: ID!, $v: Int!, $to: NaiveDate!) { changePermit(id: $id, expectedVersion: $v, input: { reason: \"延长\", validTo: $to }) { validTo } }";
    let stretched = app
        .gql(
            Some(&officer),
            change,
            json!({ "id": first_id, "v": 1, "to": format!("{}-06-30", year + 3) }),
        )
        .await;
    assert_eq!(error_code(&stretched), Some("CONFLICT"), "{stretched}");
    // Up to the day before the second one is fine, and so is renewing the second.
    let until = app
        .gql(
            Some(&officer),
            change,
            json!({ "id": first_id, "v": 1, "to": format!("{}-12-31", year + 2) }),
        )
        .await;
    assert!(until.get("errors").is_none(), "{until:#}");
    let later = app
        .gql(
            Some(&officer),
            renew,
            json!({ "id": second["issuePermit"]["id"], "v": 1 }),
        )
        .await;
    assert!(later.get("errors").is_none(), "{later:#}");
});

// Issue #14.3: the category agrees with the permit or registration the unit holds.
db_test!(category_change_agrees_with_what_the_unit_holds, |app| {
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    let (unit, _) = fixtures::unit_with_permit(&app, "500103", 63).await;
    let update = "mutation($id: ID!, $v: Int!, $input: UpdateUnitInput!) { updateUnit(id: $id, expectedVersion: $v, input: $input) { version managementCategory } }";
    for category in ["REGISTRATION", "SIMPLIFIED"] {
        let body = app
            .gql(
                Some(&officer),
                update,
                json!({ "id": unit["id"], "v": 1, "input": { "managementCategory": category } }),
            )
            .await;
        assert_eq!(
            error_field(&body),
            Some("input.managementCategory"),
            "{body}"
        );
    }
    // The same category, and other fields, still update.
    let same = app
        .data(&officer, update, json!({ "id": unit["id"], "v": 1, "input": { "managementCategory": "KEY", "name": "重庆测试化工股份有限公司" } }))
        .await;
    assert_eq!(same["updateUnit"]["version"], 2);

    // A registered unit stays REGISTRATION while its registration is valid.
    let reg = fixtures::register_unit(&app, "500103", 64, "重庆小型印刷厂", "REGISTRATION").await;
    app.data(
        &officer,
        "mutation($id: ID!) { registerDischarge(input: { unitId: $id }) { status } }",
        json!({ "id": reg["id"] }),
    )
    .await;
    let body = app
        .gql(
            Some(&officer),
            update,
            json!({ "id": reg["id"], "v": 1, "input": { "managementCategory": "KEY" } }),
        )
        .await;
    assert_eq!(
        error_field(&body),
        Some("input.managementCategory"),
        "{body}"
    );

    // A unit holding nothing may change.
    let bare = fixtures::register_unit(&app, "500103", 65, "重庆新建材料厂", "SIMPLIFIED").await;
    let moved = app
        .data(
            &officer,
            update,
            json!({ "id": bare["id"], "v": 1, "input": { "managementCategory": "REGISTRATION" } }),
        )
        .await;
    assert_eq!(moved["updateUnit"]["managementCategory"], "REGISTRATION");
});

// Issue #14.10: physical ranges per pollutant and unit; pH lies on 0–14 and has no unit.
db_test!(ph_limits_lie_on_the_ph_scale, |app| {
    let admin = app.token(Role::Admin, None);
    let unit = fixtures::register_unit(&app, "500103", 66, "重庆测试污水处理有限公司", "KEY").await;
    let outlet = |value: f64, unit_name: &str| {
        json!([{ "code": "DW001", "category": "MAIN", "limits": [
            { "pollutant": "pH值", "concentrationLimit": value, "concentrationUnit": unit_name, "averagingPeriod": "DAILY" }
        ] }])
    };
    let mut input = fixtures::permit_input(unit["id"].as_str().expect("id"), "2026-01-01");
    input["outlets"] = outlet(20.0, "无量纲");
    let body = app
        .gql(Some(&admin), ISSUE_PERMIT, json!({ "input": input }))
        .await;
    assert_eq!(
        error_field(&body),
        Some("input.outlets[0].limits[0].concentrationLimit"),
        "{body}"
    );
    input["outlets"] = outlet(9.0, "mg/L");
    let body = app
        .gql(Some(&admin), ISSUE_PERMIT, json!({ "input": input }))
        .await;
    assert_eq!(
        error_field(&body),
        Some("input.outlets[0].limits[0].concentrationUnit"),
        "{body}"
    );
    input["outlets"] = outlet(9.0, "无量纲");
    let body = app
        .gql(Some(&admin), ISSUE_PERMIT, json!({ "input": input }))
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
});

// Issue #14.11: the JSON of permitted items uses the schema's camelCase keys.
db_test!(permitted_items_use_camel_case_keys, |app| {
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    let (_, permit) = fixtures::unit_with_permit(&app, "500103", 67).await;
    let read = app
        .data(
            &officer,
            "query($id: ID!) { permit(id: $id) { permittedItems versions { snapshot } } }",
            json!({ "id": permit["id"] }),
        )
        .await;
    for items in [
        &read["permit"]["permittedItems"],
        &read["permit"]["versions"][0]["snapshot"],
    ] {
        let limit = &items[0]["limits"][0];
        assert_eq!(limit["concentrationLimit"], 20.0, "{items}");
        assert_eq!(limit["averagingPeriod"], "HOURLY", "{items}");
        assert!(
            !items.to_string().contains('_'),
            "snake_case key in {items}"
        );
    }
});
