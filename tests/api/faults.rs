//! Answers under faults (issue 21): the same idempotency key sent to two instances at once, an
//! oversize body, and `Retry-After` on every 429. The outage under writes is in `outage`.

use permit_api::config::Limits;
use permit_core::auth::Role;
use serde_json::{Value, json};

use crate::db_test;
use crate::fixtures::{REGISTER_UNIT, unit_input};
use crate::helpers::{Backend, TestApp, error_code};

db_test!(
    the_same_key_on_two_instances_at_once_gives_one_record,
    |app| {
        let peer = app.spawn_peer().await;
        let token = app.token(Role::Admin, None);
        let input = unit_input("500103", 4242, "并发重试单位", "KEY");
        let attempts = (0..12).map(|i| {
            let (instance, token, input) = (if i % 2 == 0 { &app } else { &peer }, &token, &input);
            async move {
                instance
                    .gql(
                        Some(token),
                        REGISTER_UNIT,
                        json!({ "input": input, "key": "race-1" }),
                    )
                    .await
            }
        });
        let answers: Vec<Value> = futures_util::future::join_all(attempts).await;
        let ids: Vec<&Value> = answers
            .iter()
            .map(|body| {
                assert!(body.get("errors").is_none(), "{body:#}");
                &body["data"]["registerUnit"]["id"]
            })
            .collect();
        assert!(ids[0].is_string(), "{:#}", answers[0]);
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM units").await, 1);

        // The same key with other input is still a conflict, on either instance.
        let other = unit_input("500103", 4243, "另一个单位", "KEY");
        for instance in [&app, &peer] {
            let body = instance
                .gql(
                    Some(&token),
                    REGISTER_UNIT,
                    json!({ "input": other, "key": "race-1" }),
                )
                .await;
            assert_eq!(error_code(&body), Some("CONFLICT"), "{body:#}");
            let message = body["errors"][0]["message"].as_str().unwrap_or("");
            assert!(message.contains("idempotencyKey"), "{message}");
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_body_is_a_coded_json_413() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let limit = Limits::default().max_body_bytes;
    let pad = "x".repeat(limit + 1);
    let body = format!(r#"{{"query":"{{ __typename }}","extensions":{{"pad":"{pad}"}}}}"#);
    for accept in ["application/json", "application/graphql-response+json"] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", accept)
            .body(body.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 413, "{accept}");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(content_type.starts_with(accept), "{content_type}");
        let answer: Value = response.json().await.expect("a JSON body");
        assert_eq!(error_code(&answer), Some("QUERY_TOO_COMPLEX"), "{answer:#}");
        let message = answer["errors"][0]["message"].as_str().unwrap_or("");
        assert!(message.contains(&limit.to_string()), "{message}");
    }
    // Without a declared length (chunked), the limit holds as the body arrives.
    let status_line = chunked_post(&app, &body).await;
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    // A body at the limit is read.
    let ok = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_429_carries_retry_after() {
    let limits = Limits {
        rate_per_second: 1.0,
        rate_burst: 2.0,
        ..Limits::default()
    };
    let app = TestApp::spawn_with_limits(Backend::Sqlite, limits).await;
    let mut limited = 0;
    for _ in 0..5 {
        let response = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ districts { code } }" }))
            .send()
            .await
            .expect("send");
        if response.status() == 429 {
            limited += 1;
            assert!(
                response.headers().get("retry-after").is_some(),
                "{:?}",
                response.headers()
            );
        }
    }
    assert!(limited >= 2, "{limited} of 5 rate limited");
}

/// POSTs `body` with `Transfer-Encoding: chunked` (no Content-Length) and returns the response
/// head.
async fn chunked_post(app: &TestApp, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    for chunk in body.as_bytes().chunks(16 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The server may answer and close before the whole body is sent.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.contains("QUERY_TOO_COMPLEX"), "{answer}");
    answer
}
