//! Structured logs of the real binary: `permit-exchange serve` with `LOG_FORMAT=json` writes
//! one access line per GraphQL request carrying the request id the client got, the caller and
//! the operation, and never the token or personal data. `METRICS_TOKEN` guards `/metrics`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use permit_core::auth::Role;
use permit_core::auth::keys::KeyConfig;
use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::TEST_SECRET;

/// The server process, killed when the test ends however it ends.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every stdout line read so far.
    seen: Vec<String>,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(metrics_token: &str) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
        let mut child = Command::new(env!("CARGO_BIN_EXE_permit-exchange"))
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url", &url])
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("JWT_SECRET", TEST_SECRET)
            .env("METRICS_TOKEN", metrics_token)
            .env_remove("JWT_PUBLIC_KEY_FILE")
            .env_remove("JWT_ISSUER")
            .env_remove("JWT_AUDIENCE")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start permit-exchange serve");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        let mut server = Server {
            child,
            lines,
            seen: Vec::new(),
            base: String::new(),
            _dir: dir,
        };
        let banner = server.wait_for(Duration::from_secs(60), |line| {
            line.starts_with("permit-exchange listening on ")
        });
        server.base = banner
            .trim_start_matches("permit-exchange listening on ")
            .trim()
            .to_owned();
        server
    }

    /// Reads stdout until a line satisfies `matches`.
    fn wait_for(&mut self, patience: Duration, matches: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|l| matches(l)) {
            return line.clone();
        }
        let deadline = Instant::now() + patience;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no such line within {patience:?}; stdout so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Reads whatever else arrives within `patience`.
    fn drain(&mut self, patience: Duration) {
        while let Ok(line) = self.lines.recv_timeout(patience) {
            self.seen.push(line);
        }
    }

    /// The JSON access line of the request with `request_id`.
    fn access_line(&mut self, request_id: &str) -> Value {
        let needle = format!("\"request_id\":\"{request_id}\"");
        let line = self.wait_for(Duration::from_secs(10), |line| {
            line.contains(&needle) && line.contains("permit_exchange::access_log")
        });
        serde_json::from_str(&line).expect("a JSON log line")
    }
}

/// POSTs a GraphQL request; returns the request id the response names and the body.
async fn post(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    query: &str,
    variables: Value,
) -> (String, Value) {
    let response = client
        .post(format!("{}/graphql", server.base))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id")
        .to_owned();
    (request_id, response.json().await.expect("JSON body"))
}

/// Opens a subscription over `/graphql/ws` and completes it.
async fn subscribe_and_complete(server: &Server, token: &str) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;

    let url = format!("ws{}/graphql/ws", server.base.trim_start_matches("http"));
    let mut request = url.into_client_request().expect("ws request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket handshake");
    let messages = [
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
        json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription WatchFindings { findingRecorded { id } }" } }),
    ];
    for message in messages {
        socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }
    let ack = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
    assert!(
        matches!(&ack, Ok(Some(Ok(Message::Text(t)))) if t.as_str().contains("connection_ack")),
        "{ack:?}"
    );
    // No acknowledgement of `subscribe`: give the server a moment before completing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    socket
        .send(Message::text(
            json!({ "type": "complete", "id": "1" }).to_string(),
        ))
        .await
        .expect("send");
    let _ = socket.close(None).await;
}

/// Personal data that must stay out of the log: in the variables, then in a response.
const PHONE: &str = "13987654321";
const REPRESENTATIVE: &str = "欧阳保密";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_and_no_secrets() {
    let metrics_token = "metrics-token-for-the-logging-test";
    let mut server = Server::start(metrics_token);
    let client = reqwest::Client::new();
    let keys = KeyConfig::with_secret(TEST_SECRET.as_bytes().to_vec());
    let token = keys
        .sign(
            "registrar@500103",
            Role::Admin,
            None,
            None,
            chrono::Duration::hours(1),
        )
        .expect("sign");

    let request_id = read_personal_data(&client, &server, &token).await;
    a_read_is_logged_without_its_variables(&mut server, &request_id);
    a_refused_request_is_logged(&client, &mut server).await;
    a_subscription_is_logged_when_it_ends(&mut server, &token).await;
    metrics_want_their_token(&client, &server, &token, metrics_token).await;
    nothing_secret_is_logged(&mut server, &token, metrics_token);
}

/// Registers a unit with personal data and reads it back; answers the read's request id.
async fn read_personal_data(client: &reqwest::Client, server: &Server, token: &str) -> String {
    let mut input = fixtures::unit_input("500103", 7301, "日志测试厂", "KEY");
    input["contactPhone"] = json!(PHONE);
    input["legalRepresentative"] = json!(REPRESENTATIVE);
    let (_, registered) = post(
        client,
        server,
        token,
        "mutation RegisterForLog($input: RegisterUnitInput!) { registerUnit(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await;
    let unit_id = registered["data"]["registerUnit"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("registered: {registered}"))
        .to_owned();
    let (request_id, read) = post(
        client,
        server,
        token,
        "query UnitContact($id: ID!) { unit(id: $id) { contactPhone legalRepresentative } }",
        json!({ "id": unit_id }),
    )
    .await;
    assert_eq!(read["data"]["unit"]["contactPhone"], PHONE, "{read}");
    request_id
}

fn a_read_is_logged_without_its_variables(server: &mut Server, request_id: &str) {
    let line = server.access_line(request_id);
    assert_eq!(line["target"], "permit_exchange::access_log");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["subject"], "registrar@500103");
    assert_eq!(line["role"], "ADMIN");
    assert_eq!(line["operation"], "UnitContact");
    assert_eq!(line["outcome"], "ok");
    assert_eq!(line["status"], 200);
    assert!(
        line["duration_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{line}"
    );
    // The unit read, and the audit row for reading its personal data.
    assert!(
        line["statements"].as_u64().is_some_and(|n| n >= 2),
        "{line}"
    );
    assert!(line.get("variables").is_none() && line.get("query").is_none());
}

async fn a_refused_request_is_logged(client: &reqwest::Client, server: &mut Server) {
    // A refused request is logged too, with its code.
    let (refused_id, _) = post(
        client,
        server,
        "forged.token.value",
        "{ me { subject } }",
        json!({}),
    )
    .await;
    let refused = server.access_line(&refused_id);
    assert_eq!(refused["outcome"], "UNAUTHENTICATED");
    assert_eq!(refused["status"], 401);
    assert_eq!(refused["subject"], "-");
}

async fn a_subscription_is_logged_when_it_ends(server: &mut Server, token: &str) {
    // A subscription is logged when it ends, with the caller and its operation.
    subscribe_and_complete(server, token).await;
    let watched = server.wait_for(Duration::from_secs(10), |line| {
        line.contains("\"operation\":\"WatchFindings\"")
    });
    let watched: Value = serde_json::from_str(&watched).expect("a JSON log line");
    assert_eq!(watched["method"], "SUBSCRIBE");
    assert_eq!(watched["subject"], "registrar@500103");
    assert_eq!(watched["outcome"], "ok");
    assert!(
        watched["request_id"]
            .as_str()
            .is_some_and(|id| id.len() == 16)
    );
}

async fn metrics_want_their_token(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    metrics_token: &str,
) {
    // `/metrics` wants its token when one is configured.
    let anonymous = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(anonymous.status(), 401);
    let wrong = client
        .get(format!("{}/metrics", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(wrong.status(), 401);
    let scraped = client
        .get(format!("{}/metrics", server.base))
        .bearer_auth(metrics_token)
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.expect("body");
    let exposition = crate::metrics::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        exposition.get(
            "permit_exchange_graphql_requests_total",
            &[("operation", "UnitContact"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
}

fn nothing_secret_is_logged(server: &mut Server, token: &str, metrics_token: &str) {
    // Everything logged: JSON lines only, and no secret or personal value among them.
    server.drain(Duration::from_millis(300));
    let logged: Vec<&String> = server.seen.iter().filter(|l| l.starts_with('{')).collect();
    assert!(logged.len() >= 4, "{logged:?}");
    for line in logged {
        serde_json::from_str::<Value>(line).expect("every log line is JSON");
        for secret in [token, PHONE, REPRESENTATIVE, metrics_token, TEST_SECRET] {
            assert!(!line.contains(secret), "{secret} logged: {line}");
        }
    }
}
