//! HTTP: `/graphql` (POST and GET, GraphQL over HTTP, and multipart uploads), `/graphql/ws`
//! (subscriptions, in `ws`), `/graphiql`, `/healthz`, `/readyz`, `/metrics` (in `metrics`, which
//! also writes the access log), `/evidence/{id}` and `/exports/{file}` (in `downloads`).
//!
//! The GraphQL endpoint is written out here rather than taken from the actix integration so
//! that every CSRF and abuse rule is explicit: POST bodies must be JSON (no `text/plain` or form
//! posts), bodies are capped, batched arrays are refused, a mutation over GET is 405, and the
//! response media type follows `Accept` (`application/graphql-response+json` or
//! `application/json`) with the status codes of the GraphQL-over-HTTP specification.
//! `endpoint` reads an operation, `caller` authenticates, `execute` runs the shared request
//! pipeline (`pipeline`) with HTTP's turns and time limit, `reply` answers refusals, `probes`
//! serves GraphiQL and the health checks.

mod caller;
mod endpoint;
mod execute;
mod probes;
mod reply;

use std::net::TcpListener;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{App, HttpServer, dev::Server, web};

use crate::config::Limits;
use crate::graphql::ValidatedSchema;
use endpoint::{graphql_get, graphql_post};
use permit_core::auth::keys::KeyConfig;
use permit_core::db::Database;
use probes::{graphiql, graphiql_asset, healthz, readyz};

pub(crate) use caller::download_caller;
pub(crate) use reply::app_error_response;

#[derive(Clone)]
pub struct AppState {
    pub schema: ValidatedSchema,
    pub db: Database,
    pub keys: KeyConfig,
    /// Withdrawn tokens, checked after the signature on every request and open subscription.
    pub revocations: permit_core::auth::revocation::Revocations,
    pub limits: Limits,
    /// Documents that passed the limits, parsed (`documents`).
    pub documents: std::sync::Arc<crate::documents::DocumentCache>,
    pub ws: crate::ws::WsSettings,
    /// Shared by the workers: a limit is the instance's, not a worker's.
    pub rate_limiter: std::sync::Arc<crate::limits::RateLimiter>,
    /// Reviewed and automatically registered persisted operations, and persisted-only roles.
    pub persisted: std::sync::Arc<crate::persisted::PersistedOperations>,
    /// Admission to execution by count and by cost (`admission`); FIFO, so waiting is fair.
    pub admission: crate::admission::Admission,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Evidence files (uploads through `/graphql`, downloads at `/evidence/{id}`).
    pub evidence: permit_core::storage::EvidenceStore,
    /// Becomes true when the server starts to stop (`server::Shutdown`): subscriptions close
    /// with 1001 and `/readyz` says not ready.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl AppState {
    /// A bearer token to its verified principal (HTTP and WebSocket alike).
    pub async fn authenticate(
        &self,
        token: &str,
    ) -> Result<permit_core::auth::keys::VerifiedToken, permit_core::error::AppError> {
        let reference = self.db.reference.get(&self.db.conn).await?;
        permit_core::domain::tokens::authenticate(&self.keys, &self.revocations, reference, token)
            .await
    }
}

pub(crate) fn request_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return "unknown".to_owned();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every 503 and 429 carries `Retry-After` (RFC 9110 §10.2.3), whichever path produced it: an
/// executed response whose database went away, a revocation list that could not be read,
/// `/readyz`. Paths that know better (the rate limiter's wait) set it themselves.
async fn retry_after(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let status = response.status();
    if (status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS)
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    }
    Ok(response)
}

/// Starts the HTTP server on an already bound listener (tests bind port 0).
pub fn serve(
    state: AppState,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let max_body = state.limits.max_body_bytes;
    // Each worker reads and writes through a pool of its own (`Database::for_this_thread`);
    // together they open as many connections as the shared pool may.
    let worker_count = workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let mut server = HttpServer::new(move || {
        let worker_state = AppState {
            db: state.db.for_this_thread(worker_count),
            ..state.clone()
        };
        App::new()
            .app_data(web::Data::new(worker_state))
            .app_data(web::PayloadConfig::new(max_body))
            .wrap(actix_web::middleware::from_fn(retry_after))
            .wrap(actix_web::middleware::from_fn(crate::metrics::middleware))
            // Answers gzipped for clients that ask (Accept-Encoding): field apps on slow mobile
            // links get JSON a fifth of its size. Images and video are left as they are.
            .wrap(actix_web::middleware::Compress::default())
            .route("/graphql", web::post().to(graphql_post))
            .route("/graphql", web::get().to(graphql_get))
            .route("/graphql/ws", web::get().to(crate::ws::graphql_ws))
            .route("/graphiql", web::get().to(graphiql))
            .route("/graphiql/assets/{name}", web::get().to(graphiql_asset))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(crate::metrics::endpoint))
            .route(
                "/evidence/{id}",
                web::get().to(crate::downloads::evidence_file),
            )
            .route("/exports/{file}", web::get().to(crate::downloads::export))
    })
    .shutdown_timeout(10)
    .h1_write_buffer_size(execute::WRITE_BUFFER_BYTES)
    // An answer larger than one write goes out in several: with Nagle's algorithm the last
    // small one waited for the client's delayed ACK, 40 ms on every keep-alive request whose
    // answer was a page (issue 15: Q2 took 44 ms at any concurrency, 3 ms of it work).
    .tcp_nodelay(true)
    // `server::stop_on_signals` handles SIGTERM and SIGINT (both graceful, subscriptions closed).
    .disable_signals()
    .listen(listener)?;
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}
