//! The one error type of the service and the one place where GraphQL error codes are decided.
//!
//! Domain functions return `AppError`; resolvers return it unchanged; `into_graphql` turns it into
//! a GraphQL error whose `extensions.code` clients branch on (CONTRACT: error codes). Variants
//! name what went wrong *for the client*. `Internal` wraps everything the client cannot act on:
//! its details are logged with the request id and masked in the response.

use async_graphql::ErrorExtensions;

use crate::domain::codes::CodeError;

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

    pub fn code_error(field: &str, err: CodeError) -> Self {
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
            Self::InvalidTransition { from, to, reason } => {
                format!("cannot move from {from} to {to}: {reason}")
            }
            Self::Unavailable(m) => format!("service unavailable: {m}"),
            Self::TimeLimit(m) => format!("the request exceeded the time limit: {m}"),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The `extensions.code` of this error (CONTRACT).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::InvalidInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::InvalidTransition { .. } => "INVALID_TRANSITION",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::TimeLimit(_) => "QUERY_TOO_COMPLEX",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::{DbErr, SqlErr};
        if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
            // The database's text names tables and columns: for the log, not the client.
            tracing::debug!(%detail, "unique constraint violated");
            return Self::Conflict("a record with the same key already exists".to_owned());
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

/// Whether an error without a code is async-graphql refusing an argument value while executing
/// a field: validation lets through values of the right kind that the type still rejects (an
/// `Int` literal beyond 32 bits, a malformed custom scalar), and those are the client's input,
/// not an internal failure. The prefixes are those of `InputValueError`.
pub fn is_input_coercion_error(message: &str) -> bool {
    message.starts_with("Failed to parse \"") || message.starts_with("Expected input type \"")
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

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.to_graphql()
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

impl AppError {
    pub fn to_graphql(&self) -> async_graphql::Error {
        let code = self.code();
        let message = match self {
            Self::Internal(source) => {
                // The request id is attached by the HTTP layer's error pass; the details stay here.
                tracing::error!(error = %source, debug = ?source, "internal error");
                "internal error; quote the request id when reporting it".to_owned()
            }
            Self::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                "the service is temporarily unavailable; retry later".to_owned()
            }
            other => other.message(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code);
            match self {
                Self::InvalidInput { field, .. } => ext.set("field", field.as_str()),
                Self::InvalidTransition { from, to, .. } => {
                    ext.set("from", from.as_str());
                    ext.set("to", to.as_str());
                }
                _ => {}
            }
        })
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
    fn argument_coercion_failures_are_recognised() {
        assert!(is_input_coercion_error(
            "Failed to parse \"Int\": Only integers from -2147483648 to 2147483647 are accepted."
        ));
        assert!(is_input_coercion_error(
            "Expected input type \"NaiveDate\", found 3."
        ));
        assert!(!is_input_coercion_error("internal error"));
    }
}
