//! Writes in flight when the database goes away (stopped, or hung by SIGSTOP): each answered as
//! it ended, committed or refused with SERVICE_UNAVAILABLE, never left waiting.

use std::process::Command;
use std::time::{Duration, Instant};

use permit_core::auth::Role;
use serde_json::{Value, json};

use super::{FAST, PrivatePostgres, cluster_pids, run, wait_for_readyz};
use crate::helpers::{TestApp, error_code};

/// One write of the outage test: what was sent and what came back.
struct Attempt {
    credit_code: String,
    status: Option<u16>,
    retry_after: bool,
    body: Value,
}

/// How the database fails under the writers.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Stopped at once, as in a crash, then started again.
    Crash,
    /// Every PostgreSQL process frozen (SIGSTOP), then thawed: statements in flight hang rather
    /// than fail, and the probe sees no answer.
    Freeze,
}

/// Issue 21: writes in flight while the database stops (as in a crash) and comes back. Every
/// write that committed was answered with its record, never as failed; every 503 and 429
/// carries `Retry-After`; no answer is an internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_in_flight_during_an_outage_are_answered_as_they_ended() {
    writes_under(Fault::Crash).await;
}

/// The same while the database hangs instead of going away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_in_flight_while_the_database_hangs_are_answered_as_they_ended() {
    writes_under(Fault::Freeze).await;
}

/// Sends `signal` to the cluster's postmaster and all its children, by pid.
fn signal_cluster(postgres: &PrivatePostgres, signal: &str) {
    let pids = cluster_pids(postgres).expect("the cluster's processes");
    run(Command::new("kill").arg(format!("-{signal}")).args(&pids));
}

/// One `registerUnit` of the outage test, with the `n`th credit code.
async fn write_unit(app: &TestApp, token: &str, n: u32) -> Attempt {
    let input = crate::fixtures::unit_input("500103", n, "停机写入单位", "KEY");
    let credit_code = input["creditCode"].as_str().unwrap_or("").to_owned();
    let sent = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": crate::fixtures::REGISTER_UNIT,
            "variables": { "input": input },
        }))
        .send()
        .await;
    match sent {
        Ok(response) => Attempt {
            credit_code,
            status: Some(response.status().as_u16()),
            retry_after: response.headers().contains_key("retry-after"),
            body: response.json().await.unwrap_or(Value::Null),
        },
        Err(_) => Attempt {
            credit_code,
            status: None,
            retry_after: false,
            body: Value::Null,
        },
    }
}

async fn writes_under(fault: Fault) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    let Some(postgres) = PrivatePostgres::create() else {
        eprintln!(
            "SKIPPED writes under {fault:?}: no PostgreSQL server binaries (initdb) under \
             /usr/lib/postgresql/*/bin or PG_BIN"
        );
        return;
    };
    let app = Arc::new(TestApp::spawn_on(&postgres.url()).await);
    let token = Arc::new(app.token(Role::Admin, None));
    let stop = Arc::new(AtomicBool::new(false));
    let serial = Arc::new(AtomicU32::new(1));
    let writers: Vec<_> = (0..12)
        .map(|_| {
            let (app, token, stop, serial) =
                (app.clone(), token.clone(), stop.clone(), serial.clone());
            tokio::spawn(async move {
                let mut attempts = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = serial.fetch_add(1, Ordering::Relaxed);
                    let attempt = write_unit(&app, &token, n).await;
                    if attempt.status == Some(503) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    attempts.push(attempt);
                }
                attempts
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    match fault {
        Fault::Crash => postgres.stop(),
        Fault::Freeze => signal_cluster(&postgres, "STOP"),
    }
    // Long enough for the probe to notice (a second without an answer, when frozen).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // A write that starts now is refused at once (the writers above are stuck in flight when
    // the database hangs, so it is this one that meets the probe).
    let mut late = Vec::new();
    for _ in 0..3 {
        let n = serial.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        late.push(write_unit(&app, &token, n).await);
        assert!(started.elapsed() < FAST, "{:?}", started.elapsed());
    }
    match fault {
        Fault::Crash => postgres.start(),
        Fault::Freeze => signal_cluster(&postgres, "CONT"),
    }
    assert!(wait_for_readyz(&app, 200, Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut attempts = Vec::new();
    for writer in writers {
        attempts.extend(writer.await.expect("writer"));
    }
    for attempt in &late {
        assert_eq!(attempt.status, Some(503), "{:#}", attempt.body);
    }
    attempts.extend(late);

    let committed: std::collections::HashSet<String> = {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = app.db.conn.get_database_backend();
        app.db
            .conn
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT credit_code FROM units",
            ))
            .await
            .expect("read the units")
            .into_iter()
            .map(|row| row.try_get_by_index::<String>(0).expect("credit code"))
            .collect()
    };
    let (mut ok, mut unavailable) = (0, 0);
    for attempt in &attempts {
        let status = attempt.status.unwrap_or(0);
        if matches!(status, 503 | 429) {
            assert!(attempt.retry_after, "{status} without Retry-After");
        }
        assert_ne!(
            error_code(&attempt.body),
            Some("INTERNAL_SERVER_ERROR"),
            "{:#}",
            attempt.body
        );
        let answered = &attempt.body["data"]["registerUnit"]["creditCode"];
        if committed.contains(&attempt.credit_code) {
            assert_eq!(
                status, 200,
                "a committed write answered {status}: {:#}",
                attempt.body
            );
            assert_eq!(answered.as_str(), Some(attempt.credit_code.as_str()));
            ok += 1;
        } else {
            assert!(
                answered.is_null(),
                "answered but not committed: {:#}",
                attempt.body
            );
            assert_eq!(status, 503, "{:#}", attempt.body);
            assert_eq!(error_code(&attempt.body), Some("SERVICE_UNAVAILABLE"));
            unavailable += 1;
        }
    }
    eprintln!("{fault:?}: {ok} writes committed and answered, {unavailable} refused with 503");
    assert!(
        ok > 0 && unavailable > 0,
        "{ok} committed, {unavailable} refused"
    );
}
