//! The scope oracle: walks the schema by introspection from every root query field to a bounded
//! depth, asks for every object as each kind of caller, and checks every object and string that
//! comes back against the database, by rules stated here independently of the service's policy.
//! It knows no paths: a field added later is walked, and its objects checked, without editing
//! this test.
//!
//! Checked for every object with an id (decoded from the opaque `Type:number`): district scope
//! of units, permits, inspections, findings and actions; closed findings only for integrators;
//! unpublished draws only for the drawing district, supervision and ADMIN; inspectors only of
//! the caller's district or municipal agencies, and none for integrators; feedback only for its
//! parties and supervision in scope; audit events only of the caller's district's agencies.
//! Checked on every string: no personal data for integrators and monitoring, no official's
//! subject for integrators, no other district's inspector certificate number for a district
//! caller; and an integrator's inspection with an open finding carries no free text.

use permit_api::config::Limits;
use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

mod ground_truth;
mod rules;
mod walker;

use ground_truth::{rows, text, truth};
use rules::{Caller, decode, leaks};
use walker::{INTROSPECTION, Pool, Schema, parse_schema, root_queries};

/// Oracle servers walk large documents: the document limits are out of the way (they have
/// tests of their own).
fn walking_limits() -> Limits {
    Limits {
        max_depth: 64,
        max_complexity: usize::MAX / 4,
        max_tokens: 1_000_000,
        max_document_chars: 10_000_000,
        max_body_bytes: 50_000_000,
        max_aliases: 1000,
        rate_per_second: 1_000_000.0,
        rate_burst: 1_000_000.0,
        request_timeout: std::time::Duration::from_secs(60),
        ..Limits::default()
    }
}

/// Data the demo seed has none of: an unpublished draw, feedback, and bulletins with cases.
async fn add_liaison_data(app: &TestApp, a: &str, b: &str) {
    for district in [a, b] {
        let enforcement = app.token(Role::EnforcementOfficer, Some(district));
        let draw = app
            .gql(
                Some(&enforcement),
                "mutation($d: String) { drawRandomInspections(input: { category: SIMPLIFIED, count: 2, districtCode: $d }) { id } }",
                json!({ "d": district }),
            )
            .await;
        assert!(draw.get("errors").is_none(), "draw in {district}: {draw}");
        let finding = app
            .data(
                &enforcement,
                "{ findings(first: 1) { edges { node { id code { code } } } } }",
                json!({}),
            )
            .await;
        let node = &finding["findings"]["edges"][0]["node"];
        upload_evidence(app, district, node["id"].as_str().expect("finding id")).await;
        let posted = app
            .gql(
                Some(&enforcement),
                "mutation($a: String!, $c: String!, $f: ID!, $d: String) { postFeedback(input: {
                   addressedAgencyCode: $a, codes: [$c], district: $d, findingIds: [$f],
                   periodFrom: \"2020-01-01\", periodTo: \"2030-12-31\",
                   recommendation: TIGHTEN_PERMIT_CONDITION, recommendationText: \"limits too loose\" }) { id } }",
                json!({ "a": format!("{district}-PMT"), "c": node["code"]["code"], "f": node["id"], "d": district }),
            )
            .await;
        assert!(
            posted.get("errors").is_none(),
            "feedback in {district}: {posted}"
        );
        let bulletin = app
            .gql(
                Some(&enforcement),
                "mutation($d: String!, $f: ID!) { publishBulletin(input: { kind: GENERAL,
                   title: \"通报\", body: \"本区检查情况\", audience: { districts: [$d] },
                   findingIds: [$f] }) { id } }",
                json!({ "d": district, "f": node["id"] }),
            )
            .await;
        assert!(
            bulletin.get("errors").is_none(),
            "bulletin in {district}: {bulletin}"
        );
    }
}

/// An evidence file of the finding and one of its inspection, uploaded by the district's
/// officer (through the domain: the walk lists them, it does not download them).
async fn upload_evidence(app: &TestApp, district: &str, finding: &str) {
    use permit_core::domain::evidence::{self, Target, Upload};
    let (_, finding) = decode(finding).expect("a finding id");
    let inspection = app
        .scalar_i64(&format!(
            "SELECT inspection_id FROM findings WHERE id = {finding}"
        ))
        .await;
    let officer = permit_core::auth::Principal {
        subject: format!("enforcement_officer@{district}"),
        role: Role::EnforcementOfficer,
        agency_code: Some(format!("{district}-ENF")),
        district: Some(
            permit_core::domain::codes::DistrictCode::parse(district).expect("district"),
        ),
        request: Default::default(),
    };
    let store = permit_core::storage::EvidenceStore::open("memory:").expect("store");
    let content = bytes::Bytes::from_static(b"%PDF-1.7 monitoring printout");
    let sha256: String = <sha2::Sha256 as sha2::Digest>::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for target in [Target::Finding(finding), Target::Inspection(inspection)] {
        evidence::upload(
            &app.db.conn,
            &store,
            Some(&officer),
            Upload {
                target,
                file_name: format!("监测报告-{district}.pdf"),
                declared_type: None,
                content: content.clone(),
                sha256: sha256.clone(),
                captured_at: None,
            },
            1 << 20,
        )
        .await
        .expect("upload");
    }
}

async fn walk(app: &TestApp, schema: &Schema, pool: &Pool, token: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for query in root_queries(schema, pool) {
        let body = app.gql(Some(token), &query, json!({})).await;
        out.push((query, body));
    }
    out
}

async fn oracle(app: TestApp) {
    app.seed_demo(120).await;
    // The two districts with most units.
    let busiest = rows(
        &app,
        "SELECT district_code FROM units GROUP BY district_code ORDER BY COUNT(*) DESC, district_code LIMIT 2",
    )
    .await;
    let a = text(&busiest[0], 0).expect("a district");
    let b = text(&busiest[1], 0).expect("another district");
    add_liaison_data(&app, &a, &b).await;

    let admin = app.token(Role::Admin, None);
    let introspection = app.data(&admin, INTROSPECTION, json!({})).await;
    let schema = parse_schema(&introspection);
    let mut pool = Pool {
        districts: vec![a.clone(), b.clone()],
        ..Pool::default()
    };
    // Two rounds: lists first, then the lookups their ids make possible.
    for _ in 0..2 {
        for (_, body) in walk(&app, &schema, &pool, &admin).await {
            pool.learn(&body["data"]);
        }
    }
    for kind in [
        "Unit",
        "Permit",
        "Inspection",
        "Finding",
        "RandomDraw",
        "Feedback",
        "EvidenceFile",
    ] {
        assert!(
            pool.ids.get(kind).is_some_and(|ids| !ids.is_empty()),
            "the administrator's walk found no {kind}: the oracle would check nothing"
        );
    }
    let truth = truth(&app).await;

    let callers = [
        (Role::EnforcementOfficer, Some(a.as_str())),
        (Role::EnforcementOfficer, Some(b.as_str())),
        (Role::PermitOfficer, Some(a.as_str())),
        (Role::EnforcementOfficer, None),
        (Role::Integrator, None),
        (Role::Monitoring, None),
        (Role::Supervisor, Some(a.as_str())),
        (Role::Admin, Some(b.as_str())),
    ];
    let mut found = Vec::new();
    let mut objects = 0usize;
    for (role, district) in callers {
        let token = app.token(role, district);
        let caller = Caller {
            label: format!("{} {}", role.as_str(), district.unwrap_or("municipal")),
            role,
            district: district.map(str::to_owned),
            agency: match role {
                Role::PermitOfficer => Some(format!("{}-PMT", district.unwrap_or("500000"))),
                Role::EnforcementOfficer => Some(format!("{}-ENF", district.unwrap_or("500000"))),
                Role::Supervisor => Some("500000-SUP".to_owned()),
                Role::Monitoring => Some("500000-MON".to_owned()),
                _ => None,
            },
            subject: format!(
                "{}@{}",
                role.as_str().to_lowercase(),
                district.unwrap_or("municipal")
            ),
        };
        for (query, body) in walk(&app, &schema, &pool, &token).await {
            for error in body["errors"].as_array().into_iter().flatten() {
                let code = error["extensions"]["code"].as_str();
                assert!(
                    code.is_some() && code != Some("INTERNAL_SERVER_ERROR"),
                    "{}: {query}\n{error}",
                    caller.label
                );
            }
            objects += body.to_string().matches("__typename").count();
            let mut leaked = Vec::new();
            leaks(&caller, &truth, &body["data"], "data", &mut leaked);
            for leak in leaked.into_iter().take(3) {
                found.push(format!(
                    "{}: {leak}\n  in {}",
                    caller.label,
                    &query[..query.len().min(120)]
                ));
            }
        }
    }
    assert!(objects > 1000, "the walk returned only {objects} objects");
    assert!(
        found.is_empty(),
        "{} leaks:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_out_of_scope_reaches_any_caller_sqlite() {
    oracle(TestApp::spawn_with_limits(Backend::Sqlite, walking_limits()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_out_of_scope_reaches_any_caller_postgres() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        oracle(TestApp::spawn_with_limits(Backend::Postgres, walking_limits()).await).await;
    }
}
