//! The graphql-transport-ws protocol: its close codes, ping and pong, the token at
//! `connection_init`, its expiry and revocation, and each subject's share of subscriptions.

use permit_core::auth::Role;
use serde_json::{Value, json};

use super::{Client, FINDING_RECORDED, init_with};
use crate::db_test;
use crate::helpers::WS_INIT_TIMEOUT;

db_test!(the_subprotocol_is_required, |app| {
    let mut client = Client::connect_with(&app, None).await;
    assert_eq!(client.close_code().await.0, 4406);
});

db_test!(no_connection_init_in_time_closes_4408, |app| {
    let started = std::time::Instant::now();
    let mut client = Client::connect(&app).await;
    let (code, _) = client.close_code().await;
    assert_eq!(code, 4408);
    assert!(started.elapsed() >= WS_INIT_TIMEOUT);
});

db_test!(a_missing_or_bad_token_closes_4403, |app| {
    let valid = app.token(Role::EnforcementOfficer, Some("500103"));
    let expired = app.token_with_ttl(Role::Admin, None, chrono::Duration::minutes(-10));
    let refused = [
        json!({ "type": "connection_init" }),
        init_with(json!({})),
        init_with(json!({ "authorization": "Bearer not-a-jwt" })),
        init_with(json!({ "authorization": valid.clone() })),
        init_with(json!({ "authorization": format!("Bearer {expired}") })),
        init_with(json!({ "token": format!("Bearer {valid}") })),
    ];
    for message in refused {
        let mut client = Client::connect(&app).await;
        client.send(message.clone()).await;
        let (code, reason) = client.close_code().await;
        assert_eq!(code, 4403, "{message}: {reason}");
    }
    // The key is matched in any case.
    for key in ["Authorization", "AUTHORIZATION"] {
        let mut payload = serde_json::Map::new();
        payload.insert(key.to_owned(), json!(format!("Bearer {valid}")));
        let mut client = Client::connect(&app).await;
        client.send(init_with(Value::Object(payload))).await;
        assert_eq!(client.message().await, json!({ "type": "connection_ack" }));
    }
});

db_test!(subscribe_before_ack_closes_4401, |app| {
    let mut client = Client::connect(&app).await;
    client.subscribe("1", FINDING_RECORDED).await;
    assert_eq!(client.close_code().await.0, 4401);
});

db_test!(a_second_connection_init_closes_4429, |app| {
    let token = app.token(Role::Supervisor, None);
    let mut client = Client::ready(&app, &token).await;
    client
        .send(init_with(
            json!({ "authorization": format!("Bearer {token}") }),
        ))
        .await;
    assert_eq!(client.close_code().await.0, 4429);
});

db_test!(a_subscription_id_in_use_closes_4409, |app| {
    let token = app.token(Role::Supervisor, None);
    let mut client = Client::ready(&app, &token).await;
    client.subscribe("same", FINDING_RECORDED).await;
    client.subscribe("same", FINDING_RECORDED).await;
    assert_eq!(client.close_code().await.0, 4409);
    // A completed id is free again.
    let mut client = Client::ready(&app, &token).await;
    client.subscribe("again", FINDING_RECORDED).await;
    client
        .send(json!({ "type": "complete", "id": "again" }))
        .await;
    client.subscribe("again", FINDING_RECORDED).await;
    client.send(json!({ "type": "ping" })).await;
    assert_eq!(client.message().await, json!({ "type": "pong" }));
});

db_test!(an_invalid_message_closes_4400, |app| {
    let token = app.token(Role::Supervisor, None);
    let invalid = [
        "not json",
        r#"{"type":"nonsense"}"#,
        r#"{"type":"start","id":"1","payload":{"query":"subscription { findingRecorded { id } }"}}"#,
        r#"{"type":"subscribe","id":"1"}"#,
        r#"{"type":"subscribe","id":"","payload":{"query":"subscription { findingRecorded { id } }"}}"#,
    ];
    for text in invalid {
        let mut client = Client::ready(&app, &token).await;
        client.send_raw(text).await;
        let (code, reason) = client.close_code().await;
        assert_eq!(code, 4400, "{text}: {reason}");
    }
    // Before the ack too, and for a payload that is not an object.
    let mut client = Client::connect(&app).await;
    client.send(init_with(json!("Bearer x"))).await;
    assert_eq!(client.close_code().await.0, 4400);
});

db_test!(ping_is_answered_with_pong, |app| {
    // Before the ack: ping is allowed at any time.
    let mut client = Client::connect(&app).await;
    client.send(json!({ "type": "ping" })).await;
    assert_eq!(client.message().await, json!({ "type": "pong" }));
    client
        .send(json!({ "type": "ping", "payload": { "at": 1 } }))
        .await;
    assert_eq!(
        client.message().await,
        json!({ "type": "pong", "payload": { "at": 1 } })
    );
    // A pong from the client needs no answer; the connection stays usable.
    client.send(json!({ "type": "pong" })).await;
    client.init(&app.token(Role::Supervisor, None)).await;
});

db_test!(the_socket_closes_when_the_token_expires, |app| {
    // Past `exp` but within the verification leeway (30 s), as HTTP would still accept it:
    // accepted now, and the socket closes when HTTP would start refusing it, in about 3 s.
    let token = app.token_with_ttl(Role::Supervisor, None, chrono::Duration::seconds(-27));
    let mut client = Client::ready(&app, &token).await;
    client.subscribe("1", FINDING_RECORDED).await;
    let (code, reason) = client.close_code().await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("expired"), "{reason}");
});

db_test!(revoking_a_subject_closes_its_open_subscriptions, |app| {
    let officer = app.token(Role::EnforcementOfficer, Some("500103"));
    let mut revoked = Client::ready(&app, &officer).await;
    revoked.subscribe("1", FINDING_RECORDED).await;
    let supervisor = app.token(Role::Supervisor, None);
    let mut bystander = Client::ready(&app, &supervisor).await;
    bystander.subscribe("1", FINDING_RECORDED).await;
    app.wait_for_subscribers(2).await;
    app.data(
        &app.token(Role::Admin, None),
        "mutation { revokeTokens(input: { subject: \"enforcement_officer@500103\", reason: \"left\" }) { id } }",
        json!({}),
    )
    .await;
    let (code, reason) = revoked.close_code().await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("revoked"), "{reason}");
    // Someone else's connection stays open, and the revoked token cannot open a new one.
    bystander.send(json!({ "type": "ping" })).await;
    assert_eq!(bystander.message().await, json!({ "type": "pong" }));
    let mut again = Client::connect(&app).await;
    again
        .send(init_with(
            json!({ "authorization": format!("Bearer {officer}") }),
        ))
        .await;
    let (code, reason) = again.close_code().await;
    assert_eq!(code, 4403, "{reason}");
});

db_test!(only_subscriptions_are_served, |app| {
    let token = app.token(Role::Supervisor, None);
    let mut client = Client::ready(&app, &token).await;
    client.subscribe("q", "{ districts { code } }").await;
    let error = client.message().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], "q");
    assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // A validation error is an `error` too, and the connection stays open.
    client
        .subscribe("v", "subscription { findingRecorded { nope } }")
        .await;
    let error = client.message().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], "v");
    client.send(json!({ "type": "ping" })).await;
    assert_eq!(client.message().await, json!({ "type": "pong" }));
});

db_test!(a_subject_runs_at_most_its_share_of_subscriptions, |app| {
    let token = app.token(Role::EnforcementOfficer, Some("500103"));
    let mut first = Client::ready(&app, &token).await;
    let mut second = Client::ready(&app, &token).await;
    for i in 0..100 {
        first.subscribe(&format!("a{i}"), FINDING_RECORDED).await;
        second.subscribe(&format!("b{i}"), FINDING_RECORDED).await;
    }
    app.wait_for_subscribers(200).await;
    // A third connection of the same subject does not lift the cap.
    let mut third = Client::ready(&app, &token).await;
    third.subscribe("c0", FINDING_RECORDED).await;
    let refused = third.message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "RATE_LIMITED",
        "{refused}"
    );
    // Another subject is not held back by it.
    let other = app.token(Role::EnforcementOfficer, Some("500112"));
    let mut theirs = Client::ready(&app, &other).await;
    theirs.subscribe("d0", FINDING_RECORDED).await;
    app.wait_for_subscribers(201).await;
    // Ending one frees its place.
    first.send(json!({ "type": "complete", "id": "a0" })).await;
    app.wait_for_subscribers_at_most(200).await;
    third.subscribe("c1", FINDING_RECORDED).await;
    app.wait_for_subscribers(201).await;
});
