//! Feedback from enforcement to permit offices, and bulletins with acknowledgement.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::enforcement::{ACTION, ADVANCE, Scene, days_ago, finding, scene};
use crate::helpers::{TestApp, error_code, error_field};

const POST: &str = "mutation($input: PostFeedbackInput!) { postFeedback(input: $input) { id status version figures findings { id } addressedAgency { code } } }";
const RESPOND: &str = "mutation($id: ID!, $v: Int!, $input: RespondToFeedbackInput!) { respondToFeedback(id: $id, expectedVersion: $v, input: $input) { status version answer permitChanges { permitId version } } }";
const PUBLISH: &str = "mutation($input: PublishBulletinInput!) { publishBulletin(input: $input) { id notAcknowledged { code } cases { code unitName decisionNumber } } }";

fn year_start() -> String {
    format!("{}-01-01", permit_core::domain::clock::today().format("%Y"))
}

/// Issue #14.10 and the refusals of `postFeedback`: findings of the pattern's codes (and
/// period) only; a permit officer cannot post; findings must be visible; the addressee is a
/// permit office.
async fn posting_is_refused_off_pattern_out_of_scope_or_misaddressed(
    app: &TestApp,
    s: &Scene,
    input: &Value,
    a: &Value,
) {
    let ledger_and_report = finding(app, s, "ER-1").await;
    let off_pattern = app
        .gql(Some(&s.officer), POST, {
            let mut i = input.clone();
            i["input"]["findingIds"] = json!([a["id"], ledger_and_report["id"]]);
            i
        })
        .await;
    assert_eq!(
        error_field(&off_pattern),
        Some("input.findingIds"),
        "{off_pattern}"
    );

    // Refusals: a permit officer cannot post; findings must be visible; the addressee is a permit office.
    let by_office = app
        .gql(
            Some(&app.token(Role::PermitOfficer, Some("500103"))),
            POST,
            input.clone(),
        )
        .await;
    assert_eq!(error_code(&by_office), Some("FORBIDDEN"), "{by_office}");
    let other = app
        .gql(
            Some(&app.token(Role::EnforcementOfficer, Some("500112"))),
            POST,
            {
                let mut i = input.clone();
                i["input"]["addressedAgencyCode"] = json!("500112-PMT");
                i["input"]["district"] = Value::Null;
                i
            },
        )
        .await;
    assert_eq!(error_field(&other), Some("input.findingIds"), "{other}");
    let wrong = app
        .gql(Some(&s.officer), POST, {
            let mut i = input.clone();
            i["input"]["addressedAgencyCode"] = json!("500103-ENF");
            i
        })
        .await;
    assert_eq!(
        error_field(&wrong),
        Some("input.addressedAgencyCode"),
        "{wrong}"
    );
}

async fn closed_feedback_is_read_by_poster_and_supervision_only(
    app: &TestApp,
    s: &Scene,
    posted: &Value,
) {
    let poster = app
        .data(
            &s.officer,
            "query($id: ID!) { feedbackItem(id: $id) { status answer } }",
            json!({ "id": posted["id"] }),
        )
        .await;
    assert_eq!(poster["feedbackItem"]["status"], "CLOSED");
    let sup = app
        .data(
            &app.token(Role::Supervisor, None),
            "{ feedback { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(sup["feedback"]["totalCount"], 1);
    let integrator = app
        .gql(
            Some(&app.token(Role::Integrator, None)),
            "{ feedback { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&integrator), Some("FORBIDDEN"), "{integrator}");
}

/// Issue 14: a public typical case shows only decisions flagged for exposure.
async fn unflagged_decisions_stay_out_of_public_bulletins(
    app: &TestApp,
    supervisor: &str,
    typical: &Value,
) {
    let s2 = scene(app, "500105", 22).await;
    let g = finding(app, &s2, "SM-1").await;
    app.data(
        &s2.officer,
        ADVANCE,
        json!({ "id": g["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
    )
    .await;
    let unflagged = app
    .data(&s2.officer, ACTION, json!({ "input": { "findingId": g["id"], "kind": "FINE", "decisionNumber": "CQ-T2", "decidedOn": days_ago(0), "amountYuan": 30000, "typicalCase": false } }))
    .await;
    let current = app
        .data(
            &s2.officer,
            "query($id: ID!) { finding(id: $id) { version } }",
            json!({ "id": g["id"] }),
        )
        .await;
    app.data(
        &s2.officer,
        ADVANCE,
        json!({ "id": g["id"], "v": current["finding"]["version"], "input": { "to": "CLOSED" } }),
    )
    .await;
    let mut not_for_exposure = typical.clone();
    not_for_exposure["input"]["findingIds"] = json!([]);
    not_for_exposure["input"]["actionIds"] = json!([unflagged["recordEnforcementAction"]["id"]]);
    let refused = app.gql(Some(supervisor), PUBLISH, not_for_exposure).await;
    assert_eq!(error_field(&refused), Some("input.actionIds"), "{refused}");
    assert!(
        refused.to_string().contains("flagged for exposure"),
        "{refused}"
    );
}

/// A bulletin to one district's permit office: another district's office, the enforcement
/// side and integrators neither list it nor read it by id.
async fn no_one_outside_the_audience_sees_it(app: &TestApp, id: &Value) {
    for (role, district) in [
        (Role::PermitOfficer, Some("500112")),
        (Role::EnforcementOfficer, Some("500103")),
        (Role::Integrator, None),
    ] {
        let other = app
            .data(
                &app.token(role, district),
                "{ bulletins { nodes { id }} }",
                json!({}),
            )
            .await;
        assert_eq!(
            other["bulletins"]["nodes"].as_array().map(Vec::len),
            Some(0),
            "{role:?} {district:?}"
        );
        let direct = app
            .data(
                &app.token(role, district),
                "query($id: ID!) { bulletin(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert!(direct["bulletin"].is_null());
    }
}

db_test!(feedback_reaches_the_addressed_office_only, |app| {
    let s = scene(&app, "500103", 20).await;
    let a = finding(&app, &s, "LG-1").await;
    let b = finding(&app, &s, "LG-1").await;
    let input = json!({ "input": {
        "addressedAgencyCode": "500103-PMT", "codes": ["LG-1"], "district": "500103",
        "periodFrom": year_start(), "periodTo": days_ago(0), "findingIds": [a["id"], b["id"]],
        "recommendation": "TIGHTEN_PERMIT_CONDITION", "recommendationText": "台账要求应写入许可证管理要求" } });
    let posted = app.data(&s.officer, POST, input.clone()).await["postFeedback"].clone();
    assert_eq!(posted["status"], "OPEN");
    assert_eq!(posted["figures"][0]["code"], "LG-1");
    assert_eq!(
        posted["figures"][0]["findings"], 2,
        "figures frozen from violationPatterns"
    );
    assert_eq!(posted["findings"].as_array().map(Vec::len), Some(2));

    posting_is_refused_off_pattern_out_of_scope_or_misaddressed(&app, &s, &input, &a).await;

    // The addressed office sees and answers; another district's office neither sees nor answers.
    let office = app.token(Role::PermitOfficer, Some("500103"));
    let list = app
        .data(
            &office,
            "{ feedback { totalCount edges { node { id recommendation } } } }",
            json!({}),
        )
        .await;
    assert_eq!(list["feedback"]["totalCount"], 1);
    let elsewhere = app.token(Role::PermitOfficer, Some("500112"));
    let none = app
        .data(&elsewhere, "{ feedback { totalCount } }", json!({}))
        .await;
    assert_eq!(none["feedback"]["totalCount"], 0);
    let cannot = app
        .gql(
            Some(&elsewhere),
            RESPOND,
            json!({ "id": posted["id"], "v": 1, "input": { "status": "ACKNOWLEDGED" } }),
        )
        .await;
    assert_eq!(error_code(&cannot), Some("NOT_FOUND"), "{cannot}");
    let ack = app
        .data(
            &office,
            RESPOND,
            json!({ "id": posted["id"], "v": 1, "input": { "status": "ACKNOWLEDGED" } }),
        )
        .await;
    assert_eq!(ack["respondToFeedback"]["status"], "ACKNOWLEDGED");
    let skip = app
        .gql(
            Some(&office),
            RESPOND,
            json!({ "id": posted["id"], "v": 2, "input": { "status": "CLOSED" } }),
        )
        .await;
    assert_eq!(error_code(&skip), Some("INVALID_TRANSITION"), "{skip}");
    // Issue #14.10: the answer cites a change made after the feedback, not what stood before.
    let stale = app
        .gql(
            Some(&office),
            RESPOND,
            json!({ "id": posted["id"], "v": 2, "input": { "answer": "许可证早已规定",
            "permitChanges": [{ "permitId": s.permit["id"], "version": 1 }] } }),
        )
        .await;
    assert_eq!(error_field(&stale), Some("input.permitChanges"), "{stale}");
    let change = "mutation($id: ID!, $input: ChangePermitInput!) { changePermit(id: $id, expectedVersion: 1, input: $input) { version } }";
    let mut items = crate::fixtures::permit_input("", "2000-01-01");
    items["outlets"][0]["limits"][0]["concentrationLimit"] = json!(15.0);
    let changed = app
        .data(&office, change, json!({ "id": s.permit["id"], "input": { "reason": "根据执法反馈增加台账记录要求", "outlets": items["outlets"] } }))
        .await;
    assert_eq!(changed["changePermit"]["version"], 2);
    let answered = app
        .data(&office, RESPOND, json!({ "id": posted["id"], "v": 2, "input": { "answer": "已变更许可证，增加台账记录要求",
            "permitChanges": [{ "permitId": s.permit["id"], "version": 2 }] } }))
        .await;
    assert_eq!(answered["respondToFeedback"]["status"], "ANSWERED");
    assert_eq!(
        answered["respondToFeedback"]["permitChanges"][0]["permitId"],
        s.permit["id"]
    );
    let closed = app
        .data(
            &office,
            RESPOND,
            json!({ "id": posted["id"], "v": 3, "input": { "status": "CLOSED" } }),
        )
        .await;
    assert_eq!(closed["respondToFeedback"]["status"], "CLOSED");
    // The poster and supervision see it; an integrator may not read feedback at all.
    closed_feedback_is_read_by_poster_and_supervision_only(&app, &s, &posted).await;
});

db_test!(
    bulletins_reach_their_audience_and_track_acknowledgement,
    |app| {
        let supervisor = app.token(Role::Supervisor, None);
        let roster = app
        .data(&supervisor, PUBLISH, json!({ "input": { "kind": "LIAISON_ROSTER", "title": "联络员名单", "body": "各区县排污许可与执法联络员……",
            "audience": { "roles": ["PERMIT_OFFICER"], "districts": ["500103"] } } }))
        .await["publishBulletin"]
        .clone();
        let codes: Vec<&str> = roster["notAcknowledged"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|a| a["code"].as_str())
            .collect();
        assert_eq!(codes, vec!["500103-PMT"]);
        let office = app.token(Role::PermitOfficer, Some("500103"));
        let seen = app
            .data(&office, "{ bulletins { nodes { id title }} }", json!({}))
            .await;
        assert_eq!(seen["bulletins"]["nodes"].as_array().map(Vec::len), Some(1));
        no_one_outside_the_audience_sees_it(&app, &roster["id"]).await;
        let ack = "mutation($id: ID!) { acknowledgeBulletin(id: $id) { acknowledgedBy { agency { code } acknowledgedBy } notAcknowledged { code } } }";
        let acked = app.data(&office, ack, json!({ "id": roster["id"] })).await;
        assert_eq!(
            acked["acknowledgeBulletin"]["acknowledgedBy"][0]["agency"]["code"],
            "500103-PMT"
        );
        assert_eq!(
            acked["acknowledgeBulletin"]["notAcknowledged"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );
        let again = app
            .gql(Some(&office), ack, json!({ "id": roster["id"] }))
            .await;
        assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");

        // A typical case must report a penalised case; its public view has no personal data.
        let s = scene(&app, "500105", 21).await;
        let f = finding(&app, &s, "SM-1").await;
        let typical = json!({ "input": { "kind": "TYPICAL_CASE", "title": "典型案例", "body": "某公司未开展自行监测", "audience": { "public": true }, "findingIds": [f["id"]] } });
        // An open finding may not go public at all (and a typical case needs a penalty).
        let refused = app.gql(Some(&supervisor), PUBLISH, typical.clone()).await;
        assert_eq!(error_field(&refused), Some("input.findingIds"), "{refused}");
        app.data(
            &s.officer,
            ADVANCE,
            json!({ "id": f["id"], "v": 1, "input": { "to": "CASE_FILED" } }),
        )
        .await;
        let fine = app
        .data(&s.officer, ACTION, json!({ "input": { "findingId": f["id"], "kind": "FINE", "decisionNumber": "CQ-T1", "decidedOn": days_ago(0), "amountYuan": 50000, "typicalCase": true } }))
        .await;
        let mut with_case = typical.clone();
        with_case["input"]["actionIds"] = json!([fine["recordEnforcementAction"]["id"]]);
        with_case["input"]["findingIds"] = json!([]);
        // Penalised but not closed: still an open case, which the public may not read.
        let open_case = app.gql(Some(&supervisor), PUBLISH, with_case.clone()).await;
        assert_eq!(
            error_field(&open_case),
            Some("input.actionIds"),
            "{open_case}"
        );
        let current = app
            .data(
                &s.officer,
                "query($id: ID!) { finding(id: $id) { status version } }",
                json!({ "id": f["id"] }),
            )
            .await;
        assert_eq!(current["finding"]["status"], "PENALISED", "{current}");
        app.data(
            &s.officer,
            ADVANCE,
            json!({ "id": f["id"], "v": current["finding"]["version"], "input": { "to": "CLOSED" } }),
        )
        .await;
        let published = app.data(&supervisor, PUBLISH, with_case).await["publishBulletin"].clone();
        let cases = published["cases"].as_array().expect("cases");
        assert!(
            cases.iter().any(|c| c["decisionNumber"] == "CQ-T1"),
            "{cases:?}"
        );
        let public = app
        .data(&app.token(Role::Integrator, None), "query($id: ID!) { bulletin(id: $id) { public cases { unitName creditCode code amountYuan } } }", json!({ "id": published["id"] }))
        .await;
        assert_eq!(public["bulletin"]["public"], true);
        let public_cases = public["bulletin"]["cases"].as_array().expect("cases");
        assert!(
            public_cases.iter().any(|c| c["amountYuan"] == 50000),
            "{public_cases:?}"
        );
        let text = public.to_string();
        assert!(
            !text.contains("张伟") && !text.contains("13800138000"),
            "no personal data in the public view"
        );
        // A public typical case shows only decisions flagged for exposure (issue 14).
        unflagged_decisions_stay_out_of_public_bulletins(&app, &supervisor, &typical).await;
        // District staff address their own district only.
        let district = app
        .gql(Some(&office), PUBLISH, json!({ "input": { "kind": "GENERAL", "title": "t", "body": "b", "audience": { "districts": ["500112"] } } }))
        .await;
        assert_eq!(error_code(&district), Some("FORBIDDEN"), "{district}");
    }
);

db_test!(feedback_names_an_industry_its_findings_share, |app| {
    let s = scene(&app, "500103", 21).await;
    let a = finding(&app, &s, "LG-1").await;
    let post = |industry: &str| {
        json!({ "input": {
            "addressedAgencyCode": "500103-PMT", "codes": ["LG-1"], "industry": industry,
            "periodFrom": year_start(), "periodTo": days_ago(0), "findingIds": [a["id"]],
            "recommendation": "OTHER", "recommendationText": "同一行业台账问题集中" } })
    };
    // Not a GB/T 4754 code or prefix (and longer than the record holds): refused by name.
    let long = app.gql(Some(&s.officer), POST, post(&"C".repeat(40))).await;
    assert_eq!(error_code(&long), Some("BAD_USER_INPUT"), "{long}");
    assert_eq!(error_field(&long), Some("input.industry"), "{long}");
    // The scene's unit is of C3670: a finding of it does not rest a D44 pattern.
    let other = app.gql(Some(&s.officer), POST, post("D44")).await;
    assert_eq!(error_field(&other), Some("input.findingIds"), "{other}");
    let posted = app.data(&s.officer, POST, post("c36")).await;
    assert_eq!(posted["postFeedback"]["status"], "OPEN", "{posted}");
});
