//! Regressions of the paths by which data once reached callers outside their scope (issue 13),
//! one test a path, on both databases. The scope oracle (`scope_oracle.rs`) covers the schema
//! as a whole; these pin each finding as it was reported.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{TestApp, error_code};

const A: &str = "500103";
const B: &str = "500112";

/// The districts with the most open findings in the seeded data, busiest first.
async fn busiest(app: &TestApp) -> (String, String) {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.conn.get_database_backend();
    let rows = app
        .db
        .conn
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT district_code FROM findings WHERE status = 'OPEN' GROUP BY district_code \
             ORDER BY COUNT(*) DESC, district_code LIMIT 2"
                .to_owned(),
        ))
        .await
        .expect("districts");
    let code = |i: usize| rows[i].try_get_by_index::<String>(0).expect("a district");
    (code(0), code(1))
}

async fn first_id(app: &TestApp, token: &str, query: &str, pointer: &str) -> Value {
    let data = app.data(token, query, json!({})).await;
    let found = data.pointer(pointer).cloned().unwrap_or(Value::Null);
    assert!(!found.is_null(), "the seed has {pointer} for {query}");
    found
}

async fn draw_in(app: &TestApp, district: &str) -> Value {
    // The categories the district has permitted units of, most first: a draw takes no more
    // than its candidate list holds, and a category's units may all be off the list (no permit
    // in force), so the first category that yields a draw is used.
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.conn.get_database_backend();
    let rows = app
        .db
        .conn
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT management_category FROM units WHERE district_code = '{district}' \
                 AND management_category <> 'REGISTRATION' GROUP BY management_category \
                 ORDER BY COUNT(*) DESC, management_category"
            ),
        ))
        .await
        .expect("categories");
    assert!(!rows.is_empty(), "the district has permitted units");
    let token = app.token(Role::EnforcementOfficer, Some(district));
    let mut last = Value::Null;
    for row in rows {
        let category: String = row.try_get_by_index(0).expect("category");
        let body = app
            .gql(
                Some(&token),
                &format!("mutation($d: String) {{ drawRandomInspections(input: {{ category: {category}, count: 1, districtCode: $d }}) {{ id published }} }}"),
                json!({ "d": district }),
            )
            .await;
        if body.get("errors").is_none() {
            return body["data"]["drawRandomInspections"]["id"].clone();
        }
        // Only an empty candidate list lets the next category be tried.
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "input.count",
            "{body}"
        );
        last = body;
    }
    panic!("no category of {district} yields a draw: {last}");
}

db_test!(
    unpublished_draws_stay_with_the_district_and_supervision,
    |app| {
        app.seed_demo(120).await;
        let (a, b) = busiest(&app).await;
        let (a, b) = (a.as_str(), b.as_str());
        let id = draw_in(&app, a).await;
        let query =
            "query($id: ID!) { randomDraw(id: $id) { id frozenInputs items { unit { id } } } }";
        for (role, district, visible) in [
            (Role::Integrator, None, false),
            (Role::EnforcementOfficer, None, false),
            (Role::PermitOfficer, None, false),
            (Role::EnforcementOfficer, Some(b), false),
            (Role::EnforcementOfficer, Some(a), true),
            (Role::PermitOfficer, Some(a), true),
            (Role::Supervisor, None, true),
            (Role::Admin, None, true),
        ] {
            let data = app
                .data(&app.token(role, district), query, json!({ "id": id }))
                .await;
            assert_eq!(
                !data["randomDraw"].is_null(),
                visible,
                "{role:?} {district:?}: {data}"
            );
            let listed = app
                .data(
                    &app.token(role, district),
                    "{ randomDraws { nodes { id }} }",
                    json!({}),
                )
                .await;
            let in_list = listed["randomDraws"]["nodes"]
                .as_array()
                .is_some_and(|l| l.iter().any(|d| d["id"] == id));
            assert_eq!(in_list, visible, "{role:?} {district:?} list");
        }
        // Published draws: integrators see the result, never the frozen inputs or a drawer.
        let published = app
            .data(
                &app.token(Role::Integrator, None),
                "{ randomDraws { nodes { id published frozenInputs drawnBy }} }",
                json!({}),
            )
            .await;
        let draws = published["randomDraws"]["nodes"].as_array().expect("draws");
        assert!(!draws.is_empty());
        assert!(
            draws.iter().all(|d| d["published"] == true
                && d["frozenInputs"].is_null()
                && d["drawnBy"].is_null()),
            "{published}"
        );
    }
);

db_test!(
    other_districts_inspectors_do_not_show_through_published_draws,
    |app| {
        app.seed_demo(120).await;
        let officer = app.token(Role::EnforcementOfficer, Some(B));
        let data = app
        .data(
            &officer,
            "{ randomDraws { nodes { district { code } published frozenInputs items { inspectors { id certificateNumber } } }} }",
            json!({}),
        )
        .await;
        let foreign: Vec<&Value> = data["randomDraws"]["nodes"]
            .as_array()
            .expect("draws")
            .iter()
            .filter(|d| d["district"]["code"].as_str().is_some_and(|c| c != B))
            .collect();
        assert!(
            !foreign.is_empty(),
            "the demo publishes other districts' draws"
        );
        for draw in foreign {
            assert!(draw["frozenInputs"].is_null(), "{draw}");
            for item in draw["items"].as_array().expect("items") {
                assert_eq!(item["inspectors"], json!([]), "{draw}");
            }
        }
    }
);

db_test!(district_scoped_supervision_reads_its_district_only, |app| {
    app.seed_demo(120).await;
    let (a, b) = busiest(&app).await;
    let (a, b) = (a.as_str(), b.as_str());
    // Feedback in A and in B.
    for district in [a, b] {
        let officer = app.token(Role::EnforcementOfficer, Some(district));
        let finding = first_id(
            &app,
            &officer,
            "{ findings(first: 1) { edges { node { id code { code } } } } }",
            "/findings/edges/0/node",
        )
        .await;
        let body = app
            .gql(
                Some(&officer),
                "mutation($a: String!, $c: String!, $f: ID!) { postFeedback(input: { addressedAgencyCode: $a, codes: [$c], findingIds: [$f], periodFrom: \"2020-01-01\", periodTo: \"2030-12-31\", recommendation: OTHER, recommendationText: \"see the findings\" }) { id } }",
                json!({ "a": format!("{district}-PMT"), "c": finding["code"]["code"], "f": finding["id"] }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    for role in [Role::Supervisor, Role::Admin] {
        let token = app.token(role, Some(a));
        let data = app
            .data(
                &token,
                "{ feedback(first: 100) { totalCount nodes { addressedAgency { code } } } auditEvents(first: 100) { nodes { agency { code district { code } } }} }",
                json!({}),
            )
            .await;
        assert_eq!(data["feedback"]["totalCount"], 1, "{role:?}: {data}");
        assert_eq!(
            data["feedback"]["nodes"][0]["addressedAgency"]["code"],
            format!("{a}-PMT")
        );
        let events = data["auditEvents"]["nodes"].as_array().expect("events");
        assert!(!events.is_empty(), "A's own posting is audited");
        assert!(
            events.iter().all(|e| e["agency"]["district"]["code"] == a),
            "{role:?}: {data}"
        );
    }
});

db_test!(
    integrators_get_no_free_text_of_open_cases_nor_open_counts,
    |app| {
        app.seed_demo(120).await;
        let open = app
            .scalar_i64(
                "SELECT i.id FROM inspections i JOIN findings f ON f.inspection_id = i.id \
             WHERE f.status <> 'CLOSED' AND i.notes IS NOT NULL ORDER BY i.id LIMIT 1",
            )
            .await;
        let id = permit_api::graphql::ids::encode("Inspection", open);
        let integrator = app.token(Role::Integrator, None);
        let data = app
        .data(
            &integrator,
            "query($id: ID!) { inspection(id: $id) { notes checklist { note } findings { id } } }",
            json!({ "id": id }),
        )
        .await;
        let inspection = &data["inspection"];
        assert!(inspection["notes"].is_null(), "{data}");
        assert!(
            inspection["checklist"]
                .as_array()
                .expect("checklist")
                .iter()
                .all(|c| c["note"].is_null()),
            "{data}"
        );
        // The agencies read the same text.
        let officer = app.token(Role::EnforcementOfficer, None);
        let theirs = app
            .data(
                &officer,
                "query($id: ID!) { inspection(id: $id) { notes } }",
                json!({ "id": id }),
            )
            .await;
        assert!(theirs["inspection"]["notes"].is_string(), "{theirs}");

        // A campaign summary counts only what the reader could list.
        let campaigns = app
            .data(
                &integrator,
                "{ campaigns { nodes { id startsOn endsOn }} }",
                json!({}),
            )
            .await;
        let campaign = &campaigns["campaigns"]["nodes"][0];
        let summary = app
        .data(
            &integrator,
            "query($id: ID!, $d: String!) { campaign(id: $id) { summary(district: $d) { findings cases } summaryReports { id } } }",
            json!({ "id": campaign["id"], "d": A }),
        )
        .await;
        let closed = app
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM findings WHERE district_code = '{A}' AND status = 'CLOSED' \
             AND found_on >= '{}' AND found_on <= '{}'",
                campaign["startsOn"].as_str().expect("start"),
                campaign["endsOn"].as_str().expect("end")
            ))
            .await;
        assert_eq!(
            summary["campaign"]["summary"]["findings"].as_i64(),
            Some(closed),
            "{summary}"
        );
        assert_eq!(summary["campaign"]["summaryReports"], json!([]));
    }
);

db_test!(officials_are_not_named_to_integrators, |app| {
    app.seed_demo(40).await;
    let integrator = app.token(Role::Integrator, None);
    let data = app
        .data(
            &integrator,
            "{ permits(first: 5) { nodes { versions { changedBy changedByAgency { code } } provenance { createdBy { subject level agency { code } } updatedBy { subject } } } }
               changes(first: 50) { edges { node { actor { subject level } } } } }",
            json!({}),
        )
        .await;
    let text = data.to_string();
    assert!(
        !text.contains('@'),
        "a subject reached an integrator: {text}"
    );
    // On PostgreSQL the feed waits for the cluster's older transactions (other tests' too).
    if let Some(edge) = data["changes"]["edges"].as_array().and_then(|e| e.first()) {
        assert!(
            edge["node"]["actor"]["level"].is_string(),
            "the level is still told: {data}"
        );
    }
    assert!(
        data["permits"]["nodes"][0]["provenance"]["createdBy"]["level"].is_string(),
        "the level is still told: {data}"
    );
    // The agencies still see who acted.
    let officer = app.token(Role::PermitOfficer, None);
    let theirs = app
        .data(
            &officer,
            "{ permits(first: 1) { nodes { versions { changedBy } } } }",
            json!({}),
        )
        .await;
    assert!(theirs["permits"]["nodes"][0]["versions"][0]["changedBy"].is_string());
});

db_test!(writes_about_other_districts_name_nothing, |app| {
    app.seed_demo(120).await;
    let admin = app.token(Role::Admin, None);
    let b_inspector = first_id(
        &app,
        &admin,
        &format!("{{ inspectors(agencyCode: \"{B}-ENF\") {{ nodes {{ id name }} }} }}"),
        "/inspectors/nodes/0",
    )
    .await;
    let a_inspector = first_id(
        &app,
        &admin,
        &format!("{{ inspectors(agencyCode: \"{A}-ENF\") {{ nodes {{ id }} }} }}"),
        "/inspectors/nodes/0/id",
    )
    .await;
    let municipal_inspector = first_id(
        &app,
        &admin,
        "{ inspectors(agencyCode: \"500000-ENF\") { nodes { id }} }",
        "/inspectors/nodes/0/id",
    )
    .await;
    let officer = app.token(Role::EnforcementOfficer, Some(A));
    let a_unit = first_id(
        &app,
        &officer,
        "{ units(first: 1) { nodes { id } } }",
        "/units/nodes/0/id",
    )
    .await;
    let body = app
        .gql(
            Some(&officer),
            "mutation($u: ID!, $i: [ID!]!) { recordInspection(input: { unitId: $u, date: \"2021-06-01\", source: ROUTINE, mode: ON_SITE, inspectorIds: $i }) { id } }",
            json!({ "u": a_unit, "i": [a_inspector, b_inspector["id"]] }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let name = b_inspector["name"].as_str().expect("a name");
    assert!(!body.to_string().contains(name), "{body}");

    // A conflict against another district's unit is not the officer's to declare.
    let b_unit = first_id(
        &app,
        &app.token(Role::EnforcementOfficer, Some(B)),
        "{ units(first: 1) { nodes { id } } }",
        "/units/nodes/0/id",
    )
    .await;
    let body = app
        .gql(
            Some(&officer),
            "mutation($i: ID!, $u: ID!) { declareConflict(input: { inspectorId: $i, unitId: $u, reason: \"kin\" }) { unitId } }",
            json!({ "i": municipal_inspector, "u": b_unit }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    // A bulletin to another district's agency is refused.
    let body = app
        .gql(
            Some(&officer),
            "mutation($a: String!) { publishBulletin(input: { kind: GENERAL, title: \"t\", body: \"b\", audience: { agencies: [$a] } }) { id } }",
            json!({ "a": format!("{B}-PMT") }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    // A public bulletin carries closed cases only.
    let (busy, _) = busiest(&app).await;
    let open_finding = first_id(
        &app,
        &app.token(Role::EnforcementOfficer, Some(&busy)),
        "{ findings(first: 1, filter: { status: OPEN }) { nodes { id } } }",
        "/findings/nodes/0/id",
    )
    .await;
    let body = app
        .gql(
            Some(&admin),
            "mutation($f: ID!) { publishBulletin(input: { kind: GENERAL, title: \"t\", body: \"b\", audience: { public: true }, findingIds: [$f] }) { id } }",
            json!({ "f": open_finding }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
});

db_test!(bulletin_cases_are_filtered_for_each_reader, |app| {
    app.seed_demo(120).await;
    let (a, _) = busiest(&app).await;
    let officer = app.token(Role::EnforcementOfficer, Some(&a));
    let open_finding = first_id(
        &app,
        &officer,
        "{ findings(first: 1, filter: { status: OPEN }) { nodes { id } } }",
        "/findings/nodes/0/id",
    )
    .await;
    // To the municipal supervisors and A's enforcement: the open case is theirs to read.
    let body = app
        .gql(
            Some(&officer),
            "mutation($f: ID!, $d: String!) { publishBulletin(input: { kind: GENERAL, title: \"t\", body: \"b\", audience: { districts: [$d], roles: [ENFORCEMENT_OFFICER, SUPERVISOR] }, findingIds: [$f] }) { id } }",
            json!({ "f": open_finding, "d": a }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let id = body["data"]["publishBulletin"]["id"].clone();
    let query = "query($id: ID!) { bulletin(id: $id) { cases { findingId } } }";
    let theirs = app.data(&officer, query, json!({ "id": id })).await;
    assert_eq!(
        theirs["bulletin"]["cases"].as_array().map(Vec::len),
        Some(1)
    );
    // An integrator given the bulletin's id learns nothing of it.
    let integrator = app
        .data(
            &app.token(Role::Integrator, None),
            query,
            json!({ "id": id }),
        )
        .await;
    assert!(integrator["bulletin"].is_null(), "{integrator}");
});

db_test!(
    claims_that_name_no_one_we_know_are_refused_at_the_door,
    |app| {
        let now = chrono::Utc::now().timestamp();
        let cases = [
            (
                "unknown agency",
                json!({ "role": "ENFORCEMENT_OFFICER", "agency": "599999-ENF", "district": "500103" }),
            ),
            (
                "unknown district",
                json!({ "role": "ENFORCEMENT_OFFICER", "district": "599999" }),
            ),
            (
                "empty district",
                json!({ "role": "PERMIT_OFFICER", "district": "" }),
            ),
            (
                "agency of another district",
                json!({ "role": "PERMIT_OFFICER", "agency": "500106-PMT", "district": "500103" }),
            ),
            (
                "district agency without district",
                json!({ "role": "PERMIT_OFFICER", "agency": "500106-PMT" }),
            ),
            (
                "agency of another kind",
                json!({ "role": "PERMIT_OFFICER", "agency": "500103-ENF", "district": "500103" }),
            ),
            (
                "issued in the future",
                json!({ "role": "ADMIN", "iat": now + 3600 }),
            ),
            (
                "a subject longer than the records of who did what hold",
                json!({ "role": "ADMIN", "sub": "长".repeat(129) }),
            ),
            (
                "an agency claim longer than its records hold",
                json!({ "role": "ADMIN", "agency": "A".repeat(33) }),
            ),
        ];
        for (what, extra) in cases {
            let mut claims = json!({ "sub": "x@y", "iat": now, "exp": now + 600 });
            for (k, v) in extra.as_object().expect("claims") {
                claims[k] = v.clone();
            }
            let token = app.sign_claims(&claims);
            for query in [
                "{ me { subject } }",
                "mutation { postFeedback(input: { addressedAgencyCode: \"500103-PMT\", codes: [\"EX-1\"], findingIds: [\"x\"], periodFrom: \"2021-01-01\", periodTo: \"2021-02-01\", recommendation: OTHER, recommendationText: \"t\" }) { id } }",
            ] {
                let body = app.gql(Some(&token), query, json!({})).await;
                assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{what}: {body}");
            }
        }
        // A municipal agency scoped down to a district is a district-scoped supervisor.
        let mut claims = json!({ "sub": "s@y", "iat": now, "exp": now + 600, "role": "SUPERVISOR", "agency": "500000-SUP", "district": "500103" });
        claims["jti"] = json!("j1");
        let body = app
            .gql(
                Some(&app.sign_claims(&claims)),
                "{ me { district { code } } }",
                json!({}),
            )
            .await;
        assert_eq!(body["data"]["me"]["district"]["code"], "500103", "{body}");
    }
);

db_test!(
    lists_cost_what_they_may_return_and_strangers_name_no_series,
    |app| {
        app.seed_demo(20).await;
        let admin = app.token(Role::Admin, None);
        // Lists multiply like pages (15 aliases of six nested lists and connections).
        let nested = "campaigns(first: 5) { nodes { randomDraws(first: 5) { nodes { items { unit { permits { versions { version } outlets { code } } } } } } } }";
        let aliases: Vec<String> = (0..15).map(|i| format!("a{i}: {nested}")).collect();
        let body = app
            .gql(
                Some(&admin),
                &format!("{{ {} }}", aliases.join(" ")),
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
        // A single nesting of them is an ordinary request.
        let one = app
            .gql(Some(&admin), &format!("{{ {nested} }}"), json!({}))
            .await;
        assert!(one.get("errors").is_none(), "{one}");
        // Bulletins with their cases: the cases of a page come in one batch, not one a bulletin.
        let before = app.db.statement_count();
        let body = app
            .gql(
                Some(&admin),
                "{ a: bulletins { nodes { cases { code } }} b: bulletins { nodes { cases { code } }} }",
                json!({}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        assert!(
            app.db.statement_count() - before < 20,
            "bulletin cases in a loop"
        );

        // An unauthenticated caller's operation name is no metric series of its own.
        app.gql(
            None,
            "query StrangerProbe { districts { code } }",
            json!({}),
        )
        .await;
        let exposition = crate::metrics::scrape(&app).await;
        assert!(
            !exposition.samples.iter().any(|s| s
                .labels
                .get("operation")
                .is_some_and(|o| o == "StrangerProbe")),
            "an anonymous caller named a series"
        );
        assert!(
            exposition
                .samples
                .iter()
                .any(|s| s.labels.get("operation").is_some_and(|o| o == "anonymous")),
            "anonymous requests are still counted"
        );
    }
);
