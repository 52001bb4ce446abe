//! The fault run (issue 19): PostgreSQL crashed under concurrent writers with idempotency keys
//! and a subscriber on another instance; nothing lost, duplicated or delayed past the limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use permit_core::auth::Role;
use serde_json::{Value, json};

use super::PrivatePostgres;
use crate::helpers::{TestApp, error_code};
use crate::shutdown::{Seen, Subscriber};

/// One `recordFinding` of the fault run: its key, what came back, and when.
struct Write {
    key: String,
    status: u16,
    retry_after: bool,
    body: Value,
    /// When it was answered, and how long it took.
    answered: Instant,
    took: Duration,
}

const RECORD_FINDING: &str = "mutation($input: RecordFindingInput!, $key: String) { \
     recordFinding(input: $input, idempotencyKey: $key) { id } }";

/// The input of the write with idempotency key `key` (each key its own description).
fn finding_input(scene: &crate::subscriptions::Scene, key: &str) -> Value {
    json!({
        "inspectionId": scene.inspection, "code": "LG-1", "permitId": scene.permit["id"],
        "severity": "GENERAL", "description": format!("故障期间记录 {key}"),
    })
}

async fn record_with_key(app: &TestApp, scene: &crate::subscriptions::Scene, key: &str) -> Write {
    let started = Instant::now();
    let sent = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&scene.officer)
        .json(&json!({
            "query": RECORD_FINDING,
            "variables": { "input": finding_input(scene, key), "key": key },
        }))
        .send()
        .await;
    let (status, retry_after, body) = match sent {
        Ok(response) => (
            response.status().as_u16(),
            response.headers().contains_key("retry-after"),
            response.json().await.unwrap_or(Value::Null),
        ),
        Err(_) => (0, false, Value::Null),
    };
    Write {
        key: key.to_owned(),
        status,
        retry_after,
        body,
        answered: Instant::now(),
        took: started.elapsed(),
    }
}

fn finding_id(write: &Write) -> Option<&str> {
    write.body["data"]["recordFinding"]["id"].as_str()
}

/// Issue 19, the fault run as a test: PostgreSQL stopped (as in a crash) for six seconds (longer
/// than the 4 s time limit) and started again under 8 concurrent writers of `recordFinding`
/// with idempotency keys, for 14 s,
/// through instance B, while a subscriber watches on instance A. Then: every answer came within
/// the time limit; every acknowledged write is present once with its change event; all keys
/// retried give the same ids and no duplicate; the service wrote again within seconds of the
/// database; and A's subscriber received every finding once, in feed order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_run_loses_duplicates_and_delays_nothing() {
    let Some(postgres) = PrivatePostgres::create() else {
        eprintln!("SKIPPED the fault run: no PostgreSQL server binaries (initdb)");
        return;
    };
    let limit = Duration::from_secs(4);
    let limits = permit_api::config::Limits {
        request_timeout: limit,
        ..TestApp::test_limits()
    };
    let a = TestApp::spawn_serving_on(&postgres.url(), limits.clone()).await;
    let b = Arc::new(TestApp::spawn_serving_on(&postgres.url(), limits).await);
    for instance in [&a, &*b] {
        assert!(
            instance
                .events
                .wait_until_listening(Duration::from_secs(10))
                .await
        );
    }
    let scene = Arc::new(crate::subscriptions::scene(&b, "500103", 85).await);
    let watcher = a.token(Role::Supervisor, None);
    let mut subscriber = Subscriber::start(
        &a,
        &watcher,
        "subscription { findingRecorded { id cursor } }",
    )
    .await;
    a.wait_for_subscribers(1).await;

    let (writes, back) = write_through_an_outage(&b, &scene, &postgres).await;
    let (acknowledged, refused, recovered) = answers_came_in_time(&writes, limit, back);
    let ids = every_key_again_gives_one_finding(&b, &scene, &writes).await;
    nothing_was_written_in_part(&b, &ids).await;
    the_subscriber_received_every_finding_once(&mut subscriber, &ids).await;
    eprintln!(
        "fault run: {} writes, {acknowledged} acknowledged, {refused} refused, recovered {recovered:?}",
        writes.len(),
    );
}

/// 8 concurrent writers through B for 14 s, PostgreSQL stopped after 3 s and started 6 s later;
/// every write, and when the database came back.
async fn write_through_an_outage(
    b: &Arc<TestApp>,
    scene: &Arc<crate::subscriptions::Scene>,
    postgres: &PrivatePostgres,
) -> (Vec<Write>, Instant) {
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (b, scene, stop) = (b.clone(), scene.clone(), stop.clone());
            tokio::spawn(async move {
                let mut writes = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let write = record_with_key(&b, &scene, &format!("fault-{w}-{n}")).await;
                    if write.status != 200 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    writes.push(write);
                }
                writes
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    postgres.stop();
    // Longer than the time limit: a write caught in flight must not wait the outage out.
    tokio::time::sleep(Duration::from_secs(6)).await;
    postgres.start();
    let back = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    let mut writes = Vec::new();
    for writer in writers {
        writes.extend(writer.await.expect("writer"));
    }
    (writes, back)
}

/// Every answer within the time limit, coded; some refused; writing again within seconds of the
/// database. Answers the acknowledged and refused counts and the time to recover.
fn answers_came_in_time(
    writes: &[Write],
    limit: Duration,
    back: Instant,
) -> (usize, usize, Duration) {
    // Every answer within the time limit (and a moment for the HTTP round trip), coded.
    let slack = Duration::from_millis(750);
    for write in writes {
        assert!(
            write.took <= limit + slack,
            "{} answered after {:?}: {:#}",
            write.key,
            write.took,
            write.body
        );
        assert!(
            matches!(write.status, 200 | 503),
            "{} answered {}: {:#}",
            write.key,
            write.status,
            write.body
        );
        if write.status == 503 {
            assert!(write.retry_after, "503 without Retry-After");
            assert_eq!(error_code(&write.body), Some("SERVICE_UNAVAILABLE"));
        } else {
            assert!(finding_id(write).is_some(), "{:#}", write.body);
        }
    }
    let acknowledged: Vec<&Write> = writes.iter().filter(|w| w.status == 200).collect();
    let refused = writes.len() - acknowledged.len();
    assert!(refused > 0, "the outage refused nothing");
    // Writing again within seconds of the database.
    let recovered = acknowledged
        .iter()
        .filter(|w| w.answered > back)
        .map(|w| w.answered - back)
        .min()
        .expect("writes after the database came back");
    assert!(
        recovered < Duration::from_secs(5),
        "recovered after {recovered:?}"
    );
    (acknowledged.len(), refused, recovered)
}

/// Every key again, with the same input; answers each key's finding id.
async fn every_key_again_gives_one_finding(
    b: &TestApp,
    scene: &crate::subscriptions::Scene,
    writes: &[Write],
) -> std::collections::HashMap<String, String> {
    // Every key again, with the same input: acknowledged ones give their id, the others now
    // write (or find what committed unanswered); no key makes a second finding.
    let mut ids: std::collections::HashMap<String, String> = Default::default();
    for chunk in writes.chunks(16) {
        let retries = chunk.iter().map(|w| record_with_key(b, scene, &w.key));
        for (first, again) in chunk
            .iter()
            .zip(futures_util::future::join_all(retries).await)
        {
            assert_eq!(again.status, 200, "{:#}", again.body);
            let id = finding_id(&again).expect("an id").to_owned();
            if let Some(acknowledged) = finding_id(first) {
                assert_eq!(acknowledged, id, "{}: another id on retry", first.key);
            }
            ids.insert(first.key.clone(), id);
        }
    }
    let distinct: std::collections::HashSet<&String> = ids.values().collect();
    assert_eq!(distinct.len(), ids.len(), "two keys gave one finding");
    ids
}

/// Each key's finding present once, with its one change event and its audit row.
async fn nothing_was_written_in_part(b: &TestApp, ids: &std::collections::HashMap<String, String>) {
    let findings = b.scalar_i64("SELECT COUNT(*) FROM findings").await;
    assert_eq!(
        findings,
        ids.len() as i64,
        "a finding without its key, or twice"
    );
    // No partial write: each finding has its one change event and its audit row.
    let without_event = b
        .scalar_i64(
            "SELECT COUNT(*) FROM findings f WHERE (SELECT COUNT(*) FROM change_events c \
             WHERE c.kind = 'FINDING' AND c.operation = 'CREATED' AND c.record_id = f.id) <> 1",
        )
        .await;
    assert_eq!(without_event, 0);
    let audited = b
        .scalar_i64(
            "SELECT COUNT(*) FROM audit_events WHERE record_kind = 'FINDING' AND action = 'MUTATION'",
        )
        .await;
    assert_eq!(audited, findings);
}

/// A's subscriber: every finding once, in feed order, whatever the outage did to NOTIFY.
async fn the_subscriber_received_every_finding_once(
    subscriber: &mut Subscriber,
    ids: &std::collections::HashMap<String, String>,
) {
    let distinct: std::collections::HashSet<&String> = ids.values().collect();
    let mut received = Vec::new();
    let mut last = None;
    while received.len() < ids.len() {
        match subscriber.next(Duration::from_secs(15)).await {
            Seen::Message(message) => {
                assert_eq!(message["type"], "next", "{message:#}");
                let finding = &message["payload"]["data"]["findingRecorded"];
                let cursor = permit_core::domain::changes::FeedCursor::decode(
                    finding["cursor"].as_str().unwrap_or(""),
                )
                .expect("a feed cursor");
                assert!(last < Some(cursor), "out of order or repeated: {finding}");
                last = Some(cursor);
                received.push(finding["id"].as_str().unwrap_or("").to_owned());
            }
            other => panic!(
                "{} of {} findings received, then {other:?}",
                received.len(),
                ids.len()
            ),
        }
    }
    let received: std::collections::HashSet<&String> = received.iter().collect();
    assert_eq!(received, distinct);
    assert_eq!(
        subscriber.next(Duration::from_millis(1500)).await,
        Seen::Nothing
    );
}
