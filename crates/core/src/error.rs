//! The one error type of the service and the one table of error codes.
//!
//! Domain functions return `AppError`; its variants name what went wrong *for the client*, and
//! each maps to one [`ErrorCode`], the `extensions.code` clients branch on (CONTRACT: error
//! codes). Every refusal of the service, whether from the domain or from a transport (rate
//! limits, request limits, persisted operations), names its code from that table, which also
//! gives its HTTP status and its label in the metrics. `Internal` wraps everything the client
//! cannot act on: its details are logged with the request id and masked in the response (the
//! GraphQL layer's `to_graphql` in `permit-api`).

/// Every `extensions.code` the service answers (CONTRACT), with its HTTP status and metrics label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    InvalidTransition,
    /// A request past a limit: size, depth, cost, time.
    QueryTooComplex,
    RateLimited,
    ServiceUnavailable,
    InternalServerError,
    /// The APQ convention's answer to a hash the server does not know yet.
    PersistedQueryNotFound,
    /// The APQ convention's answer where a hash-only request is not served.
    PersistedQueryNotSupported,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 12] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::BadUserInput,
        Self::Conflict,
        Self::InvalidTransition,
        Self::QueryTooComplex,
        Self::RateLimited,
        Self::ServiceUnavailable,
        Self::InternalServerError,
        Self::PersistedQueryNotFound,
        Self::PersistedQueryNotSupported,
    ];

    /// The code as clients read it in `extensions.code`, and its `outcome` label in the metrics.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::InvalidTransition => "INVALID_TRANSITION",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::RateLimited => "RATE_LIMITED",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The HTTP status of a response refused as a whole with this code (GraphQL over HTTP:
    /// errors from resolvers keep 200; a request refused before execution gets this status).
    pub const fn http_status(self) -> u16 {
        match self {
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::RateLimited => 429,
            Self::ServiceUnavailable => 503,
            Self::InternalServerError => 500,
            // The APQ convention: the client sends the document on a 200 answer.
            Self::PersistedQueryNotFound => 200,
            Self::BadUserInput
            | Self::InvalidTransition
            | Self::QueryTooComplex
            | Self::PersistedQueryNotSupported => 400,
        }
    }
}

/// Deliberately not `Display`: async-graphql converts any `Display` type into an error without
/// extensions, and a resolver must never lose the code that way (`?` goes through `to_graphql`).
#[derive(Debug)]
pub enum AppError {
    /// No valid token (missing, malformed, expired, wrongly signed, wrong algorithm).
    Unauthenticated(String),
    /// The principal is known but may not do this.
    Forbidden(String),
    NotFound(String),
    /// Input that can never succeed as sent; `field` is the offending input path.
    InvalidInput {
        field: String,
        reason: String,
    },
    /// The request conflicts with the current state (stale version, reused idempotency key,
    /// overlapping validity, duplicate natural key).
    Conflict(String),
    /// A record that must be unique exists already (`CONFLICT`); `field` is the input path that
    /// repeats it. Raised from the database's unique constraints through [`UNIQUE_KEYS`].
    Duplicate {
        field: String,
        reason: String,
    },
    /// A state machine refused the move.
    InvalidTransition {
        from: String,
        to: String,
        reason: String,
    },
    Unavailable(String),
    /// The database cancelled a statement that ran past the request's time limit
    /// (`statement_timeout`, set by `db::connect_with`): the transaction rolled back.
    TimeLimit(String),
    Internal(anyhow_like::BoxError),
}

/// A tiny boxed-error alias so `Internal` can wrap any source without another dependency.
pub mod anyhow_like {
    pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A natural key that does not parse (`domain::codes`), refused on `field`.
    pub fn code_error(field: &str, err: impl std::fmt::Display) -> Self {
        Self::invalid(field, err.to_string())
    }

    pub fn internal(err: impl Into<anyhow_like::BoxError>) -> Self {
        Self::Internal(err.into())
    }

    /// The message a client reads.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m) => format!("authentication required: {m}"),
            Self::Forbidden(m) => format!("forbidden: {m}"),
            Self::NotFound(what) => format!("{what} not found"),
            Self::InvalidInput { field, reason } => format!("invalid {field}: {reason}"),
            Self::Conflict(m) => format!("conflict: {m}"),
            Self::Duplicate { reason, .. } => format!("conflict: {reason}"),
            Self::InvalidTransition { from, to, reason } => {
                format!("cannot move from {from} to {to}: {reason}")
            }
            Self::Unavailable(m) => format!("service unavailable: {m}"),
            Self::TimeLimit(m) => format!("the request exceeded the time limit: {m}"),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The `extensions.code` of this error (CONTRACT).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::InvalidInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) | Self::Duplicate { .. } => ErrorCode::Conflict,
            Self::InvalidTransition { .. } => ErrorCode::InvalidTransition,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::TimeLimit(_) => ErrorCode::QueryTooComplex,
            Self::Internal(_) => ErrorCode::InternalServerError,
        }
    }

    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::{DbErr, SqlErr};
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            // The database's text names tables and columns: log it, answer a sentence.
            tracing::debug!(%detail, "unique constraint");
            return match unique_key(&detail) {
                Some(UniqueKey {
                    field: Some(field),
                    reason,
                    ..
                }) => Self::Duplicate {
                    field: (*field).to_owned(),
                    reason: (*reason).to_owned(),
                },
                Some(key) => Self::Conflict(key.reason.to_owned()),
                None => Self::Conflict(
                    "the same record was written meanwhile: reload and retry".to_owned(),
                ),
            };
        }
        match err {
            DbErr::ConnectionAcquire(e) => Self::Unavailable(format!("database unreachable: {e}")),
            DbErr::Conn(e) => Self::Unavailable(format!("database unreachable: {e}")),
            DbErr::Query(ref e) | DbErr::Exec(ref e) if is_connection_failure(e) => {
                Self::Unavailable(format!("database connection lost: {e}"))
            }
            DbErr::Query(ref e) | DbErr::Exec(ref e) => match sqlstate(e).as_deref() {
                // query_canceled: statement_timeout (the request's time limit plus a second).
                Some("57014") => Self::TimeLimit("the database cancelled a statement".to_owned()),
                // A concurrent transaction won (serialization failure, deadlock): this one
                // rolled back, and the same request may simply be sent again.
                Some("40001" | "40P01") => Self::Conflict(
                    "the write collided with a concurrent one and was rolled back; retry it"
                        .to_owned(),
                ),
                _ => Self::internal(err),
            },
            other => Self::internal(other),
        }
    }
}

/// A unique constraint of the schema, as the two databases name it, and what a client is told
/// when a write breaks it.
pub struct UniqueKey {
    /// PostgreSQL's constraint or index name.
    pub constraint: &'static str,
    /// SQLite's "table.column, table.column" of the same constraint.
    pub columns: &'static str,
    /// The input path that repeats the record; `None` for keys only concurrent writers meet.
    pub field: Option<&'static str>,
    pub reason: &'static str,
}

const fn key(
    constraint: &'static str,
    columns: &'static str,
    field: Option<&'static str>,
    reason: &'static str,
) -> UniqueKey {
    UniqueKey {
        constraint,
        columns,
        field,
        reason,
    }
}

/// Every unique constraint a request can break (the migrations name them); a test checks
/// that each `field` is an input path of the schema.
pub const UNIQUE_KEYS: &[UniqueKey] = &[
    key(
        "units_credit_code_key",
        "units.credit_code",
        Some("input.creditCode"),
        "a unit with this credit code is already registered",
    ),
    key(
        "permits_permit_number_key",
        "permits.permit_number",
        Some("input.permitNumber"),
        "this permit number is already taken",
    ),
    key(
        "registrations_registration_number_key",
        "registrations.registration_number",
        None,
        "the registration was written meanwhile: reload and retry",
    ),
    key(
        "uq_execution_reports_period",
        "execution_reports.permit_id, execution_reports.frequency, execution_reports.period_start",
        Some("input.periodStart"),
        "an execution report of this permit, frequency and period is recorded already",
    ),
    key(
        "uq_ledger_checks_period",
        "ledger_checks.inspection_id, ledger_checks.period_start",
        Some("input.periodStart"),
        "this inspection has a ledger check of a period starting that day already",
    ),
    key(
        "uq_monitoring_devices_mn",
        "monitoring_devices.mn",
        Some("input.mn"),
        "a monitoring device with this MN is registered already",
    ),
    key(
        "inspectors_certificate_number_key",
        "inspectors.certificate_number",
        Some("input.certificateNumber"),
        "an inspector with this certificate number is already registered",
    ),
    key(
        "uq_inspector_conflicts_inspector_unit",
        "inspector_conflicts.inspector_id, inspector_conflicts.unit_id",
        Some("input.unitId"),
        "this inspector's conflict of interest with this unit is already declared",
    ),
    key(
        "enforcement_actions_decision_number_key",
        "enforcement_actions.decision_number",
        Some("input.decisionNumber"),
        "this decision number is already used by another decision",
    ),
    key(
        "campaigns_name_key",
        "campaigns.name",
        Some("input.name"),
        "a campaign of this name already exists",
    ),
    key(
        "uq_campaign_sampling_rules_campaign_category",
        "campaign_sampling_rules.campaign_id, campaign_sampling_rules.category",
        Some("input.samplingRules"),
        "a management category has two sampling rules",
    ),
    key(
        "uq_summary_reports_campaign_district",
        "summary_reports.campaign_id, summary_reports.district_code",
        Some("input.districtCode"),
        "this district's summary report for the campaign is already submitted",
    ),
    key(
        "uq_outlets_permit_code_current",
        "outlets.permit_id, outlets.code",
        Some("input.outlets"),
        "an outlet code appears twice on the permit",
    ),
    key(
        "uq_permit_versions_permit_version",
        "permit_versions.permit_id, permit_versions.version",
        None,
        "the permit changed meanwhile: reload and retry",
    ),
    key(
        "uq_unit_versions_unit_version",
        "unit_versions.unit_id, unit_versions.version",
        None,
        "the unit changed meanwhile: reload and retry",
    ),
    key(
        "feedback_findings_pkey",
        "feedback_findings.feedback_id, feedback_findings.finding_id",
        Some("input.findingIds"),
        "a finding is named twice",
    ),
    key(
        "inspection_inspectors_pkey",
        "inspection_inspectors.inspection_id, inspection_inspectors.inspector_id",
        Some("input.inspectorIds"),
        "an inspector is named twice",
    ),
];

/// The key a database's unique-violation text is about: PostgreSQL quotes the constraint's
/// name, SQLite lists its columns.
fn unique_key(detail: &str) -> Option<&'static UniqueKey> {
    UNIQUE_KEYS.iter().find(|k| {
        detail.contains(&format!("\"{}\"", k.constraint))
            || detail
                .split_once("UNIQUE constraint failed: ")
                .is_some_and(|(_, columns)| columns.trim() == k.columns)
    })
}

/// The SQLSTATE of a database's refusal, if the error is one.
fn sqlstate(err: &sea_orm::RuntimeErr) -> Option<String> {
    match err {
        sea_orm::RuntimeErr::SqlxError(err) => match &**err {
            sqlx::Error::Database(db) => db.code().map(|code| code.into_owned()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a statement failed because the database went away rather than because of the
/// statement: the connection broke (I/O, TLS, protocol), the pool gave up, or PostgreSQL said it
/// is shutting down or not accepting connections (SQLSTATE class 08, 57P01–57P03).
fn is_connection_failure(err: &sea_orm::RuntimeErr) -> bool {
    let sea_orm::RuntimeErr::SqlxError(err) = err else {
        return false;
    };
    match &**err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// DataLoader errors arrive shared.
impl From<std::sync::Arc<AppError>> for AppError {
    fn from(err: std::sync::Arc<AppError>) -> Self {
        match std::sync::Arc::try_unwrap(err) {
            Ok(err) => err,
            Err(shared) => match &*shared {
                Self::Unauthenticated(m) => Self::Unauthenticated(m.clone()),
                Self::Forbidden(m) => Self::Forbidden(m.clone()),
                Self::NotFound(m) => Self::NotFound(m.clone()),
                Self::InvalidInput { field, reason } => {
                    Self::invalid(field.clone(), reason.clone())
                }
                Self::Conflict(m) => Self::Conflict(m.clone()),
                Self::Duplicate { field, reason } => Self::Duplicate {
                    field: field.clone(),
                    reason: reason.clone(),
                },
                Self::InvalidTransition { from, to, reason } => Self::InvalidTransition {
                    from: from.clone(),
                    to: to.clone(),
                    reason: reason.clone(),
                },
                Self::Unavailable(m) => Self::Unavailable(m.clone()),
                Self::TimeLimit(m) => Self::TimeLimit(m.clone()),
                Self::Internal(e) => Self::internal(e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{DbErr, RuntimeErr};

    use super::*;

    fn query_error(err: sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
    }

    #[test]
    fn a_lost_database_is_unavailable_and_a_bad_statement_is_internal() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        for lost in [
            query_error(sqlx::Error::Io(reset)),
            query_error(sqlx::Error::PoolTimedOut),
            DbErr::Exec(RuntimeErr::SqlxError(Arc::new(sqlx::Error::WorkerCrashed))),
            DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout),
        ] {
            let code = AppError::from(lost.clone()).code();
            assert_eq!(code, "SERVICE_UNAVAILABLE", "{lost}");
        }
        for bug in [
            query_error(sqlx::Error::RowNotFound),
            DbErr::Query(RuntimeErr::Internal("syntax error".into())),
        ] {
            assert_eq!(AppError::from(bug).code(), "INTERNAL_SERVER_ERROR");
        }
    }

    #[test]
    fn unique_violations_are_recognised_on_both_databases() {
        let sqlite = unique_key("UNIQUE constraint failed: campaigns.name").map(|k| k.field);
        assert_eq!(sqlite, Some(Some("input.name")));
        let postgres = unique_key(
            "duplicate key value violates unique constraint \"enforcement_actions_decision_number_key\"",
        )
        .map(|k| k.field);
        assert_eq!(postgres, Some(Some("input.decisionNumber")));
        assert!(unique_key("UNIQUE constraint failed: elsewhere.name").is_none());
    }
}
