//! Persisted operations: automatic persisted queries (register once, then send the hash), and
//! roles limited to the reviewed operations of the manifest.

use std::sync::Arc;

use permit_api::persisted::{PersistedOperations, sha256_hex};
use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_code};

const REVIEWED: &str = "query ReviewedDistricts { districts { code } }";

fn manifest() -> String {
    json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{
            "id": sha256_hex(REVIEWED), "name": "ReviewedDistricts", "type": "query", "body": REVIEWED
        }]
    })
    .to_string()
}

async fn spawn() -> TestApp {
    let persisted =
        PersistedOperations::new(Some(&manifest()), "INTEGRATOR").expect("persisted operations");
    TestApp::spawn_configured(Backend::Sqlite, move |config| {
        config.persisted = Arc::new(persisted)
    })
    .await
}

fn persisted_query(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_persisted_queries_register_then_run_by_hash() {
    let app = spawn().await;
    let token = app.token(Role::Supervisor, None);
    let query = "query Me { me { role } }";
    let hash = sha256_hex(query);

    // Unknown hash: the APQ answer that makes a client resend with the document.
    let (status, body) = post(
        &app,
        &token,
        json!({ "extensions": persisted_query(&hash) }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    let (_, body) = post(
        &app,
        &token,
        json!({ "query": query, "extensions": persisted_query(&hash) }),
    )
    .await;
    assert_eq!(body["data"]["me"]["role"], "SUPERVISOR", "{body}");
    // From now on the hash alone, over POST and over GET.
    let (_, body) = post(
        &app,
        &token,
        json!({ "extensions": persisted_query(&hash) }),
    )
    .await;
    assert_eq!(body["data"]["me"]["role"], "SUPERVISOR", "{body}");
    let response = app
        .client
        .get(app.url("/graphql"))
        .bearer_auth(&token)
        .query(&[("extensions", persisted_query(&hash).to_string())])
        .send()
        .await
        .expect("send");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["me"]["role"], "SUPERVISOR", "{body}");

    // A document that does not match its hash is refused, not registered.
    let (status, body) = post(
        &app,
        &token,
        json!({ "query": "{ districts { code } }", "extensions": persisted_query(&hash) }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_only_roles_run_reviewed_operations_only() {
    let app = spawn().await;
    let integrator = app.token(Role::Integrator, None);

    let (status, body) = post(&app, &integrator, json!({ "query": REVIEWED })).await;
    assert_eq!(
        status, 200,
        "a reviewed document sent in full is the reviewed operation"
    );
    assert!(body["data"]["districts"].is_array(), "{body}");

    let (status, body) = post(
        &app,
        &integrator,
        json!({ "extensions": persisted_query(&sha256_hex(REVIEWED)) }),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body["data"]["districts"]
            .as_array()
            .is_some_and(|d| d.len() > 30),
        "{body}"
    );

    let before = app.db.statement_count();
    let adhoc = "{ units(first: 100) { edges { node { creditCode } } } }";
    let (status, body) = post(&app, &integrator, json!({ "query": adhoc })).await;
    assert_eq!(status, 403);
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (status, body) = post(
        &app,
        &integrator,
        json!({ "query": adhoc, "extensions": persisted_query(&sha256_hex(adhoc)) }),
    )
    .await;
    assert_eq!(
        status, 403,
        "an unreviewed operation cannot be registered: {body}"
    );
    assert_eq!(
        app.db.statement_count(),
        before,
        "refused before the database"
    );

    // Other roles still send documents.
    let (status, _) = post(
        &app,
        &app.token(Role::PermitOfficer, Some("500103")),
        json!({ "query": adhoc }),
    )
    .await;
    assert_eq!(status, 200);
}
