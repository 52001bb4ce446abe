//! GraphQL over HTTP: media types, methods, CSRF refusals, batches, size cap, health.

use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::error_code;

db_test!(post_requires_json_and_refuses_batches, |app| {
    let token = app.token(Role::Supervisor, None);
    // text/plain and form posts are CSRF paths: refused. Multipart (uploads) only with the
    // preflight header a form cannot send (issue 18), else 400.
    for (content_type, status) in [
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 400),
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(r#"{"query":"{ __typename }"}"#)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), status, "{content_type}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{content_type}");
    }
    let batch = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]))
        .send()
        .await
        .expect("send");
    assert_eq!(batch.status(), 400);
    let body: serde_json::Value = batch.json().await.expect("json");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("batched"),
        "{body}"
    );

    let huge = "x".repeat(300 * 1024);
    let too_big = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"query":"{{ __typename }}","extensions":{{"pad":"{huge}"}}}}"#
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(too_big.status(), 413);
});

db_test!(get_runs_queries_but_not_mutations, |app| {
    let token = app.token(Role::Admin, None);
    let ok = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ districts { code } }")])
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
    let mutation = app
        .client
        .get(app.url("/graphql"))
        .bearer_auth(&token)
        .query(&[(
            "query",
            "mutation { revokePermit(id: \"x\", expectedVersion: 1, reason: \"r\") { id } }",
        )])
        .send()
        .await
        .expect("send");
    assert_eq!(mutation.status(), 405);
    assert_eq!(
        mutation
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
});

db_test!(media_types_follow_accept, |app| {
    let send = |accept: &'static str, query: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
    };
    let modern = send(
        "application/graphql-response+json",
        "{ districts { code } }",
    )
    .await
    .expect("send");
    assert_eq!(modern.status(), 200);
    assert!(
        modern.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/graphql-response+json")
    );
    let invalid = send("application/graphql-response+json", "{ nope }")
        .await
        .expect("send");
    assert_eq!(
        invalid.status(),
        400,
        "a validation failure is a 4xx with graphql-response+json"
    );
    let body: serde_json::Value = invalid.json().await.expect("json");
    assert!(body.get("data").is_none());
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let legacy = send("application/json", "{ nope }").await.expect("send");
    assert_eq!(legacy.status(), 200);
    assert!(
        legacy.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("application/json")
    );
    let deep = send("application/json", "{ units { edges { node { permits { unit { permits { unit { permits { unit { permits { unit { permits { id } } } } } } } } } } } } }").await.expect("send");
    let body: serde_json::Value = deep.json().await.expect("json");
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
});

db_test!(health_and_readiness, |app| {
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("send");
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("send");
    assert_eq!(ready.status(), 200);
    let graphiql = app
        .client
        .get(app.url("/graphiql"))
        .send()
        .await
        .expect("send");
    assert_eq!(graphiql.status(), 200);
    assert!(
        graphiql
            .text()
            .await
            .unwrap_or_default()
            .contains("graphiql")
    );
});

/// The `src` and `href` values of an HTML page.
fn references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = page;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            if let Some(end) = rest.find('"') {
                found.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
    }
    found
}

// Issue #14.7: GraphiQL loaded its scripts from a CDN. The page names no other host, every
// asset it names is served here, and its policy lets it reach no other host.
db_test!(graphiql_is_served_from_the_service_alone, |app| {
    let page = app
        .client
        .get(app.url("/graphiql"))
        .send()
        .await
        .expect("send");
    assert_eq!(page.status(), 200);
    let policy = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("http"), "{policy}");
    let page = page.text().await.unwrap_or_default();
    assert!(
        !page.contains("://"),
        "an absolute URL in the page:\n{page}"
    );
    let assets: Vec<String> = references(&page)
        .into_iter()
        .filter(|r| r != "data:,")
        .collect();
    assert_eq!(assets.len(), 4, "{assets:?}");
    for asset in assets {
        assert!(
            asset.starts_with("/graphiql/assets/") && !asset.starts_with("//"),
            "{asset}"
        );
        let response = app.client.get(app.url(&asset)).send().await.expect("send");
        assert_eq!(response.status(), 200, "{asset}");
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let expected = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(kind.starts_with(expected), "{asset}: {kind}");
        let body = response.bytes().await.expect("body");
        assert!(body.len() > 5_000, "{asset}: {} bytes", body.len());
    }
    let missing = app
        .client
        .get(app.url("/graphiql/assets/nothing.js"))
        .send()
        .await
        .expect("send");
    assert_eq!(missing.status(), 404);
});

db_test!(answers_are_gzipped_for_clients_that_ask, |app| {
    use std::io::Read;
    let token = app.token(Role::Supervisor, None);
    let query = json!({ "query": "{ violationCodes { code article category categoryLabelZh } }" });
    let send = |encoding: Option<&'static str>| {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&query);
        if let Some(encoding) = encoding {
            request = request.header("accept-encoding", encoding);
        }
        request.send()
    };
    let plain = send(None).await.expect("send");
    assert!(plain.headers().get("content-encoding").is_none());
    let plain: serde_json::Value = plain.json().await.expect("json");
    assert!(plain["errors"].is_null(), "{plain}");
    assert!(
        plain["data"]["violationCodes"]
            .as_array()
            .is_some_and(|codes| codes.len() > 10)
    );
    let gzipped = send(Some("gzip")).await.expect("send");
    assert_eq!(
        gzipped
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let compressed = gzipped.bytes().await.expect("body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut text)
        .expect("a gzip stream");
    let decoded: serde_json::Value = serde_json::from_str(&text).expect("json inside");
    assert_eq!(decoded, plain);
    assert!(compressed.len() < text.len(), "gzip must shrink the answer");
});

// A document is validated in full once per kind of variables (`graphql::validated`), so what a
// later request gets wrong must still be refused: another value of a non-string variable, a
// string variable given a number, an unknown field. And a refusal is never remembered.
db_test!(validation_is_remembered_only_for_what_passed, |app| {
    let token = app.token(Role::Supervisor, None);
    let query = "query Look($n: String!, $first: Int) { permitByNumber(permitNumber: $n) { id findings(first: $first) { totalCount } } }";
    let ask = |variables: Value| app.gql(Some(&token), query, variables);
    for number in ["91500104MA5KBGNP9G001P", "91500104MA5FFTKP2N001P"] {
        let body = ask(json!({ "n": number, "first": 5 })).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        assert_eq!(body["data"]["permitByNumber"], Value::Null, "{body:#}");
    }
    for wrong in [
        json!({ "n": 42, "first": 5 }),
        json!({ "first": 5 }),
        json!({ "n": "x", "first": "five" }),
        json!({ "n": "x", "first": 1.5 }),
    ] {
        for _ in 0..2 {
            let body = ask(wrong.clone()).await;
            assert!(
                body.get("data").is_none_or(Value::is_null),
                "{wrong}: {body:#}"
            );
            assert_eq!(
                error_code(&body),
                Some("BAD_USER_INPUT"),
                "{wrong}: {body:#}"
            );
        }
    }
    for _ in 0..2 {
        let body = app
            .gql(Some(&token), "{ permits { nope } }", json!({}))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body:#}");
    }
});
