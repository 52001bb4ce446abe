//! Logs: human-readable lines by default, one JSON object per line with `LOG_FORMAT=json`;
//! `RUST_LOG` filters (default `info`).
//!
//! Every GraphQL request gets one access line (target `permit_exchange::access_log`) with its
//! request id, caller, operation, outcome, status, duration and statement count. It never holds
//! the token, the variables or the document: variables carry personal data (phone numbers,
//! names), and the operation label is all an operator needs to find a request. A subscription
//! gets its line when it ends (method `SUBSCRIBE`, with how long it ran). Log lines written
//! while a request executes (an internal error's details, for instance) carry the request id
//! through the `graphql` span.

use std::time::Duration;

use tracing_subscriber::EnvFilter;

use permit_core::auth::Principal;

/// Target of the access log, so that it can be filtered on its own
/// (`RUST_LOG=info,permit_exchange::access_log=off`).
pub const ACCESS_TARGET: &str = "permit_exchange::access_log";

/// Output formats of `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    /// `LOG_FORMAT`'s value: `json`, or `text` (also when empty). An unknown value is an error,
    /// for the caller to report: a typo should not pass unnoticed.
    pub fn parse(value: &str) -> Result<Format, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            _ => Err(format!("LOG_FORMAT={value} is not 'json' or 'text'")),
        }
    }
}

/// `RUST_LOG`'s directives, `info` when unset or not valid.
fn filter(directives: Option<&str>) -> EnvFilter {
    directives
        .and_then(|text| EnvFilter::try_new(text).ok())
        .unwrap_or_else(|| EnvFilter::new("info"))
}

/// Installs the process-wide subscriber writing to standard output, filtered by `directives`
/// (`RUST_LOG`).
pub fn init(format: Format, directives: Option<&str>) {
    let builder = tracing_subscriber::fmt().with_env_filter(filter(directives));
    match format {
        Format::Text => builder.with_target(false).init(),
        Format::Json => builder.json().flatten_event(true).init(),
    }
}

/// The JSON subscriber `init` installs, writing where the caller says (tests capture it).
pub fn json_subscriber<W>(filter: &str, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .json()
        .flatten_event(true)
        .with_writer(writer)
        .finish()
}

/// The span a GraphQL request executes in: what is logged inside it (an internal error's
/// details) carries the request id and the caller. At error level so that it exists under any
/// filter that lets errors through (`RUST_LOG=warn` drops info spans, and their fields with them).
pub fn request_span(request_id: &str, principal: Option<&Principal>) -> tracing::Span {
    tracing::error_span!(
        "graphql",
        request_id = %request_id,
        subject = principal.map(|p| p.subject.as_str()).unwrap_or("-"),
        role = principal.map(|p| p.role.as_str()).unwrap_or("-"),
    )
}

/// The fields of one access log line.
pub struct AccessRecord<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub subject: &'a str,
    pub role: &'a str,
    pub operation: &'a str,
    pub outcome: &'a str,
    pub status: u16,
    pub duration: Duration,
    pub statements: u64,
}

/// Writes the access line of one GraphQL request.
pub fn access(record: &AccessRecord<'_>) {
    let duration_ms = (record.duration.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    tracing::info!(
        target: ACCESS_TARGET,
        request_id = record.request_id,
        method = record.method,
        subject = record.subject,
        role = record.role,
        operation = record.operation,
        outcome = record.outcome,
        status = record.status,
        duration_ms,
        statements = record.statements,
        "graphql request"
    );
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut buffer) = self.0.lock() {
                buffer.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    fn lines(buffer: &Buffer) -> Vec<serde_json::Value> {
        let bytes = buffer.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    #[test]
    fn internal_error_details_are_logged_with_the_request_id() {
        let buffer = Buffer::default();
        // Operators who keep only warnings and errors must still get the request id.
        let subscriber = json_subscriber("warn", buffer.clone());
        tracing::subscriber::with_default(subscriber, || {
            let span = request_span("0123456789abcdef", None);
            let _entered = span.enter();
            // The error a resolver turns into a masked INTERNAL_SERVER_ERROR.
            let error = crate::graphql::error::ToGraphql::to_graphql(
                &permit_core::error::AppError::internal("disk on fire"),
            );
            assert!(!error.message.contains("disk on fire"));
            // An error without a code, which the HTTP layer's error pass makes internal.
            let mut errors = vec![async_graphql::ServerError {
                message: "a resolver failed: socket closed".to_owned(),
                source: None,
                locations: Vec::new(),
                path: vec![async_graphql::PathSegment::Field("units".to_owned())],
                extensions: None,
            }];
            crate::pipeline::finish_errors(&mut errors, "fedcba9876543210");
        });
        let lines = lines(&buffer);
        let details = lines
            .iter()
            .find(|l| {
                l["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("disk on fire"))
            })
            .unwrap_or_else(|| panic!("no line with the details: {lines:?}"));
        assert_eq!(details["span"]["request_id"], "0123456789abcdef");
        let uncoded = lines
            .iter()
            .find(|l| l.to_string().contains("socket closed"))
            .unwrap_or_else(|| panic!("no line for the uncoded error: {lines:?}"));
        assert_eq!(uncoded["request_id"], "fedcba9876543210");
    }

    #[test]
    fn the_access_line_has_its_fields_at_the_top_level() {
        let buffer = Buffer::default();
        let subscriber = json_subscriber("info", buffer.clone());
        tracing::subscriber::with_default(subscriber, || {
            access(&AccessRecord {
                request_id: "abc",
                method: "POST",
                subject: "officer@500103",
                role: "ENFORCEMENT_OFFICER",
                operation: "UnitsPage",
                outcome: "ok",
                status: 200,
                duration: Duration::from_micros(1500),
                statements: 3,
            });
        });
        let lines = lines(&buffer);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["target"], ACCESS_TARGET);
        assert_eq!(line["request_id"], "abc");
        assert_eq!(line["subject"], "officer@500103");
        assert_eq!(line["operation"], "UnitsPage");
        assert_eq!(line["statements"], 3);
        assert_eq!(line["duration_ms"], 1.5);
        assert_eq!(line["status"], 200);
    }
}
