//! Assembling a running service from a `Config`: connect, migrate, build the schema, listen.
//! Shared by `serve` and the integration tests, so tests run the real thing.

use std::net::{SocketAddr, TcpListener};

use crate::config::Config;
use crate::db::{self, Database};
use crate::events::EventBus;
use crate::graphql;
use crate::http::{self, AppState};
use crate::ws::WsSettings;

pub struct RunningServer {
    pub addr: SocketAddr,
    pub db: Database,
    pub server: actix_web::dev::Server,
    /// The instance's event bus (on PostgreSQL, its listener runs until the bus is dropped).
    pub events: EventBus,
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
    Ok(database)
}

/// Binds and starts the HTTP server on an already prepared database. The returned `server`
/// future must be awaited (or spawned) to serve. Call it inside a Tokio runtime: on PostgreSQL it
/// spawns the event listener.
pub fn start(config: &Config, database: Database) -> Result<RunningServer, StartError> {
    start_with(config, database, WsSettings::default())
}

/// `start` with WebSocket settings other than the defaults (tests shorten the init timeout).
pub fn start_with(
    config: &Config,
    database: Database,
    ws: WsSettings,
) -> Result<RunningServer, StartError> {
    let listener =
        TcpListener::bind(&config.bind).map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    let events = EventBus::for_database(&database.conn, &config.database_url);
    let state = AppState {
        schema: graphql::build_schema(database.conn.clone(), &config.limits, events.clone()),
        db: database.clone(),
        keys: config.keys.clone(),
        limits: config.limits.clone(),
        ws,
        rate_limiter: crate::limits::RateLimiter::new(
            config.limits.rate_per_second,
            config.limits.rate_burst,
        ),
    };
    let server = http::serve(state, listener, config.workers)
        .map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    Ok(RunningServer {
        addr,
        db: database,
        server,
        events,
    })
}
