//! Permit versions and the date rules read from them: which outlets, limits, monitoring
//! requirements and report duties belong to a version, which version was in force on a day, and
//! what a permit's status was then. History is never overwritten, so these answer for any date.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DerivePartialModel, EntityTrait, QueryFilter, QueryOrder,
};

use crate::domain::clock;
use crate::error::AppResult;
use entity::enums::{PermitChangeKind, PermitStatus};
use entity::{
    monitoring_requirements, outlets, permit_limits, permit_versions, permits, report_duties,
};

/// Whether an outlet belongs to permit version `version` (outlets and limits are versioned).
pub fn outlet_in_version(outlet: &outlets::Model, version: i32) -> bool {
    outlet.since_version <= version && outlet.retired_in_version.is_none_or(|r| r > version)
}

/// Whether a limit belongs to permit version `version`.
pub fn limit_in_version(limit: &permit_limits::Model, version: i32) -> bool {
    limit.since_version <= version && limit.retired_in_version.is_none_or(|r| r > version)
}

/// Whether a requirement belongs to permit version `version`.
pub fn requirement_in_version(row: &monitoring_requirements::Model, version: i32) -> bool {
    row.since_version <= version && row.retired_in_version.is_none_or(|r| r > version)
}

/// Whether a report duty belongs to permit version `version`.
pub fn duty_in_version(row: &report_duties::Model, version: i32) -> bool {
    row.since_version <= version && row.retired_in_version.is_none_or(|r| r > version)
}

/// The permit version in force on `date`: the newest one made on or before that day, or the
/// first when the day precedes them all (a permit recorded after its validity began).
pub fn version_on(versions: &[impl VersionDates], date: NaiveDate) -> Option<i32> {
    versions
        .iter()
        .map(VersionDates::span)
        .filter(|v| clock::date_of(v.created_at) <= date)
        .map(|v| v.version)
        .max()
        .or_else(|| versions.iter().map(|v| v.span().version).min())
}

/// What the date rules (`status_on`, `version_on`) read of a version: not its snapshot, which
/// a batch of readings would otherwise fetch and parse for nothing (issue 17's intake bench:
/// about 1.8 MB for one batch of 1000 series).
#[derive(Debug, Clone, PartialEq, Eq, DerivePartialModel)]
#[sea_orm(entity = "permit_versions::Entity")]
pub struct VersionSpan {
    pub permit_id: i64,
    pub version: i32,
    pub change_kind: PermitChangeKind,
    pub status: PermitStatus,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub created_at: chrono::DateTime<Utc>,
}

/// A version as the date rules read it: a whole row or its span.
pub trait VersionDates {
    fn span(&self) -> VersionSpan;
}

impl VersionDates for VersionSpan {
    fn span(&self) -> VersionSpan {
        self.clone()
    }
}

impl VersionDates for permit_versions::Model {
    fn span(&self) -> VersionSpan {
        VersionSpan {
            permit_id: self.permit_id,
            version: self.version,
            change_kind: self.change_kind,
            status: self.status,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            created_at: self.created_at,
        }
    }
}

/// The versions of permits as the date rules read them, by permit and version.
pub async fn spans_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<VersionSpan>> {
    Ok(permit_versions::Entity::find()
        .filter(permit_versions::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(permit_versions::Column::PermitId)
        .order_by_asc(permit_versions::Column::Version)
        .into_partial_model::<VersionSpan>()
        .all(db)
        .await?)
}

pub async fn versions_of(
    db: &impl ConnectionTrait,
    permit_ids: &[i64],
) -> AppResult<Vec<permit_versions::Model>> {
    Ok(permit_versions::Entity::find()
        .filter(permit_versions::Column::PermitId.is_in(permit_ids.iter().copied()))
        .order_by_asc(permit_versions::Column::PermitId)
        .order_by_asc(permit_versions::Column::Version)
        .all(db)
        .await?)
}

/// What a permit was on `date`, from its versions (history is never overwritten); `None` when
/// it had not yet been issued. A termination (revoke, cancel, withdraw) counts from the day it
/// was decided; validity from the periods the versions carried.
pub fn status_on(
    permit: &permits::Model,
    versions: &[impl VersionDates],
    date: NaiveDate,
) -> Option<PermitStatus> {
    let ended = versions
        .iter()
        .map(VersionDates::span)
        .filter(|v| {
            matches!(
                v.change_kind,
                PermitChangeKind::Revoked
                    | PermitChangeKind::Cancelled
                    | PermitChangeKind::Withdrawn
            )
        })
        .map(|v| (crate::domain::clock::date_of(v.created_at), v.status))
        .min_by_key(|(day, _)| *day);
    if let Some((day, status)) = ended
        && day <= date
    {
        return Some(status);
    }
    let periods = versions
        .iter()
        .map(|v| {
            let v = v.span();
            (v.valid_from, v.valid_to)
        })
        .chain(std::iter::once((permit.valid_from, permit.valid_to)));
    let mut first_from = None::<NaiveDate>;
    for (from, to) in periods {
        if from <= date && date <= to {
            return Some(PermitStatus::Valid);
        }
        first_from = Some(first_from.map_or(from, |f| std::cmp::min(f, from)));
    }
    match first_from {
        Some(from) if date >= from => Some(PermitStatus::Expired),
        _ => None,
    }
}

/// The unit's permits with their status on `date`.
pub async fn standing_on(
    db: &impl ConnectionTrait,
    unit_id: i64,
    date: NaiveDate,
) -> AppResult<Vec<(permits::Model, Option<PermitStatus>)>> {
    Ok(standing_versions_on(db, unit_id, date)
        .await?
        .into_iter()
        .map(|(permit, status, _)| (permit, status))
        .collect())
}

/// `standing_on` with the version of each permit in force that day (its current version when
/// no version's period covers the day), from the same two reads.
pub async fn standing_versions_on(
    db: &impl ConnectionTrait,
    unit_id: i64,
    date: NaiveDate,
) -> AppResult<Vec<(permits::Model, Option<PermitStatus>, i32)>> {
    let unit_permits = permits::Entity::find()
        .filter(permits::Column::UnitId.eq(unit_id))
        .order_by_asc(permits::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = unit_permits.iter().map(|p| p.id).collect();
    let versions = spans_of(db, &ids).await?;
    Ok(unit_permits
        .into_iter()
        .map(|p| {
            let own: Vec<VersionSpan> = versions
                .iter()
                .filter(|v| v.permit_id == p.id)
                .cloned()
                .collect();
            let status = status_on(&p, &own, date);
            let version = version_on(&own, date).unwrap_or(p.version);
            (p, status, version)
        })
        .collect())
}

/// The permit as it was at `at`, from its stored versions; `None` before it was issued.
pub async fn as_of(
    db: &impl ConnectionTrait,
    permit: permits::Model,
    at: chrono::DateTime<Utc>,
) -> AppResult<Option<permits::Model>> {
    let versions = versions_of(db, &[permit.id]).await?;
    let Some(version) = versions.into_iter().rfind(|v| v.created_at <= at) else {
        return Ok(None);
    };
    Ok(Some(permits::Model {
        status: version.status,
        valid_from: version.valid_from,
        valid_to: version.valid_to,
        version: version.version,
        updated_at: version.created_at,
        ..permit
    }))
}
