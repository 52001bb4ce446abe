//! The service's calendar: dates are those of Chongqing (UTC+8), whatever the server's zone.

use chrono::{FixedOffset, NaiveDate, Offset, Utc};

const CHINA_STANDARD_TIME_SECONDS: i32 = 8 * 3600;

/// The service's zone, UTC+8 (China Standard Time), in which times are answered.
pub fn service_offset() -> FixedOffset {
    FixedOffset::east_opt(CHINA_STANDARD_TIME_SECONDS).unwrap_or_else(|| Utc.fix())
}

pub fn today() -> NaiveDate {
    match FixedOffset::east_opt(CHINA_STANDARD_TIME_SECONDS) {
        Some(china) => Utc::now().with_timezone(&china).date_naive(),
        None => Utc::now().date_naive(),
    }
}

/// The Chongqing calendar date of an instant.
pub fn date_of(instant: chrono::DateTime<Utc>) -> NaiveDate {
    match FixedOffset::east_opt(CHINA_STANDARD_TIME_SECONDS) {
        Some(china) => instant.with_timezone(&china).date_naive(),
        None => instant.date_naive(),
    }
}
