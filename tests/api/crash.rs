//! `kill -9` of the real binary under SQLite writes (issue 19): every write that was answered
//! is on disk after the crash, each with its change event, `PRAGMA integrity_check` is `ok`, and
//! the restarted server replays each idempotency key's first answer and writes nothing twice.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use permit_core::auth::Role;
use permit_core::auth::keys::KeyConfig;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::fixtures::{REGISTER_UNIT, unit_input};
use crate::helpers::TEST_SECRET;

/// `permit-exchange serve` on `url`, at a free port; killed (SIGKILL) on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(env!("CARGO_BIN_EXE_permit-exchange"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--database-url", url])
            .env("JWT_SECRET", TEST_SECRET)
            .env("RUST_LOG", "error")
            .env("LIMIT_RATE_PER_SECOND", "100000")
            .env("LIMIT_RATE_BURST", "100000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the binary");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return server;
            }
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `kill -9`: no shutdown, no flush, nothing but what is already on disk survives.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `registerUnit` with key `key` for the `serial`th credit code: the answered id, if any.
async fn register(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    key: &str,
    serial: u32,
) -> Option<String> {
    let input = unit_input("500103", serial, "断电写入单位", "KEY");
    let response = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": REGISTER_UNIT, "variables": { "input": input, "key": key } }))
        .send()
        .await
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    body["data"]["registerUnit"]["id"]
        .as_str()
        .map(str::to_owned)
}

async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<String>(0)
        .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
        .expect("a value")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_under_writes_keeps_every_answered_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("crash.db").display()
    );
    let mut server = Server::start(&url).await;
    let token = KeyConfig::with_secret(TEST_SECRET.as_bytes().to_vec())
        .sign(
            "crash@municipal",
            Role::Admin,
            None,
            None,
            chrono::Duration::hours(1),
        )
        .expect("sign");
    let token = Arc::new(token);
    let base = Arc::new(server.base.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let serial = Arc::new(AtomicU32::new(1));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (token, base, stop, serial) =
                (token.clone(), base.clone(), stop.clone(), serial.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut answered = Vec::new();
                let mut sent = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = serial.fetch_add(1, Ordering::Relaxed);
                    let key = format!("crash-{n}");
                    sent.push((key.clone(), n));
                    match register(&client, &base, &token, &key, n).await {
                        Some(id) => answered.push((key, n, id)),
                        // The server is gone: stop writing.
                        None => break,
                    }
                }
                (answered, sent)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.kill();
    stop.store(true, Ordering::Relaxed);
    let (mut answered, mut sent) = (Vec::new(), Vec::new());
    for writer in writers {
        let (a, s) = writer.await.expect("writer");
        answered.extend(a);
        sent.extend(s);
    }
    assert!(
        answered.len() > 10,
        "only {} writes answered",
        answered.len()
    );

    // The file as the crash left it.
    let db = Database::connect(&url).await.expect("open the database");
    assert_eq!(scalar(&db, "PRAGMA integrity_check").await, "ok");
    let codes: std::collections::HashSet<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT credit_code FROM units",
        ))
        .await
        .expect("read the units")
        .into_iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("credit code"))
        .collect();
    for (key, n, _) in &answered {
        let code = unit_input("500103", *n, "", "KEY")["creditCode"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            codes.contains(&code),
            "{key} was answered but is not on disk"
        );
    }
    // No partial write: every unit has its change event.
    let orphans = scalar(
        &db,
        "SELECT COUNT(*) FROM units u WHERE NOT EXISTS (SELECT 1 FROM change_events c \
         WHERE c.kind = 'UNIT' AND c.operation = 'CREATED' AND c.record_id = u.id)",
    )
    .await;
    assert_eq!(orphans, "0");
    db.close().await.expect("close");

    // Restarted: every key sent, again, gives its first answer; nothing is written twice.
    let server = Server::start(&url).await;
    let client = reqwest::Client::new();
    let first: HashMap<&str, &str> = answered
        .iter()
        .map(|(key, _, id)| (key.as_str(), id.as_str()))
        .collect();
    for (key, n) in &sent {
        let again = register(&client, &server.base, &token, key, *n)
            .await
            .unwrap_or_else(|| panic!("{key} refused after the restart"));
        if let Some(id) = first.get(key.as_str()) {
            assert_eq!(*id, again, "{key}: another id after the restart");
        }
    }
    let db = Database::connect(&url).await.expect("open the database");
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM units").await,
        sent.len().to_string()
    );
    eprintln!(
        "kill -9: {} writes answered before the crash, {} sent",
        answered.len(),
        sent.len()
    );
}
