//! `GET /metrics` in the Prometheus text format (exposition format 0.0.4), and the hooks that
//! feed it: an actix middleware that times every request, counts HTTP statuses and, for
//! `/graphql`, writes the access log line; a guard per open subscription; a per-request
//! statement counter.
//!
//! A small registry of atomics rather than a metrics crate: the set of series is fixed but for
//! the operation label, updates on the request path are a few relaxed atomic adds, and the only
//! lock is a read lock on the operation table (a write lock only the first time a name is seen).
//!
//! Operation names are chosen by clients, so the operation label is bounded: a name must look
//! like a GraphQL name of at most `MAX_NAME_LEN` characters, and after `MAX_OPERATIONS` distinct
//! names every new one is counted as `other`. A request whose operation could not be determined
//! (unparsable document, refused before parsing) is `unknown`. Anonymous operations are labelled
//! by their first root field, as the audit trail labels them, since those names come from the
//! schema.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::http::AppState;
use permit_core::auth::{Principal, bearer_token};

/// Longest operation name that gets a series of its own.
pub const MAX_NAME_LEN: usize = 64;
/// Most distinct operation names with series of their own.
pub const MAX_OPERATIONS: usize = 200;

/// Request outcomes: `ok`, or the error code CONTRACT names (the first error's). Anything else
/// (a code added later and not listed here) is `other`, so the label stays bounded.
const OUTCOMES: [&str; 13] = [
    "ok",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "INVALID_TRANSITION",
    "QUERY_TOO_COMPLEX",
    "RATE_LIMITED",
    "SERVICE_UNAVAILABLE",
    "INTERNAL_SERVER_ERROR",
    // The APQ convention's answer to a hash the server does not know yet.
    "PERSISTED_QUERY_NOT_FOUND",
    "other",
];

/// Upper bounds (seconds) of the latency buckets: from a cached lookup to the request time limit.
const BUCKETS: [f64; 13] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
];

const PREFIX: &str = "permit_exchange";

/// Counters and a latency histogram of one operation label.
#[derive(Default)]
struct OperationStats {
    outcomes: [AtomicU64; OUTCOMES.len()],
    /// Per bucket, not cumulative (summed when rendered); the last one is above every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl OperationStats {
    fn observe(&self, outcome: usize, elapsed: Duration) {
        self.outcomes[outcome].fetch_add(1, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// One service instance's metrics (tests run several instances in one process, so nothing here
/// is global).
pub struct Metrics {
    /// Bearer token `/metrics` requires, when set (`METRICS_TOKEN`).
    token: Option<String>,
    operations: RwLock<HashMap<Box<str>, Arc<OperationStats>>>,
    other: Arc<OperationStats>,
    unknown: Arc<OperationStats>,
    /// HTTP responses by status code, index `status - 100`.
    statuses: Box<[AtomicU64]>,
    subscriptions_open: AtomicI64,
    rate_limited: AtomicU64,
    limit_refused: AtomicU64,
    hj212: Hj212Counters,
}

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

/// The HJ 212 intake's counters (listener and file uploads alike).
#[derive(Default)]
struct Hj212Counters {
    accepted: AtomicU64,
    readings: AtomicU64,
    refused: [AtomicU64; HJ212_REASONS.len()],
    connections_open: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Metrics {
    pub fn new(token: Option<String>) -> Self {
        Self {
            token,
            operations: RwLock::new(HashMap::new()),
            other: Arc::default(),
            unknown: Arc::default(),
            statuses: (100..600).map(|_| AtomicU64::new(0)).collect(),
            subscriptions_open: AtomicI64::new(0),
            rate_limited: AtomicU64::new(0),
            limit_refused: AtomicU64::new(0),
            hj212: Hj212Counters::default(),
        }
    }

    /// An HJ 212 packet taken, with the readings it stored.
    pub fn hj212_accepted(&self, readings: u64) {
        self.hj212.accepted.fetch_add(1, Ordering::Relaxed);
        self.hj212.readings.fetch_add(readings, Ordering::Relaxed);
    }

    /// An HJ 212 packet refused, by reason.
    pub fn hj212_refused(&self, reason: &str) {
        let index = HJ212_REASONS
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(HJ212_REASONS.len() - 1);
        self.hj212.refused[index].fetch_add(1, Ordering::Relaxed);
    }

    /// An HJ 212 connection opened (`+1`) or closed (`-1`).
    pub fn hj212_connections(&self, delta: i64) {
        self.hj212
            .connections_open
            .fetch_add(delta, Ordering::Relaxed);
    }

    /// The series of an operation label, admitting a new name while there is room.
    fn operation(&self, label: Option<&str>) -> Arc<OperationStats> {
        let Some(name) = label else {
            return self.unknown.clone();
        };
        if !is_bounded_name(name) {
            return self.other.clone();
        }
        if let Ok(table) = self.operations.read()
            && let Some(stats) = table.get(name)
        {
            return stats.clone();
        }
        let Ok(mut table) = self.operations.write() else {
            return self.other.clone();
        };
        if let Some(stats) = table.get(name) {
            return stats.clone();
        }
        if table.len() >= MAX_OPERATIONS {
            return self.other.clone();
        }
        let stats = Arc::new(OperationStats::default());
        table.insert(name.into(), stats.clone());
        stats
    }

    /// Records one finished GraphQL request.
    pub fn observe_request(&self, operation: Option<&str>, outcome: &str, elapsed: Duration) {
        let index = outcome_index(outcome);
        self.operation(operation).observe(index, elapsed);
        match OUTCOMES[index] {
            "RATE_LIMITED" => {
                self.rate_limited.fetch_add(1, Ordering::Relaxed);
            }
            "QUERY_TOO_COMPLEX" => {
                self.limit_refused.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    fn observe_status(&self, status: StatusCode) {
        if let Some(counter) = usize::from(status.as_u16())
            .checked_sub(100)
            .and_then(|i| self.statuses.get(i))
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a subscription as open until the guard is dropped; the guard then writes the
    /// subscription's access line. `principal` carries the request id and operation.
    pub fn subscription_opened(self: &Arc<Self>, principal: &Principal) -> SubscriptionGuard {
        self.subscriptions_open.fetch_add(1, Ordering::Relaxed);
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

    /// The exposition text: every series with its HELP and TYPE.
    pub fn render(&self, db: Option<&permit_core::db::Database>) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let mut operations: Vec<(String, Arc<OperationStats>)> = match self.operations.read() {
            Ok(table) => table
                .iter()
                .map(|(name, stats)| (name.to_string(), stats.clone()))
                .collect(),
            Err(_) => Vec::new(),
        };
        operations.sort_by(|a, b| a.0.cmp(&b.0));
        operations.push(("other".to_owned(), self.other.clone()));
        operations.push(("unknown".to_owned(), self.unknown.clone()));

        let name = format!("{PREFIX}_graphql_requests_total");
        header_lines(
            &mut out,
            &name,
            "counter",
            "GraphQL requests by operation and outcome (ok or the error code).",
        );
        for (operation, stats) in &operations {
            for (outcome, counter) in OUTCOMES.iter().zip(&stats.outcomes) {
                let value = counter.load(Ordering::Relaxed);
                if value > 0 {
                    let _ = writeln!(
                        out,
                        "{name}{{operation=\"{}\",outcome=\"{outcome}\"}} {value}",
                        escape(operation)
                    );
                }
            }
        }

        let name = format!("{PREFIX}_graphql_request_duration_seconds");
        header_lines(
            &mut out,
            &name,
            "histogram",
            "Time from receiving a GraphQL request to its response, by operation.",
        );
        for (operation, stats) in &operations {
            let counts: Vec<u64> = stats
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let operation = escape(operation);
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(&counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "{name}_bucket{{operation=\"{operation}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            // `_count` is the `+Inf` bucket by definition: both from the same loads.
            let _ = writeln!(
                out,
                "{name}_bucket{{operation=\"{operation}\",le=\"+Inf\"}} {total}"
            );
            let sum = stats.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "{name}_sum{{operation=\"{operation}\"}} {sum}");
            let _ = writeln!(out, "{name}_count{{operation=\"{operation}\"}} {total}");
        }

        let name = format!("{PREFIX}_http_responses_total");
        header_lines(&mut out, &name, "counter", "HTTP responses by status code.");
        for (i, counter) in self.statuses.iter().enumerate() {
            let value = counter.load(Ordering::Relaxed);
            if value > 0 {
                let _ = writeln!(out, "{name}{{status=\"{}\"}} {value}", i + 100);
            }
        }

        gauge(
            &mut out,
            &format!("{PREFIX}_subscriptions_open"),
            "Subscriptions running on this instance.",
            self.subscriptions_open.load(Ordering::Relaxed).max(0),
        );
        counter(
            &mut out,
            &format!("{PREFIX}_rate_limited_total"),
            "Requests refused by a rate limit (RATE_LIMITED).",
            self.rate_limited.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            &format!("{PREFIX}_limit_refused_total"),
            "Requests refused by a document or time limit (QUERY_TOO_COMPLEX).",
            self.limit_refused.load(Ordering::Relaxed),
        );

        let name = format!("{PREFIX}_hj212_packets_total");
        header_lines(
            &mut out,
            &name,
            "counter",
            "HJ 212 packets accepted, and refused by reason.",
        );
        let _ = writeln!(
            out,
            "{name}{{outcome=\"accepted\"}} {}",
            self.hj212.accepted.load(Ordering::Relaxed)
        );
        for (reason, counter) in HJ212_REASONS.iter().zip(&self.hj212.refused) {
            let value = counter.load(Ordering::Relaxed);
            if value > 0 {
                let _ = writeln!(
                    out,
                    "{name}{{outcome=\"refused\",reason=\"{reason}\"}} {value}"
                );
            }
        }
        counter(
            &mut out,
            &format!("{PREFIX}_hj212_readings_total"),
            "Readings stored from HJ 212 packets.",
            self.hj212.readings.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            &format!("{PREFIX}_hj212_connections_open"),
            "HJ 212 connections open on this instance.",
            self.hj212.connections_open.load(Ordering::Relaxed).max(0),
        );

        if let Some(db) = db {
            counter(
                &mut out,
                &format!("{PREFIX}_db_statements_total"),
                "SQL statements executed.",
                db.statement_count(),
            );
            if let Some(pool) = pool_stats(&db.conn) {
                let name = format!("{PREFIX}_db_pool_connections");
                header_lines(
                    &mut out,
                    &name,
                    "gauge",
                    "Open database connections by state.",
                );
                let _ = writeln!(out, "{name}{{state=\"idle\"}} {}", pool.idle);
                let _ = writeln!(out, "{name}{{state=\"in_use\"}} {}", pool.in_use);
                gauge(
                    &mut out,
                    &format!("{PREFIX}_db_pool_max_connections"),
                    "Most connections the pool opens.",
                    i64::from(pool.max),
                );
            }
        }
        out
    }
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
        self.metrics
            .subscriptions_open
            .fetch_sub(1, Ordering::Relaxed);
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

fn header_lines(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: i64) {
    header_lines(out, name, "gauge", help);
    let _ = writeln!(out, "{name} {value}");
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    header_lines(out, name, "counter", help);
    let _ = writeln!(out, "{name} {value}");
}

/// A label value escaped as the text format asks (backslash, quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn outcome_index(outcome: &str) -> usize {
    OUTCOMES
        .iter()
        .position(|o| *o == outcome)
        .unwrap_or(OUTCOMES.len() - 1)
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
        .content_type("text/plain; version=0.0.4; charset=utf-8")
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
                _ => "INTERNAL_SERVER_ERROR",
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
            "INTERNAL_SERVER_ERROR"
        } else {
            "BAD_USER_INPUT"
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
        let open = || metrics.subscriptions_open.load(Ordering::Relaxed);
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
