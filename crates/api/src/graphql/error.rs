//! How an `AppError` reaches a GraphQL client: its message (internals masked, their details
//! logged) and `extensions.code` from the core's one table, with `field` or `from`/`to` where
//! the error names them.
//!
//! Resolvers return [`Result`], whose error is [`ApiError`]: `?` on a domain result goes
//! through `to_graphql`, so no code is ever lost. (`AppError` lives in `permit-core`, which does
//! not know async-graphql; this newtype is what lets `?` convert it here.)

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use permit_core::error::AppError;

/// A resolver's error: a GraphQL error that already carries its code.
///
/// Deliberately not `Display`, like `AppError`: async-graphql turns any `Display` type into an
/// error without a code, and the compiler now refuses that path.
#[derive(Debug, Clone)]
pub struct ApiError(async_graphql::Error);

impl ApiError {
    /// The message a client reads.
    pub fn message(&self) -> &str {
        &self.0.message
    }
}

/// A resolver's result.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        Self(err.to_graphql())
    }
}

/// DataLoader errors arrive shared.
impl From<Arc<AppError>> for ApiError {
    fn from(err: Arc<AppError>) -> Self {
        Self(AppError::from(err).to_graphql())
    }
}

/// Errors async-graphql itself raises (a missing context value, an input value's coercion).
impl From<async_graphql::Error> for ApiError {
    fn from(err: async_graphql::Error) -> Self {
        Self(err)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.0
    }
}

/// `AppError` as a GraphQL error.
pub trait ToGraphql {
    fn to_graphql(&self) -> async_graphql::Error;
}

impl ToGraphql for AppError {
    fn to_graphql(&self) -> async_graphql::Error {
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
                Self::InvalidInput { field, .. } | Self::Duplicate { field, .. } => {
                    ext.set("field", field.as_str())
                }
                Self::InvalidTransition { from, to, .. } => {
                    ext.set("from", from.as_str());
                    ext.set("to", to.as_str());
                }
                _ => {}
            }
        })
    }
}

/// Whether an error without a code is async-graphql refusing an argument value while executing
/// a field: validation lets through values of the right kind that the type still rejects (an
/// `Int` literal beyond 32 bits, a malformed custom scalar), and those are the client's input,
/// not an internal failure. The prefixes are those of `InputValueError`.
pub fn is_input_coercion_error(message: &str) -> bool {
    message.starts_with("Failed to parse \"") || message.starts_with("Expected input type \"")
}

#[cfg(test)]
mod tests {
    use super::*;

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
