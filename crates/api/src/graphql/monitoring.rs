//! Monitoring: `readings`, `recordReading`, `recordReadings`, and the permit's obligations
//! (`Outlet.monitoring`, `Permit.monitoringRequirements`, `Permit.reportDuties`).

use crate::graphql::error::Result;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Upload};

use super::connection::{self, Conn};
use super::enums::{
    CandidateStatus, LedgerResult, MonitoringFrequency, MonitoringMethod, ReadingSource,
    ReportFrequency,
};
use super::ids;
use super::loaders::{
    CandidateOfFinding, DutiesOfPermit, OutletId, PermitId, ReadingId, RequirementsOfPermit, UnitId,
};
use super::permits::{Outlet, PERMIT, Permit};
use super::reference::{Agency, District, load_agency, load_district};
use super::time::Time;
use super::units::{UNIT, Unit};
use entity::{monitoring_requirements, readings, report_duties};
use permit_core::domain::monitoring as rules;

pub const READING: &str = "Reading";
pub const OUTLET: &str = "Outlet";

/// One monitoring result: an outlet's pollutant at an instant.
pub struct Reading(pub readings::Model);

#[Object]
impl Reading {
    async fn id(&self) -> ID {
        ids::encode(READING, self.0.id)
    }
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Option<Outlet>> {
        Ok(super::load_one(ctx, OutletId(self.0.outlet_id))
            .await?
            .map(|row| Outlet::at(row, None)))
    }
    /// The permit the outlet belongs to (null outside the caller's scope).
    async fn permit(&self, ctx: &Context<'_>) -> Result<Option<Permit>> {
        Ok(super::load_one(ctx, PermitId(self.0.permit_id))
            .await?
            .map(Permit::from))
    }
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<Unit>> {
        Ok(super::load_one(ctx, UnitId(self.0.unit_id))
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
            super::principal(ctx),
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

/// A self-monitoring requirement of the permit (Art 19): a pollutant at an outlet, monitored
/// by hand or automatically (Art 20), so often.
pub struct MonitoringRequirement(pub monitoring_requirements::Model);

#[Object]
impl MonitoringRequirement {
    async fn id(&self) -> ID {
        ids::encode("MonitoringRequirement", self.0.id)
    }
    async fn outlet_id(&self) -> ID {
        ids::encode(OUTLET, self.0.outlet_id)
    }
    async fn pollutant(&self) -> &str {
        &self.0.pollutant
    }
    async fn method(&self) -> MonitoringMethod {
        self.0.method.into()
    }
    async fn frequency(&self) -> MonitoringFrequency {
        self.0.frequency.into()
    }
    async fn since_version(&self) -> i32 {
        self.0.since_version
    }
    async fn retired_in_version(&self) -> Option<i32> {
        self.0.retired_in_version
    }
}

/// An execution report the permit requires (执行报告, Art 22), by frequency.
pub struct ReportDuty(pub report_duties::Model);

#[Object]
impl ReportDuty {
    async fn id(&self) -> ID {
        ids::encode("ReportDuty", self.0.id)
    }
    async fn frequency(&self) -> ReportFrequency {
        self.0.frequency.into()
    }
    async fn since_version(&self) -> i32 {
        self.0.since_version
    }
    async fn retired_in_version(&self) -> Option<i32> {
        self.0.retired_in_version
    }
}

/// The requirements of a permit in version `version` (`None`: the current ones).
pub(crate) async fn requirements(
    ctx: &Context<'_>,
    permit_id: i64,
    outlet_id: Option<i64>,
    version: Option<i32>,
) -> Result<Vec<MonitoringRequirement>> {
    let rows = super::load_one(ctx, RequirementsOfPermit(permit_id))
        .await?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter(|r| outlet_id.is_none_or(|o| r.outlet_id == o))
        .filter(|r| match version {
            Some(v) => permit_core::domain::permits::requirement_in_version(r, v),
            None => r.retired_in_version.is_none(),
        })
        .map(MonitoringRequirement)
        .collect())
}

pub(crate) async fn duties(
    ctx: &Context<'_>,
    permit_id: i64,
    version: i32,
) -> Result<Vec<ReportDuty>> {
    let rows = super::load_one(ctx, DutiesOfPermit(permit_id))
        .await?
        .unwrap_or_default();
    Ok(rows
        .into_iter()
        .filter(|r| permit_core::domain::permits::duty_in_version(r, version))
        .map(ReportDuty)
        .collect())
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
        let listing = rules::list(super::principal(ctx), &filter)?;
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

/// An automatic monitor (HJ 212 device) at an outlet. Its password is never answered.
pub struct MonitoringDevice(pub entity::monitoring_devices::Model);

#[Object]
impl MonitoringDevice {
    async fn id(&self) -> ID {
        ids::encode("MonitoringDevice", self.0.id)
    }
    /// HJ 212 `MN`.
    async fn mn(&self) -> &str {
        &self.0.mn
    }
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Option<Outlet>> {
        Ok(super::load_one(ctx, OutletId(self.0.outlet_id))
            .await?
            .map(|row| Outlet::at(row, None)))
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
}

#[derive(InputObject)]
pub struct RegisterMonitoringDeviceInput {
    /// HJ 212 `MN`: 1 to 24 letters and digits, unique.
    mn: String,
    outlet_id: ID,
    /// The `PW` its packets carry.
    password: String,
}

#[derive(InputObject)]
pub struct IngestHj212PacketsInput {
    /// A file of HJ 212 packets, one after the other (each `##…` ending in CR LF).
    file: Upload,
}

/// How many packets of one reason were refused.
#[derive(SimpleObject)]
pub struct Hj212Refusals {
    /// `garbage`, `too_long`, `length`, `crc`, `malformed`, `command`, `unknown_device`,
    /// `password`, `rejected` (the permit checks), `unavailable`.
    reason: String,
    packets: u64,
}

/// What a file of HJ 212 packets came to.
#[derive(SimpleObject)]
pub struct Hj212IngestResult {
    accepted: u64,
    readings: u64,
    refused: Vec<Hj212Refusals>,
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
pub struct MonitoringMutation;

#[Object]
impl MonitoringMutation {
    /// Registers an automatic monitor (HJ 212 `MN`) at an outlet: MONITORING anywhere, ADMIN
    /// in its scope. Its packets (TCP listener, `ingestHj212Packets`) become readings of that
    /// outlet. An MN registered already is `CONFLICT`.
    async fn register_monitoring_device(
        &self,
        ctx: &Context<'_>,
        input: RegisterMonitoringDeviceInput,
    ) -> Result<MonitoringDevice> {
        let input = rules::DeviceInput {
            mn: input.mn,
            outlet_id: ids::decode(OUTLET, "input.outletId", &input.outlet_id)?,
            password: input.password,
        };
        let saved = rules::register_device(super::db(ctx)?, super::principal(ctx), input).await?;
        Ok(MonitoringDevice(saved))
    }

    /// Takes a file of HJ 212 packets (a GraphQL multipart request, like `uploadEvidence`):
    /// MONITORING and ADMIN. Each packet is checked and taken as the TCP listener takes it;
    /// a damaged one is refused and counted, the good ones around it are stored.
    async fn ingest_hj212_packets(
        &self,
        ctx: &Context<'_>,
        input: IngestHj212PacketsInput,
    ) -> Result<Hj212IngestResult> {
        use permit_core::domain::access::{self, Operation};
        use std::io::Read;
        access::authorize(super::principal(ctx), Operation::ManageMonitoringDevices)?;
        let not_sent = || {
            permit_core::error::AppError::invalid("input.file", "send the file as a multipart part")
        };
        if *input.file >= ctx.query_env.uploads.len() {
            return Err(not_sent().into());
        }
        let file = input.file.value(ctx).map_err(|_| not_sent())?;
        let mut bytes = Vec::new();
        file.into_read()
            .read_to_end(&mut bytes)
            .map_err(permit_core::error::AppError::internal)?;
        let tally = crate::hj212::intake::accept_all(super::db(ctx)?, None, &bytes).await;
        announce_candidates(ctx, tally.candidates).await;
        Ok(Hj212IngestResult {
            accepted: tally.accepted,
            readings: tally.readings,
            refused: tally
                .refused
                .into_iter()
                .map(|(reason, packets)| Hj212Refusals {
                    reason: reason.to_owned(),
                    packets,
                })
                .collect(),
        })
    }

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
        let done = rules::record(super::db(ctx)?, super::principal(ctx), &[input], |_| {
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
        let done = rules::record(super::db(ctx)?, super::principal(ctx), &readings, |i| {
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

// ---------------------------------------------------------------------------------------------
// Violation candidates

pub const CANDIDATE: &str = "ViolationCandidate";

/// A violation the monitoring data suggests, for an officer to confirm (`recordFinding` with
/// `candidateId`) or dismiss (`dismissViolationCandidate`).
pub struct ViolationCandidate(
    pub entity::violation_candidates::Model,
    /// Its place in the change feed, when `violationCandidateDetected` delivered it.
    Option<String>,
);

impl ViolationCandidate {
    pub fn new(row: entity::violation_candidates::Model) -> Self {
        Self(row, None)
    }

    /// As `violationCandidateDetected` delivers it, at `cursor` in the change feed.
    pub fn delivered(row: entity::violation_candidates::Model, cursor: String) -> Self {
        Self(row, Some(cursor))
    }
}

/// Wakes the subscriptions after a commit that added candidates (every instance's pump also
/// reads the feed on its own timer, so a lost wake-up only delays them).
async fn announce_candidates(ctx: &Context<'_>, count: u64) {
    if count == 0 {
        return;
    }
    if let Ok(bus) = ctx.data::<permit_core::events::EventBus>() {
        bus.publish(permit_core::events::Event::CandidatesDetected { count })
            .await;
    }
}

#[Object]
impl ViolationCandidate {
    /// Where the event that delivered this record lies in the change feed: set in
    /// `violationCandidateDetected` payloads (pass it as `after` to resume), null elsewhere.
    async fn cursor(&self) -> Option<&str> {
        self.1.as_deref()
    }
    async fn id(&self) -> ID {
        ids::encode(CANDIDATE, self.0.id)
    }
    /// `EX-1` (a reading above the limit), `NP-2` (readings after the permit expired), `AM-2`
    /// (automatic data missing), `SM-1` (self-monitoring short of its frequency), `ER-1` (an
    /// execution report not submitted by its due day), `LG-1` / `LG-2` (a ledger check found
    /// the ledger not kept or untrue).
    async fn code(&self, ctx: &Context<'_>) -> Result<Option<super::reference::ViolationCode>> {
        super::reference::load_violation_code(ctx, &self.0.code).await
    }
    async fn status(&self) -> CandidateStatus {
        self.0.status.into()
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.0.district_code)).await
    }
    async fn permit(&self, ctx: &Context<'_>) -> Result<Option<Permit>> {
        Ok(super::load_one(ctx, PermitId(self.0.permit_id))
            .await?
            .map(Permit::from))
    }
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<Unit>> {
        Ok(super::load_one(ctx, UnitId(self.0.unit_id))
            .await?
            .map(Unit))
    }
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Option<Outlet>> {
        let Some(id) = self.0.outlet_id else {
            return Ok(None);
        };
        Ok(super::load_one(ctx, OutletId(id))
            .await?
            .map(|row| Outlet::at(row, None)))
    }
    async fn pollutant(&self) -> Option<&str> {
        self.0.pollutant.as_deref()
    }
    /// EX-1: the reading above the limit.
    async fn reading(&self, ctx: &Context<'_>) -> Result<Option<Reading>> {
        let Some(id) = self.0.reading_id else {
            return Ok(None);
        };
        Ok(super::load_one(ctx, ReadingId(id)).await?.map(Reading))
    }
    /// EX-1: the measured and the permitted value, in `unitOfMeasure`.
    async fn measured_value(&self) -> Option<f64> {
        self.0.measured_value
    }
    async fn permitted_value(&self) -> Option<f64> {
        self.0.permitted_value
    }
    async fn unit_of_measure(&self) -> Option<&str> {
        self.0.unit.as_deref()
    }
    /// AM-2, SM-1: the window counted (from inclusive, to exclusive), the values the
    /// requirement expects in it and those found.
    async fn window_from(&self) -> Option<Time> {
        self.0
            .window_from
            .map(|s| Time(permit_core::domain::candidates::instant(s)))
    }
    async fn window_to(&self) -> Option<Time> {
        self.0
            .window_to
            .map(|s| Time(permit_core::domain::candidates::instant(s)))
    }
    async fn expected(&self) -> Option<i32> {
        self.0.expected
    }
    async fn observed(&self) -> Option<i32> {
        self.0.observed
    }
    async fn dismissed_reason(&self) -> Option<&str> {
        self.0.dismissed_reason.as_deref()
    }
    /// The finding recorded from it.
    async fn finding(&self, ctx: &Context<'_>) -> Result<Option<super::enforcement::Finding>> {
        let Some(id) = self.0.finding_id else {
            return Ok(None);
        };
        Ok(super::load_one(ctx, super::loaders::FindingId(id))
            .await?
            .map(super::enforcement::Finding::new))
    }
    async fn detected_at(&self) -> Time {
        self.0.detected_at.into()
    }
    async fn decided_at(&self) -> Option<Time> {
        self.0.decided_at.map(Into::into)
    }
}

pub(crate) async fn candidate_of_finding(
    ctx: &Context<'_>,
    finding_id: i64,
) -> Result<Option<ViolationCandidate>> {
    Ok(super::load_one(ctx, CandidateOfFinding(finding_id))
        .await?
        .map(ViolationCandidate::new))
}

pub(crate) async fn readings_of_finding(
    ctx: &Context<'_>,
    finding_id: i64,
) -> Result<Vec<Reading>> {
    let Some(candidate) = super::load_one(ctx, CandidateOfFinding(finding_id)).await? else {
        return Ok(Vec::new());
    };
    let Some(id) = candidate.reading_id else {
        return Ok(Vec::new());
    };
    Ok(super::load_one(ctx, ReadingId(id))
        .await?
        .map(Reading)
        .into_iter()
        .collect())
}

#[derive(InputObject, Default)]
pub struct ViolationCandidateFilter {
    district: Option<String>,
    /// `EX-1`, `NP-2`, `AM-2`, `SM-1`, `ER-1`, `LG-1`, `LG-2`.
    code: Option<String>,
    status: Option<CandidateStatus>,
    permit_id: Option<ID>,
    unit_id: Option<ID>,
}

#[derive(InputObject)]
pub struct DetectViolationCandidatesInput {
    /// Defaults to the caller's district (municipal callers: every district).
    district_code: Option<String>,
    /// First day of the window.
    from: chrono::NaiveDate,
    /// Last day of the window (before today).
    to: chrono::NaiveDate,
    /// AM-2 when more automatic values than this are missing in the window (default 4).
    #[graphql(default = 4)]
    am_missing: i32,
}

/// New candidates a detection found (those found before are not counted again).
#[derive(SimpleObject)]
pub struct DetectedCandidates {
    am2: u64,
    sm1: u64,
    er1: u64,
}

#[derive(Default)]
pub struct CandidateQuery;

#[Object]
impl CandidateQuery {
    /// Violation candidates in the caller's finding scope (integrators and monitoring: none),
    /// newest first. `first`/`last` at most 100 (default 20).
    async fn violation_candidates(
        &self,
        ctx: &Context<'_>,
        filter: Option<ViolationCandidateFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<ViolationCandidate>> {
        let f = filter.unwrap_or_default();
        let filter = permit_core::domain::candidates::CandidateFilter {
            district: f.district,
            code: f.code,
            status: f.status.map(Into::into),
            permit_id: f
                .permit_id
                .map(|id| ids::decode(PERMIT, "filter.permitId", &id))
                .transpose()?,
            unit_id: f
                .unit_id
                .map(|id| ids::decode(UNIT, "filter.unitId", &id))
                .transpose()?,
        };
        let listing = permit_core::domain::candidates::list(super::principal(ctx), &filter)?;
        connection::listed(
            ctx,
            listing,
            connection::page_args(first, after, last, before),
            ViolationCandidate::new,
        )
        .await
    }
}

#[derive(Default)]
pub struct CandidateMutation;

#[Object]
impl CandidateMutation {
    /// Detects AM-2 and SM-1 candidates over a window of whole days that have ended, counting
    /// readings in SQL, and ER-1 candidates for the execution reports that fell due in it and
    /// are missing or came late (ENFORCEMENT_OFFICER in its district, SUPERVISOR, ADMIN).
    /// EX-1 candidates arise as readings are written.
    async fn detect_violation_candidates(
        &self,
        ctx: &Context<'_>,
        input: DetectViolationCandidatesInput,
    ) -> Result<DetectedCandidates> {
        let found = permit_core::domain::candidates::detect(
            super::db(ctx)?,
            super::principal(ctx),
            permit_core::domain::candidates::DetectInput {
                district: input.district_code,
                from: input.from,
                to: input.to,
                am_missing: i64::from(input.am_missing),
            },
        )
        .await?;
        announce_candidates(ctx, found.am2 + found.sm1 + found.er1).await;
        Ok(DetectedCandidates {
            am2: found.am2,
            sm1: found.sm1,
            er1: found.er1,
        })
    }

    /// Dismisses an open candidate with a reason (ENFORCEMENT_OFFICER in scope, ADMIN); in the
    /// change feed and the audit trail.
    async fn dismiss_violation_candidate(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<ViolationCandidate> {
        let id = ids::decode(CANDIDATE, "id", &id)?;
        let saved = permit_core::domain::candidates::dismiss(
            super::db(ctx)?,
            super::principal(ctx),
            id,
            &reason,
        )
        .await?;
        Ok(ViolationCandidate::new(saved))
    }
}

// ---------------------------------------------------------------------------------------------
// Execution reports

/// An execution report (执行报告, Art 22) submitted for one period of a permit's duty.
pub struct ExecutionReport(pub entity::execution_reports::Model);

#[Object]
impl ExecutionReport {
    async fn id(&self) -> ID {
        ids::encode("ExecutionReport", self.0.id)
    }
    async fn frequency(&self) -> ReportFrequency {
        self.0.frequency.into()
    }
    async fn period_start(&self) -> chrono::NaiveDate {
        self.0.period_start
    }
    async fn period_end(&self) -> chrono::NaiveDate {
        self.0.period_end
    }
    /// The last day it was on time.
    async fn due_on(&self) -> chrono::NaiveDate {
        permit_core::domain::reports::due_on(self.0.frequency, self.0.period_end)
    }
    async fn submitted_on(&self) -> chrono::NaiveDate {
        self.0.submitted_on
    }
    async fn late(&self) -> bool {
        self.0.submitted_on
            > permit_core::domain::reports::due_on(self.0.frequency, self.0.period_end)
    }
    /// What the report says, in brief.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
}

pub(crate) async fn reports_of(ctx: &Context<'_>, permit_id: i64) -> Result<Vec<ExecutionReport>> {
    Ok(
        super::load_one(ctx, super::loaders::ReportsOfPermit(permit_id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ExecutionReport)
            .collect(),
    )
}

#[derive(InputObject)]
pub struct RecordExecutionReportInput {
    permit_id: ID,
    /// A frequency the permit's `reportDuties` name.
    frequency: ReportFrequency,
    /// The first day of the period (a calendar month, quarter, half or year).
    period_start: chrono::NaiveDate,
    /// After the period; not in the future.
    submitted_on: chrono::NaiveDate,
    /// What the report says, in brief (one line).
    summary: String,
}

// ---------------------------------------------------------------------------------------------
// Ledger checks

/// What an inspection found of the unit's environmental management ledger (台账, Art 21) for a
/// period, under the permit valid on the inspection's day.
pub struct LedgerCheck {
    row: entity::ledger_checks::Model,
    /// Whether the caller may read the note (the inspection's case-text rule).
    note_visible: bool,
}

impl LedgerCheck {
    pub fn new(row: entity::ledger_checks::Model, note_visible: bool) -> Self {
        Self { row, note_visible }
    }
}

#[Object]
impl LedgerCheck {
    async fn id(&self) -> ID {
        ids::encode("LedgerCheck", self.row.id)
    }
    async fn period_start(&self) -> chrono::NaiveDate {
        self.row.period_start
    }
    async fn period_end(&self) -> chrono::NaiveDate {
        self.row.period_end
    }
    async fn result(&self) -> LedgerResult {
        self.row.result.into()
    }
    /// What was missing or untrue. Null where the inspection's notes are (case text).
    async fn note(&self) -> Option<&str> {
        self.note_visible
            .then_some(self.row.note.as_deref())
            .flatten()
    }
    /// The permit whose ledger duty was checked: the one valid on the inspection's day.
    async fn permit(&self, ctx: &Context<'_>) -> Result<Option<Permit>> {
        Ok(super::load_one(ctx, PermitId(self.row.permit_id))
            .await?
            .map(Permit::from))
    }
}

#[derive(InputObject)]
pub struct RecordLedgerCheckInput {
    inspection_id: ID,
    /// The first day of the ledger's period checked; within the five years a ledger is kept.
    period_start: chrono::NaiveDate,
    /// The last day of the period; on or before the inspection's day.
    period_end: chrono::NaiveDate,
    result: LedgerResult,
    /// What was missing or untrue: required unless the ledger was KEPT.
    note: Option<String>,
}

/// A recorded ledger check and the candidate it raised (LG-1 or LG-2), if any.
#[derive(SimpleObject)]
pub struct LedgerCheckRecorded {
    ledger_check: LedgerCheck,
    candidate: Option<ViolationCandidate>,
}

#[derive(Default)]
pub struct ReportMutation;

#[Object]
impl ReportMutation {
    /// Records an execution report the permit office received (PERMIT_OFFICER in scope,
    /// ADMIN). One per permit, frequency and period (`CONFLICT` on `input.periodStart`).
    async fn record_execution_report(
        &self,
        ctx: &Context<'_>,
        input: RecordExecutionReportInput,
    ) -> Result<ExecutionReport> {
        let saved = permit_core::domain::reports::record(
            super::db(ctx)?,
            super::principal(ctx),
            permit_core::domain::reports::ReportInput {
                permit_id: ids::decode(PERMIT, "input.permitId", &input.permit_id)?,
                frequency: input.frequency.into(),
                period_start: input.period_start,
                submitted_on: input.submitted_on,
                summary: input.summary,
            },
        )
        .await?;
        Ok(ExecutionReport(saved))
    }

    /// Records what an inspection found of the unit's ledger for a period (ENFORCEMENT_OFFICER
    /// in scope, ADMIN). A ledger not KEPT raises a candidate to confirm as a finding: LG-1
    /// (INCOMPLETE, NOT_KEPT) or LG-2 (UNTRUE). One per inspection and period start
    /// (`CONFLICT` on `input.periodStart`).
    async fn record_ledger_check(
        &self,
        ctx: &Context<'_>,
        input: RecordLedgerCheckInput,
    ) -> Result<LedgerCheckRecorded> {
        let db = super::db(ctx)?;
        let recorded = permit_core::domain::ledgers::record(
            db,
            super::principal(ctx),
            permit_core::domain::ledgers::LedgerCheckInput {
                inspection_id: ids::decode(
                    super::enforcement::INSPECTION,
                    "input.inspectionId",
                    &input.inspection_id,
                )?,
                period_start: input.period_start,
                period_end: input.period_end,
                result: input.result.into(),
                note: input.note,
            },
        )
        .await?;
        let candidate = match recorded.candidate {
            Some(id) => {
                announce_candidates(ctx, 1).await;
                permit_core::domain::candidates::get(db, super::principal(ctx), id)
                    .await?
                    .map(ViolationCandidate::new)
            }
            None => None,
        };
        Ok(LedgerCheckRecorded {
            ledger_check: LedgerCheck::new(recorded.check, true),
            candidate,
        })
    }
}
