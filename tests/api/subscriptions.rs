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

use crate::fixtures;
use crate::helpers::TestApp;

mod delivery;
mod instances;
mod protocol;

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
