//! Abuse limits: each refused with its code and a message naming the limit, before any
//! database work; rate limits answer 429 with Retry-After; introspection needs a token.

use permit_api::config::Limits;
use permit_core::auth::Role;
use serde_json::json;

use crate::db_test;
use crate::helpers::{Backend, TestApp, error_code};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_over_a_limit_are_refused_before_the_database() {
    let limits = Limits {
        max_aliases: 3,
        max_directives: 2,
        max_tokens: 60,
        max_document_chars: 400,
        ..Limits::default()
    };
    let app = TestApp::spawn_with_limits(Backend::Sqlite, limits).await;
    let token = app.token(Role::Supervisor, None);
    let cases = [
        (
            "{ a: districts { code } b: districts { code } c: districts { code } d: districts { code } }",
            "4 aliases",
        ),
        (
            "{ districts @include(if: true) { code @skip(if: false) name @skip(if: false) } }",
            "3 directives",
        ),
        (
            &*format!("{{ districts {{ {} }} }}", "code ".repeat(70)),
            "tokens",
        ),
        (
            &*format!("{{ districts {{ code }} }} #{}", "x".repeat(500)),
            "characters",
        ),
    ];
    for (query, expected) in cases {
        let before = app.db.statement_count();
        let body = app.gql(Some(&token), query, json!({})).await;
        assert_eq!(
            error_code(&body),
            Some("QUERY_TOO_COMPLEX"),
            "{expected}: {body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(
            message.contains(expected) && message.contains("limit"),
            "{message}"
        );
        assert_eq!(
            app.db.statement_count(),
            before,
            "refused before any database work"
        );
    }
    // Within the limits, the same shapes pass.
    let ok = app
        .gql(
            Some(&token),
            "{ a: districts { code } b: districts { code } }",
            json!({}),
        )
        .await;
    assert!(ok.get("errors").is_none(), "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    let limits = Limits {
        rate_per_second: 0.5,
        rate_burst: 3.0,
        ..Limits::default()
    };
    let app = TestApp::spawn_with_limits(Backend::Sqlite, limits).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let response = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ districts { code } }" }))
            .send()
            .await
            .expect("send");
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: serde_json::Value = response.json().await.expect("json");
            assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
        }
    }
    assert_eq!(
        &statuses[..3],
        &[200, 200, 200],
        "the burst passes: {statuses:?}"
    );
    assert_eq!(statuses[3], 429, "{statuses:?}");
    assert!(
        retry_after
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| s >= 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_needs_a_token_and_suggestions_are_off() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let anonymous = app
        .gql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    assert!(anonymous.get("data").is_none(), "{anonymous}");
    // Through a fragment, and `__type`, alike; `__typename` stays public.
    let fragment = app
        .gql(
            None,
            "query { ...F } fragment F on Query { __type(name: \"Unit\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&fragment), Some("UNAUTHENTICATED"), "{fragment}");
    let typename = app
        .gql(None, "{ __typename districts { code } }", json!({}))
        .await;
    assert_eq!(typename["data"]["__typename"], "Query", "{typename}");
    let token = app.token(Role::Integrator, None);
    let known = app
        .gql(
            Some(&token),
            "{ __schema { queryType { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(known["data"]["__schema"]["queryType"]["name"], "Query");
    let typo = app.gql(None, "{ district { code } }", json!({})).await;
    let message = typo["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        !message.contains("Did you mean"),
        "no suggestions: {message}"
    );
}

/// graphql-js's `getIntrospectionQuery` with every option on (GraphiQL and Apollo send a
/// subset): `ofType` nested nine deep, past the depth limit of 12 when counted.
const INTROSPECTION: &str = include_str!("data/introspection.graphql");

// Issue #14.6: the standard introspection query was refused by the depth limit.
db_test!(standard_introspection_works_with_a_token, |app| {
    let token = app.token(Role::Integrator, None);
    let body = app.gql(Some(&token), INTROSPECTION, json!({})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let types = body["data"]["__schema"]["types"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert!(types > 50, "{types} types");
    // The limit still counts the fields of the data graph.
    // 13 levels, one more than the limit.
    let deep = "{ units { edges { node { permits { unit { permits { unit { permits { unit { permits { unit { permits { id } } } } } } } } } } } } }";
    let refused = app.gql(Some(&token), deep, json!({})).await;
    assert_eq!(error_code(&refused), Some("QUERY_TOO_COMPLEX"), "{refused}");
    let anonymous = app.gql(None, INTROSPECTION, json!({})).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_fields_cost_their_page_size() {
    let limits = Limits {
        max_complexity: 2_000,
        ..Limits::default()
    };
    let app = TestApp::spawn_with_limits(Backend::Sqlite, limits).await;
    let token = app.token(Role::Supervisor, None);
    // 100 permits × 100 findings each: one field deep, ten thousand rows wide.
    let wide = "{ permits(first: 100) { edges { node { permitNumber findings(first: 100) { nodes { id }} } } } }";
    let before = app.db.statement_count();
    let body = app.gql(Some(&token), wide, json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("limit of 2000"), "{message}");
    assert_eq!(
        app.db.statement_count(),
        before,
        "refused before the database"
    );
    // The same shape with small pages is within the cost, and so is a default-sized page.
    for query in [
        "{ permits(first: 10) { edges { node { permitNumber findings(first: 10) { nodes { id }} } } } }",
        "{ permits { edges { node { permitNumber findings { nodes { id } } } } } }",
    ] {
        let body = app.gql(Some(&token), query, json!({})).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
    }
    // `last` counts like `first`.
    let body = app
        .gql(
            Some(&token),
            "{ units(last: 100) { edges { node { inspections(first: 100) { nodes { id }} } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_and_time_limits_name_themselves() {
    let limits = Limits {
        max_depth: 5,
        // Shorter than the DataLoader's batch window in debug builds (10 ms), so a nested field
        // always outlives it.
        request_timeout: std::time::Duration::from_millis(5),
        ..Limits::default()
    };
    let app = TestApp::spawn_with_limits(Backend::Sqlite, limits).await;
    let token = app.token(Role::Supervisor, None);
    let deep = "{ units { edges { node { permits { unit { id } } } } } }";
    let body = app.gql(Some(&token), deep, json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("limit of 5 levels"), "{message}");
    app.seed_demo(20).await;
    let body = app
        .gql(
            Some(&token),
            "{ units(first: 5) { edges { node { permits { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("time limit"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cancels_statements_that_outlive_the_time_limit() {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant not run");
        return;
    };
    use sea_orm::ConnectionTrait;
    let serving = permit_core::db::connect_with(&url, Some(std::time::Duration::from_millis(300)))
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    let result = serving.conn.execute_unprepared("SELECT pg_sleep(5)").await;
    let error = result.expect_err("the database cancels the statement");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "cancelled after {:?}",
        started.elapsed()
    );
    assert!(error.to_string().contains("statement timeout"), "{error}");
    // A coded answer, not an internal error: a mutation, which the time limit does not cut,
    // can meet it.
    assert_eq!(
        permit_core::error::AppError::from(error).code(),
        "QUERY_TOO_COMPLEX"
    );
    // Without the limit (migrations, bulk loads) the same pool settings let it run.
    let unlimited = permit_core::db::connect(&url).await.expect("connect");
    unlimited
        .conn
        .execute_unprepared("SELECT pg_sleep(0.5)")
        .await
        .expect("runs to its end");
}

/// Every PostgreSQL connection prices random reads for SSDs or memory (random_page_cost 1.1):
/// a prepared statement's generic plan then reads a district's page through its index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_price_random_reads_for_ssd() {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant not run");
        return;
    };
    use sea_orm::{ConnectionTrait, Statement};
    for timeout in [None, Some(std::time::Duration::from_secs(5))] {
        let database = permit_core::db::connect_with(&url, timeout)
            .await
            .expect("connect");
        let row = database
            .conn
            .query_one_raw(Statement::from_string(
                database.conn.get_database_backend(),
                "SHOW random_page_cost",
            ))
            .await
            .expect("show")
            .expect("a row");
        let cost: String = row.try_get("", "random_page_cost").expect("text");
        assert_eq!(cost, "1.1", "with time limit {timeout:?}");
    }
}

/// Admission under tight budgets: one request parsed and waiting, one executing, a cost budget
/// below what the heavy queries cost. Every request is still answered, heavy ones alone and
/// light ones between them, none refused and none stuck.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tight_admission_budgets_answer_every_request() {
    let limits = Limits {
        max_waiting_requests: 1,
        max_concurrent_requests: 1,
        max_concurrent_cost: 50,
        ..TestApp::test_limits()
    };
    let app = TestApp::spawn_with_limits(Backend::Sqlite, limits).await;
    app.seed_demo(40).await;
    let token = app.token(Role::Supervisor, None);
    let heavy = "{ permits(first: 20) { nodes { permitNumber unit { name } } } }";
    let light = "{ districts { code } }";
    let requests = (0..24).map(|i| {
        let app = &app;
        let token = &token;
        async move {
            let query = if i % 2 == 0 { heavy } else { light };
            app.gql(Some(token), query, json!({})).await
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    for answer in answers {
        assert!(answer["errors"].is_null(), "{answer}");
        assert!(answer["data"].is_object(), "{answer}");
    }
}
