//! Assembling a running service from a `Config`: connect, migrate, build the schema, listen.
//! Shared by `serve` and the integration tests, so tests run the real thing.

use std::net::{SocketAddr, TcpListener};

use crate::config::Config;
use crate::db::{self, Database};
use crate::graphql;
use crate::http::{self, AppState};

pub struct RunningServer {
    pub addr: SocketAddr,
    pub db: Database,
    pub server: actix_web::dev::Server,
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
/// future must be awaited (or spawned) to serve.
pub fn start(config: &Config, database: Database) -> Result<RunningServer, StartError> {
    let listener =
        TcpListener::bind(&config.bind).map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    let state = AppState {
        schema: graphql::build_schema(database.conn.clone(), &config.limits),
        db: database.clone(),
        keys: config.keys.clone(),
        limits: config.limits.clone(),
    };
    let server = http::serve(state, listener, config.workers)
        .map_err(|e| StartError::Bind(config.bind.clone(), e))?;
    Ok(RunningServer {
        addr,
        db: database,
        server,
    })
}
