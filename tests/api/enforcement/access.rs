//! Who reads and writes inspections, findings and actions: the roles by scope.

use permit_core::auth::Role;
use serde_json::json;

use super::{
    ACTION, ADVANCE, RECORD_FINDING, RECORD_INSPECTION, days_ago, finding, finding_input, scene,
};
use crate::db_test;
use crate::helpers::error_code;

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
