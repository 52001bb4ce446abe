//! `TestApp`: the real server on a random port with a fresh database, SQLite always and
//! PostgreSQL when `TEST_DATABASE_URL` is set (a fresh database per test, dropped after).

use std::sync::atomic::{AtomicU32, Ordering};

use permit_api::config::{Config, Limits};
use permit_api::server;
use permit_api::ws::WsSettings;
use permit_core::auth::Role;
use permit_core::auth::keys::KeyConfig;
use permit_core::db::Database;
use permit_core::events::EventBus;
use sea_orm::{ConnectionTrait, Database as SeaDatabase, Statement};
use serde_json::{Value, json};

pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

/// The `connection_init` timeout of test servers: short, so the 4408 test is quick, yet ample
/// for clients that send `connection_init` right after connecting.
pub const WS_INIT_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body against SQLite, and against PostgreSQL when `TEST_DATABASE_URL` is set.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::TestApp::spawn_postgres().await {
                    run(app).await;
                }
            }
        }
    };
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The migrated database PostgreSQL tests are cloned from (`CREATE DATABASE … TEMPLATE`), so a
/// test copies files instead of running every migration. Named by a hash of the migrations'
/// sources: a changed migration gets a template of its own, and test runs of other checkouts
/// (other migrations) at the same time keep theirs. Made once, by the first test that needs it,
/// under an advisory lock so that test processes running together make it once.
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn postgres_template(admin_url: &str) -> String {
    TEMPLATE
        .get_or_init(|| make_postgres_template(admin_url.to_owned()))
        .await
        .clone()
}

fn migrations_hash() -> String {
    use sha2::{Digest, Sha256};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migration/src");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("read migration/src")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(file.file_name().unwrap_or_default().as_encoded_bytes());
        hash.update(std::fs::read(&file).expect("read a migration"));
    }
    hash.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn make_postgres_template(admin_url: String) -> String {
    let name = format!("pe_template_{}", migrations_hash());
    // One connection, so that the session's advisory lock and its release are on it.
    let options = sea_orm::ConnectOptions::new(admin_url.clone())
        .max_connections(1)
        .to_owned();
    let admin = SeaDatabase::connect(options)
        .await
        .expect("connect TEST_DATABASE_URL");
    admin
        .execute_unprepared("SELECT pg_advisory_lock(727212017)")
        .await
        .expect("template lock");
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await
        .expect("look for the template")
        .is_some();
    if !exists {
        // Built under another name and renamed when complete: a run cut off half-way leaves
        // no half-migrated template behind under the real name.
        let building = format!("{name}_building");
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
            ))
            .await
            .expect("drop a half-built template");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{building}\""))
            .await
            .expect("create the template");
        let database = server::prepare_database(&with_database(&admin_url, &building))
            .await
            .expect("migrate the template");
        database.conn.close().await.expect("close the template");
        admin
            .execute_unprepared(&format!(
                "ALTER DATABASE \"{building}\" RENAME TO \"{name}\""
            ))
            .await
            .expect("name the template");
    }
    admin
        .execute_unprepared("SELECT pg_advisory_unlock(727212017)")
        .await
        .expect("template unlock");
    admin.close().await.expect("close admin connection");
    name
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

pub struct TestApp {
    pub base: String,
    /// The HJ 212 listener's address, when the test turned it on.
    pub hj212: Option<std::net::SocketAddr>,
    pub db: Database,
    pub client: reqwest::Client,
    /// This instance's event bus (subscriptions count, listener state).
    pub events: EventBus,
    /// Stops this instance as SIGTERM would (the shutdown tests).
    pub shutdown: server::Shutdown,
    keys: KeyConfig,
    database_url: String,
    cleanup: Option<Cleanup>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(Cleanup::Postgres { admin_url, name }) = self.cleanup.take() {
            // Drop runs outside async context guarantees: use a runtime of our own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(admin) = SeaDatabase::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestApp {
    pub async fn spawn_postgres() -> Option<TestApp> {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Self::spawn(Backend::Postgres).await),
            _ => {
                eprintln!("TEST_DATABASE_URL not set: PostgreSQL variant not run");
                None
            }
        }
    }

    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with_limits(backend, test_limits()).await
    }

    /// A server with its own abuse limits (for the tests of those limits).
    pub async fn spawn_with_limits(backend: Backend, limits: Limits) -> TestApp {
        Self::spawn_configured(backend, move |config| config.limits = limits).await
    }

    /// A server whose configuration a test adjusts (keys, persisted operations, limits).
    pub async fn spawn_configured(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        // Server logs appear with RUST_LOG set (e.g. RUST_LOG=error cargo test -- --nocapture).
        if let Ok(filter) = std::env::var("RUST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                (url, Cleanup::Sqlite(dir))
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
                let name = format!("pe_test_{}_{}_{}", std::process::id(), n, rand_suffix());
                let admin = SeaDatabase::connect(&admin_url)
                    .await
                    .expect("connect TEST_DATABASE_URL");
                let template = postgres_template(&admin_url).await;
                admin
                    .execute_unprepared(&format!(
                        "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
                    ))
                    .await
                    .expect("create test database");
                admin.close().await.expect("close admin connection");
                (
                    with_database(&admin_url, &name),
                    Cleanup::Postgres { admin_url, name },
                )
            }
        };
        let database = server::prepare_database(&url)
            .await
            .expect("prepare database");
        Self::start(url, database, Some(cleanup), configure)
    }

    fn start(
        url: String,
        database: Database,
        cleanup: Option<Cleanup>,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = Config {
            bind: "127.0.0.1:0".to_owned(),
            database_url: url.clone(),
            keys: KeyConfig::with_secret(TEST_SECRET.as_bytes().to_vec()),
            limits: test_limits(),
            workers: Some(1),
            persisted: Default::default(),
            // Memory: nothing a test uploads outlives it, on either database.
            evidence: permit_core::storage::EvidenceStore::open("memory:")
                .expect("in-memory evidence store"),
            hj212: None,
            metrics_token: None,
        };
        configure(&mut config);
        let keys = config.keys.clone();
        let ws = WsSettings {
            init_timeout: WS_INIT_TIMEOUT,
            ..WsSettings::default()
        };
        let running = server::start_with(&config, database, ws).expect("start server");
        let base = format!("http://{}", running.addr);
        let db = running.db.clone();
        tokio::spawn(running.server);
        TestApp {
            base,
            hj212: running.hj212,
            db,
            // Idle connections are dropped before the server's keep-alive (5 s) would close
            // them: else a request sent on a connection the server is just closing fails with
            // an incomplete message on a loaded machine (the client's race, not the server's).
            client: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .expect("a reqwest client"),
            events: running.events,
            shutdown: running.shutdown,
            keys,
            database_url: url,
            cleanup,
        }
    }

    /// A server on a database the test manages itself (the outage test's own PostgreSQL);
    /// nothing is dropped afterwards.
    pub async fn spawn_on(url: &str) -> TestApp {
        let database = server::prepare_database(url)
            .await
            .expect("prepare database");
        Self::start(url.to_owned(), database, None, |_| {})
    }

    /// A server on a database the test manages itself, serving as `serve` does: the pool of
    /// `server::prepare_serving_database` (statement timeout, acquire bounded by the request
    /// time limit) and these limits. Several may share the database.
    pub async fn spawn_serving_on(url: &str, limits: Limits) -> TestApp {
        let database = server::prepare_serving_database(url, &limits)
            .await
            .expect("prepare database");
        Self::start(url.to_owned(), database, None, move |config| {
            config.limits = limits
        })
    }

    /// The limits test servers run with (rate limits out of the way).
    pub fn test_limits() -> Limits {
        test_limits()
    }

    /// A second server instance on this one's database (already migrated), as a deployment
    /// with several instances has. It leaves the database to this one to drop.
    pub async fn spawn_peer(&self) -> TestApp {
        let database = permit_core::db::connect(&self.database_url)
            .await
            .expect("connect the peer");
        Self::start(self.database_url.clone(), database, None, |_| {})
    }

    /// `ws://…/graphql/ws` of this instance.
    /// The database this instance serves (PostgreSQL: its own, cloned from the template).
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    pub fn ws_url(&self) -> String {
        format!("ws{}/graphql/ws", self.base.trim_start_matches("http"))
    }

    /// Waits until this instance has at least `n` subscriptions listening for events: a
    /// `subscribe` message has no acknowledgement, so tests wait here before publishing.
    pub async fn wait_for_subscribers(&self, n: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.events.subscriber_count() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "{} subscriptions listening, expected {n}",
                self.events.subscriber_count()
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Waits until this instance has at most `n` subscriptions listening (one was completed).
    pub async fn wait_for_subscribers_at_most(&self, n: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.events.subscriber_count() > n {
            assert!(
                std::time::Instant::now() < deadline,
                "{} subscriptions listening, expected at most {n}",
                self.events.subscriber_count()
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// A token of `role` with a chosen lifetime (negative: already past `exp`).
    pub fn token_with_ttl(
        &self,
        role: Role,
        district: Option<&str>,
        ttl: chrono::Duration,
    ) -> String {
        self.keys
            .sign("tester", role, None, district, ttl)
            .expect("sign")
    }

    pub fn token(&self, role: Role, district: Option<&str>) -> String {
        let agency = match role {
            Role::PermitOfficer => Some(format!("{}-PMT", district.unwrap_or("500000"))),
            Role::EnforcementOfficer => Some(format!("{}-ENF", district.unwrap_or("500000"))),
            Role::Supervisor => Some("500000-SUP".to_owned()),
            Role::Monitoring => Some("500000-MON".to_owned()),
            _ => None,
        };
        // One person per role and district, so "what I sent" rules see different people.
        let subject = format!(
            "{}@{}",
            role.as_str().to_lowercase(),
            district.unwrap_or("municipal")
        );
        self.keys
            .sign(
                &subject,
                role,
                agency.as_deref(),
                district,
                chrono::Duration::hours(1),
            )
            .expect("sign")
    }

    /// A token with exactly these claims, signed with the test secret (claims the `token`
    /// helpers would never produce).
    pub fn sign_claims(&self, claims: &Value) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(TEST_SECRET.as_bytes()),
        )
        .expect("sign claims")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs a GraphQL request and returns the JSON body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        response.json().await.expect("json body")
    }

    /// The statement count of `query` as its structure gives it: the fewest of up to `runs` runs,
    /// stopping at the first that costs `enough` or less; `check(variables, data)` looks at each
    /// answer. The counter is the whole server's, and a loader's batch splits when a busy
    /// machine (CI runs many tests at once) delays the resolvers past the batch window: a
    /// statement or two more in that run, never one per row.
    pub async fn fewest_statements(
        &self,
        token: &str,
        query: &str,
        variables: Value,
        runs: usize,
        enough: u64,
        check: impl Fn(&Value, &Value),
    ) -> u64 {
        let mut fewest = u64::MAX;
        for _ in 0..runs {
            let before = self.db.statement_count();
            let data = self.data(token, query, variables.clone()).await;
            let after = self.db.statement_count();
            check(&variables, &data);
            fewest = fewest.min(after - before);
            if fewest <= enough {
                break;
            }
        }
        fewest
    }

    /// The statements of a small and of a large page: the small one's fewest of five runs, the
    /// large one's fewest of up to twenty, stopping once it costs no more than the small one.
    pub async fn small_and_large_page_costs(
        &self,
        token: &str,
        query: &str,
        [small, large]: [Value; 2],
        check: impl Fn(&Value, &Value) + Copy,
    ) -> [u64; 2] {
        let small = self
            .fewest_statements(token, query, small, 5, 0, check)
            .await;
        let large = self
            .fewest_statements(token, query, large, 20, small, check)
            .await;
        [small, large]
    }

    /// Like `gql`, but asserts no errors and returns `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(Some(token), query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    pub async fn seed_demo(&self, units: usize) {
        let options = permit_seed::SeedOptions {
            units,
            seed: 7,
            ..Default::default()
        };
        permit_seed::seed_demo(&self.db.conn, &options)
            .await
            .expect("seed");
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        let backend = self.db.conn.get_database_backend();
        let row = self
            .db
            .conn
            .query_one_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .expect("query")
            .expect("row");
        row.try_get_by_index::<i64>(0).expect("i64")
    }
}

/// The defaults, but rate limits out of the way: every test client shares 127.0.0.1, and the
/// feed test polls fast on purpose. The rate limits have tests of their own.
fn test_limits() -> Limits {
    Limits {
        rate_per_second: 1_000_000.0,
        rate_burst: 1_000_000.0,
        ..Limits::default()
    }
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

pub fn error_field(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["field"].as_str()
}
