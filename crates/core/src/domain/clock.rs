//! The service's clock and calendar: dates are those of Chongqing (UTC+8), whatever the
//! server's zone.
//!
//! Every rule that needs "now" asks [`now`] or [`today`], never `Utc::now()`, so history can be
//! replayed through the domain's own commands: [`at`] runs a future with the clock set to a past
//! instant (the seed records two years of inspections, findings and campaigns that way; tests
//! pin dates with it).
//!
//! Why a tokio task-local rather than a `Clock` value passed in: the commands' signatures (and
//! every resolver calling them) stay as they are, and the override belongs to the one future
//! given to [`at`], so it can never leak into the requests served concurrently, as a global
//! would. It does not follow into tasks spawned from inside that future; no command spawns.

use std::future::Future;

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};

const CHINA_STANDARD_TIME_SECONDS: i32 = 8 * 3600;

tokio::task_local! {
    static FIXED_NOW: DateTime<Utc>;
}

/// The current instant: the wall clock, or the one [`at`] set for this task.
pub fn now() -> DateTime<Utc> {
    FIXED_NOW.try_with(|t| *t).unwrap_or_else(|_| Utc::now())
}

/// Runs `future` with [`now`] (and so [`today`]) answering `instant` throughout.
pub async fn at<F: Future>(instant: DateTime<Utc>, future: F) -> F::Output {
    FIXED_NOW.scope(instant, future).await
}

/// The service's zone, UTC+8 (China Standard Time), in which times are answered.
pub fn service_offset() -> FixedOffset {
    FixedOffset::east_opt(CHINA_STANDARD_TIME_SECONDS).unwrap_or_else(|| Utc.fix())
}

/// Today's date in Chongqing.
pub fn today() -> NaiveDate {
    date_of(now())
}

/// The Chongqing calendar date of an instant.
pub fn date_of(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&service_offset()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn at_fixes_now_only_inside_its_future() {
        let past = DateTime::parse_from_rfc3339("2021-03-01T16:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let inside = at(past, async { (now(), today()) }).await;
        assert_eq!(inside.0, past);
        // 16:30 UTC is 00:30 the next day in Chongqing.
        assert_eq!(
            inside.1,
            NaiveDate::from_ymd_opt(2021, 3, 2).unwrap_or_default()
        );
        assert!(now() > past);
    }
}
