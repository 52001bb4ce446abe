//! `GET /metrics` in the Prometheus text format (exposition format 0.0.4), from a
//! `prometheus-client` registry, and the hooks that feed it: an actix middleware that times every
//! request, counts HTTP statuses and, for `/graphql`, writes the access log line; a guard per open
//! subscription; a per-request statement counter.
//!
//! Operation names are chosen by clients, so the operation label is bounded: a name must look
//! like a GraphQL name of at most `MAX_NAME_LEN` characters, and after `MAX_OPERATIONS` distinct
//! names every new one is counted as `other`. A request whose operation could not be determined
//! (unparsable document, refused before parsing) is `unknown`. Anonymous operations are labelled
//! by their first root field, as the audit trail labels them, since those names come from the
//! schema. The outcome label is bounded too: `ok`, an `ErrorCode`, or `other`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder, prometheus_text};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::http::AppState;
use permit_core::auth::{Principal, bearer_token};
use permit_core::error::ErrorCode;

/// Longest operation name that gets a series of its own.
pub const MAX_NAME_LEN: usize = 64;
/// Most distinct operation names with series of their own.
pub const MAX_OPERATIONS: usize = 200;

/// Upper bounds (seconds) of the latency buckets: from a cached lookup to the request time limit.
const BUCKETS: [f64; 13] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
];

/// Every series' name starts with it.
const PREFIX: &str = "permit_exchange";

/// Why HJ 212 packets are refused (`hj212::intake::Refusal::reason`); anything else is `other`.
const HJ212_REASONS: [&str; 11] = [
    "garbage",
    "too_long",
    "length",
    "crc",
    "malformed",
    "command",
    "unknown_device",
    "password",
    "rejected",
    "unavailable",
    "other",
];

/// A GraphQL request's series: its operation label and outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: Arc<str>,
    outcome: &'static str,
}

/// The latency histogram's series: the operation label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// An HJ 212 packet's series: `outcome="accepted"`, or `outcome="refused"` with its `reason`.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum PacketLabels {
    Accepted,
    Refused(&'static str),
}

impl EncodeLabelSet for PacketLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeLabel;
        match self {
            Self::Accepted => ("outcome", "accepted").encode(encoder.encode_label()),
            Self::Refused(reason) => {
                ("outcome", "refused").encode(encoder.encode_label())?;
                ("reason", *reason).encode(encoder.encode_label())
            }
        }
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// One service instance's metrics (tests run several instances in one process, so nothing here
/// is global). The handles are shared with the registry, which renders them.
pub struct Metrics {
    /// Bearer token `/metrics` requires, when set (`METRICS_TOKEN`).
    token: Option<String>,
    registry: Registry,
    /// Operation names admitted to series of their own (at most `MAX_OPERATIONS`).
    operations: RwLock<HashSet<Arc<str>>>,
    other: Arc<str>,
    unknown: Arc<str>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    statuses: Family<StatusLabels, Counter>,
    subscriptions_open: Gauge,
    rate_limited: Counter,
    limit_refused: Counter,
    hj212_packets: Family<PacketLabels, Counter>,
    hj212_readings: Counter,
    hj212_connections_open: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Metrics {
    pub fn new(token: Option<String>) -> Self {
        let mut metrics = Self {
            token,
            registry: Registry::with_prefix(PREFIX),
            operations: RwLock::new(HashSet::new()),
            other: Arc::from("other"),
            unknown: Arc::from("unknown"),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            statuses: Family::default(),
            subscriptions_open: Gauge::default(),
            rate_limited: Counter::default(),
            limit_refused: Counter::default(),
            hj212_packets: Family::default(),
            hj212_readings: Counter::default(),
            hj212_connections_open: Gauge::default(),
        };
        // Shown at zero from the start, as a counter with no labels is.
        drop(metrics.hj212_packets.get_or_create(&PacketLabels::Accepted));
        metrics.register();
        metrics
    }

    /// Hands the registry its handles, in the order they are rendered. Help texts get their
    /// full stop from the registry.
    fn register(&mut self) {
        let registry = &mut self.registry;
        registry.register(
            "graphql_requests",
            "GraphQL requests by operation and outcome (ok or the error code)",
            self.requests.clone(),
        );
        registry.register(
            "graphql_request_duration_seconds",
            "Time from receiving a GraphQL request to its response, by operation",
            self.latency.clone(),
        );
        registry.register(
            "http_responses",
            "HTTP responses by status code",
            self.statuses.clone(),
        );
        registry.register(
            "subscriptions_open",
            "Subscriptions running on this instance",
            self.subscriptions_open.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests refused by a rate limit (RATE_LIMITED)",
            self.rate_limited.clone(),
        );
        registry.register(
            "limit_refused",
            "Requests refused by a document or time limit (QUERY_TOO_COMPLEX)",
            self.limit_refused.clone(),
        );
        registry.register(
            "hj212_packets",
            "HJ 212 packets accepted, and refused by reason",
            self.hj212_packets.clone(),
        );
        registry.register(
            "hj212_readings",
            "Readings stored from HJ 212 packets",
            self.hj212_readings.clone(),
        );
        registry.register(
            "hj212_connections_open",
            "HJ 212 connections open on this instance",
            self.hj212_connections_open.clone(),
        );
    }

    /// An HJ 212 packet taken, with the readings it stored.
    pub fn hj212_accepted(&self, readings: u64) {
        self.hj212_packets
            .get_or_create(&PacketLabels::Accepted)
            .inc();
        self.hj212_readings.inc_by(readings);
    }

    /// An HJ 212 packet refused, by reason.
    pub fn hj212_refused(&self, reason: &str) {
        let reason = HJ212_REASONS
            .iter()
            .find(|r| **r == reason)
            .unwrap_or(&"other");
        self.hj212_packets
            .get_or_create(&PacketLabels::Refused(reason))
            .inc();
    }

    /// An HJ 212 connection opened (`+1`) or closed (`-1`).
    pub fn hj212_connections(&self, delta: i64) {
        self.hj212_connections_open.inc_by(delta);
    }

    /// The operation label of a name, admitting a new name while there is room.
    fn operation(&self, label: Option<&str>) -> Arc<str> {
        let Some(name) = label else {
            return self.unknown.clone();
        };
        if !is_bounded_name(name) {
            return self.other.clone();
        }
        if let Ok(table) = self.operations.read()
            && let Some(admitted) = table.get(name)
        {
            return admitted.clone();
        }
        let Ok(mut table) = self.operations.write() else {
            return self.other.clone();
        };
        if let Some(admitted) = table.get(name) {
            return admitted.clone();
        }
        if table.len() >= MAX_OPERATIONS {
            return self.other.clone();
        }
        let admitted: Arc<str> = Arc::from(name);
        table.insert(admitted.clone());
        admitted
    }

    /// Records one finished GraphQL request.
    pub fn observe_request(&self, operation: Option<&str>, outcome: &str, elapsed: Duration) {
        let operation = self.operation(operation);
        let outcome = outcome_label(outcome);
        self.latency
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels { operation, outcome })
            .inc();
        if outcome == ErrorCode::RateLimited.as_str() {
            self.rate_limited.inc();
        } else if outcome == ErrorCode::QueryTooComplex.as_str() {
            self.limit_refused.inc();
        }
    }

    fn observe_status(&self, status: StatusCode) {
        let status = status.as_u16();
        // The label stays bounded whatever a handler answers.
        if (100..600).contains(&status) {
            self.statuses.get_or_create(&StatusLabels { status }).inc();
        }
    }

    /// Counts a subscription as open until the guard is dropped; the guard then writes the
    /// subscription's access line. `principal` carries the request id and operation.
    pub fn subscription_opened(self: &Arc<Self>, principal: &Principal) -> SubscriptionGuard {
        self.subscriptions_open.inc();
        SubscriptionGuard {
            metrics: self.clone(),
            started: Instant::now(),
            request_id: principal.request.request_id.clone().unwrap_or_default(),
            subject: principal.subject.clone(),
            role: principal.role.as_str(),
            operation: principal.request.operation_name.clone(),
            outcome: None,
            statements: Arc::default(),
        }
    }

    /// Whether a `/metrics` request may read (always, unless a token is configured).
    fn allows(&self, req: &HttpRequest) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes()))
    }

    /// The exposition text: every series with its HELP and TYPE, then the database's.
    pub fn render(&self, db: Option<&permit_core::db::Database>) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        if let Some(db) = db {
            let _ = prometheus_text::encode(&mut out, &database_registry(db));
        }
        out
    }
}

/// The database's series, read at each scrape.
fn database_registry(db: &permit_core::db::Database) -> Registry {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register(
        "db_statements",
        "SQL statements executed",
        ConstCounter::new(db.statement_count()),
    );
    // The shared pool and the HTTP workers' own (`Database::for_this_thread`), together.
    let pools: Vec<PoolStats> = db.pools().iter().filter_map(pool_stats).collect();
    if let Some(pool) = pools.into_iter().reduce(|a, b| PoolStats {
        idle: a.idle + b.idle,
        in_use: a.in_use + b.in_use,
        max: a.max.saturating_add(b.max),
    }) {
        let connections = Family::<StateLabels, Gauge>::default();
        for (state, count) in [("idle", pool.idle), ("in_use", pool.in_use)] {
            connections
                .get_or_create(&StateLabels { state })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        registry.register(
            "db_pool_connections",
            "Open database connections by state",
            connections,
        );
        registry.register(
            "db_pool_max_connections",
            "Most connections the pool opens",
            ConstGauge::new(i64::from(pool.max)),
        );
    }
    registry
}

/// One running subscription: counted in `subscriptions_open` until dropped, then logged with
/// its duration, outcome and the statements its events cost.
pub struct SubscriptionGuard {
    metrics: Arc<Metrics>,
    started: Instant,
    request_id: String,
    subject: String,
    role: &'static str,
    operation: Option<String>,
    outcome: Option<String>,
    statements: Arc<AtomicU64>,
}

impl SubscriptionGuard {
    /// The subscription ended with an error (the first error's code).
    pub fn set_outcome(&mut self, errors: &[async_graphql::ServerError]) {
        self.outcome = Some(outcome_of(errors).to_owned());
    }

    /// The execution's events, each produced inside the request's span (so what is logged while
    /// resolving one carries the request id) and with its statements counted.
    pub fn track(
        &self,
        mut events: futures_util::stream::BoxStream<'static, async_graphql::Response>,
    ) -> impl futures_util::Stream<Item = async_graphql::Response> + Send + 'static {
        use futures_util::StreamExt;
        let span = tracing::error_span!(
            "graphql",
            request_id = %self.request_id,
            subject = %self.subject,
            role = self.role,
        );
        let statements = self.statements.clone();
        futures_util::stream::poll_fn(move |cx| {
            let _entered = span.enter();
            permit_core::db::counting_statements_sync(statements.clone(), || {
                events.poll_next_unpin(cx)
            })
        })
    }
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.metrics.subscriptions_open.dec();
        crate::logging::access(&crate::logging::AccessRecord {
            request_id: &self.request_id,
            method: "SUBSCRIBE",
            subject: &self.subject,
            role: self.role,
            operation: self.operation.as_deref().unwrap_or("-"),
            outcome: self.outcome.as_deref().unwrap_or("ok"),
            // The socket's upgrade: the subscription itself has no HTTP status.
            status: StatusCode::SWITCHING_PROTOCOLS.as_u16(),
            duration: self.started.elapsed(),
            statements: self.statements.load(Ordering::Relaxed),
        });
    }
}

struct PoolStats {
    idle: u64,
    in_use: u64,
    max: u32,
}

fn pool_stats(conn: &DatabaseConnection) -> Option<PoolStats> {
    // The pool getters panic on a connection of another kind, so ask for the backend first.
    let (size, idle, max) = match conn.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let pool = conn.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DatabaseBackend::Postgres => {
            let pool = conn.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => return None,
    };
    let idle = u64::try_from(idle).unwrap_or(u64::MAX);
    Some(PoolStats {
        idle,
        in_use: u64::from(size).saturating_sub(idle),
        max,
    })
}

/// The outcome label: `ok`, an error code, or `other` for anything else (the label stays
/// bounded).
fn outcome_label(outcome: &str) -> &'static str {
    if outcome == "ok" {
        return "ok";
    }
    ErrorCode::ALL
        .iter()
        .map(|code| code.as_str())
        .find(|code| *code == outcome)
        .unwrap_or("other")
}

/// A GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`) no longer than `MAX_NAME_LEN`.
fn is_bounded_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_LEN
        && chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /metrics`.
pub async fn endpoint(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if !state.metrics.allows(&req) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .content_type("text/plain; charset=utf-8")
            .body("metrics need 'Authorization: Bearer <METRICS_TOKEN>'\n");
    }
    HttpResponse::Ok()
        .content_type(prometheus_text::CONTENT_TYPE)
        .body(state.metrics.render(Some(&state.db)))
}

// ---------------------------------------------------------------------------------------------
// What a GraphQL request did, for the access log and the request metrics.

/// Who and what, as the GraphQL handler learns it (kept in the request's extensions).
#[derive(Default, Clone)]
struct RequestNotes {
    operation: Option<String>,
    subject: Option<String>,
    role: Option<&'static str>,
}

/// The outcome of a GraphQL response: `ok` or the first error's code.
#[derive(Clone)]
struct Outcome(String);

/// The operation a GraphQL request selected (its name, or its first root field).
pub fn note_operation(req: &HttpRequest, label: Option<&str>) {
    if let Some(notes) = req.extensions_mut().get_mut::<RequestNotes>() {
        notes.operation = label.map(str::to_owned);
    }
}

/// The verified caller of a GraphQL request.
pub fn note_principal(req: &HttpRequest, principal: &Principal) {
    if let Some(notes) = req.extensions_mut().get_mut::<RequestNotes>() {
        notes.subject = Some(principal.subject.clone());
        notes.role = Some(principal.role.as_str());
    }
}

/// Marks a response with its outcome (`ok` or an error code).
pub fn set_outcome(response: &mut HttpResponse, code: &str) {
    response.extensions_mut().insert(Outcome(code.to_owned()));
}

/// The outcome of a GraphQL result: the first error's code, or `ok`.
pub fn outcome_of(errors: &[async_graphql::ServerError]) -> &str {
    errors
        .first()
        .map(
            |e| match e.extensions.as_ref().and_then(|x| x.get("code")) {
                Some(async_graphql::Value::String(code)) => code.as_str(),
                _ => ErrorCode::InternalServerError.as_str(),
            },
        )
        .unwrap_or("ok")
}

/// Middleware for the whole app: counts responses by status; for `/graphql` also times the
/// request, counts its statements, records it by operation and outcome, and logs one line.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    if req.path() != "/graphql" {
        let result = next.call(req).await;
        if let Some(metrics) = &metrics {
            metrics.observe_status(status_of(&result));
        }
        return result;
    }
    let started = Instant::now();
    let method = req.method().clone();
    req.extensions_mut().insert(RequestNotes::default());
    let statements = Arc::new(AtomicU64::new(0));
    let result = permit_core::db::counting_statements(statements.clone(), next.call(req)).await;
    let elapsed = started.elapsed();
    let status = status_of(&result);
    let (notes, outcome, request_id) = match &result {
        Ok(response) => (
            response
                .request()
                .extensions()
                .get::<RequestNotes>()
                .cloned()
                .unwrap_or_default(),
            response.response().extensions().get::<Outcome>().cloned(),
            response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ),
        Err(_) => (RequestNotes::default(), None, None),
    };
    // A response the handler did not mark was refused before it ran (an extractor: body too
    // large, for instance).
    let outcome = outcome.map(|o| o.0).unwrap_or_else(|| {
        if status.is_success() {
            "ok"
        } else if status.is_server_error() {
            ErrorCode::InternalServerError.as_str()
        } else {
            ErrorCode::BadUserInput.as_str()
        }
        .to_owned()
    });
    if let Some(metrics) = &metrics {
        metrics.observe_status(status);
        // Only authenticated callers name a series: anonymous ones could fill every slot.
        let series = match (&notes.subject, notes.operation.as_deref()) {
            (None, Some(_)) => Some("anonymous"),
            (_, operation) => operation,
        };
        metrics.observe_request(series, &outcome, elapsed);
    }
    crate::logging::access(&crate::logging::AccessRecord {
        request_id: request_id.as_deref().unwrap_or("-"),
        method: method.as_str(),
        subject: notes.subject.as_deref().unwrap_or("-"),
        role: notes.role.unwrap_or("-"),
        operation: notes.operation.as_deref().unwrap_or("-"),
        outcome: &outcome,
        status: status.as_u16(),
        duration: elapsed,
        statements: statements.load(Ordering::Relaxed),
    });
    result
}

fn status_of<B>(result: &Result<ServiceResponse<B>, actix_web::Error>) -> StatusCode {
    match result {
        Ok(response) => response.status(),
        Err(err) => err.as_response_error().status_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let metrics = Metrics::default();
        let ms = Duration::from_millis(3);
        metrics.observe_request(Some("UnitsPage"), "ok", ms);
        metrics.observe_request(Some(&"x".repeat(MAX_NAME_LEN + 1)), "ok", ms);
        metrics.observe_request(Some("bad name\"}"), "ok", ms);
        metrics.observe_request(None, "BAD_USER_INPUT", ms);
        metrics.observe_request(Some("UnitsPage"), "SOMETHING_NEW", ms);
        for i in 0..MAX_OPERATIONS + 10 {
            metrics.observe_request(Some(&format!("Op{i}")), "ok", ms);
        }
        let text = metrics.render(None);
        assert!(text.contains(
            "permit_exchange_graphql_requests_total{operation=\"UnitsPage\",outcome=\"ok\"} 1\n"
        ));
        assert!(text.contains(
            "permit_exchange_graphql_requests_total{operation=\"UnitsPage\",outcome=\"other\"} 1\n"
        ));
        assert!(text.contains(
            "permit_exchange_graphql_requests_total{operation=\"unknown\",outcome=\"BAD_USER_INPUT\"} 1\n"
        ));
        // Two malformed names, and the eleven beyond the table's room ("UnitsPage" took one).
        assert!(
            text.contains(
                "permit_exchange_graphql_requests_total{operation=\"other\",outcome=\"ok\"} 13\n"
            ),
            "{text}"
        );
        let series = text
            .lines()
            .filter(|l| l.starts_with("permit_exchange_graphql_requests_total{"))
            .count();
        assert_eq!(series, MAX_OPERATIONS + 3);
        assert!(!text.contains("bad name"));
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::default();
        for millis in [1, 4, 40, 400, 20_000] {
            metrics.observe_request(Some("Q"), "ok", Duration::from_millis(millis));
        }
        let text = metrics.render(None);
        let bucket = |le: &str| {
            let prefix = format!(
                "permit_exchange_graphql_request_duration_seconds_bucket{{operation=\"Q\",le=\"{le}\"}} "
            );
            text.lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .and_then(|v| v.parse::<u64>().ok())
        };
        assert_eq!(bucket("0.002"), Some(1));
        assert_eq!(bucket("0.005"), Some(2));
        assert_eq!(bucket("0.05"), Some(3));
        assert_eq!(bucket("0.5"), Some(4));
        assert_eq!(bucket("15"), Some(4));
        assert_eq!(bucket("+Inf"), Some(5));
        assert!(text.contains(
            "permit_exchange_graphql_request_duration_seconds_count{operation=\"Q\"} 5\n"
        ));
    }

    #[test]
    fn subscription_guards_count_open_subscriptions() {
        let metrics = Arc::new(Metrics::default());
        let open = || metrics.subscriptions_open.get();
        let principal = Principal {
            subject: "s".to_owned(),
            role: permit_core::auth::Role::Admin,
            agency_code: None,
            district: None,
            request: permit_core::auth::RequestTag::default(),
        };
        let first = metrics.subscription_opened(&principal);
        let second = metrics.subscription_opened(&principal);
        assert_eq!(open(), 2);
        drop(first);
        assert_eq!(open(), 1);
        drop(second);
        assert_eq!(open(), 0);
    }

    #[test]
    fn the_token_is_compared_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
