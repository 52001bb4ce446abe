//! Violation candidates: violations the monitoring data suggests, for an officer to confirm or
//! dismiss; their detection and the wake-up of subscriptions.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::Reading;
use crate::graphql::connection::{self, Conn};
use crate::graphql::enums::CandidateStatus;
use crate::graphql::error::Result;
use crate::graphql::loaders::{CandidateOfFinding, OutletId, PermitId, ReadingId, UnitId};
use crate::graphql::permits::{Outlet, PERMIT, Permit};
use crate::graphql::reference::{District, load_district};
use crate::graphql::time::Time;
use crate::graphql::units::{UNIT, Unit};
use crate::graphql::{self, ids};

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
pub(super) async fn announce_candidates(ctx: &Context<'_>, count: u64) {
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
    async fn code(&self, ctx: &Context<'_>) -> Result<Option<graphql::reference::ViolationCode>> {
        graphql::reference::load_violation_code(ctx, &self.0.code).await
    }
    async fn status(&self) -> CandidateStatus {
        self.0.status.into()
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, Some(&self.0.district_code)).await
    }
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
    async fn outlet(&self, ctx: &Context<'_>) -> Result<Option<Outlet>> {
        let Some(id) = self.0.outlet_id else {
            return Ok(None);
        };
        Ok(graphql::load_one(ctx, OutletId(id))
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
        Ok(graphql::load_one(ctx, ReadingId(id)).await?.map(Reading))
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
    async fn finding(&self, ctx: &Context<'_>) -> Result<Option<graphql::enforcement::Finding>> {
        let Some(id) = self.0.finding_id else {
            return Ok(None);
        };
        Ok(graphql::load_one(ctx, graphql::loaders::FindingId(id))
            .await?
            .map(graphql::enforcement::Finding::new))
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
    Ok(graphql::load_one(ctx, CandidateOfFinding(finding_id))
        .await?
        .map(ViolationCandidate::new))
}

pub(crate) async fn readings_of_finding(
    ctx: &Context<'_>,
    finding_id: i64,
) -> Result<Vec<Reading>> {
    let Some(candidate) = graphql::load_one(ctx, CandidateOfFinding(finding_id)).await? else {
        return Ok(Vec::new());
    };
    let Some(id) = candidate.reading_id else {
        return Ok(Vec::new());
    };
    Ok(graphql::load_one(ctx, ReadingId(id))
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
        let listing = permit_core::domain::candidates::list(graphql::principal(ctx), &filter)?;
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
            graphql::db(ctx)?,
            graphql::principal(ctx),
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
            graphql::db(ctx)?,
            graphql::principal(ctx),
            id,
            &reason,
        )
        .await?;
        Ok(ViolationCandidate::new(saved))
    }
}
