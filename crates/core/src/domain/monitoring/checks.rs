//! The checks of a reading: first those that need no database (`parse`), then against the
//! permit as it stood on the reading's day, with everything a batch needs read set-wise
//! (`permit_data`) and the checks themselves run in memory (`check`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{CLOCK_SKEW_SECONDS, EARLIEST, FLAGS, MAX_VALUE, Mode, NORMAL, ReadingInput};
use crate::auth::Principal;
use crate::domain::access;
use crate::domain::{clock, permits};
use crate::error::{AppError, AppResult};
use entity::enums::{PermitStatus, ReadingSource};
use entity::{outlets, permit_limits, permits as permit_rows};

/// A reading that passed the checks that need no database.
pub(super) struct Parsed {
    pub(super) outlet_id: i64,
    pub(super) pollutant: String,
    pub(super) measured_at: i64,
    pub(super) value: f64,
    pub(super) unit: String,
    pub(super) source: ReadingSource,
    pub(super) flag: String,
}

pub(super) fn parse(input: &ReadingInput, path: &str, now: i64) -> AppResult<Parsed> {
    let pollutant = input.pollutant.trim();
    if pollutant.is_empty() || pollutant.chars().count() > 64 {
        return Err(AppError::invalid(
            format!("{path}.pollutant"),
            "1 to 64 characters",
        ));
    }
    let measured_at = input.measured_at.timestamp();
    if measured_at > now + CLOCK_SKEW_SECONDS {
        return Err(AppError::invalid(
            format!("{path}.measuredAt"),
            "in the future: a reading is of a time that has passed",
        ));
    }
    if measured_at < EARLIEST {
        return Err(AppError::invalid(
            format!("{path}.measuredAt"),
            "before 2000-01-01",
        ));
    }
    if !input.value.is_finite() || !(0.0..=MAX_VALUE).contains(&input.value) {
        return Err(AppError::invalid(
            format!("{path}.value"),
            format!("a finite, non-negative number up to {MAX_VALUE}"),
        ));
    }
    if permits::is_ph(pollutant) && input.value > permits::PH_MAX {
        return Err(AppError::invalid(
            format!("{path}.value"),
            format!("pH lies between 0 and {}", permits::PH_MAX),
        ));
    }
    let unit = input.unit.trim();
    if unit.is_empty() || unit.chars().count() > 16 {
        return Err(AppError::invalid(
            format!("{path}.unitOfMeasure"),
            "1 to 16 characters",
        ));
    }
    let flag = input.flag.as_deref().map(str::trim).unwrap_or(NORMAL);
    if !FLAGS.contains(&flag) {
        return Err(AppError::invalid(
            format!("{path}.flag"),
            format!("one of the HJ 212 flags {}", FLAGS.join(", ")),
        ));
    }
    Ok(Parsed {
        outlet_id: input.outlet_id,
        pollutant: pollutant.to_owned(),
        measured_at,
        value: input.value,
        unit: unit.to_owned(),
        source: input.source,
        flag: flag.to_owned(),
    })
}

/// Everything the permit checks of a batch need, read set-wise.
pub(super) struct PermitData {
    outlets: HashMap<i64, outlets::Model>,
    permits: HashMap<i64, permit_rows::Model>,
    versions: HashMap<i64, Vec<permits::VersionSpan>>,
    limits: Vec<permit_limits::Model>,
    plan: Vec<entity::monitoring_requirements::Model>,
    /// The other permits (with their versions) of units whose permit here had expired before
    /// the latest reading's day: whether one of them covers a day after the expiry.
    successors: Vec<(permit_rows::Model, Vec<permits::VersionSpan>)>,
}

impl PermitData {
    /// Whether another permit of `unit_id` is valid on `day`.
    fn unit_permitted_on(&self, unit_id: i64, day: chrono::NaiveDate) -> bool {
        self.successors.iter().any(|(p, versions)| {
            p.unit_id == unit_id
                && permits::status_on(p, versions, day) == Some(PermitStatus::Valid)
        })
    }
}

/// The permits behind `outlet_ids`; `latest` is the day of the latest reading of the batch.
pub(super) async fn permit_data(
    db: &impl ConnectionTrait,
    outlet_ids: &[i64],
    latest: chrono::NaiveDate,
) -> AppResult<PermitData> {
    let outlets: HashMap<i64, outlets::Model> = permits::outlets_by_ids(db, outlet_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let permit_ids: Vec<i64> = outlets
        .values()
        .map(|o| o.permit_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let permits_found: HashMap<i64, permit_rows::Model> = permit_rows::Entity::find()
        .filter(permit_rows::Column::Id.is_in(permit_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut versions: HashMap<i64, Vec<permits::VersionSpan>> = HashMap::new();
    for v in permits::spans_of(db, &permit_ids).await? {
        versions.entry(v.permit_id).or_default().push(v);
    }
    let expired_units: HashSet<i64> = permits_found
        .values()
        .filter(|p| p.valid_to < latest)
        .map(|p| p.unit_id)
        .collect();
    let mut successors = Vec::new();
    if !expired_units.is_empty() {
        let others = permit_rows::Entity::find()
            .filter(permit_rows::Column::UnitId.is_in(expired_units))
            .filter(permit_rows::Column::Id.is_not_in(permit_ids.iter().copied()))
            .all(db)
            .await?;
        let other_ids: Vec<i64> = others.iter().map(|p| p.id).collect();
        let mut other_versions: HashMap<i64, Vec<permits::VersionSpan>> = HashMap::new();
        for v in permits::spans_of(db, &other_ids).await? {
            other_versions.entry(v.permit_id).or_default().push(v);
        }
        successors = others
            .into_iter()
            .map(|p| {
                let versions = other_versions.remove(&p.id).unwrap_or_default();
                (p, versions)
            })
            .collect();
    }
    Ok(PermitData {
        outlets,
        permits: permits_found,
        versions,
        limits: permits::limits_of(db, &permit_ids).await?,
        plan: permits::requirements_of(db, &permit_ids).await?,
        successors,
    })
}

/// A reading checked against the permit: the row to insert.
pub(super) struct Checked {
    pub(super) parsed: Parsed,
    pub(super) permit_id: i64,
    pub(super) unit_id: i64,
    pub(super) district: String,
    /// The concentration limit this reading exceeds (an EX-1 candidate), if any.
    pub(super) exceeds: Option<f64>,
    /// Measured after the permit expired, with no permit of the unit in force that day: the
    /// evidence of an NP-2 candidate.
    pub(super) unpermitted: bool,
}

/// The permit checks of one reading (the caller's scope and sources included).
pub(super) fn check(
    principal: &Principal,
    data: &PermitData,
    parsed: Parsed,
    path: &str,
    mode: Mode,
) -> AppResult<Option<Checked>> {
    let unknown = || {
        AppError::invalid(
            format!("{path}.outletId"),
            "no such outlet in the caller's scope",
        )
    };
    let outlet = data.outlets.get(&parsed.outlet_id).ok_or_else(unknown)?;
    let permit = data.permits.get(&outlet.permit_id).ok_or_else(unknown)?;
    // Monitoring writes in every district; the others see (and name) only their scope.
    if principal.role != crate::auth::Role::Monitoring
        && !access::in_scope(principal, &permit.district_code)
    {
        return Err(unknown());
    }
    access::check_reading_write(
        principal,
        &permit.district_code,
        parsed.source,
        &format!("{path}.source"),
    )?;
    let at = DateTime::<Utc>::from_timestamp(parsed.measured_at, 0).unwrap_or_default();
    let day = clock::date_of(at);
    let versions = data
        .versions
        .get(&permit.id)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let unpermitted = match permits::status_on(permit, versions, day) {
        Some(PermitStatus::Valid) => false,
        // Still discharging after the permit expired (Art 33(2)): stored, not refused, since
        // it is exactly what an inspection needs to see; no limit is in force to exceed.
        Some(PermitStatus::Expired) if !data.unit_permitted_on(permit.unit_id, day) => true,
        status => {
            let what = match status {
                None => "not yet issued".to_owned(),
                Some(s) => permits::status_name(s).to_owned(),
            };
            return Err(AppError::invalid(
                format!("{path}.measuredAt"),
                format!(
                    "permit {} was not valid on {day} ({what}): no permitted discharge to monitor",
                    permit.permit_number
                ),
            ));
        }
    };
    let version = permits::version_on(versions, day).unwrap_or(permit.version);
    if !permits::outlet_in_version(outlet, version) {
        return Err(AppError::invalid(
            format!("{path}.outletId"),
            format!(
                "outlet {} was not on permit {} on {day}",
                outlet.code, permit.permit_number
            ),
        ));
    }
    let limit = data.limits.iter().find(|l| {
        l.outlet_id == outlet.id
            && l.pollutant == parsed.pollutant
            && permits::limit_in_version(l, version)
    });
    let planned = data.plan.iter().any(|r| {
        r.outlet_id == outlet.id
            && r.pollutant == parsed.pollutant
            && permits::requirement_in_version(r, version)
    });
    if limit.is_none() && !planned {
        if mode == Mode::SkipUnplanned {
            return Ok(None);
        }
        return Err(AppError::invalid(
            format!("{path}.pollutant"),
            format!(
                "{} is neither limited nor monitored at outlet {} of permit {} on {day}",
                parsed.pollutant, outlet.code, permit.permit_number
            ),
        ));
    }
    if let Some(limit_unit) = limit.and_then(|l| l.concentration_unit.as_deref())
        && crate::domain::findings::normalise_unit(limit_unit)
            != crate::domain::findings::normalise_unit(&parsed.unit)
    {
        return Err(AppError::invalid(
            format!("{path}.unitOfMeasure"),
            format!(
                "the permit limits {} at {} in {limit_unit}; report in the same unit",
                parsed.pollutant, outlet.code
            ),
        ));
    }
    // Data flagged as stopped, maintenance, calibration, fault or lost is no measure of the
    // discharge; pH limits are ranges, not maxima.
    let exceeds = limit
        .and_then(|l| l.concentration_limit)
        .filter(|permitted| {
            !unpermitted
                && parsed.value > *permitted
                && matches!(parsed.flag.as_str(), "N" | "T")
                && !permits::is_ph(&parsed.pollutant)
        });
    Ok(Some(Checked {
        permit_id: permit.id,
        unit_id: permit.unit_id,
        district: permit.district_code.clone(),
        exceeds,
        unpermitted,
        parsed,
    }))
}

pub(super) type Key = (i64, String, i64, ReadingSource);

pub(super) fn key_of(p: &Parsed) -> Key {
    (p.outlet_id, p.pollutant.clone(), p.measured_at, p.source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReadingInput {
        ReadingInput {
            outlet_id: 1,
            pollutant: "化学需氧量".into(),
            measured_at: clock::now() - chrono::Duration::hours(1),
            value: 12.5,
            unit: "mg/L".into(),
            source: ReadingSource::Automatic,
            flag: None,
        }
    }

    #[test]
    fn parse_refuses_what_cannot_be_a_reading() {
        let now = clock::now().timestamp();
        assert!(parse(&input(), "input", now).is_ok());
        let field = |i: ReadingInput| match parse(&i, "input", now) {
            Err(AppError::InvalidInput { field, .. }) => field,
            _ => "accepted".to_owned(),
        };
        let future = ReadingInput {
            measured_at: clock::now() + chrono::Duration::hours(1),
            ..input()
        };
        assert_eq!(field(future), "input.measuredAt");
        assert_eq!(
            field(ReadingInput {
                value: -1.0,
                ..input()
            }),
            "input.value"
        );
        assert_eq!(
            field(ReadingInput {
                value: f64::NAN,
                ..input()
            }),
            "input.value"
        );
        assert_eq!(
            field(ReadingInput {
                flag: Some("X".into()),
                ..input()
            }),
            "input.flag"
        );
        assert_eq!(
            field(ReadingInput {
                pollutant: "pH".into(),
                value: 15.0,
                ..input()
            }),
            "input.value"
        );
    }
}
