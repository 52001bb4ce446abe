//! Connecting, migrating and loading reference data. The connection counts its SQL statements
//! so that tests and `/metrics` can see how many statements a request costs.
//!
//! Outages: sqlx's pool keeps retrying a refused connection until its acquire timeout, so a
//! request alone cannot tell a database that is down from a pool that is busy. `Health` answers
//! that from outside the pool: on PostgreSQL a probe task pings over a connection of its own
//! (never waiting behind the pool, so heavy load does not look like an outage), and requests
//! fail fast with SERVICE_UNAVAILABLE while it reports the database down (see `http`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::{ConnectOptions, Database as SeaDatabase, DatabaseConnection, DbErr};
use tokio::sync::watch;

pub mod batch;
pub mod nested;

/// A connection pool with its statement counter and the database's health.
#[derive(Clone)]
pub struct Database {
    pub conn: DatabaseConnection,
    pub statements: Arc<AtomicU64>,
    pub health: Health,
    /// The instance's copy of the reference tables (read after migrating, else on first use).
    pub reference: Arc<crate::domain::reference::ReferenceCache>,
    /// How a PostgreSQL pool was opened, to open one like it per thread (`for_this_thread`).
    options: Option<ConnectOptions>,
    /// Every pool of the instance: this one and those opened per thread (for `/metrics`).
    pools: Arc<std::sync::Mutex<Vec<DatabaseConnection>>>,
}

impl Database {
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The instance's pools: the one it opened and those opened per thread (`for_this_thread`).
    pub fn pools(&self) -> Vec<DatabaseConnection> {
        self.pools
            .lock()
            .map(|pools| pools.clone())
            .unwrap_or_else(|_| vec![self.conn.clone()])
    }

    /// The same database through a pool of the calling thread's own, one of `threads` that
    /// share this pool's number of connections; it connects when first used, and the counter,
    /// health and reference data stay shared. For the HTTP workers, each of which runs its requests on a runtime of its
    /// own: a connection opened on another runtime is polled by that runtime's I/O thread,
    /// which must wake the worker for every answer, two thread switches a statement (issue 15's
    /// profile). Call it on the thread's runtime. SQLite keeps the one pool: an in-memory
    /// database is private to its pool.
    pub fn for_this_thread(&self, threads: usize) -> Database {
        use futures_util::FutureExt;
        let Some(options) = &self.options else {
            return self.clone();
        };
        let mut options = options.clone();
        let shared = options.get_max_connections().unwrap_or(1);
        let share = shared.div_ceil(u32::try_from(threads.max(1)).unwrap_or(u32::MAX));
        options
            .max_connections(share.max(1))
            .min_connections(0)
            .connect_lazy(true);
        // Lazy: nothing is awaited, so the future is ready when first polled.
        match SeaDatabase::connect(options).now_or_never() {
            Some(Ok(mut conn)) => {
                conn.set_metric_callback(counting_into(self.statements.clone()));
                if let Ok(mut pools) = self.pools.lock() {
                    pools.push(conn.clone());
                }
                Database {
                    conn,
                    ..self.clone()
                }
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "no pool of the thread's own; using the shared one");
                self.clone()
            }
            None => self.clone(),
        }
    }
}

/// The pool's metric callback: counts every statement (for the instance and for the request
/// that ran it) and traces it.
fn counting_into(
    counter: Arc<AtomicU64>,
) -> impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static {
    move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        count_statement();
        tracing::trace!(sql = %info.statement.sql, "statement");
    }
}

pub async fn connect(url: &str) -> Result<Database, DbErr> {
    connect_with(url, None).await
}

/// `connect`, and on PostgreSQL every statement of the pool is cancelled by the server after
/// `statement_timeout`: a request that gave up (its time limit) does not leave its statement
/// running. Not for migrations or bulk loads, which may take longer.
pub async fn connect_with(
    url: &str,
    statement_timeout: Option<Duration>,
) -> Result<Database, DbErr> {
    open(url, statement_timeout, ACQUIRE_MAX).await
}

/// The pool a serving instance uses, for requests with time limit `request_timeout`:
/// statements cancelled by PostgreSQL a second after it (`connect_with`), and a connection
/// waited for at most `acquire_budget(request_timeout)`, so a request after an outage is served
/// or refused within its limit rather than held by the pool's retries.
pub async fn connect_serving(url: &str, request_timeout: Duration) -> Result<Database, DbErr> {
    open(
        url,
        Some(request_timeout + Duration::from_secs(1)),
        acquire_budget(request_timeout),
    )
    .await
}

/// The longest a pooled connection is waited for (and a new one connects).
const ACQUIRE_MAX: Duration = Duration::from_secs(5);

/// A pooled connection idle this long is pinged before a request gets it.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// How long a request with time limit `request_timeout` may wait for a pooled connection: a
/// third of the limit (a write's transaction is one wait, its answer's reads may be more),
/// between a quarter of a second and `ACQUIRE_MAX`. A mutation starts only with this much of
/// its limit left (`http`).
pub fn acquire_budget(request_timeout: Duration) -> Duration {
    (request_timeout / 3).clamp(Duration::from_millis(250), ACQUIRE_MAX)
}

async fn open(
    url: &str,
    statement_timeout: Option<Duration>,
    acquire_timeout: Duration,
) -> Result<Database, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    let sqlite = url.starts_with("sqlite:");
    options
        .max_connections(if sqlite { 8 } else { 16 })
        // Kept open (and reopened by the pool's maintenance after an outage), so the first
        // requests after the database is back do not all connect at once.
        .min_connections(if sqlite { 1 } else { 2 })
        .connect_timeout(acquire_timeout)
        .acquire_timeout(acquire_timeout)
        // After an outage the idle connections are dead: a ping finds out before a request
        // gets one, and the pool opens a fresh one instead of failing the request. Only a
        // connection idle for a while is pinged: an outage lasts longer than that, and a ping
        // on every acquire was a round trip per statement (issue 15's profile: a tenth of a
        // simple read's CPU, and PostgreSQL's work beside it).
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        // Dead or surplus connections go within a minute rather than the default ten.
        .idle_timeout(Duration::from_secs(60))
        // Statement logging would put every query (and its values) into the info log.
        .sqlx_logging(false);
    if !sqlite {
        // Statements are prepared once per connection, and after five runs PostgreSQL may keep
        // a generic plan, costed for an average district or code. At the default
        // random_page_cost (4, for spinning disks) the generic plan for "a district's page by
        // id" walked the primary key past other districts' rows (3× slower at 100,000 units,
        // worse for a district whose permits come late). 1.1 prices random reads as they are
        // on SSDs or with the working set in memory, and the plan takes the (district, id)
        // index. Forcing custom plans instead cost a quarter of Q1's throughput in planning.
        let milliseconds = statement_timeout.map(|t| format!("{}", t.as_millis().max(1)));
        options.map_sqlx_postgres_opts(move |pg| {
            let pg = pg.options([("random_page_cost", "1.1")]);
            match &milliseconds {
                Some(ms) => pg.options([("statement_timeout", ms.as_str())]),
                None => pg,
            }
        });
    }
    let mut conn = SeaDatabase::connect(options.clone()).await?;
    let statements = Arc::new(AtomicU64::new(0));
    conn.set_metric_callback(counting_into(statements.clone()));
    Ok(Database {
        conn: conn.clone(),
        statements,
        health: Health::assumed_up(),
        reference: Arc::default(),
        options: (!sqlite).then_some(options),
        pools: Arc::new(std::sync::Mutex::new(vec![conn])),
    })
}

tokio::task_local! {
    /// Statements run on behalf of the current request (see `count_statement`).
    static REQUEST_STATEMENTS: Arc<AtomicU64>;
}

/// Runs `future` as one request: every statement it runs, in its task or in tasks it spawns
/// with `spawn_counted`, is added to `counter` (for the access log, metrics and the tests that
/// count statements per request).
pub async fn counting_statements<F: std::future::Future>(
    counter: Arc<AtomicU64>,
    future: F,
) -> F::Output {
    REQUEST_STATEMENTS.scope(counter, future).await
}

/// `counting_statements` for one poll (a subscription's stream is polled, not awaited).
pub fn counting_statements_sync<R>(counter: Arc<AtomicU64>, f: impl FnOnce() -> R) -> R {
    REQUEST_STATEMENTS.sync_scope(counter, f)
}

/// Counts one SQL statement for the request being served, if any (called by the connection's
/// metric callback, which runs in the task that ran the statement).
fn count_statement() {
    let _ = REQUEST_STATEMENTS.try_with(|count| count.fetch_add(1, Ordering::Relaxed));
}

/// `tokio::spawn` that carries the current request's statement counter into the task, for
/// DataLoader batches: their statements belong to the request that asked for the keys.
pub fn spawn_counted<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match REQUEST_STATEMENTS.try_with(Arc::clone) {
        Ok(count) => tokio::spawn(REQUEST_STATEMENTS.scope(count, future)),
        Err(_) => tokio::spawn(future),
    }
}

/// How often the probe pings while the database answers, and while it does not (so that
/// recovery is noticed quickly).
const PROBE_EVERY_UP: Duration = Duration::from_millis(500);
const PROBE_EVERY_DOWN: Duration = Duration::from_millis(200);
/// A probe (connect if needed, then ping) slower than this counts as a failure: a healthy
/// database answers `SELECT 1` in milliseconds even under load.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the database answers, as last seen by the probe. Cheap to clone.
#[derive(Clone)]
pub struct Health {
    up: watch::Receiver<bool>,
    probed: bool,
}

impl Health {
    /// No probe: always up (SQLite is a local file; a query's own error is the only signal).
    fn assumed_up() -> Self {
        let (_, up) = watch::channel(true);
        Self { up, probed: false }
    }

    /// Starts the probe task for `url` on the current Tokio runtime (PostgreSQL only; other
    /// databases keep `assumed_up`). The task ends once every clone of the returned value has
    /// been dropped.
    pub fn probe(url: &str) -> Self {
        if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            return Self::assumed_up();
        }
        let (report, up) = watch::channel(true);
        tokio::spawn(probe(url.to_owned(), report));
        Self { up, probed: true }
    }

    /// Whether a probe task watches the database (otherwise `is_up` is always true).
    pub fn is_probed(&self) -> bool {
        self.probed
    }

    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Resolves once the database is down (at once if it is down now); never while it is up.
    pub async fn down(&self) {
        let mut up = self.up.clone();
        if up.wait_for(|up| !*up).await.is_err() {
            // The probe has ended (shutting down): nothing more will be reported.
            std::future::pending::<()>().await;
        }
    }
}

/// The probe loop: one connection of its own, pinged on a schedule; a failed or slow ping drops
/// it and the next round connects afresh.
async fn probe(url: String, report: watch::Sender<bool>) {
    use sqlx::Connection;
    let mut conn: Option<sqlx::PgConnection> = None;
    loop {
        let attempt = async {
            let mut live = match conn.take() {
                Some(live) => live,
                None => sqlx::PgConnection::connect(&url).await?,
            };
            live.ping().await?;
            Ok::<_, sqlx::Error>(live)
        };
        let up = match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
            Ok(Ok(live)) => {
                conn = Some(live);
                Ok(())
            }
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
        };
        let changed = report.send_if_modified(|was_up| {
            let changed = *was_up != up.is_ok();
            *was_up = up.is_ok();
            changed
        });
        match (&up, changed) {
            (Ok(()), true) => tracing::info!("database reachable again"),
            (Err(error), true) => tracing::error!(%error, "database unreachable"),
            _ => {}
        }
        let pause = if up.is_ok() {
            PROBE_EVERY_UP
        } else {
            PROBE_EVERY_DOWN
        };
        tokio::select! {
            () = report.closed() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Applies pending migrations and (re)loads reference data; idempotent, run on every start.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await?;
    migration::reference::load(db).await
}

/// Begins a transaction that writes. On SQLite it takes the write lock at BEGIN (IMMEDIATE),
/// so concurrent writers wait their turn (busy timeout) instead of failing when a read
/// transaction tries to upgrade; PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait;

    use super::*;

    /// A thread's pool reads the same database and counts into the same counter; on SQLite it
    /// is the one pool (an in-memory database is private to its pool). PostgreSQL when
    /// `TEST_DATABASE_URL` names one.
    #[tokio::test]
    async fn a_threads_pool_is_the_same_database_and_counter() {
        let mut urls = vec!["sqlite::memory:".to_owned()];
        urls.extend(std::env::var("TEST_DATABASE_URL").ok());
        for url in urls {
            let db = connect(&url).await.expect("connects");
            let table = format!("thread_pool_probe_{}", std::process::id());
            db.conn
                .execute_unprepared(&format!("CREATE TABLE IF NOT EXISTS {table} (x INTEGER)"))
                .await
                .expect("creates");
            let thread = db.for_this_thread(2);
            let before = db.statement_count();
            let insert = sea_orm::Statement::from_string(
                thread.conn.get_database_backend(),
                format!("INSERT INTO {table} VALUES (1)"),
            );
            thread
                .conn
                .execute_raw(insert)
                .await
                .expect("the thread's pool sees the table");
            assert_eq!(db.statement_count(), before + 1, "{url}: counted");
            db.conn
                .execute_unprepared(&format!("DROP TABLE {table}"))
                .await
                .ok();
        }
    }
}
