//! Violation patterns computed in SQL (and from the pattern cells) match direct counts.

use permit_core::auth::Role;
use serde_json::json;

use super::{ACTION, ADVANCE, days_ago, finding, scene};
use crate::db_test;

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
