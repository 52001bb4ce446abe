//! Campaigns: coverage against a direct count, the reproducible double-random draw, and
//! summary reports frozen at submission.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures;
use crate::helpers::{TestApp, error_code, error_field};

const CREATE: &str = "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id name phases { kind } } }";
const DRAW: &str = "mutation($input: DrawRandomInspectionsInput!) { drawRandomInspections(input: $input) { id seed inputDigest verified published items { unit { id } inspectors { id } } } }";

fn today() -> chrono::NaiveDate {
    permit_core::domain::clock::today()
}

async fn campaign(app: &TestApp, name: &str, summary_deadline: chrono::NaiveDate) -> String {
    let year = today().format("%Y").to_string();
    let supervisor = app.token(Role::Supervisor, None);
    let data = app
        .data(&supervisor, CREATE, json!({ "input": {
            "name": name,
            "startsOn": format!("{year}-01-01"), "endsOn": format!("{year}-12-31"),
            "coverageDeadline": format!("{year}-12-31"), "summaryDeadline": summary_deadline.to_string(),
            "phases": [
                { "name": "区县自查", "kind": "SELF_INSPECTION", "startsOn": format!("{year}-01-01"), "endsOn": format!("{year}-09-30") },
                { "name": "市级抽查", "kind": "JOINT_SPOT_CHECK", "startsOn": format!("{year}-10-01"), "endsOn": format!("{year}-10-31") }
            ],
            "samplingRules": [{ "category": "SIMPLIFIED", "share": 0.25, "period": "QUARTER" }]
        } }))
        .await;
    data["createCampaign"]["id"]
        .as_str()
        .expect("campaign id")
        .to_owned()
}

async fn inspectors(app: &TestApp, district: &str, n: usize) -> Vec<String> {
    let officer = app.token(Role::EnforcementOfficer, Some(district));
    let mut ids = Vec::new();
    for i in 0..n {
        let data = app
            .data(&officer, "mutation($input: RegisterInspectorInput!) { registerInspector(input: $input) { id } }", json!({ "input": {
                "name": format!("抽查员{i}"), "agencyCode": format!("{district}-ENF"), "certificateNumber": format!("CQD{district}{i:03}") } }))
            .await;
        ids.push(
            data["registerInspector"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    ids
}

db_test!(coverage_matches_a_direct_count, |app| {
    app.seed_demo(300).await;
    let c = campaign(&app, "全覆盖测试", today()).await;
    let district = "500112";
    let team = inspectors(&app, district, 2).await;
    let officer = app.token(Role::EnforcementOfficer, Some(district));
    let keys = app
        .data(
            &officer,
            "{ units(first: 3, filter: { category: KEY }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    for (i, edge) in keys["units"]["edges"]
        .as_array()
        .expect("units")
        .iter()
        .enumerate()
    {
        let linked = if i == 0 { json!(c) } else { Value::Null };
        app.data(&officer, "mutation($input: RecordInspectionInput!) { recordInspection(input: $input) { id } }", json!({ "input": {
            "unitId": edge["node"]["id"], "date": today().to_string(), "source": "SPECIAL_CAMPAIGN", "mode": "ON_SITE",
            "campaignId": linked, "inspectorIds": team } })).await;
    }
    let data = app
        .data(&app.token(Role::Supervisor, None), "query($id: ID!, $d: String) { campaign(id: $id) { coverage(district: $d) { overall { inScope inspected remaining shareDone } districts { district { code } inScope inspected } } remainingUnits(district: $d, first: 100) { totalCount } } }",
            json!({ "id": c, "d": district }))
        .await;
    let year = today().format("%Y").to_string();
    let in_scope = app.scalar_i64(&format!("SELECT COUNT(*) FROM units WHERE district_code = '{district}' AND management_category = 'KEY'")).await;
    let inspected = app
        .scalar_i64(&format!(
            "SELECT COUNT(DISTINCT u.id) FROM units u JOIN inspections i ON i.unit_id = u.id \
             WHERE u.district_code = '{district}' AND u.management_category = 'KEY' \
             AND i.inspection_date >= '{year}-01-01' AND i.inspection_date <= '{}'",
            today()
        ))
        .await;
    let coverage = &data["campaign"]["coverage"];
    assert!(
        inspected >= 3 && in_scope >= inspected,
        "{in_scope} {inspected}"
    );
    assert_eq!(coverage["overall"]["inScope"].as_i64(), Some(in_scope));
    assert_eq!(coverage["overall"]["inspected"].as_i64(), Some(inspected));
    assert_eq!(coverage["districts"][0]["district"]["code"], district);
    assert_eq!(
        data["campaign"]["remainingUnits"]["totalCount"].as_i64(),
        Some(in_scope - inspected)
    );
    // A district officer sees only its own district's coverage.
    let own = app
        .data(&app.token(Role::EnforcementOfficer, Some("500103")), "query($id: ID!) { campaign(id: $id) { coverage { districts { district { code } } } } }", json!({ "id": c }))
        .await;
    let codes: Vec<&Value> = own["campaign"]["coverage"]["districts"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| &r["district"]["code"])
        .collect();
    assert!(codes.iter().all(|c| *c == "500103"), "{codes:?}");
});

db_test!(draws_are_reproducible_and_fair, |app| {
    let district = "500103";
    let team = inspectors(&app, district, 4).await;
    let admin = app.token(Role::Admin, None);
    let mut units = Vec::new();
    for i in 0..12 {
        units.push(
            fixtures::register_unit(
                &app,
                district,
                600 + i,
                &format!("抽查对象{i}有限公司"),
                "SIMPLIFIED",
            )
            .await,
        );
    }
    let update = "mutation($id: ID!, $input: UpdateUnitInput!) { updateUnit(id: $id, expectedVersion: 1, input: $input) { id } }";
    // A positive-list unit is never drawn; a poor-credit unit always is.
    app.data(&admin, update, json!({ "id": units[0]["id"], "input": { "positiveList": true, "positiveListReason": "守法记录良好",
        "positiveListExpiresOn": (today() + chrono::Duration::days(200)).to_string() } })).await;
    app.data(
        &admin,
        update,
        json!({ "id": units[1]["id"], "input": { "creditLevel": "POOR" } }),
    )
    .await;
    let officer = app.token(Role::EnforcementOfficer, Some(district));
    app.data(&officer, "mutation($i: ID!, $u: ID!) { declareConflict(input: { inspectorId: $i, unitId: $u, reason: \"曾任该单位顾问\" }) { declaredOn } }",
        json!({ "i": team[0], "u": units[2]["id"] })).await;
    let input = json!({ "input": { "category": "SIMPLIFIED", "count": 8, "inspectorsPerUnit": 2, "seed": "20211001" } });
    let first = app.data(&officer, DRAW, input.clone()).await["drawRandomInspections"].clone();
    let second = app.data(&officer, DRAW, input).await["drawRandomInspections"].clone();
    assert_eq!(first["verified"], true);
    assert_eq!(first["inputDigest"], second["inputDigest"]);
    assert_eq!(
        first["items"], second["items"],
        "same inputs and seed, same units and inspectors"
    );
    let items = first["items"].as_array().expect("items");
    assert_eq!(items.len(), 8);
    assert!(
        items.iter().all(|i| i["unit"]["id"] != units[0]["id"]),
        "positive-list unit drawn"
    );
    assert_eq!(
        items[0]["unit"]["id"], units[1]["id"],
        "poor credit is always drawn, first"
    );
    for item in items {
        let team_ids = item["inspectors"].as_array().expect("team");
        assert!(team_ids.len() >= 2);
        if item["unit"]["id"] == units[2]["id"] {
            assert!(
                team_ids.iter().all(|t| t["id"] != team[0].as_str()),
                "recused inspector drawn"
            );
        }
    }
    // Unpublished draws stay with the district and municipal supervision.
    let read = "query($id: ID!) { randomDraw(id: $id) { id published publishedOn } }";
    let other = app.token(Role::EnforcementOfficer, Some("500112"));
    let hidden = app.data(&other, read, json!({ "id": first["id"] })).await;
    assert!(hidden["randomDraw"].is_null());
    let supervisor = app
        .data(
            &app.token(Role::Supervisor, None),
            read,
            json!({ "id": first["id"] }),
        )
        .await;
    assert_eq!(supervisor["randomDraw"]["published"], false);
    let cannot = app
        .gql(
            Some(&other),
            "mutation($id: ID!) { publishRandomDraw(id: $id) { id } }",
            json!({ "id": first["id"] }),
        )
        .await;
    assert!(
        matches!(error_code(&cannot), Some("NOT_FOUND" | "FORBIDDEN")),
        "{cannot}"
    );
    app.data(
        &officer,
        "mutation($id: ID!) { publishRandomDraw(id: $id) { id } }",
        json!({ "id": first["id"] }),
    )
    .await;
    let visible = app.data(&other, read, json!({ "id": first["id"] })).await;
    assert_eq!(visible["randomDraw"]["published"], true);
    // Municipal joint groups, recorded the same way.
    let groups = app
        .data(&app.token(Role::Supervisor, None), "mutation { drawJointGroups(input: { groups: [\"第一组\", \"第二组\"], districtCodes: [\"500101\", \"500103\", \"500112\"] }) { kind verified items { district { code } groupLabel } } }", json!({}))
        .await;
    assert_eq!(groups["drawJointGroups"]["verified"], true);
    assert_eq!(
        groups["drawJointGroups"]["items"].as_array().map(Vec::len),
        Some(3)
    );
    // Enforcement cannot create campaigns.
    let forbidden = app.gql(Some(&officer), CREATE, json!({ "input": { "name": "x", "startsOn": "2026-01-01", "endsOn": "2026-12-31", "coverageDeadline": "2026-12-31", "summaryDeadline": "2026-12-31" } })).await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");
});

db_test!(summary_reports_freeze_and_mark_lateness, |app| {
    let late_campaign = campaign(&app, "逾期总结测试", today() - chrono::Duration::days(1)).await;
    let timely_campaign =
        campaign(&app, "按时总结测试", today() + chrono::Duration::days(10)).await;
    let district = "500105";
    let (unit, permit) = fixtures::unit_with_permit(&app, district, 700).await;
    let team = inspectors(&app, district, 2).await;
    let officer = app.token(Role::EnforcementOfficer, Some(district));
    let inspection = app
        .data(&officer, "mutation($input: RecordInspectionInput!) { recordInspection(input: $input) { id } }", json!({ "input": {
            "unitId": unit["id"], "date": today().to_string(), "source": "SPECIAL_CAMPAIGN", "mode": "ON_SITE", "inspectorIds": team } }))
        .await["recordInspection"]["id"]
        .clone();
    let record_finding = |code: &'static str| json!({ "input": { "inspectionId": inspection, "code": code, "permitId": permit["id"], "severity": "MINOR", "description": "台账记录不全" } });
    let recorded = app
        .data(
            &officer,
            "mutation($input: RecordFindingInput!) { recordFinding(input: $input) { id } }",
            record_finding("LG-1"),
        )
        .await;
    // Feedback the district sent counts in its summary.
    app.data(&officer, "mutation($input: PostFeedbackInput!) { postFeedback(input: $input) { id } }", json!({ "input": {
        "addressedAgencyCode": format!("{district}-PMT"), "codes": ["LG-1"], "periodFrom": format!("{}-01-01", today().format("%Y")),
        "periodTo": today().to_string(), "findingIds": [recorded["recordFinding"]["id"]], "recommendation": "OTHER", "recommendationText": "台账问题集中" } }))
        .await;
    let submit = "mutation($c: ID!) { submitSummaryReport(input: { campaignId: $c }) { late snapshot { findings inspected feedbackSent byCode { code findings } } } }";
    let late = app
        .data(&officer, submit, json!({ "c": late_campaign }))
        .await;
    assert_eq!(late["submitSummaryReport"]["late"], true);
    assert_eq!(late["submitSummaryReport"]["snapshot"]["findings"], 1);
    assert_eq!(late["submitSummaryReport"]["snapshot"]["feedbackSent"], 1);
    let timely = app
        .data(&officer, submit, json!({ "c": timely_campaign }))
        .await;
    assert_eq!(timely["submitSummaryReport"]["late"], false);
    let again = app
        .gql(Some(&officer), submit, json!({ "c": timely_campaign }))
        .await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    // A later finding changes the live summary, not the frozen snapshot.
    app.data(
        &officer,
        "mutation($input: RecordFindingInput!) { recordFinding(input: $input) { id } }",
        record_finding("ER-1"),
    )
    .await;
    let supervisor = app.token(Role::Supervisor, None);
    let view = app
        .data(&supervisor, "query($c: ID!, $d: String!) { campaign(id: $c) { summary(district: $d) { findings } summaryReports { district { code } late snapshot { findings } } missingSummaryReports { code } } }",
            json!({ "c": late_campaign, "d": district }))
        .await;
    assert_eq!(view["campaign"]["summary"]["findings"], 2);
    assert_eq!(
        view["campaign"]["summaryReports"][0]["snapshot"]["findings"],
        1
    );
    let missing = view["campaign"]["missingSummaryReports"]
        .as_array()
        .expect("missing");
    assert_eq!(missing.len(), 40, "41 districts and areas, one submitted");
    assert!(missing.iter().all(|d| d["code"] != district));
    // Districts do not get the municipal list.
    let denied = app
        .gql(
            Some(&officer),
            "query($c: ID!) { campaign(id: $c) { missingSummaryReports { code } } }",
            json!({ "c": late_campaign }),
        )
        .await;
    assert_eq!(error_code(&denied), Some("FORBIDDEN"), "{denied}");
});

db_test!(campaign_role_matrix, |app| {
    let c = campaign(&app, "权限矩阵测试", today() + chrono::Duration::days(30)).await;
    inspectors(&app, "500103", 2).await;
    fixtures::register_unit(&app, "500103", 900, "矩阵抽查对象有限公司", "SIMPLIFIED").await;
    let principals: [(Role, Option<&str>); 8] = [
        (Role::PermitOfficer, Some("500103")),
        (Role::EnforcementOfficer, Some("500103")),
        (Role::EnforcementOfficer, Some("500112")),
        (Role::EnforcementOfficer, None),
        (Role::Supervisor, None),
        (Role::Monitoring, None),
        (Role::Integrator, None),
        (Role::Admin, None),
    ];
    for (n, (role, district)) in principals.into_iter().enumerate() {
        let token = app.token(role, district);
        let read = app
            .gql(
                Some(&token),
                "{ campaigns { nodes { name }} randomDraws { nodes { id }} }",
                json!({}),
            )
            .await;
        let create = app
            .gql(Some(&token), CREATE, json!({ "input": { "name": format!("矩阵{n}"), "startsOn": "2026-01-01", "endsOn": "2026-12-31",
                "coverageDeadline": "2026-12-31", "summaryDeadline": "2026-12-31" } }))
            .await;
        let draw = app
            .gql(Some(&token), DRAW, json!({ "input": { "districtCode": "500103", "category": "SIMPLIFIED", "count": 1, "seed": "1" } }))
            .await;
        let submit = app
            .gql(Some(&token), "mutation($c: ID!) { submitSummaryReport(input: { campaignId: $c, districtCode: \"500103\" }) { late } }", json!({ "c": c }))
            .await;
        let ok = |body: &Value| body.get("errors").is_none();
        let refused = |body: &Value| matches!(error_code(body), Some("FORBIDDEN" | "NOT_FOUND"));
        let in_district = district != Some("500112");
        let expect = |allowed: bool, body: &Value, what: &str| {
            if allowed {
                assert!(ok(body), "{role:?} {district:?} {what} should pass: {body}");
            } else {
                assert!(
                    refused(body),
                    "{role:?} {district:?} {what} should be refused: {body}"
                );
            }
        };
        expect(role != Role::Monitoring, &read, "read");
        expect(
            matches!(role, Role::Supervisor | Role::Admin),
            &create,
            "createCampaign",
        );
        expect(
            matches!(role, Role::Supervisor | Role::Admin)
                || (role == Role::EnforcementOfficer && in_district),
            &draw,
            "drawRandomInspections",
        );
        // One summary per district and campaign: only the first allowed submitter succeeds.
        let may_submit =
            matches!(role, Role::Admin) || (role == Role::EnforcementOfficer && in_district);
        if may_submit {
            assert!(
                ok(&submit) || error_code(&submit) == Some("CONFLICT"),
                "{role:?} {district:?}: {submit}"
            );
        } else {
            assert!(
                refused(&submit),
                "{role:?} {district:?} submit should be refused: {submit}"
            );
        }
    }
});

// Issue #14.10: a draw is bounded by its candidate list; joint-group labels are distinct.
db_test!(
    draws_are_bounded_by_the_candidates_and_groups_distinct,
    |app| {
        let district = "500103";
        inspectors(&app, district, 2).await;
        for i in 0..3 {
            fixtures::register_unit(
                &app,
                district,
                700 + i,
                &format!("候选{i}有限公司"),
                "SIMPLIFIED",
            )
            .await;
        }
        let officer = app.token(Role::EnforcementOfficer, Some(district));
        let huge = app
        .gql(Some(&officer), DRAW, json!({ "input": { "category": "SIMPLIFIED", "count": 10_000, "inspectorsPerUnit": 2, "seed": "1" } }))
        .await;
        assert_eq!(error_field(&huge), Some("input.count"), "{huge}");
        let all = app
        .gql(Some(&officer), DRAW, json!({ "input": { "category": "SIMPLIFIED", "count": 3, "inspectorsPerUnit": 2, "seed": "1" } }))
        .await;
        assert!(all.get("errors").is_none(), "{all:#}");
        let twice = app
        .gql(Some(&app.token(Role::Supervisor, None)), "mutation { drawJointGroups(input: { groups: [\"第一组\", \" 第一组 \"], districtCodes: [\"500101\"] }) { kind } }", json!({}))
        .await;
        assert_eq!(error_field(&twice), Some("input.groups"), "{twice}");
    }
);
