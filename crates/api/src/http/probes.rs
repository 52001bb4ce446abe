//! The endpoints beside GraphQL that the service itself answers: GraphiQL (served from the
//! binary, no CDN) and the liveness and readiness probes.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::AppState;

pub(super) async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "content-security-policy",
            crate::graphiql::CONTENT_SECURITY_POLICY,
        ))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(crate::graphiql::PAGE)
}

/// GraphiQL's pinned scripts and styles; their names carry their versions.
pub(super) async fn graphiql_asset(name: web::Path<String>) -> HttpResponse {
    match crate::graphiql::asset(&name) {
        Some(asset) => HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header(("x-content-type-options", "nosniff"))
            .body(asset.bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

pub(super) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let not_ready = |why: &str| {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body(format!("{why}\n"))
    };
    if *state.stopping.borrow() {
        return not_ready("shutting down");
    }
    // With a probe, its view (at most a probe interval old, and not queued behind a busy pool,
    // so load does not read as "not ready"); without one, a ping through the pool.
    let reachable = if state.db.health.is_probed() {
        state.db.health.is_up()
    } else {
        matches!(
            tokio::time::timeout(Duration::from_secs(2), state.db.conn.ping()).await,
            Ok(Ok(()))
        )
    };
    if reachable {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ready\n")
    } else {
        not_ready("database unreachable")
    }
}
