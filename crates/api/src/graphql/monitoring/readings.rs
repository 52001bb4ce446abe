//! Readings: monitoring results of an outlet's pollutants, listed in scope and recorded one at
//! a time or in batches.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::candidates::announce_candidates;
use super::{OUTLET, READING};
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::ReadingSource;
use crate::graphql::error::Result;
use crate::graphql::loaders::{OutletId, PermitId, UnitId};
use crate::graphql::permits::{Outlet, PERMIT, Permit};
use crate::graphql::reference::{Agency, District, load_agency, load_district};
use crate::graphql::time::Time;
use crate::graphql::units::{UNIT, Unit};
use crate::graphql::{self, ids};
use entity::readings;
use permit_core::domain::monitoring as rules;

/// One monitoring result: an outlet's pollutant at an instant.
pub struct Reading(pub readings::Model);

#[Object]
impl Reading {
    async fn id(&self) -> ID {
        ids::encode(READING, self.0.id)
    }
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Option<Outlet>> {
        Ok(graphql::load_one(ctx, OutletId(self.0.outlet_id))
            .await?
            .map(|row| Outlet::at(row, None)))
    }
    /// The permit the outlet belongs to (null outside the caller's scope).
    async fn permit(&self, ctx: &Context<'_>) -> Result<Option<Permit>> {
        Ok(graphql::load_one(ctx, PermitId(self.0.permit_id))
            .await?
            .map(Permit::from))
    }
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<Unit>> {
        Ok(graphql::load_one(ctx, UnitId(self.0.unit_id))
            .await?
            .map(Unit))
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.0.district_code)).await
    }
    async fn pollutant(&self) -> &str {
        &self.0.pollutant
    }
    async fn measured_at(&self) -> Time {
        Time(chrono::DateTime::from_timestamp(self.0.measured_at, 0).unwrap_or_default())
    }
    async fn value(&self) -> f64 {
        self.0.value
    }
    async fn unit_of_measure(&self) -> &str {
        &self.0.unit
    }
    async fn source(&self) -> ReadingSource {
        self.0.source.into()
    }
    /// HJ 212 data flag: `N` normal, `F` stopped, `M` maintenance, `S` set by hand, `D` fault,
    /// `C` calibration, `T` over the range, `B` communication lost.
    async fn flag(&self) -> &str {
        &self.0.flag
    }
    /// Who recorded it (null for INTEGRATOR: it gets the agency).
    async fn recorded_by(&self, ctx: &Context<'_>) -> Option<String> {
        permit_core::domain::access::official_subject(
            graphql::principal(ctx),
            &self.0.recorded_by_subject,
        )
    }
    async fn recorded_by_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.recorded_by_agency.as_deref()).await
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
}

#[derive(InputObject, Default)]
pub struct ReadingFilter {
    district: Option<String>,
    unit_id: Option<ID>,
    permit_id: Option<ID>,
    outlet_id: Option<ID>,
    pollutant: Option<String>,
    source: Option<ReadingSource>,
    flag: Option<String>,
    /// Measured at or after this time.
    measured_from: Option<Time>,
    /// Measured before this time.
    measured_before: Option<Time>,
}

#[derive(Default)]
pub struct MonitoringQuery;

#[Object]
impl MonitoringQuery {
    /// Monitoring readings of the units in the caller's scope, newest first. `first`/`last`
    /// at most 100 (default 20).
    async fn readings(
        &self,
        ctx: &Context<'_>,
        filter: Option<ReadingFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Reading>> {
        let f = filter.unwrap_or_default();
        let decode = |kind: &str, field: &str, id: Option<ID>| {
            id.map(|id| ids::decode(kind, field, &id)).transpose()
        };
        let filter = rules::ReadingFilter {
            district: f.district,
            unit_id: decode(UNIT, "filter.unitId", f.unit_id)?,
            permit_id: decode(PERMIT, "filter.permitId", f.permit_id)?,
            outlet_id: decode(OUTLET, "filter.outletId", f.outlet_id)?,
            pollutant: f.pollutant,
            source: f.source.map(Into::into),
            flag: f.flag,
            from: f.measured_from.map(|t| t.0.timestamp()),
            to: f.measured_before.map(|t| t.0.timestamp()),
        };
        let listing = rules::list(graphql::principal(ctx), &filter)?;
        connection::listed(
            ctx,
            listing,
            connection::page_args(first, after, last, before),
            Reading,
        )
        .await
    }
}

#[derive(InputObject)]
pub struct ReadingInput {
    outlet_id: ID,
    /// As the permit names it (a limit or a monitoring requirement of the outlet).
    pollutant: String,
    /// Not in the future (five minutes of clock drift are tolerated).
    measured_at: Time,
    /// Finite and non-negative; pH 0 to 14.
    value: f64,
    /// The unit of the permit's limit for the pollutant (`mg/m³` and `mg/m3` are the same).
    unit_of_measure: String,
    source: ReadingSource,
    /// HJ 212 data flag (`N` when absent).
    flag: Option<String>,
}

#[derive(InputObject)]
pub struct RecordReadingsInput {
    /// At most 2000 readings (and the request within `LIMIT_MAX_BODY_BYTES`); stored all or
    /// none.
    readings: Vec<ReadingInput>,
}

/// What a write of readings did.
#[derive(SimpleObject)]
pub struct RecordReadingsResult {
    /// Readings stored by this request.
    inserted: u64,
    /// Readings that were stored already, with the same values (a resend writes nothing).
    unchanged: u64,
}

fn to_domain(input: ReadingInput, path: &str) -> Result<rules::ReadingInput> {
    Ok(rules::ReadingInput {
        outlet_id: ids::decode(OUTLET, &format!("{path}.outletId"), &input.outlet_id)?,
        pollutant: input.pollutant,
        measured_at: input.measured_at.into(),
        value: input.value,
        unit: input.unit_of_measure,
        source: input.source.into(),
        flag: input.flag,
    })
}

#[derive(Default)]
pub struct ReadingMutation;

#[Object]
impl ReadingMutation {
    /// Records one reading. MONITORING in any district; ENFORCEMENT_OFFICER in its scope (not
    /// SUPERVISORY); INTEGRATOR in its scope, AUTOMATIC only; ADMIN. Sending the same reading
    /// again writes nothing (`unchanged: 1`); the same outlet, pollutant, time and source with
    /// another value is `CONFLICT`.
    async fn record_reading(
        &self,
        ctx: &Context<'_>,
        input: ReadingInput,
    ) -> Result<RecordReadingsResult> {
        let input = to_domain(input, "input")?;
        let done = rules::record(graphql::db(ctx)?, graphql::principal(ctx), &[input], |_| {
            "input".to_owned()
        })
        .await?;
        announce_candidates(ctx, done.candidates).await;
        Ok(RecordReadingsResult {
            inserted: done.inserted,
            unchanged: done.unchanged,
        })
    }

    /// Records a batch of readings (an automatic monitoring platform's data), all or none, in
    /// one transaction; the rules of `recordReading` for each, errors naming
    /// `input.readings[i]`.
    async fn record_readings(
        &self,
        ctx: &Context<'_>,
        input: RecordReadingsInput,
    ) -> Result<RecordReadingsResult> {
        if input.readings.len() > rules::MAX_BATCH {
            return Err(permit_core::error::AppError::invalid(
                "input.readings",
                format!("at most {} readings a request", rules::MAX_BATCH),
            )
            .into());
        }
        let readings = input
            .readings
            .into_iter()
            .enumerate()
            .map(|(i, r)| to_domain(r, &format!("input.readings[{i}]")))
            .collect::<Result<Vec<_>>>()?;
        let done = rules::record(graphql::db(ctx)?, graphql::principal(ctx), &readings, |i| {
            format!("input.readings[{i}]")
        })
        .await?;
        announce_candidates(ctx, done.candidates).await;
        Ok(RecordReadingsResult {
            inserted: done.inserted,
            unchanged: done.unchanged,
        })
    }
}
