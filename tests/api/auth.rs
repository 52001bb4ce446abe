//! Authentication: every kind of bad token is UNAUTHENTICATED; public reference data needs none.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use permit_core::auth::Role;
use serde_json::json;

use crate::db_test;
use crate::helpers::{TEST_SECRET, error_code};

fn claims(exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "x", "role": "SUPERVISOR", "iat": now, "exp": now + exp_offset })
}

db_test!(bad_tokens_are_unauthenticated, |app| {
    let query = "{ units(first: 1) { totalCount } }";
    let expired = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(-3600),
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .expect("sign");
    let wrong_key = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(3600),
        &EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .expect("sign");
    let wrong_alg = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(3600),
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .expect("sign");
    // alg "none": header and claims, no signature.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims(3600).to_string())
    );
    let unknown_role = {
        let mut c = claims(3600);
        c["role"] = json!("MAYOR");
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &c,
            &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        )
        .expect("sign")
    };
    for (label, token) in [
        ("expired", expired),
        ("wrong key", wrong_key),
        ("wrong algorithm", wrong_alg),
        ("alg none", none),
        ("malformed", "not.a.jwt".to_owned()),
        ("unknown role", unknown_role),
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 401, "{label}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{label}: {body}"
        );
        assert!(
            body.get("data").is_none(),
            "{label}: no data for a refused token"
        );
    }
    // A valid token passes.
    let ok = app
        .gql(Some(&app.token(Role::Supervisor, None)), query, json!({}))
        .await;
    assert!(ok["data"]["units"]["totalCount"].is_number(), "{ok}");
});

db_test!(no_token_reads_only_public_reference_data, |app| {
    let body = app
        .gql(
            None,
            "{ districts { code name } violationCodes { code fineMin fineMax } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["districts"].as_array().map(Vec::len), Some(41));
    assert_eq!(
        body["data"]["violationCodes"].as_array().map(Vec::len),
        Some(27)
    );
    for query in [
        "{ units { totalCount } }",
        "{ permits { totalCount } }",
        "{ me { subject } }",
        "{ agencies { nodes { code }} }",
    ] {
        let body = app.gql(None, query, json!({})).await;
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{query}: {body}"
        );
    }
});

db_test!(me_reflects_the_token, |app| {
    let token = app.token(Role::EnforcementOfficer, Some("500103"));
    let data = app
        .data(
            &token,
            "{ me { subject role agency { code kind } district { code name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["me"]["role"], "ENFORCEMENT_OFFICER");
    assert_eq!(data["me"]["agency"]["code"], "500103-ENF");
    assert_eq!(data["me"]["agency"]["kind"], "ENFORCEMENT");
    assert_eq!(data["me"]["district"]["name"], "渝中区");
});
