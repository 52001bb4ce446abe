//! `GET /metrics`: a valid Prometheus text exposition whose counters, histogram and gauges move
//! with the requests and subscriptions the instance serves. Each test's server is fresh, so
//! counts are exact.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use permit_core::auth::Role;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::db_test;
use crate::fixtures;
use crate::helpers::{TestApp, error_code};

/// One sample: metric name, labels, value.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition, checked line by line as it is read.
#[derive(Debug)]
pub struct Exposition {
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The value of the sample named `name` with exactly `labels`, if present.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }

    /// Like `get`, absent counting as 0 (a counter not yet incremented is not exposed).
    pub fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `{k="v",…}` with the text format's escapes; returns the labels and the rest of the line.
fn parse_labels(text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = text
        .strip_prefix('{')
        .ok_or_else(|| "labels start with '{'".to_owned())?;
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("a label needs '='")?;
        let key = &rest[..eq];
        if !is_metric_name(key) || key.contains(':') {
            return Err(format!("bad label name {key:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("a label value is quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((_, c)) => value.push(c),
                None => return Err("unterminated label value".to_owned()),
            }
        };
        if labels.insert(key.to_owned(), value).is_some() {
            return Err(format!("label {key} repeated"));
        }
        rest = &rest[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => text.parse().map_err(|_| format!("bad value {text:?}")),
    }
}

/// Parses and checks the text format: every line a comment or `name{labels} value`, HELP and
/// TYPE before a family's samples, no series twice, histogram buckets cumulative and ending in
/// `+Inf` equal to `_count`.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut help: HashMap<String, String> = HashMap::new();
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples: Vec<Sample> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("HELP"), Some(name), Some(text)) if is_metric_name(name) => {
                    let repeated = help.insert(name.to_owned(), text.to_owned()).is_some();
                    if repeated {
                        return Err(at("HELP repeated".into()));
                    }
                }
                (Some("TYPE"), Some(name), Some(kind)) if is_metric_name(name) => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    if samples.iter().any(|s| family(&s.name, &types) == name) {
                        return Err(at("TYPE after samples".into()));
                    }
                    if types.insert(name.to_owned(), kind.to_owned()).is_some() {
                        return Err(at("TYPE repeated".into()));
                    }
                }
                (Some("HELP" | "TYPE"), _, _) => return Err(at("malformed".into())),
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(at("bad metric name".into()));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let value_text = rest
            .strip_prefix(' ')
            .ok_or_else(|| at("a space before the value".into()))?;
        // An optional timestamp may follow; we never write one.
        if value_text.contains(' ') {
            return Err(at("unexpected timestamp or trailing text".into()));
        }
        let value = parse_value(value_text).map_err(at)?;
        let family = family(name, &types);
        if !types.contains_key(family) || !help.contains_key(family) {
            return Err(at(format!("no HELP and TYPE for {family}")));
        }
        let kind = types.get(family).map(String::as_str);
        if kind == Some("counter") && (value.is_nan() || value < 0.0) {
            return Err(at("a counter below zero".into()));
        }
        if samples.iter().any(|s| s.name == name && s.labels == labels) {
            return Err(at("series repeated".into()));
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    check_histograms(&samples, &types)?;
    Ok(Exposition { samples })
}

/// The family a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` are its own.
fn family<'a>(name: &'a str, types: &HashMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && types.get(base).is_some_and(|t| t == "histogram")
        {
            return base;
        }
    }
    name
}

fn check_histograms(samples: &[Sample], types: &HashMap<String, String>) -> Result<(), String> {
    for (family, _) in types.iter().filter(|(_, kind)| *kind == "histogram") {
        let bucket_name = format!("{family}_bucket");
        // Buckets grouped by their labels other than `le`.
        let mut groups: BTreeMap<BTreeMap<String, String>, Vec<(f64, f64)>> = BTreeMap::new();
        for sample in samples.iter().filter(|s| s.name == bucket_name) {
            let mut labels = sample.labels.clone();
            let le = labels
                .remove("le")
                .ok_or_else(|| format!("{bucket_name} without le"))?;
            groups
                .entry(labels)
                .or_default()
                .push((parse_value(&le)?, sample.value));
        }
        for (labels, buckets) in groups {
            let mut sorted = buckets.clone();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            if sorted != buckets {
                return Err(format!("{family} {labels:?}: buckets out of order"));
            }
            if buckets.windows(2).any(|w| w[1].1 < w[0].1) {
                return Err(format!("{family} {labels:?}: buckets not cumulative"));
            }
            let Some(&(last_le, infinite)) = buckets.last() else {
                continue;
            };
            if last_le != f64::INFINITY {
                return Err(format!("{family} {labels:?}: no +Inf bucket"));
            }
            let count = samples
                .iter()
                .find(|s| s.name == format!("{family}_count") && s.labels == labels)
                .map(|s| s.value);
            let sum = samples
                .iter()
                .find(|s| s.name == format!("{family}_sum") && s.labels == labels);
            if count != Some(infinite) || sum.is_none() {
                return Err(format!(
                    "{family} {labels:?}: _count {count:?} and _sum must match +Inf {infinite}"
                ));
            }
        }
    }
    Ok(())
}

/// `/metrics` of `app`, parsed and checked.
pub async fn scrape(app: &TestApp) -> Exposition {
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    parse(&text).unwrap_or_else(|e| panic!("invalid exposition: {e}\n{text}"))
}

const REQUESTS: &str = "permit_exchange_graphql_requests_total";
const DURATION_COUNT: &str = "permit_exchange_graphql_request_duration_seconds_count";
const HTTP: &str = "permit_exchange_http_responses_total";
const OPEN: &str = "permit_exchange_subscriptions_open";

#[test]
fn the_parser_refuses_broken_expositions() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    assert!(parse(good).is_ok());
    // No TYPE, a bad line, a repeated series, buckets that shrink, a missing +Inf.
    assert!(parse("# HELP a_total A.\na_total 1\n").is_err());
    assert!(parse("# HELP a A.\n# TYPE a gauge\na one\n").is_err());
    assert!(parse(&format!("{good}a_total{{x=\"1\"}} 3\n")).is_err());
    let histogram =
        |buckets: &str| format!("# HELP h H.\n# TYPE h histogram\n{buckets}h_sum 1\nh_count 2\n");
    assert!(
        parse(&histogram(
            "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
        ))
        .is_ok()
    );
    assert!(
        parse(&histogram(
            "h_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\n"
        ))
        .is_err()
    );
    assert!(parse(&histogram("h_bucket{le=\"1\"} 1\nh_bucket{le=\"2\"} 2\n")).is_err());
}

/// One request answered, one refused by the policy (FORBIDDEN), one refused at the door (401).
async fn send_one_of_each_outcome(app: &TestApp, officer: &str, integrator: &str) {
    let ok = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(officer)
        .json(&json!({ "query": "query MetricsProbe { me { subject } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 200);
    assert!(ok.headers().contains_key("x-request-id"));
    let forbidden = app
        .gql(
            Some(integrator),
            "mutation MetricsSneak($input: RegisterUnitInput!) { registerUnit(input: $input) { id } }",
            json!({ "input": fixtures::unit_input("500103", 9001, "越权登记", "KEY") }),
        )
        .await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"), "{forbidden}");
    let refused = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth("not-a-token")
        .json(&json!({ "query": "query MetricsProbe { me { subject } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);
}

db_test!(requests_are_counted_by_operation_and_outcome, |app| {
    let before = scrape(&app).await;
    let officer = app.token(Role::EnforcementOfficer, Some("500103"));
    let integrator = app.token(Role::Integrator, None);

    send_one_of_each_outcome(&app, &officer, &integrator).await;
    // Anonymous operations are counted under their first root field, as the audit trail does.
    app.data(&officer, "{ districts { code } }", json!({}))
        .await;
    // A name from a client that has no business in a label.
    let long_name = format!("Q{}", "x".repeat(100));
    app.data(
        &officer,
        &format!("query {long_name} {{ me {{ subject }} }}"),
        json!({}),
    )
    .await;

    let after = scrape(&app).await;
    let requests: Vec<&Sample> = after
        .samples
        .iter()
        .filter(|s| s.name == REQUESTS)
        .collect();
    let delta = |labels: &[(&str, &str)]| {
        let delta = after.count(REQUESTS, labels) - before.count(REQUESTS, labels);
        if delta != 1.0 {
            eprintln!("{labels:?} rose by {delta}: {requests:#?}");
        }
        delta
    };
    assert_eq!(
        delta(&[("operation", "MetricsProbe"), ("outcome", "ok")]),
        1.0
    );
    assert_eq!(
        delta(&[("operation", "MetricsSneak"), ("outcome", "FORBIDDEN")]),
        1.0
    );
    // The token is checked before the document is read, so the operation may not be known.
    let unauthenticated = |e: &Exposition| -> f64 {
        e.samples
            .iter()
            .filter(|s| s.name == REQUESTS && s.labels["outcome"] == "UNAUTHENTICATED")
            .map(|s| s.value)
            .sum()
    };
    assert_eq!(unauthenticated(&after) - unauthenticated(&before), 1.0);
    assert_eq!(delta(&[("operation", "districts"), ("outcome", "ok")]), 1.0);
    assert_eq!(delta(&[("operation", "other"), ("outcome", "ok")]), 1.0);
    assert!(
        !after.samples.iter().any(|s| s
            .labels
            .get("operation")
            .is_some_and(|o| o.starts_with("Qxxx"))),
        "a long client-chosen name became a label"
    );
    // One observation per request counted under the label, whatever its outcome.
    let probes = |e: &Exposition| -> f64 {
        e.samples
            .iter()
            .filter(|s| s.name == REQUESTS && s.labels["operation"] == "MetricsProbe")
            .map(|s| s.value)
            .sum()
    };
    let observed = after.count(DURATION_COUNT, &[("operation", "MetricsProbe")])
        - before.count(DURATION_COUNT, &[("operation", "MetricsProbe")]);
    assert!(observed >= 1.0);
    assert_eq!(observed, probes(&after) - probes(&before));
    assert!(
        after.count(HTTP, &[("status", "200")]) >= before.count(HTTP, &[("status", "200")]) + 4.0
    );
    assert_eq!(
        after.count(HTTP, &[("status", "401")]) - before.count(HTTP, &[("status", "401")]),
        1.0
    );
    // The connection's own counter (migrations and these requests), read through `/metrics`.
    let statements = after.count("permit_exchange_db_statements_total", &[]);
    assert!(statements > 0.0);
    assert!(statements >= before.count("permit_exchange_db_statements_total", &[]));
    assert!(statements <= app.db.statement_count() as f64);
    let max = after
        .get("permit_exchange_db_pool_max_connections", &[])
        .expect("pool max");
    let idle = after
        .get("permit_exchange_db_pool_connections", &[("state", "idle")])
        .expect("idle connections");
    let in_use = after
        .get(
            "permit_exchange_db_pool_connections",
            &[("state", "in_use")],
        )
        .expect("connections in use");
    assert!(
        max >= 1.0 && idle + in_use <= max,
        "{idle} + {in_use} of {max}"
    );
    assert_eq!(after.get(OPEN, &[]), Some(0.0));
});

db_test!(refusals_by_limits_are_counted, |app| {
    let officer = app.token(Role::EnforcementOfficer, Some("500103"));
    let aliases: String = (0..40)
        .map(|i| format!("a{i}: me {{ subject }} "))
        .collect();
    let body = app
        .gql(
            Some(&officer),
            &format!("query TooMany {{ {aliases} }}"),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    let after = scrape(&app).await;
    // The document limits are checked before it is parsed: its operation is not known yet.
    assert_eq!(
        after.get("permit_exchange_limit_refused_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        after.count(
            REQUESTS,
            &[("operation", "unknown"), ("outcome", "QUERY_TOO_COMPLEX")]
        ),
        1.0
    );
    assert_eq!(
        after.get("permit_exchange_rate_limited_total", &[]),
        Some(0.0)
    );
});

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(socket: &mut Socket, message: serde_json::Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

/// Scrapes until the open-subscriptions gauge reads `n` (the server updates it as it processes
/// the client's messages, which have no acknowledgement).
async fn wait_for_open(app: &TestApp, n: f64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let open = scrape(app).await.get(OPEN, &[]);
        if open == Some(n) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "subscriptions_open is {open:?}, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

db_test!(open_subscriptions_are_a_gauge, |app| {
    let token = app.token(Role::EnforcementOfficer, Some("500103"));
    let mut request = app.ws_url().into_client_request().expect("ws request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket handshake");
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    let ack = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("an answer to connection_init");
    assert!(
        matches!(&ack, Some(Ok(Message::Text(t))) if t.as_str().contains("connection_ack")),
        "{ack:?}"
    );
    wait_for_open(&app, 0.0).await;
    for id in ["a", "b"] {
        send(
            &mut socket,
            json!({ "type": "subscribe", "id": id, "payload": { "query": "subscription { findingRecorded { id } }" } }),
        )
        .await;
    }
    app.wait_for_subscribers(2).await;
    wait_for_open(&app, 2.0).await;
    // The client completes one; then it goes away with the other still running.
    send(&mut socket, json!({ "type": "complete", "id": "a" })).await;
    wait_for_open(&app, 1.0).await;
    socket.close(None).await.expect("close");
    drop(socket);
    wait_for_open(&app, 0.0).await;
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_requests_are_counted() {
    let limits = permit_api::config::Limits {
        rate_per_second: 0.001,
        rate_burst: 1.0,
        ..Default::default()
    };
    let app = TestApp::spawn_with_limits(crate::helpers::Backend::Sqlite, limits).await;
    let query = json!({ "query": "query Often { districts { code } }" });
    let first = app
        .client
        .post(app.url("/graphql"))
        .json(&query)
        .send()
        .await
        .expect("request");
    assert_eq!(first.status(), 200);
    let second = app
        .client
        .post(app.url("/graphql"))
        .json(&query)
        .send()
        .await
        .expect("request");
    assert_eq!(second.status(), 429);
    let after = scrape(&app).await;
    assert_eq!(
        after.get("permit_exchange_rate_limited_total", &[]),
        Some(1.0)
    );
    // Refused before the document is read: the operation is not known yet.
    assert_eq!(
        after.count(
            REQUESTS,
            &[("operation", "unknown"), ("outcome", "RATE_LIMITED")]
        ),
        1.0
    );
    assert_eq!(after.count(HTTP, &[("status", "429")]), 1.0);
}
