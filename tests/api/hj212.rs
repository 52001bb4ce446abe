//! HJ 212-2017 intake (issue 17): real-format packets, written here with the codec's encoder,
//! sent over TCP to the listener and as a file; good packets stored and answered as the
//! standard says, damaged ones and unknown devices refused and counted, the listener unshaken
//! by garbage, endless packets, slow clients and silent ones.

use std::time::Duration;

use permit_api::config::Hj212Config;
use permit_api::hj212::codec;
use permit_core::auth::Role;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, error_code, error_field};
use crate::monitoring::monitored_permit;
use crate::office::{BOUNDARY, multipart_body};

const REGISTER: &str = r#"mutation($input: RegisterMonitoringDeviceInput!) {
  registerMonitoringDevice(input: $input) { id mn outlet { code } } }"#;

fn year() -> String {
    permit_core::domain::clock::today().format("%Y").to_string()
}

/// A real-time data packet (CN 2011) of `mn` at June 1st, `hour`:00 local time: COD, and the
/// flow, which the permit does not plan (left out). `flag` 5 asks for an answer, 4 does not.
fn packet(mn: &str, pw: &str, hour: u32, cod: f64, flag: u8) -> String {
    codec::encode(&format!(
        "QN={y}0601{hour:02}0000123;ST=32;CN=2011;PW={pw};MN={mn};Flag={flag};\
         CP=&&DataTime={y}0601{hour:02}0000;w01018-Rtd={cod},w01018-Flag=N;w00000-Rtd=12.5,w00000-Flag=N&&",
        y = year()
    ))
}

async fn answer(stream: &mut TcpStream) -> String {
    let mut buffer = vec![0u8; 512];
    let mut got = Vec::new();
    while !got.ends_with(b"\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(n > 0, "the listener closed the connection");
        got.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8(got).expect("ASCII")
}

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_configured(backend, |config| {
        let mut hj212 = Hj212Config::new("127.0.0.1:0");
        hj212.read_timeout = Duration::from_secs(2);
        config.hj212 = Some(hj212);
    })
    .await
}

/// A packet of hour 11 whose CRC does not match.
fn bad_crc() -> String {
    let mut bad_crc = packet("DEV0001", "123456", 11, 1.0, 5);
    bad_crc.replace_range(bad_crc.len() - 6..bad_crc.len() - 2, "0000");
    bad_crc
}

async fn run(app: TestApp) {
    let monitoring = register_device(&app).await;
    let addr = app.hj212.expect("the listener is on");
    one_connection_takes_good_packets_among_bad(addr).await;
    slow_and_silent_clients(addr).await;
    readings_are_stored(&app, &monitoring).await;
    packets_are_counted(&app).await;
    a_file_of_packets(&app, &monitoring).await;
}

/// DEV0001 at the water outlet, by MONITORING; a second registration of the MN and an
/// officer's are refused. Answers the MONITORING token.
async fn register_device(app: &TestApp) -> String {
    let (_, water, _) = monitored_permit(app, "500103", 1).await;
    let monitoring = app.token(Role::Monitoring, None);
    let registered = app
        .data(
            &monitoring,
            REGISTER,
            json!({ "input": { "mn": "DEV0001", "outletId": water, "password": "123456" } }),
        )
        .await;
    assert_eq!(
        registered["registerMonitoringDevice"]["outlet"]["code"],
        "DW001"
    );
    let again = app
        .gql(
            Some(&monitoring),
            REGISTER,
            json!({ "input": { "mn": "DEV0001", "outletId": water, "password": "x" } }),
        )
        .await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "{again}");
    assert_eq!(error_field(&again), Some("input.mn"));
    let officer = app.token(Role::EnforcementOfficer, Some("500103"));
    let refused = app
        .gql(
            Some(&officer),
            REGISTER,
            json!({ "input": { "mn": "DEV0002", "outletId": water, "password": "x" } }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));
    monitoring
}

async fn one_connection_takes_good_packets_among_bad(addr: std::net::SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // Garbage first, then a good packet that asks for an answer.
    stream.write_all(b"hello\r\n").await.expect("write");
    let good = packet("DEV0001", "123456", 10, 42.5, 5);
    stream.write_all(good.as_bytes()).await.expect("write");
    let ack = answer(&mut stream).await;
    let segment = codec::check_frame(ack.trim_end().as_bytes()).expect("a valid packet");
    assert_eq!(
        segment,
        format!(
            "QN={}0601100000123;ST=91;CN=9014;PW=123456;MN=DEV0001;Flag=4;CP=&&&&",
            year()
        )
    );
    // Damaged packets and an unknown device are refused without an answer; the good packets
    // around them are stored.
    let bad_crc = bad_crc();
    let bad_length = format!("##0999{}", &packet("DEV0001", "123456", 12, 1.0, 5)[6..]);
    let unknown = packet("DEV9999", "123456", 13, 1.0, 5);
    let wrong_password = packet("DEV0001", "654321", 14, 1.0, 5);
    let quiet = packet("DEV0001", "123456", 15, 55.0, 4);
    let last = packet("DEV0001", "123456", 16, 120.0, 5);
    let burst = format!("{bad_crc}{bad_length}{unknown}{wrong_password}{quiet}{last}");
    stream.write_all(burst.as_bytes()).await.expect("write");
    let ack = answer(&mut stream).await;
    assert!(
        ack.contains(&format!("QN={}0601160000123", year())),
        "{ack}"
    );
    // An endless packet is dropped; the connection goes on.
    stream.write_all(b"##0101").await.expect("write");
    stream.write_all(&[b'x'; 3000]).await.expect("write");
    let after = packet("DEV0001", "123456", 17, 30.0, 5);
    stream.write_all(after.as_bytes()).await.expect("write");
    assert!(answer(&mut stream).await.contains("0601170000123"));
}

async fn slow_and_silent_clients(addr: std::net::SocketAddr) {
    // A slow client: a packet in pieces of three bytes.
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    let piece = packet("DEV0001", "123456", 18, 33.0, 5);
    for chunk in piece.as_bytes().chunks(3) {
        slow.write_all(chunk).await.expect("write");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(answer(&mut slow).await.contains("0601180000123"));
    // A silent connection is closed after the read timeout (2 s here).
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(6), silent.read(&mut byte))
        .await
        .expect("closed within the timeout");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
}

async fn readings_are_stored(app: &TestApp, monitoring: &str) {
    // Stored: hours 10, 15, 16, 17, 18, with flags; the flow was left out.
    let stored = app
        .data(
            monitoring,
            "{ readings(first: 20) { totalCount edges { node { pollutant value flag source measuredAt } } } }",
            json!({}),
        )
        .await;
    assert_eq!(stored["readings"]["totalCount"], 5, "{stored}");
    let node = &stored["readings"]["edges"][2]["node"];
    assert_eq!(node["value"], 120.0);
    assert_eq!(node["source"], "AUTOMATIC");
    assert_eq!(node["pollutant"], "化学需氧量");
    assert_eq!(
        node["measuredAt"],
        format!("{}-06-01T16:00:00+08:00", year())
    );
}

async fn packets_are_counted(app: &TestApp) {
    // Counted by outcome and reason.
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let series = |labels: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("permit_exchange_hj212_packets_total{{{labels}}} ")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(series("outcome=\"accepted\""), 5, "{metrics}");
    assert_eq!(series("outcome=\"refused\",reason=\"crc\""), 1);
    assert_eq!(series("outcome=\"refused\",reason=\"length\""), 1);
    assert_eq!(series("outcome=\"refused\",reason=\"unknown_device\""), 1);
    assert_eq!(series("outcome=\"refused\",reason=\"password\""), 1);
    // The endless packet counts as too long, or as cut short when the next packet arrived in
    // the same read; "hello" is garbage either way.
    assert!(
        series("outcome=\"refused\",reason=\"garbage\"")
            + series("outcome=\"refused\",reason=\"too_long\"")
            >= 2
    );
    assert!(metrics.contains("permit_exchange_hj212_readings_total 5"));
}

async fn a_file_of_packets(app: &TestApp, monitoring: &str) {
    // A file of packets: a new one, a resent one (stored already: taken, nothing new), a bad one.
    let file = format!(
        "{}{}{}",
        packet("DEV0001", "123456", 19, 20.0, 4),
        packet("DEV0001", "123456", 10, 42.5, 4),
        bad_crc(),
    );
    let operations = json!({
        "query": "mutation($input: IngestHj212PacketsInput!) { ingestHj212Packets(input: $input) { accepted readings refused { reason packets } } }",
        "variables": { "input": { "file": Value::Null } }
    });
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(monitoring)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("apollo-require-preflight", "true")
        .body(multipart_body(
            &operations,
            "packets.txt",
            "text/plain",
            file.as_bytes(),
        ))
        .send()
        .await
        .expect("upload");
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["data"]["ingestHj212Packets"],
        json!({ "accepted": 2, "readings": 1, "refused": [{ "reason": "crc", "packets": 1 }] }),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packets_over_tcp_and_as_a_file_sqlite() {
    run(spawn(Backend::Sqlite).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packets_over_tcp_and_as_a_file_postgres() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        run(spawn(Backend::Postgres).await).await;
    }
}
