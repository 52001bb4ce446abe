//! Assembling a running service from a `Config`: connect, migrate, build the schema, listen.
//! Shared by `serve` and the integration tests, so tests run the real thing.
//!
//! Stopping goes through `Shutdown`, never straight to actix's handle: actix drains HTTP
//! requests by itself but knows nothing of the subscriptions running over upgraded
//! connections, which `Shutdown` closes with 1001 (going away) before actix's grace period
//! would cut them off. actix's own signal handling is off (`http::serve`) because it treats
//! SIGINT as a forced stop; `stop_on_signals` stops gracefully on SIGTERM and SIGINT alike.

use std::net::{SocketAddr, TcpListener};

use tokio::sync::watch;

use crate::config::Config;
use crate::graphql;
use crate::http::{self, AppState};
use crate::ws::WsSettings;
use futures_util::StreamExt;
use permit_core::auth::revocation::Revocations;
use permit_core::db::{self, Database, Health};
use permit_core::events::{Event, EventBus};

pub struct RunningServer {
    pub addr: SocketAddr,
    pub db: Database,
    pub server: actix_web::dev::Server,
    /// The instance's event bus (on PostgreSQL, its listener runs until the bus is dropped).
    pub events: EventBus,
    /// Stops this server gracefully (or not), closing its subscriptions.
    pub shutdown: Shutdown,
    /// Where the HJ 212 listener listens (`HJ212_BIND`), when it is on.
    pub hj212: Option<SocketAddr>,
}

/// Stops one server: no new connections, subscriptions closed with 1001, in-flight requests
/// finished (graceful) or dropped. Cheap to clone.
#[derive(Clone)]
pub struct Shutdown {
    signal: std::sync::Arc<watch::Sender<bool>>,
    handle: actix_web::dev::ServerHandle,
}

impl Shutdown {
    /// Starts stopping and resolves once the server has stopped.
    pub async fn stop(&self, graceful: bool) {
        // `ServerHandle::stop` sends its command at once (accepting ends first); the future
        // only waits for the workers to finish.
        let stopped = self.handle.stop(graceful);
        self.signal.send_replace(true);
        stopped.await;
    }
}

/// Stops `shutdown`'s server gracefully on the first SIGTERM or SIGINT (Ctrl-C).
pub fn stop_on_signals(shutdown: Shutdown) {
    tokio::spawn(async move {
        let received = wait_for_signal().await;
        tracing::info!(
            signal = received,
            "stopping: finishing requests in flight, closing subscriptions"
        );
        shutdown.stop(true).await;
    });
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the server with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    if tokio::signal::ctrl_c().await.is_err() {
        return std::future::pending().await;
    }
    "Ctrl-C"
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot connect to the database: {0}")]
    Connect(sea_orm::DbErr),
    #[error("cannot migrate the database: {0}")]
    Migrate(sea_orm::DbErr),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
}

/// Connects and migrates (idempotent; reference data reloaded).
pub async fn prepare_database(database_url: &str) -> Result<Database, StartError> {
    let database = db::connect(database_url)
        .await
        .map_err(StartError::Connect)?;
    db::migrate(&database.conn)
        .await
        .map_err(StartError::Migrate)?;
    // The migrations have just written the reference tables: keep them from here on, so that
    // no request reads them.
    if let Err(error) = database.reference.get(&database.conn).await {
        tracing::warn!(
            ?error,
            "reference data not read after migrating; read on first use"
        );
    }
    Ok(database)
}

/// `prepare_database` for serving: migrates over a connection without limits, then (on
/// PostgreSQL) serves from a pool whose statements the database cancels a second after the
/// request time limit, so that a request that gave up leaves nothing running.
pub async fn prepare_serving_database(
    database_url: &str,
    limits: &crate::config::Limits,
) -> Result<Database, StartError> {
    let migrated = prepare_database(database_url).await?;
    if migrated.conn.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Ok(migrated);
    }
    let _ = migrated.conn.close().await;
    let mut serving = db::connect_serving(database_url, limits.request_timeout)
        .await
        .map_err(StartError::Connect)?;
    serving.reference = migrated.reference;
    Ok(serving)
}

/// Binds and starts the HTTP server on an already prepared database, stopping gracefully on
/// SIGTERM and SIGINT (what `serve` runs). The returned `server` future must be awaited (or
/// spawned) to serve. Call it inside a Tokio runtime: on PostgreSQL it spawns the event listener
/// and the health probe.
pub fn start(config: &Config, database: Database) -> Result<RunningServer, StartError> {
    let running = start_with(config, database, WsSettings::default())?;
    stop_on_signals(running.shutdown.clone());
    Ok(running)
}

/// `start` with WebSocket settings other than the defaults (tests shorten the init timeout).
pub fn start_with(
    config: &Config,
    mut database: Database,
    ws: WsSettings,
) -> Result<RunningServer, StartError> {
    let listener =
        TcpListener::bind(&config.bind).map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    let events = EventBus::for_database(&database.conn, &config.database_url);
    let revocations = Revocations::empty();
    let revoked = events.follow().filter_map(|event| {
        std::future::ready(matches!(event, Event::TokensRevoked { .. }).then_some(()))
    });
    revocations.follow(database.conn.clone(), &config.database_url, revoked);
    database.health = Health::probe(&config.database_url);
    let (signal, stopping) = watch::channel(false);
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::new(config.metrics_token.clone()));
    let hj212 = match &config.hj212 {
        Some(settings) => Some(
            crate::hj212::listener::start(
                settings,
                database.conn.clone(),
                metrics.clone(),
                events.clone(),
                stopping.clone(),
            )
            .map_err(|e| StartError::Bind(settings.bind.clone(), e))?,
        ),
        None => None,
    };
    let state = AppState {
        schema: graphql::build_schema(
            database.conn.clone(),
            events.clone(),
            revocations.clone(),
            database.reference.clone(),
        ),
        revocations,
        db: database.clone(),
        keys: config.keys.clone(),
        limits: config.limits.clone(),
        documents: Default::default(),
        ws,
        persisted: config.persisted.clone(),
        admission: crate::admission::Admission::new(
            config.limits.max_waiting_requests,
            config.limits.max_concurrent_requests,
            config.limits.max_concurrent_cost,
        ),
        rate_limiter: std::sync::Arc::new(crate::limits::RateLimiter::new(
            config.limits.rate_per_second,
            config.limits.rate_burst,
        )),
        metrics,
        evidence: config.evidence.clone(),
        stopping,
    };
    let server = http::serve(state, listener, config.workers)
        .map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    let shutdown = Shutdown {
        signal: std::sync::Arc::new(signal),
        handle: server.handle(),
    };
    Ok(RunningServer {
        addr,
        db: database,
        server,
        events,
        shutdown,
        hj212,
    })
}
