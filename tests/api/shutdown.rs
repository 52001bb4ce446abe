//! Graceful shutdown (issue 6): once stopping starts, a request already accepted still completes,
//! open subscriptions end with a WebSocket close frame 1001 (going away) rather than a dropped
//! connection, new connections are refused, and the server future resolves.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use permit_core::auth::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::helpers::{Backend, TestApp};

const PATIENCE: Duration = Duration::from_secs(10);

/// What a subscriber saw last.
#[derive(Debug, PartialEq)]
pub(crate) enum Seen {
    Message(Value),
    /// A close frame: code and reason.
    Close(u16, String),
    /// The connection ended without a close frame (or broke).
    Dropped,
    /// Nothing within the patience.
    Nothing,
}

/// A bare graphql-transport-ws subscriber, enough for the operations tests.
pub(crate) struct Subscriber {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Subscriber {
    /// Connects, completes `connection_init` with `token` and subscribes `query` as id "s".
    pub(crate) async fn start(app: &TestApp, token: &str, query: &str) -> Subscriber {
        let mut request = app.ws_url().into_client_request().expect("ws request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket handshake");
        let mut subscriber = Subscriber { socket };
        subscriber
            .send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }))
            .await;
        assert_eq!(
            subscriber.next(PATIENCE).await,
            Seen::Message(json!({ "type": "connection_ack" }))
        );
        subscriber
            .send(json!({ "type": "subscribe", "id": "s", "payload": { "query": query } }))
            .await;
        subscriber
    }

    async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// The next protocol message or close, skipping WebSocket pings.
    pub(crate) async fn next(&mut self, patience: Duration) -> Seen {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let Ok(frame) = tokio::time::timeout_at(deadline, self.socket.next()).await else {
                return Seen::Nothing;
            };
            return match frame {
                Some(Ok(Message::Text(text))) => {
                    Seen::Message(serde_json::from_str(text.as_str()).expect("JSON message"))
                }
                Some(Ok(Message::Close(Some(frame)))) => {
                    Seen::Close(u16::from(frame.code), frame.reason.to_string())
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => Seen::Dropped,
            };
        }
    }
}

/// Sends the head and part of the body of a GraphQL POST on a raw connection, so the request
/// is in flight (accepted, being read) until `finish` sends the rest.
struct HalfSent {
    stream: tokio::net::TcpStream,
    rest: Vec<u8>,
}

impl HalfSent {
    async fn begin(app: &TestApp, token: &str, query: &str) -> HalfSent {
        let body = json!({ "query": query }).to_string().into_bytes();
        let address = app.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (first, rest) = body.split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).await.expect("head");
        stream.write_all(first).await.expect("first half");
        stream.flush().await.expect("flush");
        HalfSent {
            stream,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest and returns the status code and the JSON body.
    async fn finish(mut self) -> (u16, Value) {
        self.stream
            .write_all(&self.rest)
            .await
            .expect("second half");
        let mut response = Vec::new();
        tokio::time::timeout(PATIENCE, self.stream.read_to_end(&mut response))
            .await
            .expect("a response within the patience")
            .expect("read the response");
        let text = String::from_utf8_lossy(&response);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .and_then(|(_, body)| serde_json::from_str(body).ok())
            .unwrap_or(Value::Null);
        (status, body)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_finishes_requests_in_flight_and_closes_subscriptions_with_1001() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = app.token(Role::Supervisor, None);
    let mut subscriber = Subscriber::start(
        &app,
        &token,
        "subscription { bulletinPublished { id title } }",
    )
    .await;
    app.wait_for_subscribers(1).await;
    let in_flight = HalfSent::begin(&app, &token, "{ me { subject } districts { code } }").await;
    // Let the server read the head before it is told to stop.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let stopping = tokio::spawn({
        let shutdown = app.shutdown.clone();
        async move { shutdown.stop(true).await }
    });

    assert_eq!(
        subscriber.next(PATIENCE).await,
        Seen::Close(1001, "Server shutting down".to_owned())
    );
    let (status, body) = in_flight.finish().await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["me"]["subject"], "supervisor@municipal");
    assert!(body.get("errors").is_none(), "{body:#}");

    // New connections are no longer accepted.
    let refused = tokio::time::timeout(
        Duration::from_secs(2),
        app.client.get(app.url("/healthz")).send(),
    )
    .await;
    assert!(
        !matches!(refused, Ok(Ok(ref r)) if r.status().is_success()),
        "a stopping server answered a new connection: {refused:?}"
    );
    tokio::time::timeout(PATIENCE, stopping)
        .await
        .expect("the server stops once nothing is in flight")
        .expect("stop task");
}
