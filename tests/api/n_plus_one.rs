//! No N+1: a page of permits with unit, outlets and limits costs the same number of SQL
//! statements whatever the page size.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;

const PAGE: &str = r#"query($n: Int!) {
  permits(first: $n) {
    totalCount
    edges { node {
      permitNumber status
      unit { creditCode name district { name } permits { permitNumber } }
      issuingAgency { name }
      outlets { code limits { pollutant concentrationLimit } }
      limits { pollutant }
      versions { version }
    } }
  }
}"#;

db_test!(statements_do_not_grow_with_the_page, |app| {
    app.seed_demo(400).await;
    let token = app.token(Role::Supervisor, None);
    let sizes = [json!({ "n": 10 }), json!({ "n": 100 })];
    let counts = app
        .small_and_large_page_costs(&token, PAGE, sizes, |asked, data| {
            let edges = data["permits"]["edges"].as_array().map(Vec::len);
            assert_eq!(
                edges,
                asked["n"].as_u64().map(|n| n as usize),
                "the seed has enough permits"
            );
        })
        .await;
    // Constant in the page size: a query per row would add 90 statements here.
    assert!(
        counts[1] <= counts[0] + 1,
        "statements for 10 vs 100 permits: {counts:?}"
    );
    assert!(
        counts[1] <= 12,
        "a handful of batched statements, got {}",
        counts[1]
    );
});

const FINDINGS_PAGE: &str = r#"query($n: Int!) {
  findings(first: $n) {
    totalCount
    edges { node {
      code { code article }
      status foundOn
      permit { permitNumber status }
      unit { creditCode name district { name } }
      district { code }
      inspection { date inspectors { name } }
      actions { kind decisionNumber amountYuan }
      history { to }
    } }
  }
}"#;

db_test!(finding_pages_cost_the_same_whatever_their_size, |app| {
    app.seed_demo(800).await;
    let token = app.token(Role::Supervisor, None);
    let total = app.scalar_i64("SELECT COUNT(*) FROM findings").await;
    assert!(
        total >= 100,
        "the demo seed records enough findings ({total})"
    );
    // Pages big enough that every nested kind occurs (a page of NP-1 findings alone would
    // skip the permit loader and look cheaper without proving anything).
    let sizes = [json!({ "n": 40 }), json!({ "n": 100 })];
    let counts = app
        .small_and_large_page_costs(&token, FINDINGS_PAGE, sizes, |asked, data| {
            let edges = data["findings"]["edges"].as_array().map(Vec::len);
            assert_eq!(edges, asked["n"].as_u64().map(|n| n as usize));
        })
        .await;
    // Constant in the page size: a query per row would add 60 statements here.
    assert!(
        counts[1] <= counts[0] + 1,
        "statements for 40 vs 100 findings: {counts:?}"
    );
    assert!(
        counts[1] <= 16,
        "a handful of batched statements, got {}",
        counts[1]
    );
});

// Districts, agencies and violation codes come from the instance's copy of the reference
// tables: asking for them on every row of a page adds no statement at all.
db_test!(reference_fields_cost_no_statements, |app| {
    app.seed_demo(200).await;
    let token = app.token(Role::Supervisor, None);
    let bare = r#"{ findings(first: 50) { edges { node { status } } } }"#;
    let with_reference = r#"{ findings(first: 50) { edges { node {
        status code { code article labelZh } district { code name }
    } } }
    violationPatterns(groupBy: [DISTRICT, CODE]) { findings }
    }"#;
    let patterns_only = r#"{ violationPatterns(groupBy: [DISTRICT, CODE]) {
        findings district { code name } code { code article } } }"#;
    let fewest = |query: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let mut fewest = u64::MAX;
            for _ in 0..3 {
                let before = app.db.statement_count();
                let data = app.data(&token, query, json!({})).await;
                assert!(data.is_object());
                fewest = fewest.min(app.db.statement_count() - before);
            }
            fewest
        }
    };
    let bare = fewest(bare).await;
    let with_reference = fewest(with_reference).await;
    let patterns_only = fewest(patterns_only).await;
    // The patterns' own statement (the cells) is the only one the second query adds.
    assert_eq!(
        with_reference,
        bare + 1,
        "reference fields on 50 rows: {bare} → {with_reference}"
    );
    assert_eq!(patterns_only, 1, "patterns with district and code names");
    // Their open candidates are one more statement, whatever the number of groups.
    let with_candidates = fewest(
        "{ violationPatterns(groupBy: [DISTRICT, CODE]) { findings openCandidates district { code } } }",
    )
    .await;
    assert_eq!(with_candidates, 2, "patterns with their open candidates");
});

// A permit's `findings(first: n)` on a page of permits (one batched statement for all of them)
// gives each permit its own n newest, as the top-level `findings` filtered to that permit does.
db_test!(batched_newest_findings_match_each_permits_own, |app| {
    app.seed_demo(300).await;
    let token = app.token(Role::Supervisor, None);
    let page = app
        .data(
            &token,
            "{ permits(first: 40) { edges { node { permitNumber findings(first: 3) { nodes { id }} } } } }",
            json!({}),
        )
        .await;
    let edges = page["permits"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(edges.len(), 40);
    let mut with_findings = 0;
    for edge in edges {
        let number = &edge["node"]["permitNumber"];
        let batched = &edge["node"]["findings"]["nodes"];
        let own = app
            .data(
                &token,
                "query($n: String) { findings(first: 3, filter: { permitNumber: $n }) { edges { node { id } } } }",
                json!({ "n": number }),
            )
            .await;
        let own: Vec<Value> = own["findings"]["edges"]
            .as_array()
            .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(batched.as_array(), Some(&own), "permit {number}");
        with_findings += usize::from(!own.is_empty());
    }
    assert!(
        with_findings >= 10,
        "enough permits have findings ({with_findings})"
    );
});

const CAMPAIGN_DRAWS: &str = r#"query($n: Int!) {
  campaigns(first: $n) {
    nodes { id name randomDraws(first: 2) { totalCount pageInfo { hasNextPage } nodes { id seed } } }
  }
}"#;

const DRAWS_OF_CAMPAIGN: &str = r#"query($campaign: ID!) {
  randomDraws(campaignId: $campaign, first: 2) {
    totalCount pageInfo { hasNextPage } nodes { id seed }
  }
}"#;

db_test!(campaign_draws_are_batched_and_match_the_root_list, |app| {
    app.seed_demo(400).await;
    let token = app.token(Role::Supervisor, None);
    let all = app.data(&token, CAMPAIGN_DRAWS, json!({ "n": 100 })).await;
    let campaigns = all["campaigns"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(campaigns.len() >= 2, "the demo has campaigns: {all}");
    assert!(
        campaigns
            .iter()
            .any(|c| c["randomDraws"]["totalCount"].as_u64().unwrap_or(0) > 0),
        "the demo's campaigns have draws: {all}"
    );
    // Each campaign's nested first page is the root list's, filtered to it.
    for campaign in &campaigns {
        let root = app
            .data(
                &token,
                DRAWS_OF_CAMPAIGN,
                json!({ "campaign": campaign["id"] }),
            )
            .await;
        assert_eq!(
            campaign["randomDraws"], root["randomDraws"],
            "{}",
            campaign["name"]
        );
    }
    // One statement for the draws and one for their counts, whatever the number of campaigns.
    let sizes = [json!({ "n": 1 }), json!({ "n": campaigns.len() })];
    let counts = app
        .small_and_large_page_costs(&token, CAMPAIGN_DRAWS, sizes, |_, _| {})
        .await;
    assert!(
        counts[1] <= counts[0] + 1,
        "statements for 1 vs {} campaigns: {counts:?}",
        campaigns.len()
    );
});

// A page of readings with their outlet (and its plan and limits), permit (and its duties) and
// unit: one batched statement per nested field, whatever the page size.
const READINGS_PAGE: &str = r#"query($n: Int!) {
  readings(first: $n) {
    totalCount
    edges { node {
      pollutant value measuredAt flag
      outlet { code monitoring { pollutant method frequency } limits { pollutant concentrationLimit } }
      permit { permitNumber reportDuties { frequency } monitoringRequirements { pollutant } }
      unit { creditCode name district { name } }
      district { code }
    } }
  }
}"#;

db_test!(reading_pages_cost_the_same_whatever_their_size, |app| {
    app.seed_demo(400).await;
    let token = app.token(Role::Supervisor, None);
    let permits = app
        .scalar_i64("SELECT COUNT(DISTINCT permit_id) FROM readings")
        .await;
    assert!(
        permits >= 10,
        "the demo seed has readings of many permits ({permits})"
    );
    let sizes = [json!({ "n": 10 }), json!({ "n": 100 })];
    let counts = app
        .small_and_large_page_costs(&token, READINGS_PAGE, sizes, |asked, data| {
            let edges = data["readings"]["edges"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(Some(edges.len() as u64), asked["n"].as_u64());
            assert!(edges.iter().all(|e| !e["node"]["permit"].is_null()));
        })
        .await;
    assert!(
        counts[1] <= counts[0] + 1,
        "statements for 10 vs 100 readings: {counts:?}"
    );
    assert!(
        counts[1] <= 12,
        "a handful of batched statements, got {}",
        counts[1]
    );
});
