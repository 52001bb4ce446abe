//! The contract's conventions, everywhere (issue 14): unbounded lists are Relay connections that
//! page to the end with cursors and count what the caller may read, times are RFC 3339 answered
//! in the service's zone (+08:00) and taken in any offset, and every enum value carries its
//! Chinese label in the SDL.

use chrono::{DateTime, Duration, FixedOffset};
use permit_core::auth::Role;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures::register_unit;
use crate::helpers::{Backend, TestApp, error_code};

/// Lists that may stay plain lists, each bounded by the domain (the reason beside it). Any other
/// list field is a connection; a new plain list fails `every_unbounded_list_is_a_connection`.
const BOUNDED_LISTS: &[(&str, &str)] = &[
    ("AuditEvent.recordIds", "the records of one request"),
    ("Bulletin.acknowledgedBy", "one row per addressed agency"),
    ("Bulletin.audienceAgencies", "the city's agencies"),
    ("Bulletin.audienceDistricts", "the city's districts"),
    ("Bulletin.audienceRoles", "the six roles"),
    ("Bulletin.cases", "at most 50 links a bulletin"),
    ("Bulletin.notAcknowledged", "the city's agencies"),
    ("Campaign.missingSummaryReports", "the city's districts"),
    ("Campaign.phases", "a campaign's few phases"),
    ("Campaign.samplingRules", "one per category and period"),
    ("Campaign.summaryReports", "one per district"),
    ("CampaignCoverage.districts", "the city's districts"),
    ("CampaignSummary.byCategory", "the four categories"),
    ("CampaignSummary.byCode", "the violation codes"),
    ("ChangeFeed.edges", "the feed's own page (`first`)"),
    ("Feedback.codes", "the violation codes"),
    ("Feedback.findings", "the findings it was posted with"),
    ("Feedback.permitChanges", "the changes named in one answer"),
    ("Finding.actions", "a case's decisions"),
    ("Finding.evidence", "a finding's exhibits"),
    ("Finding.files", "a finding's uploaded exhibits"),
    ("Finding.history", "a lifecycle's few transitions"),
    (
        "Finding.readings",
        "the readings of the candidate it confirms",
    ),
    ("Hj212IngestResult.refused", "one row per refusal reason"),
    ("Inspection.checklist", "one inspection's checklist"),
    ("Inspection.files", "one inspection's uploaded exhibits"),
    ("Inspection.findings", "one inspection's findings"),
    ("Inspection.inspectors", "one inspection's team"),
    ("Inspection.materialsReviewed", "one inspection's materials"),
    ("Outlet.limits", "one outlet's pollutants"),
    ("Outlet.monitoring", "one outlet's pollutants"),
    (
        "Permit.executionReports",
        "a permit's reports over at most five years",
    ),
    ("Permit.limits", "one permit's pollutants"),
    (
        "Permit.monitoringRequirements",
        "one permit's outlets and pollutants",
    ),
    (
        "Inspection.ledgerChecks",
        "at most `ledgers::MAX_PER_INSPECTION` an inspection",
    ),
    ("Permit.outlets", "one permit's outlets"),
    ("Permit.reportDuties", "the four report frequencies"),
    (
        "Permit.versions",
        "a permit's changes over at most five years",
    ),
    ("Query.districts", "reference data: the city's districts"),
    ("Query.violationCodes", "reference data: the taxonomy"),
    (
        "Query.violationPatterns",
        "grouped figures, capped by `limit`",
    ),
    ("RandomDraw.items", "fixed when drawn: the draw's count"),
    ("RandomDrawItem.inspectors", "one unit's team"),
    ("Unit.permits", "a unit's permits, one valid at a time"),
    (
        "Unit.registrations",
        "a unit's registrations, one valid at a time",
    ),
];

const TYPES: &str = r#"{ __schema { types { kind name
  fields { name type { kind ofType { kind ofType { kind } } } }
  enumValues { name description } } } }"#;

async fn schema_types(app: &TestApp) -> Vec<Value> {
    let token = app.token(Role::Admin, None);
    let data = app.data(&token, TYPES, json!({})).await;
    data["__schema"]["types"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn every_unbounded_list_is_a_connection() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut plain = Vec::new();
    for t in schema_types(&app).await {
        let name = t["name"].as_str().unwrap_or_default();
        if t["kind"] != "OBJECT" || name.starts_with("__") || name.ends_with("Connection") {
            continue;
        }
        for field in t["fields"].as_array().into_iter().flatten() {
            let ty = &field["type"];
            let unwrapped = if ty["kind"] == "NON_NULL" {
                &ty["ofType"]
            } else {
                ty
            };
            if unwrapped["kind"] == "LIST" {
                plain.push(format!("{name}.{}", field["name"].as_str().unwrap_or("")));
            }
        }
    }
    let unbounded: Vec<&String> = plain
        .iter()
        .filter(|f| !BOUNDED_LISTS.iter().any(|(allowed, _)| allowed == f))
        .collect();
    assert!(
        unbounded.is_empty(),
        "plain lists that are not bounded by the domain (make them connections): {unbounded:?}"
    );
    // The allowance lists only fields that exist, so it cannot hide a renamed one.
    for (allowed, _) in BOUNDED_LISTS {
        assert!(plain.iter().any(|f| f == allowed), "{allowed} is gone");
    }
}

#[tokio::test]
async fn every_enum_value_carries_its_chinese_label() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut unlabelled = Vec::new();
    for t in schema_types(&app).await {
        let name = t["name"].as_str().unwrap_or_default();
        if t["kind"] != "ENUM" || name.starts_with("__") {
            continue;
        }
        for value in t["enumValues"].as_array().into_iter().flatten() {
            let description = value["description"].as_str().unwrap_or("");
            if !description
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            {
                unlabelled.push(format!("{name}.{}", value["name"].as_str().unwrap_or("")));
            }
        }
    }
    assert!(unlabelled.is_empty(), "no Chinese label: {unlabelled:?}");
}

db_test!(
    times_are_answered_in_utc_plus_8_and_taken_in_any_offset,
    |app| {
        let unit = register_unit(&app, "500103", 8801, "时区测试单位", "KEY").await;
        let token = app.token(Role::Admin, None);
        let read = "query($id: ID!, $at: DateTime) { unit(id: $id, asOf: $at) { id createdAt } }";
        let now = app
            .data(&token, read, json!({ "id": unit["id"], "at": null }))
            .await;
        let created = now["unit"]["createdAt"].as_str().expect("createdAt");
        assert!(created.ends_with("+08:00"), "{created}");
        let created: DateTime<FixedOffset> =
            DateTime::parse_from_rfc3339(created).expect("RFC 3339");
        // The same instant in New York's winter offset reads the unit; an hour before it, not yet.
        let new_york = FixedOffset::west_opt(5 * 3600).expect("offset");
        let later = (created + Duration::seconds(1)).with_timezone(&new_york);
        let seen = app
            .data(
                &token,
                read,
                json!({ "id": unit["id"], "at": later.to_rfc3339() }),
            )
            .await;
        assert_eq!(seen["unit"]["id"], unit["id"], "{seen}");
        let before = (created - Duration::hours(1)).with_timezone(&new_york);
        let unseen = app
            .data(
                &token,
                read,
                json!({ "id": unit["id"], "at": before.to_rfc3339() }),
            )
            .await;
        assert!(unseen["unit"].is_null(), "{unseen}");
        // No offset is no instant.
        let bare = app
            .gql(
                Some(&token),
                read,
                json!({ "id": unit["id"], "at": "2026-12-03T10:00:00" }),
            )
            .await;
        assert_eq!(error_code(&bare), Some("BAD_USER_INPUT"), "{bare}");
    }
);

/// Walks a connection with `first`/`after` to its end; returns each node's `field` and the
/// `totalCount` of the first page.
async fn walk(
    app: &TestApp,
    token: &str,
    query: &str,
    path: &[&str],
    field: &str,
) -> (Vec<Value>, u64) {
    let mut after = Value::Null;
    let mut seen = Vec::new();
    let mut total = None;
    for _ in 0..200 {
        let data = app.data(token, query, json!({ "after": after })).await;
        let connection = path.iter().fold(&data, |v, key| &v[key]);
        total.get_or_insert(connection["totalCount"].as_u64().expect("totalCount"));
        for node in connection["nodes"].as_array().into_iter().flatten() {
            seen.push(node[field].clone());
        }
        if connection["pageInfo"]["hasNextPage"] != true {
            return (seen, total.unwrap_or(0));
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    panic!("{query} did not end");
}

/// Agencies, ordered by a natural key: every one, once, in code order.
async fn agencies_page_in_code_order(app: &TestApp, admin: &str) {
    let (codes, total) = walk(
        app,
        admin,
        "query($after: String) { agencies(first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { code } } }",
        &["agencies"],
        "code",
    )
    .await;
    let expected = app.scalar_i64("SELECT COUNT(*) FROM agencies").await;
    assert_eq!(total, expected as u64);
    assert_eq!(codes.len() as i64, expected);
    let mut sorted = codes.clone();
    sorted.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    sorted.dedup();
    assert_eq!(sorted, codes, "in code order, none twice");
}

db_test!(lists_page_to_the_end_and_count_what_they_list, |app| {
    app.seed_demo(60).await;
    let admin = app.token(Role::Admin, None);
    // A natural key orders agencies: every one, once, in code order.
    agencies_page_in_code_order(&app, &admin).await;
    // The documented cap.
    let over = app
        .gql(
            Some(&admin),
            "{ agencies(first: 101) { nodes { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&over), Some("BAD_USER_INPUT"), "{over}");
    // Inspectors and campaigns by their own keys.
    let (inspectors, total) = walk(
        &app,
        &admin,
        "query($after: String) { inspectors(first: 9, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }",
        &["inspectors"],
        "id",
    )
    .await;
    let expected = app.scalar_i64("SELECT COUNT(*) FROM inspectors").await;
    assert_eq!(
        (inspectors.len() as i64, total as i64),
        (expected, expected)
    );
    let (campaigns, total) = walk(
        &app,
        &admin,
        "query($after: String) { campaigns(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }",
        &["campaigns"],
        "id",
    )
    .await;
    let expected = app.scalar_i64("SELECT COUNT(*) FROM campaigns").await;
    assert_eq!((campaigns.len() as i64, total as i64), (expected, expected));
    // A nested connection pages on from its own cursors, the same as the root list's.
    let unit_id = app
        .scalar_i64(
            "SELECT unit_id FROM inspections GROUP BY unit_id HAVING COUNT(*) >= 3 ORDER BY unit_id LIMIT 1",
        )
        .await;
    let inspections = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM inspections WHERE unit_id = {unit_id}"
        ))
        .await;
    let backend = app.db.conn.get_database_backend();
    let credit_code: String = app
        .db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            format!("SELECT credit_code FROM units WHERE id = {unit_id}"),
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index(0)
        .expect("text");
    let nested = format!(
        "query($after: String) {{ unitByCreditCode(creditCode: \"{credit_code}\") {{ inspections(first: 2, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ id }} }} }} }}"
    );
    let (pages, total) = walk(
        &app,
        &admin,
        &nested,
        &["unitByCreditCode", "inspections"],
        "id",
    )
    .await;
    assert_eq!(
        (pages.len() as i64, total as i64),
        (inspections, inspections)
    );
    let unit_gql_id = app
        .data(
            &admin,
            &format!("{{ unitByCreditCode(creditCode: \"{credit_code}\") {{ id }} }}"),
            json!({}),
        )
        .await["unitByCreditCode"]["id"]
        .clone();
    let root = app
        .data(
            &admin,
            "query($u: ID) { inspections(first: 100, filter: { unitId: $u }) { nodes { id } } }",
            json!({ "u": unit_gql_id }),
        )
        .await;
    let root: Vec<Value> = root["inspections"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| n["id"].clone())
        .collect();
    assert_eq!(
        pages, root,
        "the nested pages are the root list's, in its order"
    );
    // Bulletins and the audit trail page too (newest first); the seed's history went through
    // the domain, so the trail has a row for each of its writes.
    let (events, _) = walk(
        &app,
        &admin,
        "query($after: String) { auditEvents(first: 50, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }",
        &["auditEvents"],
        "id",
    )
    .await;
    let mut distinct = events.clone();
    distinct.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    distinct.dedup();
    assert_eq!(distinct.len(), events.len(), "no event twice");
});
