//! Planned reads (issue 15): each of the benchmark's reads is one statement (the rows with the
//! children they ask for, and the list's count when `totalCount` is asked), whatever the page
//! size; and what a planned read returns is what the DataLoaders return for the same records.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::TestApp;

fn operation(name: &str) -> String {
    let path = format!(
        "{}/bench/operations/{name}.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fewest statements of three runs (the counter is the whole server's).
async fn statements(app: &TestApp, token: &str, query: &str, variables: Value) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = app.db.statement_count();
        let data = app.data(token, query, variables.clone()).await;
        assert!(data.is_object());
        fewest = fewest.min(app.db.statement_count() - before);
    }
    fewest
}

db_test!(bench_reads_cost_one_statement, |app| {
    app.seed_demo(300).await;
    let token = app.token(Role::Supervisor, None);
    let sample = app
        .data(
            &token,
            "{ findings(first: 1, filter: { category: PERMIT_VIOLATION }) { nodes {
                foundOn code { code } district { code } permit { permitNumber } } } }",
            json!({}),
        )
        .await;
    let finding = &sample["findings"]["nodes"][0];
    let found_on = finding["foundOn"]
        .as_str()
        .expect("a finding with a permit");
    let month = &found_on[..7];
    let reads = [
        ("Q1", json!({ "number": finding["permit"]["permitNumber"] })),
        (
            "Q2",
            json!({ "district": finding["district"]["code"], "first": 10 }),
        ),
        (
            "Q2",
            json!({ "district": finding["district"]["code"], "first": 100 }),
        ),
        ("Q3", json!({})),
        (
            "Q4",
            json!({ "code": finding["code"]["code"], "from": format!("{month}-01"),
                    "to": format!("{month}-28"), "first": 10 }),
        ),
        (
            "Q4",
            json!({ "code": finding["code"]["code"], "from": "2000-01-01",
                    "to": "2100-01-01", "first": 100 }),
        ),
    ];
    for (name, variables) in reads {
        // Q2 and Q4 count their list (`totalCount`) in the page's statement.
        let n = statements(&app, &token, &operation(name), variables.clone()).await;
        assert_eq!(n, 1, "{name} {variables}: {n} statements");
    }
});

/// Every node of a list, page by page (`first: 7`), without asking for `totalCount`.
async fn walk(app: &TestApp, token: &str, list: &str, filter: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let query = format!(
            "query($after: String) {{ {list}(filter: {filter}, first: 7, after: $after) {{
               pageInfo {{ hasNextPage endCursor }} nodes {{ id }} }} }}"
        );
        let data = app.data(token, &query, json!({ "after": after })).await;
        let page = &data[list];
        for node in page["nodes"].as_array().into_iter().flatten() {
            ids.push(node["id"].as_str().unwrap_or_default().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return ids;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// `totalCount` of a list's page of 7 after `after`.
async fn total_count(
    app: &TestApp,
    token: &str,
    list: &str,
    filter: &str,
    after: Option<&String>,
) -> Option<u64> {
    let query = format!(
        "query($after: String) {{ {list}(filter: {filter}, first: 7, after: $after) {{
           totalCount nodes {{ id }} }} }}"
    );
    let cursor = after.map_or(Value::Null, |c| json!(c));
    let data = app.data(token, &query, json!({ "after": cursor })).await;
    data[list]["totalCount"].as_u64()
}

/// The district with the most findings (read with a supervisor's `token`).
async fn busiest_district(app: &TestApp, token: &str) -> String {
    let cells = app
        .data(
            token,
            "{ violationPatterns(groupBy: [DISTRICT]) { district { code } findings } }",
            json!({}),
        )
        .await;
    cells["violationPatterns"]
        .as_array()
        .into_iter()
        .flatten()
        .max_by_key(|c| c["findings"].as_i64())
        .and_then(|c| c["district"]["code"].as_str())
        .expect("findings in some district")
        .to_owned()
}

// `totalCount` counted in the page's statement is the list's size in the caller's scope: on the
// first page, past a cursor, on an empty page past the last item (which counts on its own),
// and for a filter that matches nothing.
db_test!(total_count_in_the_page_statement_is_the_list_size, |app| {
    app.seed_demo(300).await;
    let supervisor = app.token(Role::Supervisor, None);
    let busiest = busiest_district(&app, &supervisor).await;
    let district = app.token(Role::EnforcementOfficer, Some(busiest.as_str()));
    let integrator = app.token(Role::Integrator, None);
    let in_busiest = format!("{{ district: \"{busiest}\" }}");
    let cases = [
        (&district, "permits", "{}"),
        (&supervisor, "permits", in_busiest.as_str()),
        (&district, "findings", "{}"),
        (&integrator, "findings", "{}"),
        (&supervisor, "findings", "{}"),
    ];
    let mut empty_pages = 0;
    for (token, list, filter) in cases {
        let ids = walk(&app, token, list, filter).await;
        assert!(
            ids.len() > 7,
            "{list} {filter}: more than a page ({})",
            ids.len()
        );
        let expected = Some(ids.len() as u64);
        assert_eq!(
            total_count(&app, token, list, filter, None).await,
            expected,
            "{list} {filter}: first page"
        );
        // Cursors of the list: the one after the third item, and the one after the last.
        let cursors = app
            .data(
                token,
                &format!("{{ {list}(filter: {filter}, first: 100) {{ edges {{ cursor }} }} }}"),
                json!({}),
            )
            .await;
        let edges = cursors[list]["edges"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let cursor_at = |i: usize| {
            edges
                .get(i)
                .and_then(|e| e["cursor"].as_str())
                .map(str::to_owned)
        };
        let third = cursor_at(2).expect("a third item");
        assert_eq!(
            total_count(&app, token, list, filter, Some(&third)).await,
            expected,
            "{list} {filter}: past a cursor"
        );
        if ids.len() <= 100 {
            empty_pages += 1;
            let last = cursor_at(ids.len() - 1).expect("the last item");
            assert_eq!(
                total_count(&app, token, list, filter, Some(&last)).await,
                expected,
                "{list} {filter}: empty page"
            );
        }
        // One statement for the page and its count.
        let query =
            format!("{{ {list}(filter: {filter}, first: 7) {{ totalCount nodes {{ id }} }} }}");
        assert_eq!(
            statements(&app, token, &query, json!({})).await,
            1,
            "{list} {filter}"
        );
    }
    assert!(
        empty_pages >= 1,
        "an empty page past the last item was tried"
    );
    let nothing = app
        .data(
            &supervisor,
            "{ permits(filter: { district: \"999999\" }, first: 5) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(nothing["permits"]["totalCount"], json!(0));
});

const DEEP_PAGE: &str = r#"query($n: Int!) {
  permits(first: $n) {
    nodes {
      permitNumber
      unit { creditCode positiveList }
      outlets { code limits { pollutant concentrationLimit } }
      limits { pollutant }
      findings(first: 5) { pageInfo { hasNextPage endCursor } nodes { id status } }
    }
  }
}"#;

db_test!(
    planned_pages_cost_one_statement_whatever_their_size,
    |app| {
        app.seed_demo(300).await;
        let token = app.token(Role::EnforcementOfficer, Some("500103"));
        for n in [1, 10, 100] {
            let count = statements(&app, &token, DEEP_PAGE, json!({ "n": n })).await;
            assert_eq!(
                count, 1,
                "a page of {n} permits with four kinds of children"
            );
        }
        // Two selections of a permit's findings with different sizes cannot share one plan: the
        // field loads its own page (batched), and the answer is still right.
        let mixed = r#"{ permits(first: 20) { nodes {
        a: findings(first: 2) { nodes { id } } b: findings(first: 3) { nodes { id } } } } }"#;
        let data = app.data(&token, mixed, json!({})).await;
        for permit in data["permits"]["nodes"].as_array().into_iter().flatten() {
            let a = permit["a"]["nodes"].as_array().cloned().unwrap_or_default();
            let b = permit["b"]["nodes"].as_array().cloned().unwrap_or_default();
            assert!(a.len() <= 2 && b.len() <= 3);
            assert_eq!(a[..], b[..a.len()], "the same newest findings");
        }
    }
);

const PERMIT_FIELDS: &str = r#"
  id permitNumber status validTo
  unit { id creditCode name legalRepresentative contactPhone address industryCode
         managementCategory creditLevel positiveList positiveListReason positiveListExpiresOn
         longitude latitude version createdAt updatedAt }
  outlets { id code medium category name sinceVersion retiredInVersion
            limits { id outletId pollutant concentrationLimit concentrationUnit averagingPeriod
                     annualQuantityTpa sinceVersion retiredInVersion } }
  limits { id pollutant concentrationLimit }
"#;

const FINDING_FIELDS: &str = r#"
  id foundOn status severity category description pollutant measuredValue measuredUnit
  permittedValue rectificationDeadline version createdAt updatedAt
"#;

db_test!(planned_rows_read_as_loaded_ones, |app| {
    app.seed_demo(300).await;
    // The district with the most findings, for a district principal.
    let supervisor = app.token(Role::Supervisor, None);
    let busiest = busiest_district(&app, &supervisor).await;
    for (role, district) in [
        (Role::Supervisor, None),
        (Role::EnforcementOfficer, Some(busiest.as_str())),
        (Role::Integrator, None),
    ] {
        let token = app.token(role, district);
        // Loaded: the permits of findings, through the permit DataLoader.
        let loaded = app
            .data(
                &token,
                &format!(
                    "{{ findings(first: 50) {{ nodes {{ {FINDING_FIELDS}
                         permit {{ {PERMIT_FIELDS} }} }} }} }}"
                ),
                json!({}),
            )
            .await;
        let nodes = loaded["findings"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            nodes.len() >= 5,
            "{role:?}: enough findings ({})",
            nodes.len()
        );
        let mut compared = 0;
        for node in nodes.iter().filter(|n| !n["permit"].is_null()).take(25) {
            let permit = &node["permit"];
            // Planned: the same permit by number, its children read with it.
            let planned = app
                .data(
                    &token,
                    &format!(
                        "query($n: String!) {{ permitByNumber(permitNumber: $n) {{ {PERMIT_FIELDS}
                           findings(first: 50) {{ nodes {{ {FINDING_FIELDS} }} }} }} }}"
                    ),
                    json!({ "n": permit["permitNumber"] }),
                )
                .await;
            let planned = &planned["permitByNumber"];
            for key in ["id", "unit", "outlets", "limits"] {
                assert_eq!(
                    planned[key], permit[key],
                    "{role:?} {key} of {}",
                    permit["id"]
                );
            }
            // The finding, read by the root list, among its permit's planned findings.
            let mut finding = node.clone();
            finding.as_object_mut().map(|f| f.remove("permit"));
            let listed = planned["findings"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(
                listed.contains(&finding) || listed.len() == 50,
                "{role:?}: finding {} among its permit's",
                finding["id"]
            );
            compared += 1;
        }
        assert!(compared >= 3, "{role:?}: compared {compared} permits");
    }
});

// The scope of a planned child is the child's own: an integrator's planned findings are the
// closed ones only, as in the root list.
db_test!(planned_findings_keep_the_finding_scope, |app| {
    app.seed_demo(300).await;
    let token = app.token(Role::Integrator, None);
    let data = app
        .data(
            &token,
            "{ permits(first: 100) { nodes { findings(first: 20) { nodes { status } } } } }",
            json!({}),
        )
        .await;
    let statuses: Vec<Value> = data["permits"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            p["findings"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|f| f["status"].clone())
        .collect();
    assert!(!statuses.is_empty(), "closed findings exist in the seed");
    assert!(statuses.iter().all(|s| s == "CLOSED"), "{statuses:?}");
});

// M1 of the benchmark: a finding recorded with an idempotency key. In its transaction: the
// key's lock (PostgreSQL) and lookup, the inspection with its unit, the unit's permits, their
// versions, the finding with its pattern cell's upsert (one statement on PostgreSQL; the code
// comes from the reference tables in memory), the unit count that must follow the upsert (see
// `pattern_cells`), then the transition, feed, audit and key rows (one statement on
// PostgreSQL): 8 there, 11 on SQLite. The subscribers' wake-up is the feed's trigger, inside
// the feed's insert (it was a NOTIFY after the commit). It was 15 and 14 in session 8.
// Background statements of the server can add one to a run: the fewest of three counts.
db_test!(
    recording_a_finding_costs_a_fixed_number_of_statements,
    |app| {
        app.seed_demo(300).await;
        let token = app.token(Role::EnforcementOfficer, None);
        let finding = permit_violation(&app, &token).await;
        let mut counts = Vec::new();
        for n in 0..3 {
            let variables = json!({ "key": format!("statements-{n}"), "input": {
            "inspectionId": finding["inspection"]["id"], "permitId": finding["permit"]["id"],
            "code": finding["code"]["code"], "severity": "GENERAL", "description": "counted" } });
            let before = app.db.statement_count();
            let data = app.data(&token, &operation("M1"), variables).await;
            assert_eq!(data["recordFinding"]["status"], "OPEN");
            counts.push(app.db.statement_count() - before);
        }
        let fewest = counts.iter().copied().min().unwrap_or(u64::MAX);
        let postgres = app.db.conn.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
        let expected = if postgres { 8 } else { 11 };
        assert!(fewest <= expected, "recordFinding: {counts:?} statements");
    }
);

/// A finding on a permit under a code other than EX-1 (which would need a measurement).
async fn permit_violation(app: &TestApp, token: &str) -> Value {
    let sample = app
        .data(
            token,
            "{ findings(first: 50, filter: { category: PERMIT_VIOLATION }) { nodes {
                code { code } permit { id } inspection { id } } } }",
            json!({}),
        )
        .await;
    sample["findings"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"]["code"] != "EX-1" && !f["permit"].is_null())
        .cloned()
        .expect("a permit violation other than EX-1")
}

// Plain fields (answered inline, `graphql::plain`) answer as async-graphql's own resolution
// does: the same selection through fragments takes that path, and the data must be the same.
db_test!(plain_fields_answer_as_fragments_do, |app| {
    app.seed_demo(300).await;
    let plain = format!(
        "{{ permits(first: 30) {{ edges {{ node {{ __typename renewalDue v: version {PERMIT_FIELDS}
             findings(first: 3) {{ nodes {{ __typename {FINDING_FIELDS} unit {{ id name }} }} }}
           }} }} }} }}"
    );
    let through_fragments = format!(
        "{{ permits(first: 30) {{ edges {{ node {{ ...permit
             findings(first: 3) {{ nodes {{ ... on Finding {{ __typename {FINDING_FIELDS}
                                                          unit {{ ... on Unit {{ id name }} }} }} }} }}
           }} }} }} }}
         fragment permit on Permit {{ __typename renewalDue v: version {PERMIT_FIELDS} }}"
    );
    // A response key given twice goes the fragment way too.
    let repeated = "{ permits(first: 30) { edges { node { id id: id unit { name name } } } } }";
    for (role, district) in [
        (Role::Supervisor, None),
        (Role::EnforcementOfficer, Some("500103")),
        (Role::Integrator, None),
    ] {
        let token = app.token(role, district);
        let inline = app.data(&token, &plain, json!({})).await;
        let edges = inline["permits"]["edges"].as_array().map(Vec::len);
        assert!(edges.unwrap_or(0) > 0, "{role:?}: permits to compare");
        assert!(
            inline.to_string().contains("\"findings\":{\"nodes\":[{"),
            "{role:?}: findings to compare"
        );
        let fragments = app.data(&token, &through_fragments, json!({})).await;
        assert_eq!(inline, fragments, "{role:?}");
        let twice = app.data(&token, repeated, json!({})).await;
        let node = &twice["permits"]["edges"][0]["node"];
        assert_eq!(node["id"], inline["permits"]["edges"][0]["node"]["id"]);
        assert_eq!(
            node["unit"]["name"],
            inline["permits"]["edges"][0]["node"]["unit"]["name"]
        );
    }
});
