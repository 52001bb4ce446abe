//! Units: validation, optimistic updates, idempotent registration, filters and pagination.

use permit_core::auth::Role;
use serde_json::json;

use crate::db_test;
use crate::fixtures::{self, REGISTER_UNIT};
use crate::helpers::{error_code, error_field};

db_test!(invalid_input_is_refused_with_the_field, |app| {
    let admin = app.token(Role::Admin, None);
    let mut input = fixtures::unit_input("500103", 1, "校验测试有限公司", "KEY");
    let good = input["creditCode"].as_str().expect("code").to_owned();
    // Flip the check character.
    let last = if good.ends_with('0') { '1' } else { '0' };
    input["creditCode"] = json!(format!("{}{last}", &good[..17]));
    let body = app
        .gql(Some(&admin), REGISTER_UNIT, json!({ "input": input }))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(error_field(&body), Some("input.creditCode"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("check character")
    );

    for (field, value, expected_field) in [
        ("districtCode", json!("999999"), "input.districtCode"),
        ("industryCode", json!("26"), "input.industryCode"),
        ("contactPhone", json!("12345"), "input.contactPhone"),
        ("name", json!("  "), "input.name"),
    ] {
        let mut input = fixtures::unit_input("500103", 2, "校验测试有限公司", "KEY");
        input[field] = value;
        let body = app
            .gql(Some(&admin), REGISTER_UNIT, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{field}: {body}");
        assert_eq!(error_field(&body), Some(expected_field), "{field}: {body}");
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM units").await,
        0,
        "nothing half-written"
    );
});

db_test!(duplicate_credit_code_and_idempotent_retry, |app| {
    let admin = app.token(Role::Admin, None);
    let input = fixtures::unit_input("500103", 5, "幂等测试有限公司", "KEY");
    let first = app
        .gql(
            Some(&admin),
            REGISTER_UNIT,
            json!({ "input": input, "key": "k-1" }),
        )
        .await;
    let retry = app
        .gql(
            Some(&admin),
            REGISTER_UNIT,
            json!({ "input": input, "key": "k-1" }),
        )
        .await;
    assert_eq!(
        first["data"]["registerUnit"]["id"], retry["data"]["registerUnit"]["id"],
        "{retry}"
    );
    let mut other = input.clone();
    other["name"] = json!("另一家公司");
    let reused = app
        .gql(
            Some(&admin),
            REGISTER_UNIT,
            json!({ "input": other, "key": "k-1" }),
        )
        .await;
    assert_eq!(error_code(&reused), Some("CONFLICT"), "{reused}");
    let duplicate = app
        .gql(Some(&admin), REGISTER_UNIT, json!({ "input": input }))
        .await;
    assert_eq!(error_code(&duplicate), Some("CONFLICT"), "{duplicate}");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM units").await, 1);
});

db_test!(update_with_a_stale_version_is_a_conflict, |app| {
    let unit = fixtures::register_unit(&app, "500103", 7, "版本测试有限公司", "SIMPLIFIED").await;
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    let update = "mutation($id: ID!, $v: Int!, $input: UpdateUnitInput!) { updateUnit(id: $id, expectedVersion: $v, input: $input) { version name creditLevel } }";
    let ok = app
        .data(&officer, update, json!({ "id": unit["id"], "v": 1, "input": { "name": "版本测试二有限公司", "creditLevel": "WARNING" } }))
        .await;
    assert_eq!(ok["updateUnit"]["version"], 2);
    assert_eq!(ok["updateUnit"]["creditLevel"], "WARNING");
    let stale = app
        .gql(
            Some(&officer),
            update,
            json!({ "id": unit["id"], "v": 1, "input": { "name": "丢失的更新" } }),
        )
        .await;
    assert_eq!(error_code(&stale), Some("CONFLICT"), "{stale}");
    let name = app
        .data(
            &officer,
            "query($id: ID!) { unit(id: $id) { name version } }",
            json!({ "id": unit["id"] }),
        )
        .await;
    assert_eq!(name["unit"]["name"], "版本测试二有限公司");
    assert_eq!(name["unit"]["version"], 2);
});

db_test!(filters_chinese_names_and_keyset_pages, |app| {
    for (i, name) in [
        "重庆长江化工有限公司",
        "重庆嘉陵纸业有限公司",
        "重庆长安汽车零部件有限公司",
        "重庆化工原料有限公司",
    ]
    .iter()
    .enumerate()
    {
        fixtures::register_unit(&app, "500112", 10 + i as u32, name, "KEY").await;
    }
    let token = app.token(Role::Supervisor, None);
    let data = app
        .data(&token, "{ units(filter: { nameContains: \"化工\" }, orderBy: { field: NAME }) { totalCount edges { node { name } } } }", json!({}))
        .await;
    assert_eq!(data["units"]["totalCount"], 2);
    let names: Vec<&str> = data["units"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["name"].as_str())
        .collect();
    assert!(names.iter().all(|n| n.contains("化工")), "{names:?}");

    // Walk all four in pages of 3, forward then backward, without gaps or repeats.
    let page = "query($after: String) { units(first: 3, after: $after, orderBy: { field: NAME, direction: DESC }) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name } } } }";
    let first = app.data(&token, page, json!({})).await;
    assert_eq!(first["units"]["totalCount"], 4);
    assert_eq!(first["units"]["pageInfo"]["hasNextPage"], true);
    let second = app
        .data(
            &token,
            page,
            json!({ "after": first["units"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(second["units"]["edges"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["units"]["pageInfo"]["hasNextPage"], false);
    let mut seen: Vec<String> = first["units"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(second["units"]["edges"].as_array().into_iter().flatten())
        .filter_map(|e| e["node"]["name"].as_str().map(str::to_owned))
        .collect();
    let walked = seen.clone();
    seen.sort();
    seen.reverse();
    assert_eq!(walked, seen, "descending by name, no repeats");
    // Backward from the last item: the two before it, in the same order.
    let last_cursor = second["units"]["edges"][0]["cursor"].clone();
    let back = app
        .data(&token, "query($before: String) { units(last: 2, before: $before, orderBy: { field: NAME, direction: DESC }) { pageInfo { hasPreviousPage } edges { node { name } } } }",
            json!({ "before": last_cursor }))
        .await;
    let back_names: Vec<&str> = back["units"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["name"].as_str())
        .collect();
    assert_eq!(back_names, vec![walked[1].as_str(), walked[2].as_str()]);
    assert_eq!(back["units"]["pageInfo"]["hasPreviousPage"], true);

    let too_many = app
        .gql(
            Some(&token),
            "{ units(first: 101) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&too_many), Some("BAD_USER_INPUT"), "{too_many}");
    let bad_cursor = app
        .gql(
            Some(&token),
            "{ units(after: \"garbage\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&bad_cursor),
        Some("BAD_USER_INPUT"),
        "{bad_cursor}"
    );
});
