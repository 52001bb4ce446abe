//! Subscriptions over `/graphql/ws` (graphql-transport-ws): the protocol's close codes, the
//! token at `connection_init` and its expiry, scope filtering of `findingRecorded`, and, on
//! PostgreSQL, delivery across instances sharing one database and the listener's reconnection.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use permit_core::auth::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::db_test;
use crate::fixtures;
use crate::helpers::{TestApp, WS_INIT_TIMEOUT};

/// How long a test waits for a message it expects.
const PATIENCE: Duration = Duration::from_secs(10);

const FINDING_RECORDED: &str =
    "subscription { findingRecorded { id status district { code } code { code } } }";

/// What the server sent next.
#[derive(Debug)]
enum Incoming {
    Message(Value),
    /// A close frame (code, reason); `None` when the connection ended without one.
    Closed(Option<(u16, String)>),
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws client, as thin as a test needs.
struct Client {
    socket: Socket,
}

impl Client {
    async fn connect(app: &TestApp) -> Client {
        Self::connect_with(app, Some("graphql-transport-ws")).await
    }

    async fn connect_with(app: &TestApp, protocol: Option<&'static str>) -> Client {
        let mut request = app.ws_url().into_client_request().expect("ws request");
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", HeaderValue::from_static(protocol));
        }
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket handshake");
        if protocol.is_some() {
            assert_eq!(
                response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok()),
                protocol
            );
        }
        Client { socket }
    }

    /// Connects and completes `connection_init` with `token`.
    async fn ready(app: &TestApp, token: &str) -> Client {
        let mut client = Self::connect(app).await;
        client.init(token).await;
        client
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    async fn send_raw(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .expect("send");
    }

    async fn init(&mut self, token: &str) {
        self.send(init_with(
            json!({ "authorization": format!("Bearer {token}") }),
        ))
        .await;
        let ack = self.message().await;
        assert_eq!(ack, json!({ "type": "connection_ack" }));
    }

    async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query } }))
            .await;
    }

    /// The next protocol message or close, skipping WebSocket pings.
    async fn next_within(&mut self, patience: Duration) -> Option<Incoming> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            return Some(match frame {
                Some(Ok(Message::Text(text))) => {
                    Incoming::Message(serde_json::from_str(text.as_str()).expect("JSON message"))
                }
                Some(Ok(Message::Close(frame))) => {
                    Incoming::Closed(frame.map(|f| (u16::from(f.code), f.reason.to_string())))
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => panic!("unexpected frame {other:?}"),
                Some(Err(_)) | None => Incoming::Closed(None),
            });
        }
    }

    async fn next(&mut self) -> Incoming {
        self.next_within(PATIENCE)
            .await
            .expect("a message within the patience")
    }

    async fn message(&mut self) -> Value {
        match self.next().await {
            Incoming::Message(message) => message,
            closed => panic!("expected a message, got {closed:?}"),
        }
    }

    /// The close code the server ended the connection with.
    async fn close_code(&mut self) -> (u16, String) {
        match self.next().await {
            Incoming::Closed(Some(close)) => close,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

fn init_with(payload: Value) -> Value {
    json!({ "type": "connection_init", "payload": payload })
}

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

/// A unit with a permit in `district`, two inspectors and an inspection; returns what
/// `recordFinding` needs and the district's enforcement officer's token.
pub(crate) struct Scene {
    pub(crate) permit: Value,
    pub(crate) inspection: String,
    pub(crate) officer: String,
}

pub(crate) async fn scene(app: &TestApp, district: &str, serial: u32) -> Scene {
    let (unit, permit) = fixtures::unit_with_permit(app, district, serial).await;
    let officer = app.token(Role::EnforcementOfficer, Some(district));
    let mut inspectors = Vec::new();
    for i in 0..2 {
        let data = app
            .data(
                &officer,
                "mutation($input: RegisterInspectorInput!) { registerInspector(input: $input) { id } }",
                json!({ "input": {
                    "name": format!("检查员{serial}{i}"), "agencyCode": format!("{district}-ENF"),
                    "certificateNumber": format!("CQ{district}{serial:03}{i}") } }),
            )
            .await;
        inspectors.push(data["registerInspector"]["id"].clone());
    }
    let yesterday = (permit_core::domain::clock::today() - chrono::Duration::days(1)).to_string();
    let data = app
        .data(
            &officer,
            "mutation($input: RecordInspectionInput!) { recordInspection(input: $input) { id } }",
            json!({ "input": {
                "unitId": unit["id"], "date": yesterday, "source": "ROUTINE", "mode": "ON_SITE",
                "inspectorIds": inspectors } }),
        )
        .await;
    Scene {
        permit,
        inspection: data["recordInspection"]["id"]
            .as_str()
            .expect("inspection id")
            .to_owned(),
        officer,
    }
}

/// Records a finding through `app` and returns its id.
async fn record_finding(app: &TestApp, scene: &Scene) -> String {
    let deadline = (permit_core::domain::clock::today() + chrono::Duration::days(30)).to_string();
    let data = app
        .data(
            &scene.officer,
            "mutation($input: RecordFindingInput!) { recordFinding(input: $input) { id } }",
            json!({ "input": {
                "inspectionId": scene.inspection, "code": "LG-1", "permitId": scene.permit["id"],
                "severity": "GENERAL", "description": "台账记录不全", "rectificationDeadline": deadline } }),
        )
        .await;
    data["recordFinding"]["id"]
        .as_str()
        .expect("finding id")
        .to_owned()
}

/// The next message must be a `next` for subscription `id`; returns the finding it carries.
async fn next_finding(client: &mut Client, id: &str) -> Value {
    let message = client.message().await;
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], id, "{message}");
    assert!(message["payload"].get("errors").is_none(), "{message}");
    message["payload"]["data"]["findingRecorded"].clone()
}

db_test!(findings_reach_only_subscribers_in_scope, |app| {
    let yuzhong = scene(&app, "500103", 71).await;
    let shapingba = scene(&app, "500106", 72).await;
    let mut in_scope =
        Client::ready(&app, &app.token(Role::EnforcementOfficer, Some("500103"))).await;
    let mut other_district =
        Client::ready(&app, &app.token(Role::PermitOfficer, Some("500106"))).await;
    let mut municipal = Client::ready(&app, &app.token(Role::Supervisor, None)).await;
    let mut monitoring = Client::ready(&app, &app.token(Role::Monitoring, None)).await;
    for client in [&mut in_scope, &mut other_district, &mut municipal] {
        client.subscribe("f", FINDING_RECORDED).await;
    }
    // MONITORING may not read findings at all: refused at subscribe time.
    monitoring.subscribe("f", FINDING_RECORDED).await;
    let refused = monitoring.message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "FORBIDDEN");
    app.wait_for_subscribers(3).await;

    let first = record_finding(&app, &yuzhong).await;
    let got = next_finding(&mut in_scope, "f").await;
    assert_eq!(got["id"], first.as_str());
    assert_eq!(got["district"]["code"], "500103");
    assert_eq!(got["status"], "OPEN");
    assert_eq!(
        next_finding(&mut municipal, "f").await["id"],
        first.as_str()
    );

    // Events arrive in order, so the other district's first message being its own finding
    // proves it never received the first one.
    let second = record_finding(&app, &shapingba).await;
    assert_eq!(
        next_finding(&mut other_district, "f").await["id"],
        second.as_str()
    );
    assert_eq!(
        next_finding(&mut municipal, "f").await["id"],
        second.as_str()
    );
    assert!(
        in_scope
            .next_within(Duration::from_millis(300))
            .await
            .is_none(),
        "a finding of another district reached 500103"
    );

    // After `complete`, nothing more arrives for that id.
    in_scope
        .send(json!({ "type": "complete", "id": "f" }))
        .await;
    app.wait_for_subscribers_at_most(2).await;
    record_finding(&app, &yuzhong).await;
    assert!(
        in_scope
            .next_within(Duration::from_millis(300))
            .await
            .is_none()
    );
});

/// Two instances on one PostgreSQL database: a finding recorded through A reaches subscribers
/// of B (and of A) within a second, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_events_reach_every_instance_exactly_once() {
    let Some(a) = TestApp::spawn_postgres().await else {
        return;
    };
    let b = a.spawn_peer().await;
    for instance in [&a, &b] {
        assert!(
            instance
                .events
                .wait_until_listening(Duration::from_secs(10))
                .await,
            "the event listener did not start"
        );
    }
    let scene = scene(&a, "500103", 81).await;
    let token = a.token(Role::Supervisor, None);
    let mut on_b = Client::ready(&b, &token).await;
    let mut on_a = Client::ready(&a, &token).await;
    on_b.subscribe("b", FINDING_RECORDED).await;
    on_a.subscribe("a", FINDING_RECORDED).await;
    b.wait_for_subscribers(1).await;
    a.wait_for_subscribers(1).await;

    let recorded_at = std::time::Instant::now();
    let first = record_finding(&a, &scene).await;
    let got = next_finding(&mut on_b, "b").await;
    assert!(
        recorded_at.elapsed() < Duration::from_secs(1),
        "took {:?}",
        recorded_at.elapsed()
    );
    assert_eq!(got["id"], first.as_str());
    assert_eq!(next_finding(&mut on_a, "a").await["id"], first.as_str());
    // Exactly once: the next message on either side is the next finding, recorded through B.
    let second = record_finding(&b, &scene).await;
    assert_eq!(next_finding(&mut on_b, "b").await["id"], second.as_str());
    assert_eq!(next_finding(&mut on_a, "a").await["id"], second.as_str());
    for client in [&mut on_a, &mut on_b] {
        assert!(
            client
                .next_within(Duration::from_millis(300))
                .await
                .is_none()
        );
    }
}

/// The listener reconnects by itself when its connection is killed, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_listener_reconnects_after_losing_its_connection() {
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    assert!(
        app.events
            .wait_until_listening(Duration::from_secs(10))
            .await
    );
    let listener_pid = "SELECT COALESCE(MAX(pid), 0)::bigint FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'";
    let before = app.scalar_i64(listener_pid).await;
    assert_ne!(before, 0, "no listening backend");
    app.scalar_i64(&format!(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend({before})) AS t"
    ))
    .await;
    // A new backend listens, and the bus says so.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let now = app.scalar_i64(listener_pid).await;
        if now != 0 && now != before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the listener did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        app.events
            .wait_until_listening(Duration::from_secs(10))
            .await
    );

    let scene = scene(&app, "500105", 91).await;
    let mut client = Client::ready(&app, &app.token(Role::Supervisor, None)).await;
    client.subscribe("f", FINDING_RECORDED).await;
    app.wait_for_subscribers(1).await;
    let id = record_finding(&app, &scene).await;
    assert_eq!(next_finding(&mut client, "f").await["id"], id.as_str());
}

db_test!(personal_data_sent_to_a_subscriber_is_audited, |app| {
    let scene = scene(&app, "500103", 61).await;
    let mut client = Client::ready(&app, &app.token(Role::Supervisor, None)).await;
    client
        .subscribe(
            "p",
            "subscription Watch { findingRecorded { id unit { legalRepresentative } } }",
        )
        .await;
    app.wait_for_subscribers(1).await;
    let before = audited(&app).await;
    record_finding(&app, &scene).await;
    let got = next_finding(&mut client, "p").await;
    assert_eq!(got["unit"]["legalRepresentative"], "张伟");
    // The audit row is written right after the message is sent.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while audited(&app).await == before {
        assert!(
            std::time::Instant::now() < deadline,
            "no audit row for the personal data sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let operation = app
        .scalar_i64(
            "SELECT COUNT(*) FROM audit_events \
             WHERE action = 'READ_PERSONAL_DATA' AND operation_name = 'Watch' AND request_id IS NOT NULL",
        )
        .await;
    assert_eq!(operation, 1);
});

async fn audited(app: &TestApp) -> i64 {
    app.scalar_i64("SELECT COUNT(*) FROM audit_events WHERE action = 'READ_PERSONAL_DATA'")
        .await
}

const BULLETIN_PUBLISHED: &str = "subscription { bulletinPublished { id title kind } }";

/// Two instances on one PostgreSQL database: a bulletin published through A reaches an
/// addressed subscriber on B within a second; a subscriber outside the audience gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bulletins_reach_their_audience_on_another_instance() {
    let Some(a) = TestApp::spawn_postgres().await else {
        return;
    };
    let b = a.spawn_peer().await;
    for instance in [&a, &b] {
        assert!(
            instance
                .events
                .wait_until_listening(Duration::from_secs(10))
                .await
        );
    }
    let mut addressed = Client::ready(&b, &b.token(Role::PermitOfficer, Some("500103"))).await;
    let mut outside = Client::ready(&b, &b.token(Role::PermitOfficer, Some("500112"))).await;
    addressed.subscribe("in", BULLETIN_PUBLISHED).await;
    outside.subscribe("out", BULLETIN_PUBLISHED).await;
    b.wait_for_subscribers(2).await;

    let published_at = std::time::Instant::now();
    let data = a
        .data(
            &a.token(Role::Supervisor, None),
            "mutation { publishBulletin(input: { kind: CAMPAIGN_NOTICE, title: \"专项行动通知\", body: \"请各区县开展自查\", audience: { roles: [PERMIT_OFFICER], districts: [\"500103\"] } }) { id } }",
            json!({}),
        )
        .await;
    let id = data["publishBulletin"]["id"].clone();
    let got = addressed.message().await;
    assert!(
        published_at.elapsed() < Duration::from_secs(1),
        "took {:?}",
        published_at.elapsed()
    );
    assert_eq!(got["type"], "next");
    assert_eq!(got["id"], "in");
    assert_eq!(got["payload"]["data"]["bulletinPublished"]["id"], id);
    assert!(
        outside
            .next_within(Duration::from_millis(800))
            .await
            .is_none(),
        "outside the audience"
    );
}

db_test!(a_retried_finding_is_announced_once, |app| {
    let scene = scene(&app, "500105", 82).await;
    let token = app.token(Role::Supervisor, None);
    let mut client = Client::ready(&app, &token).await;
    client.subscribe("f", FINDING_RECORDED).await;
    app.wait_for_subscribers(1).await;
    let input = json!({ "inspectionId": scene.inspection, "code": "LG-1", "permitId": scene.permit["id"], "severity": "MINOR", "description": "台账缺失" });
    let query = "mutation($input: RecordFindingInput!) { recordFinding(input: $input, idempotencyKey: \"retry-1\") { id } }";
    let first = app
        .data(&scene.officer, query, json!({ "input": input }))
        .await;
    let again = app
        .data(&scene.officer, query, json!({ "input": input }))
        .await;
    assert_eq!(first, again);
    assert_eq!(
        next_finding(&mut client, "f").await["id"],
        first["recordFinding"]["id"]
    );
    assert!(
        client
            .next_within(Duration::from_millis(500))
            .await
            .is_none(),
        "a retry is not a new finding"
    );
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

const FINDING_WITH_CURSOR: &str = "subscription { findingRecorded { id cursor } }";

/// `findingRecorded(after:)` with a cursor.
fn finding_after(cursor: &str) -> String {
    format!("subscription {{ findingRecorded(after: \"{cursor}\") {{ id cursor }} }}")
}

/// The next `count` findings of subscription `id`, as (finding id, cursor).
async fn next_findings(client: &mut Client, id: &str, count: usize) -> Vec<(String, String)> {
    let mut got = Vec::new();
    for _ in 0..count {
        let finding = next_finding(client, id).await;
        let cursor = finding["cursor"].as_str().expect("a cursor").to_owned();
        got.push((finding["id"].as_str().expect("an id").to_owned(), cursor));
    }
    got
}

db_test!(a_subscriber_resumes_after_its_cursor, |app| {
    let scene = scene(&app, "500103", 83).await;
    let token = app.token(Role::Supervisor, None);
    let mut client = Client::ready(&app, &token).await;
    client.subscribe("f", FINDING_WITH_CURSOR).await;
    app.wait_for_subscribers(1).await;
    let first = record_finding(&app, &scene).await;
    let second = record_finding(&app, &scene).await;
    let got = next_findings(&mut client, "f", 2).await;
    assert_eq!(got[0].0, first);
    assert_eq!(got[1].0, second);
    // The payload's cursor is a position of the change feed: `changes` resumes there too.
    let after_second = app
        .data(
            &token,
            "query($after: String) { changes(after: $after, first: 10, kinds: [FINDING]) { edges { node { recordId } } } }",
            json!({ "after": got[1].1 }),
        )
        .await;
    assert_eq!(after_second["changes"]["edges"], json!([]));

    // The client goes away; two findings are recorded meanwhile.
    drop(client);
    app.wait_for_subscribers_at_most(0).await;
    let third = record_finding(&app, &scene).await;
    let fourth = record_finding(&app, &scene).await;
    // It comes back with the last cursor it saw: the two it missed, then live ones, once each.
    let mut again = Client::ready(&app, &token).await;
    again.subscribe("f", &finding_after(&got[1].1)).await;
    let missed = next_findings(&mut again, "f", 2).await;
    assert_eq!(missed[0].0, third);
    assert_eq!(missed[1].0, fourth);
    app.wait_for_subscribers(1).await;
    let fifth = record_finding(&app, &scene).await;
    assert_eq!(next_findings(&mut again, "f", 1).await[0].0, fifth);
    assert!(
        again
            .next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "a finding was delivered twice"
    );

    // The first cursor replays everything after it, still in order.
    let mut replay = Client::ready(&app, &token).await;
    replay.subscribe("r", &finding_after(&got[0].1)).await;
    let replayed: Vec<String> = next_findings(&mut replay, "r", 4)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(replayed, [second, third, fourth, fifth]);

    // A cursor that is not one is refused at once.
    let mut bad = Client::ready(&app, &token).await;
    bad.subscribe("b", &finding_after("not-a-cursor")).await;
    let refused = bad.message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
});

/// Issue 19: a subscriber on A, writes through B before, while and after A's listener backend
/// is terminated (again and again, so some notifications reach nobody). A's subscriber gets
/// every finding once, in commit order; a client that reconnects with `after` gets what it
/// missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_no_event_is_lost_while_the_listener_reconnects() {
    let Some(a) = TestApp::spawn_postgres().await else {
        return;
    };
    let b = a.spawn_peer().await;
    for instance in [&a, &b] {
        assert!(
            instance
                .events
                .wait_until_listening(Duration::from_secs(10))
                .await
        );
    }
    let scene = scene(&b, "500103", 84).await;
    let token = a.token(Role::Supervisor, None);
    let mut on_a = Client::ready(&a, &token).await;
    on_a.subscribe("a", FINDING_WITH_CURSOR).await;
    a.wait_for_subscribers(1).await;

    let mut recorded = Vec::new();
    for _ in 0..3 {
        recorded.push(record_finding(&b, &scene).await);
    }
    for _ in 0..4 {
        // Terminate every listening backend: both instances' listeners go, and come back.
        a.scalar_i64(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%' \
             AND pid <> pg_backend_pid()) AS t",
        )
        .await;
        for _ in 0..2 {
            recorded.push(record_finding(&b, &scene).await);
        }
    }
    for _ in 0..3 {
        recorded.push(record_finding(&b, &scene).await);
    }
    let got = next_findings(&mut on_a, "a", recorded.len()).await;
    let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, recorded, "every finding once, in commit order");
    assert!(
        on_a.next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "more than once"
    );

    // A client that lost its connection after the fifth resumes on the other instance.
    let mut resumed = Client::ready(&b, &token).await;
    resumed.subscribe("r", &finding_after(&got[4].1)).await;
    let rest: Vec<String> = next_findings(&mut resumed, "r", recorded.len() - 5)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(rest, recorded[5..]);
    let live = record_finding(&a, &scene).await;
    assert_eq!(next_findings(&mut resumed, "r", 1).await[0].0, live);
    assert_eq!(next_findings(&mut on_a, "a", 1).await[0].0, live);
}

/// The feed's visibility rule under subscriptions (issue 19): a transaction of this database
/// that took its id before a finding was recorded, and commits after it, is delivered first,
/// not skipped, and holds the later event back until it ends; a transaction of another
/// database on the cluster holds back nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_late_committer_is_delivered_first_not_skipped() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let Some(app) = TestApp::spawn_postgres().await else {
        return;
    };
    assert!(
        app.events
            .wait_until_listening(Duration::from_secs(10))
            .await
    );
    let scene = scene(&app, "500103", 86).await;
    let mut client = Client::ready(&app, &app.token(Role::Supervisor, None)).await;
    client.subscribe("f", FINDING_WITH_CURSOR).await;
    app.wait_for_subscribers(1).await;
    let first = record_finding(&app, &scene).await;
    assert_eq!(next_findings(&mut client, "f", 1).await[0].0, first);

    // Another database's open transaction: events here are not held back by it.
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let admin = sea_orm::Database::connect(&admin_url)
        .await
        .expect("connect");
    let elsewhere = admin.begin().await.expect("begin elsewhere");
    elsewhere
        .execute_unprepared("SELECT pg_current_xact_id()")
        .await
        .expect("an id elsewhere");
    let second = record_finding(&app, &scene).await;
    let started = std::time::Instant::now();
    assert_eq!(next_findings(&mut client, "f", 1).await[0].0, second);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // A transaction here takes its id, a finding commits after it, then it writes a change
    // (the first finding's creation again) and commits: it sorts first, and nothing is sent
    // before it ends.
    let late = app.db.conn.begin().await.expect("begin");
    late.execute_unprepared("SELECT pg_current_xact_id()")
        .await
        .expect("an id");
    let third = record_finding(&app, &scene).await;
    assert!(
        client
            .next_within(Duration::from_millis(1500))
            .await
            .is_none(),
        "delivered past a transaction still running"
    );
    late.execute_unprepared(
        "INSERT INTO change_events (txid, kind, record_id, version, operation, state, \
         district_code, actor_subject, actor_agency, actor_level, request_id, committed_at) \
         SELECT pg_current_xact_id()::text::bigint, kind, record_id, version, operation, state, \
         district_code, actor_subject, actor_agency, actor_level, request_id, committed_at \
         FROM change_events WHERE kind = 'FINDING' ORDER BY id LIMIT 1",
    )
    .await
    .expect("the late change");
    late.commit().await.expect("commit");
    let got = next_findings(&mut client, "f", 2).await;
    assert_eq!(got[0].0, first, "the late committer first");
    assert_eq!(got[1].0, third);
    elsewhere.rollback().await.expect("rollback");
}

db_test!(
    violation_candidates_reach_only_subscribers_in_scope,
    |app| {
        let (_, water, _) = crate::monitoring::monitored_permit(&app, "500103", 73).await;
        let subscription = "subscription { violationCandidateDetected { id cursor code { code } measuredValue district { code } } }";
        let mut in_scope =
            Client::ready(&app, &app.token(Role::EnforcementOfficer, Some("500103"))).await;
        let mut other_district =
            Client::ready(&app, &app.token(Role::EnforcementOfficer, Some("500106"))).await;
        let mut integrator = Client::ready(&app, &app.token(Role::Integrator, None)).await;
        for client in [&mut in_scope, &mut other_district, &mut integrator] {
            client.subscribe("c", subscription).await;
        }
        app.wait_for_subscribers(3).await;
        let year = permit_core::domain::clock::today().format("%Y");
        let reading = |hour: u32, value: f64| {
            json!({ "outletId": water, "pollutant": "化学需氧量", "unitOfMeasure": "mg/L",
                "measuredAt": format!("{year}-06-02T{hour:02}:00:00+08:00"), "value": value,
                "source": "AUTOMATIC", "flag": "N" })
        };
        app.data(
        &app.token(Role::Integrator, None),
        "mutation($r: [ReadingInput!]!) { recordReadings(input: { readings: $r }) { inserted } }",
        json!({ "r": [reading(9, 60.0), reading(10, 140.0)] }),
    )
    .await;
        let message = in_scope.message().await;
        assert_eq!(message["type"], "next", "{message}");
        let got = &message["payload"]["data"]["violationCandidateDetected"];
        assert_eq!(got["code"]["code"], "EX-1", "{message}");
        assert_eq!(got["measuredValue"], 140.0, "{message}");
        assert_eq!(got["district"]["code"], "500103", "{message}");
        assert!(
            got["cursor"].as_str().is_some_and(|c| !c.is_empty()),
            "{message}"
        );
        // Exactly once: the same readings again raise nothing.
        app.data(
        &app.token(Role::Integrator, None),
        "mutation($r: [ReadingInput!]!) { recordReadings(input: { readings: $r }) { unchanged } }",
        json!({ "r": [reading(10, 140.0)] }),
    )
    .await;
        for client in [&mut in_scope, &mut other_district, &mut integrator] {
            assert!(
                client
                    .next_within(Duration::from_millis(1500))
                    .await
                    .is_none(),
                "a candidate reached a subscriber out of scope, or twice"
            );
        }
    }
);
