//! The `DateTime` scalar (CONTRACT: times are RFC 3339 with offset). Answers are in the service's
//! zone (`+08:00`, the zone office staff read), so a time and its calendar date agree; input takes
//! any offset (`Z`, `+08:00`, `-05:00`, …) and means the same instant.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, SecondsFormat, Utc};

use permit_core::domain::clock;

/// Where the format is specified (`@specifiedBy`); the same as the attribute below.
pub const SPECIFIED_BY: &str = "https://www.rfc-editor.org/rfc/rfc3339";

/// An instant. Stored and compared in UTC; shown in UTC+8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub DateTime<Utc>);

/// An RFC 3339 date-time with offset, answered in the service's zone (UTC+8), e.g.
/// `2026-12-03T20:44:08.123+08:00`; any offset is accepted as input.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://www.rfc-editor.org/rfc/rfc3339"
)]
impl ScalarType for Time {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => DateTime::parse_from_rfc3339(text)
                .map(|t| Time(t.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(
                        "an RFC 3339 date-time with offset, e.g. 2026-12-03T09:30:00+08:00",
                    )
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(
            self.0
                .with_timezone(&clock::service_offset())
                .to_rfc3339_opts(SecondsFormat::AutoSi, false),
        )
    }
}

impl From<DateTime<Utc>> for Time {
    fn from(instant: DateTime<Utc>) -> Self {
        Time(instant)
    }
}

impl From<Time> for DateTime<Utc> {
    fn from(time: Time) -> Self {
        time.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_utc_plus_8_and_takes_any_offset() {
        let parsed =
            Time::parse(Value::String("2026-12-03T01:30:00-05:00".into())).expect("RFC 3339");
        assert_eq!(
            parsed.to_value(),
            Value::String("2026-12-03T14:30:00+08:00".into())
        );
        let zulu = Time::parse(Value::String("2026-12-03T06:30:00Z".into())).expect("RFC 3339");
        assert_eq!(zulu, parsed);
        assert!(Time::parse(Value::String("2026-12-03 06:30".into())).is_err());
        assert!(Time::parse(Value::String("2026-12-03T06:30:00".into())).is_err());
    }
}
