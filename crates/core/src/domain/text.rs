//! One-line text fields bounded by their column: PostgreSQL refuses a value longer than its
//! `varchar(n)` while SQLite stores it, so the bound is checked here, the same on both.

use crate::error::{AppError, AppResult};

/// The trimmed value, refused when empty or longer than `max_chars`.
pub fn required(field: &str, value: &str, max_chars: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(AppError::invalid(
            field,
            format!("at most {max_chars} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// The trimmed value, `None` when absent or blank, refused when longer than `max_chars`.
pub fn optional(field: &str, value: Option<&str>, max_chars: usize) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => required(field, v, max_chars).map(Some),
        None => Ok(None),
    }
}
