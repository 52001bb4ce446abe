//! The access policy end to end: district scope in SQL, personal data, and the role × operation
//! matrix.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures::{self, ISSUE_PERMIT, REGISTER_UNIT};
use crate::helpers::{TestApp, error_code};

db_test!(district_officers_see_only_their_district, |app| {
    app.seed_demo(300).await;
    let yuzhong = app.token(Role::EnforcementOfficer, Some("500103"));
    let data = app
        .data(
            &yuzhong,
            "{ units(first: 100) { totalCount edges { node { district { code } } } } }",
            json!({}),
        )
        .await;
    let expected = app
        .scalar_i64("SELECT COUNT(*) FROM units WHERE district_code = '500103'")
        .await;
    assert!(expected > 0, "the demo seed puts units in 渝中区");
    assert_eq!(data["units"]["totalCount"].as_i64(), Some(expected));
    let edges = data["units"]["edges"].as_array().expect("edges");
    assert!(!edges.is_empty());
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["district"]["code"] == "500103")
    );

    // Another district's unit by credit code: null, never the unit.
    let other = app
        .data(&app.token(Role::Supervisor, None), "{ units(first: 1, filter: { district: \"500112\" }) { edges { node { id creditCode } } } }", json!({}))
        .await;
    let other_code = other["units"]["edges"][0]["node"]["creditCode"]
        .as_str()
        .expect("a 渝北区 unit")
        .to_owned();
    let other_id = other["units"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let body = app
        .gql(Some(&yuzhong), "query($c: String!, $id: ID!) { unitByCreditCode(creditCode: $c) { id } unit(id: $id) { id } }", json!({ "c": other_code, "id": other_id }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["unitByCreditCode"].is_null());
    assert!(body["data"]["unit"].is_null());
    // Permits follow the same scope.
    let permits = app
        .data(&yuzhong, "{ permits { totalCount } }", json!({}))
        .await;
    let expected = app
        .scalar_i64("SELECT COUNT(*) FROM permits WHERE district_code = '500103'")
        .await;
    assert_eq!(permits["permits"]["totalCount"].as_i64(), Some(expected));
    // Municipal principals see all.
    let all = app
        .data(
            &app.token(Role::Supervisor, None),
            "{ units { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(all["units"]["totalCount"].as_i64(), Some(300));
});

db_test!(integrators_never_receive_personal_data, |app| {
    fixtures::register_unit(&app, "500103", 1, "重庆个人数据测试有限公司", "KEY").await;
    let query = "{ units { edges { node { name legalRepresentative contactPhone } } } }";
    let integrator = app
        .data(&app.token(Role::Integrator, None), query, json!({}))
        .await;
    let node = &integrator["units"]["edges"][0]["node"];
    assert_eq!(node["name"], "重庆个人数据测试有限公司");
    assert!(
        node["legalRepresentative"].is_null() && node["contactPhone"].is_null(),
        "{node}"
    );
    let monitoring = app
        .data(&app.token(Role::Monitoring, None), query, json!({}))
        .await;
    assert!(monitoring["units"]["edges"][0]["node"]["contactPhone"].is_null());
    let supervisor = app
        .data(&app.token(Role::Supervisor, None), query, json!({}))
        .await;
    assert_eq!(
        supervisor["units"]["edges"][0]["node"]["legalRepresentative"],
        "张伟"
    );
    assert_eq!(
        supervisor["units"]["edges"][0]["node"]["contactPhone"],
        "13800138000"
    );
});

/// What a principal attempts, and whether the policy lets it through.
#[derive(Clone, Copy, Debug)]
enum Attempt {
    ReadUnits,
    ReadPermits,
    ReadAgencies,
    RegisterUnitInOwnDistrict,
    RegisterUnitElsewhere,
    IssuePermit,
    RevokePermit,
    /// Withdraw someone's tokens (an administrator's act).
    RevokeTokens,
}

async fn attempt(app: &TestApp, token: &str, what: Attempt, serial: u32) -> Value {
    match what {
        Attempt::ReadUnits => {
            app.gql(Some(token), "{ units { totalCount } }", json!({}))
                .await
        }
        Attempt::ReadPermits => {
            app.gql(Some(token), "{ permits { totalCount } }", json!({}))
                .await
        }
        Attempt::ReadAgencies => {
            app.gql(Some(token), "{ agencies { nodes { code }} }", json!({}))
                .await
        }
        Attempt::RegisterUnitInOwnDistrict => {
            let input =
                fixtures::unit_input("500103", 1000 + serial, "矩阵测试有限公司", "SIMPLIFIED");
            app.gql(Some(token), REGISTER_UNIT, json!({ "input": input }))
                .await
        }
        Attempt::RegisterUnitElsewhere => {
            let input =
                fixtures::unit_input("500112", 2000 + serial, "矩阵测试有限公司", "SIMPLIFIED");
            app.gql(Some(token), REGISTER_UNIT, json!({ "input": input }))
                .await
        }
        Attempt::IssuePermit => {
            let unit = fixtures::register_unit(
                app,
                "500103",
                3000 + serial,
                "矩阵发证测试有限公司",
                "KEY",
            )
            .await;
            let input =
                fixtures::permit_input(unit["id"].as_str().unwrap_or_default(), "2026-01-01");
            app.gql(Some(token), ISSUE_PERMIT, json!({ "input": input }))
                .await
        }
        Attempt::RevokePermit => {
            let (_, permit) = fixtures::unit_with_permit(app, "500103", 4000 + serial).await;
            app.gql(
                Some(token),
                "mutation($id: ID!) { revokePermit(id: $id, expectedVersion: 1, reason: \"矩阵\") { status } }",
                json!({ "id": permit["id"] }),
            )
            .await
        }
        Attempt::RevokeTokens => {
            app.gql(
                Some(token),
                "mutation($s: String!) { revokeTokens(input: { subject: $s, reason: \"矩阵\" }) { id } }",
                json!({ "s": format!("matrix-target-{serial}") }),
            )
            .await
        }
    }
}

db_test!(role_operation_matrix, |app| {
    use Attempt::*;
    // (role, district) → attempts allowed; everything else must be FORBIDDEN.
    let principals: [(Role, Option<&str>); 8] = [
        (Role::PermitOfficer, Some("500103")),
        (Role::PermitOfficer, None),
        (Role::EnforcementOfficer, Some("500103")),
        (Role::EnforcementOfficer, None),
        (Role::Supervisor, None),
        (Role::Monitoring, None),
        (Role::Integrator, None),
        (Role::Admin, None),
    ];
    let attempts = [
        ReadUnits,
        ReadPermits,
        ReadAgencies,
        RegisterUnitInOwnDistrict,
        RegisterUnitElsewhere,
        IssuePermit,
        RevokePermit,
        RevokeTokens,
    ];
    let mut serial = 0;
    for (role, district) in principals {
        let token = app.token(role, district);
        for what in attempts {
            serial += 1;
            let writes = matches!(role, Role::PermitOfficer | Role::Admin);
            let allowed = match what {
                ReadUnits | ReadPermits | ReadAgencies => true,
                RegisterUnitElsewhere => writes && district.is_none(),
                RegisterUnitInOwnDistrict | IssuePermit | RevokePermit => writes,
                RevokeTokens => role == Role::Admin,
            };
            let body = attempt(&app, &token, what, serial).await;
            if allowed {
                assert!(
                    body.get("errors").is_none(),
                    "{role:?} {district:?} {what:?} should pass: {body}"
                );
            } else {
                assert_eq!(
                    error_code(&body),
                    Some("FORBIDDEN"),
                    "{role:?} {district:?} {what:?}: {body}"
                );
            }
        }
    }
});
