//! Tokens from an identity provider with rotating keys (a JWKS file, keys chosen by `kid`), the
//! claims and header checks RFC 8725 asks for, and revocation.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use permit_core::auth::Role;
use permit_core::auth::keys::{KeyConfig, KeySet};
use serde_json::{Value, json};

use crate::db_test;
use crate::helpers::{Backend, TEST_SECRET, TestApp, error_code};

const EC_PRIVATE: &[u8] = include_bytes!("../keys/ec-private.pem");
const RSA_PRIVATE: &[u8] = include_bytes!("../keys/rsa-private.pem");
const JWKS: &str = include_str!("../keys/jwks.json");
const ISSUER: &str = "https://idp.example";
const AUDIENCE: &str = "permit-exchange";
const ME: &str = "{ me { subject role } }";

/// The JWKS fixture with only the keys named.
fn key_set(kids: &[&str]) -> String {
    let mut set: Value = serde_json::from_str(JWKS).expect("fixture");
    if let Some(keys) = set["keys"].as_array_mut() {
        keys.retain(|k| kids.contains(&k["kid"].as_str().unwrap_or("")));
    }
    set.to_string()
}

fn claims(adjust: impl FnOnce(&mut Value)) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": "idp-user-7", "role": "SUPERVISOR", "iat": now, "exp": now + 600,
        "iss": ISSUER, "aud": AUDIENCE, "jti": format!("jti-{now}")
    });
    adjust(&mut claims);
    claims
}

fn signed(alg: Algorithm, kid: Option<&str>, typ: Option<&str>, claims: &Value) -> String {
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC_PRIVATE).expect("ec key"),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("rsa key"),
        _ => EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

/// The status and, for a refusal, its code and message.
async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn refused_because(app: &TestApp, token: &str, reason: &str) {
    let (status, body) = me(app, token).await;
    assert_eq!(status, 401, "{reason}: {body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains(reason),
        "expected '{reason}' in '{message}'"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_chosen_by_kid_from_the_key_set_and_rotate_without_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, key_set(&["ec-2026"])).expect("write jwks");
    let keys = KeyConfig {
        secret: None,
        public_key: None,
        key_set: Some(KeySet::load(&path).expect("key set")),
        issuer: Some(ISSUER.to_owned()),
        audience: Some(AUDIENCE.to_owned()),
        token_type: Some("at+jwt".to_owned()),
    };
    let app = TestApp::spawn_configured(Backend::Sqlite, move |config| config.keys = keys).await;
    let typ = Some("at+jwt");
    let good = signed(Algorithm::ES256, Some("ec-2026"), typ, &claims(|_| {}));
    let (status, body) = me(&app, &good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["me"]["subject"], "idp-user-7");

    // Each fault, refused for its own reason.
    let now = chrono::Utc::now().timestamp();
    let rsa = signed(Algorithm::RS256, Some("rsa-2026"), typ, &claims(|_| {}));
    refused_because(&app, &rsa, "unknown key id").await;
    refused_because(
        &app,
        &signed(Algorithm::ES256, None, typ, &claims(|_| {})),
        "names no key",
    )
    .await;
    // The kid of an EC key with an RSA signature: the key decides the algorithm.
    refused_because(
        &app,
        &signed(Algorithm::RS256, Some("ec-2026"), typ, &claims(|_| {})),
        "not accepted for this key",
    )
    .await;
    refused_because(
        &app,
        &signed(
            Algorithm::ES256,
            Some("ec-2026"),
            Some("JWT"),
            &claims(|_| {}),
        ),
        "token type",
    )
    .await;
    refused_because(
        &app,
        &signed(Algorithm::ES256, Some("ec-2026"), None, &claims(|_| {})),
        "token type",
    )
    .await;
    type Adjust = Box<dyn FnOnce(&mut Value)>;
    let faults: [(&str, Adjust); 5] = [
        (
            "token expired",
            Box::new(move |c| c["exp"] = json!(now - 300)),
        ),
        (
            "not yet valid",
            Box::new(move |c| c["nbf"] = json!(now + 300)),
        ),
        (
            "wrong issuer",
            Box::new(|c| c["iss"] = json!("https://evil.example")),
        ),
        (
            "wrong audience",
            Box::new(|c| c["aud"] = json!("another-service")),
        ),
        (
            "required claim",
            Box::new(|c| {
                c.as_object_mut().map(|o| o.remove("aud"));
            }),
        ),
    ];
    for (reason, adjust) in faults {
        let token = signed(Algorithm::ES256, Some("ec-2026"), typ, &claims(adjust));
        refused_because(&app, &token, reason).await;
    }

    // Rotation: the provider's next key is added to the file, then the old one removed.
    std::fs::write(&path, key_set(&["ec-2026", "rsa-2026"])).expect("write jwks");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while me(&app, &rsa).await.0 != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "new key not picked up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        me(&app, &good).await.0,
        200,
        "old key still valid meanwhile"
    );
    std::fs::write(&path, key_set(&["rsa-2026"])).expect("write jwks");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while me(&app, &good).await.0 != 401 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "old key not dropped"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(me(&app, &rsa).await.0, 200);
    // A broken file (half-written during rotation) keeps the last good keys.
    std::fs::write(&path, "{ \"keys\": [").expect("write jwks");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(me(&app, &rsa).await.0, 200);
}

/// The `jti` of one of our own tokens.
fn token_id(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap_or("");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("payload");
    let claims: Value = serde_json::from_slice(&bytes).expect("claims");
    claims["jti"]
        .as_str()
        .expect("our tokens carry a jti")
        .to_owned()
}

const REVOKE: &str = "mutation($input: RevokeTokensInput!) {
  revokeTokens(input: $input) { id subject tokenId revokedBefore reason revokedBy } }";

db_test!(revoked_tokens_are_refused_from_the_next_request, |app| {
    let admin = app.token(Role::Admin, None);
    let first = app.token(Role::EnforcementOfficer, Some("500103"));
    let second = app.token(Role::EnforcementOfficer, Some("500103"));
    let subject = "enforcement_officer@500103";
    let (_, body) = me(&app, &first).await;
    assert_eq!(body["data"]["me"]["subject"], subject, "{body}");

    // Only an administrator revokes.
    let input = json!({ "input": { "subject": subject, "tokenId": token_id(&first), "reason": "lost phone" } });
    let forbidden = app.gql(Some(&second), REVOKE, input.clone()).await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");
    let blank = app
        .gql(
            Some(&admin),
            REVOKE,
            json!({ "input": { "subject": " ", "reason": "x" } }),
        )
        .await;
    assert_eq!(error_code(&blank), Some("BAD_USER_INPUT"), "{blank}");

    // One token: that token only, from the very next request.
    let revoked = app.data(&admin, REVOKE, input).await;
    assert_eq!(revoked["revokeTokens"]["revokedBy"], "admin@municipal");
    refused_because(&app, &first, "token revoked").await;
    assert_eq!(me(&app, &second).await.0, 200);

    // The whole subject: every token issued until now, but not one issued afterwards.
    app.data(
        &admin,
        REVOKE,
        json!({ "input": { "subject": subject, "reason": "left the agency" } }),
    )
    .await;
    refused_because(&app, &second, "token revoked").await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let reissued = app.token(Role::EnforcementOfficer, Some("500103"));
    assert_eq!(me(&app, &reissued).await.0, 200);

    // Both revocations are in the audit trail.
    let audit = app
        .data(
            &admin,
            "{ auditEvents(first: 10) { nodes { action subject }} }",
            json!({}),
        )
        .await;
    let revocations = audit["auditEvents"]["nodes"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["action"] == "REVOKE_TOKENS")
                .count()
        })
        .unwrap_or(0);
    assert_eq!(revocations, 2, "{audit}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_revocation_reaches_every_instance() {
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    let peer = app.spawn_peer().await;
    assert!(
        peer.events
            .wait_until_listening(Duration::from_secs(5))
            .await,
        "peer listening"
    );
    let officer = app.token(Role::PermitOfficer, Some("500103"));
    assert_eq!(me(&peer, &officer).await.0, 200);
    app.data(
        &app.token(Role::Admin, None),
        REVOKE,
        json!({ "input": { "subject": "permit_officer@500103", "reason": "compromised" } }),
    )
    .await;
    // The peer learns through NOTIFY, well before its periodic reload.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while me(&peer, &officer).await.0 != 401 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the peer still accepts a revoked token"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
