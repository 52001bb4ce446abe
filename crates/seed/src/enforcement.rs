//! The enforcement half of the demo data: inspectors (执法人员名录库) with a few declared conflicts
//! of interest, about two years of inspections before `today`, findings under every violation
//! code, their status histories, evidence metadata and enforcement actions.
//!
//! The rules the rows obey are the service's own:
//! - an on-site inspection has at least two active inspectors of the unit's district detachment
//!   or of the municipal 执法总队, never one who declared a conflict with the unit;
//! - a finding's code fits the unit's permit on the inspection date, as
//!   [`permits::status_on`](permit_core::domain::permits::status_on) reads it from the versions: NP-1
//!   before the first permit, NP-2 on an expired one, NP-3 after a termination, RG-1 for a
//!   REGISTRATION unit before it registered, every other code on a permit valid that day; EX-1
//!   names a limit that stood unchanged on that day and a measurement above it;
//! - statuses follow the finding state machine of `domain::findings`, one transition row per
//!   move, RECTIFIED confirmed by a later inspection (复查) of the same unit;
//! - actions follow `domain::cases`: a correction order with the order to rectify, penalties on a
//!   filed case (the first one moves it to PENALISED), fines inside the article's range, a daily
//!   continuous penalty only after a fine and at its amount, police referral for evasion (EV-*),
//!   and permit withdrawal only where the permit history already has the WITHDRAWN version of
//!   that day: a permit the permit generator withdrew inside the window, for exceedance or
//!   evasion, is given the inspection and case that led to it.
//!
//! Randomness: the inspectors of each agency, and the enforcement history of each unit, draw
//! from streams of their own (derived from the seed with a salt), so the units and permits of a
//! seed are the same rows as before enforcement data existed. Decision numbers are assigned at
//! the end, in date order per agency, kind of document and year, as a register numbers them.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde_json::{Value, json};

use super::names::{self, CheckScope};
use super::{
    Batch, Generator, SEED_SUBJECT, next, person_name, plus_days, round_significant, timestamp,
};
use entity::enums::{
    CreditLevel, EnforcementActionKind, FindingSeverity, FindingStatus, InspectionMode,
    InspectionSource, ManagementCategory, OutletCategory, OutletMedium, PermitStatus,
    ViolationCategory,
};
use entity::{
    enforcement_actions, finding_evidence, finding_transitions, findings, inspection_inspectors,
    inspections, inspector_conflicts, inspectors, permit_versions, permits,
};
use permit_core::domain::permits::status_on;
use permit_core::domain::taxonomy::PermitRequirement;
use permit_core::rng::Rng;

/// Salts that give the enforcement data streams of their own.
const INSPECTOR_STREAMS: u64 = 0x494E_5350_4543_5452; // "INSPECTR"
const ENFORCEMENT_STREAMS: u64 = 0x454E_464F_5243_4531; // "ENFORCE1"

/// The period inspections cover: about two years before `today`.
const WINDOW_DAYS: i64 = 730;

/// Inspectors of the municipal 执法总队.
const MUNICIPAL_INSPECTORS: usize = 30;

/// The materials an inspection may review (Art 25), in the order records list them.
const MATERIALS: [&str; 5] = [
    "EXECUTION_REPORTS",
    "LEDGER",
    "SELF_MONITORING_DATA",
    "AUTOMATIC_MONITORING",
    "PERMIT_DOCUMENTS",
];

/// Why inspections happen, in per mille.
const SOURCES: [(InspectionSource, u32); 7] = [
    (InspectionSource::Routine, 300),
    (InspectionSource::RandomDraw, 250),
    (InspectionSource::SpecialCampaign, 120),
    (InspectionSource::Complaint, 120),
    (InspectionSource::PostPermitCheck, 100),
    (InspectionSource::JointMunicipal, 60),
    (InspectionSource::Referral, 50),
];

/// Relative frequency of the codes that breach a valid permit; codes of the reference data
/// missing here get [`DEFAULT_CODE_WEIGHT`].
const CODE_WEIGHTS: [(&str, u32); 23] = [
    ("EX-1", 14),
    ("LG-1", 10),
    ("EV-3", 8),
    ("SM-1", 8),
    ("OU-3", 8),
    ("ER-1", 8),
    ("FU-1", 6),
    ("AM-2", 6),
    ("LG-2", 6),
    ("IP-1", 5),
    ("SM-2", 4),
    ("ER-2", 4),
    ("FU-2", 6),
    ("EV-2", 3),
    ("OU-1", 3),
    ("RP-1", 3),
    ("EV-1", 2),
    ("OU-2", 2),
    ("AM-1", 3),
    ("OB-1", 2),
    ("FR-1", 2),
    ("FR-2", 2),
    ("NP-4", 2),
];
const DEFAULT_CODE_WEIGHT: u32 = 2;

/// The relative frequency of a code among the findings it may be found with.
pub(super) fn code_weight(code: &str) -> u32 {
    CODE_WEIGHTS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(DEFAULT_CODE_WEIGHT, |(_, w)| *w)
}

/// Codes a non-site check (monitoring data, reports, documents) can establish.
const REMOTE_CODES: [&str; 11] = [
    "EX-1", "EV-2", "AM-2", "SM-1", "SM-2", "IP-1", "RP-1", "ER-1", "ER-2", "NP-2", "NP-3",
];

/// One violation code of the reference data, as the generator needs it.
pub(super) struct CodeInfo {
    pub code: String,
    pub category: ViolationCategory,
    pub label: String,
    pub fine_min: Option<i64>,
    pub fine_max: Option<i64>,
    pub requirement: PermitRequirement,
}

/// What the enforcement generator keeps across units.
#[derive(Default)]
pub(super) struct EnforcementState {
    /// Inspectors of each district's own detachment, `(id, active)`, by district index (empty
    /// where the district has no detachment and the municipal one acts for it).
    district_rosters: Vec<Vec<(i64, bool)>>,
    municipal_roster: Vec<(i64, bool)>,
    seen_certificates: HashSet<String>,
    /// Actions wait for the end, where their decision numbers are given in date order.
    actions: Vec<PendingAction>,
    /// PENALISED transitions name the decision (index into `actions`) that moved them.
    penalised: Vec<(finding_transitions::Model, usize)>,
}

struct PendingAction {
    model: enforcement_actions::Model,
    /// The unit of the finding (random draws make penalised units mandatory).
    unit_id: i64,
    /// The document prefix, e.g. 渝北环罚: numbers run per prefix and year.
    prefix: String,
}

/// A generated unit, as its enforcement history needs it.
pub(super) struct UnitFacts {
    pub index: u64,
    pub id: i64,
    pub district: usize,
    pub category: ManagementCategory,
    pub credit_level: CreditLevel,
    pub positive_list: bool,
    /// The day the unit was put on file; inspections start the day after.
    pub on_file: NaiveDate,
    pub holding: Holding,
}

pub(super) enum Holding {
    Permit(Box<PermitFacts>),
    Registration { registered_on: NaiveDate },
}

/// A generated permit: the rows `status_on` reads, and what the outlets were on which day.
pub(super) struct PermitFacts {
    pub model: permits::Model,
    /// The versions without their snapshots (`status_on` reads kinds, dates and periods).
    pub versions: Vec<permit_versions::Model>,
    pub first_issued_on: NaiveDate,
    pub outlets: Vec<OutletFacts>,
    /// Revoked, cancelled or withdrawn, and the day it was decided.
    pub end: Option<(PermitStatus, NaiveDate)>,
    /// For a withdrawal, its reason's index in `names::WITHDRAWAL_REASONS`.
    pub withdrawal_reason: Option<usize>,
}

pub(super) struct OutletFacts {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub medium: OutletMedium,
    pub category: OutletCategory,
    /// The day a change (变更) added it; `None` if the permit had it from the start.
    pub added_on: Option<NaiveDate>,
    pub limits: Vec<LimitFacts>,
}

pub(super) struct LimitFacts {
    pub pollutant: &'static str,
    /// The current value (the row in `permit_limits`).
    pub value: f64,
    pub unit: &'static str,
    /// The day a change tightened it to `value`; `None` if it never changed.
    pub tightened_on: Option<NaiveDate>,
}

/// Where a unit stood on an inspection day; decides which codes a finding may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// A permit unit before its first permit (NP-1).
    Unpermitted,
    /// A REGISTRATION unit before it registered (RG-1).
    Unregistered,
    Registered,
    Valid,
    Expired,
    /// Revoked, cancelled or withdrawn before that day (NP-3).
    Ended,
    /// Terminated that very day: no finding is recorded.
    EndedToday,
}

/// An inspection to generate.
#[derive(Debug, Clone, Copy)]
struct Visit {
    date: NaiveDate,
    forced: Option<Forced>,
}

/// Inspections placed on purpose, so every story the data should tell is there.
#[derive(Debug, Clone, Copy)]
pub(super) enum Forced {
    /// Discharging before the first permit (NP-1).
    Unpermitted,
    /// Operating before registering (RG-1).
    Unregistered,
    /// The case that ended with the permit's withdrawal on `decided_on`.
    Withdrawal {
        decided_on: NaiveDate,
        code: &'static str,
    },
}

/// How a finding's case goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// OPEN → RECTIFICATION_ORDERED → RECTIFIED (复查) → CLOSED.
    Rectify,
    /// OPEN → CASE_FILED → PENALISED → CLOSED.
    Case,
    /// OPEN → RECTIFICATION_ORDERED → CASE_FILED → PENALISED → CLOSED (not rectified in time).
    CaseAfterOrder,
    /// OPEN → [RECTIFICATION_ORDERED] → [CASE_FILED] → DISMISSED (0, 1 or 2 steps before).
    Dismiss(u8),
    /// Case → PENALISED with FINE and PERMIT_WITHDRAWAL on the given day → CLOSED.
    Withdrawal(NaiveDate),
}

/// A finding before its rows are written.
pub(super) struct Draft {
    pub(super) code: usize,
    pub(super) permit_id: Option<i64>,
    pub(super) outlet_id: Option<i64>,
    pub(super) pollutant: Option<String>,
    pub(super) measured_value: Option<f64>,
    pub(super) measured_unit: Option<String>,
    pub(super) permitted_value: Option<f64>,
    pub(super) severity: FindingSeverity,
    pub(super) description: String,
    deadline: Option<NaiveDate>,
    route: Route,
    /// Day of the order to rectify, for routes that have one.
    ordered_on: Option<NaiveDate>,
    /// When the re-inspection would confirm rectification (Rectify route).
    rectify_by: Option<NaiveDate>,
}

struct Step {
    to: FindingStatus,
    date: NaiveDate,
    reason: Option<String>,
    reinspection_id: Option<i64>,
}

struct ActionDraft {
    kind: EnforcementActionKind,
    date: NaiveDate,
    amount: Option<i64>,
    days: Option<i32>,
    notes: Option<String>,
    /// The step that must have happened for the action to exist.
    gate: usize,
    /// The decision that moved the finding to PENALISED.
    first_penalty: bool,
}

impl Generator<'_> {
    /// The inspector lists: 6–20 per district detachment by the district's size, 30 for the
    /// municipal 执法总队. Certificate numbers already in the table are avoided.
    pub(super) fn inspectors(
        &mut self,
        existing_certificates: HashSet<String>,
    ) -> Vec<inspectors::Model> {
        let ctx = self.ctx;
        self.enf.seen_certificates = existing_certificates;
        self.enf.district_rosters = vec![Vec::new(); ctx.districts.len()];
        let mut rows = Vec::new();
        for (i, district) in ctx.districts.iter().enumerate() {
            if !district.own_detachment {
                continue;
            }
            let mut rng = Rng::stream(ctx.seed ^ INSPECTOR_STREAMS, i as u64);
            let weight = i64::from(names::district_info(&district.code).map_or(1, |d| d.weight));
            let count = (6 + 2 * (weight - 1) + rng.range(0, 2)).clamp(6, 20) as usize;
            let agency = district.enforcement_agency.clone();
            self.enf.district_rosters[i] =
                self.agency_inspectors(&mut rng, &agency, &district.code, count, &mut rows);
        }
        if let Some(municipal) = &ctx.municipal_enforcement {
            let mut rng = Rng::stream(ctx.seed ^ INSPECTOR_STREAMS, u64::MAX);
            self.enf.municipal_roster = self.agency_inspectors(
                &mut rng,
                municipal,
                "500000",
                MUNICIPAL_INSPECTORS,
                &mut rows,
            );
        }
        self.report.inspectors += rows.len();
        rows
    }

    fn agency_inspectors(
        &mut self,
        rng: &mut Rng,
        agency: &str,
        region: &str,
        count: usize,
        rows: &mut Vec<inspectors::Model>,
    ) -> Vec<(i64, bool)> {
        let today = self.ctx.today;
        let mut names_here: HashSet<String> = HashSet::with_capacity(count);
        let mut roster = Vec::with_capacity(count);
        for _ in 0..count {
            // Two 张伟 in one detachment would confuse every team list; redraw (a few times).
            let mut name = person_name(rng);
            for _ in 0..20 {
                if !names_here.contains(&name) {
                    break;
                }
                name = person_name(rng);
            }
            names_here.insert(name.clone());
            // 执法证号: CQ + the region code + 5 digits, unique.
            let certificate_number = loop {
                let candidate = format!("CQ{region}{:05}", rng.below(100_000));
                if self.enf.seen_certificates.insert(candidate.clone()) {
                    break candidate;
                }
            };
            let active = !rng.chance(0.05);
            // On the list before the period the inspections cover.
            let listed = plus_days(today, -rng.range(WINDOW_DAYS + 30, 3650));
            let id = next(&mut self.ids.inspector);
            rows.push(inspectors::Model {
                id,
                name,
                agency_code: agency.to_owned(),
                certificate_number,
                active,
                created_at: timestamp(rng, listed),
            });
            roster.push((id, active));
        }
        roster
    }

    /// The enforcement history of one unit (its own random stream).
    pub(super) fn enforcement(&mut self, unit: &UnitFacts, batch: &mut Batch) {
        let ctx = self.ctx;
        let last_day = plus_days(ctx.today, -1);
        let start = plus_days(ctx.today, -WINDOW_DAYS).max(plus_days(unit.on_file, 1));
        if start > last_day {
            return;
        }
        let mut rng = Rng::stream(ctx.seed ^ ENFORCEMENT_STREAMS, unit.index);
        let recused = self.conflict(&mut rng, unit, start, last_day, batch);
        let visits = plan_visits(&mut rng, unit, start, last_day);
        let first_inspection = batch.inspections.len();
        for visit in visits {
            self.inspection(&mut rng, unit, visit, &recused, last_day, batch);
        }
        let taken: HashSet<NaiveDate> = batch.inspections[first_inspection..]
            .iter()
            .map(|i| i.inspection_date)
            .collect();
        self.desk_reviews(unit, start, last_day, &recused, &taken, batch);
    }

    /// Now and then an inspector of the district declares a conflict with the unit (回避).
    fn conflict(
        &mut self,
        rng: &mut Rng,
        unit: &UnitFacts,
        start: NaiveDate,
        last_day: NaiveDate,
        batch: &mut Batch,
    ) -> Vec<i64> {
        let chance = if unit.category == ManagementCategory::Key {
            0.012
        } else {
            0.004
        };
        if !rng.chance(chance) {
            return Vec::new();
        }
        let roster = &self.enf.district_rosters[unit.district];
        if roster.is_empty() {
            return Vec::new();
        }
        let (inspector_id, _) = *rng.pick(roster);
        let declared_on = plus_days(start, rng.range(0, (last_day - start).num_days()));
        batch.conflicts.push(inspector_conflicts::Model {
            id: next(&mut self.ids.conflict),
            inspector_id,
            unit_id: unit.id,
            reason: (*rng.pick(names::CONFLICT_REASONS)).to_owned(),
            declared_on,
            created_at: timestamp(rng, declared_on),
        });
        self.report.inspector_conflicts += 1;
        vec![inspector_id]
    }

    /// One inspection with its team, findings, their histories and actions, and the
    /// re-inspection that confirmed rectification.
    fn inspection(
        &mut self,
        rng: &mut Rng,
        unit: &UnitFacts,
        visit: Visit,
        recused: &[i64],
        last_day: NaiveDate,
        batch: &mut Batch,
    ) {
        let ctx = self.ctx;
        let district = &ctx.districts[unit.district];
        let date = visit.date;
        let standing = standing(unit, date);
        let forced = match visit.forced {
            Some(Forced::Withdrawal { .. }) if standing != Standing::Valid => None,
            f => f,
        };
        // A unit whose permit ended has usually closed down: fewer visits.
        if forced.is_none() && standing == Standing::Ended && rng.chance(0.4) {
            return;
        }

        use InspectionSource::*;
        let mut source = match forced {
            Some(Forced::Unpermitted | Forced::Unregistered) => {
                *rng.pick_weighted(&[(Complaint, 5), (Routine, 3), (Referral, 2)])
            }
            Some(Forced::Withdrawal { .. }) => *rng.pick_weighted(&[
                (Complaint, 3),
                (SpecialCampaign, 3),
                (Routine, 2),
                (JointMunicipal, 1),
            ]),
            None => *rng.pick_weighted(&SOURCES),
        };
        if (source == PostPermitCheck && standing != Standing::Valid)
            || (source == JointMunicipal && ctx.municipal_enforcement.is_none())
        {
            source = Routine;
        }
        let joint = source == JointMunicipal;
        let agency = match (&ctx.municipal_enforcement, joint) {
            (Some(municipal), true) => municipal.clone(),
            _ => district.enforcement_agency.clone(),
        };
        let on_site_chance = if forced.is_some() || joint {
            1.0
        } else if source == Complaint {
            0.95
        } else if unit.positive_list {
            0.5
        } else {
            0.8
        };
        let mut mode = if rng.chance(on_site_chance) {
            InspectionMode::OnSite
        } else {
            InspectionMode::NonSite
        };
        let size = match mode {
            InspectionMode::OnSite => *rng.pick_weighted(&[(2usize, 70), (3, 25), (4, 5)]),
            InspectionMode::NonSite => *rng.pick_weighted(&[(1usize, 60), (2, 40)]),
        };
        let team = self.team(rng, unit.district, joint, size, recused);
        if mode == InspectionMode::OnSite && team.len() < 2 {
            mode = InspectionMode::NonSite;
        }
        if team.is_empty() {
            return;
        }

        let codes = self.pick_codes(rng, unit, standing, mode, source, forced, date);
        let drafts: Vec<Draft> = codes
            .into_iter()
            .map(|code| self.draft(rng, unit, code, date, forced))
            .collect();

        let inspection_id = next(&mut self.ids.inspection);
        let recorded_at = timestamp(rng, date);
        let materials = materials(rng, unit, mode, &self.codes_of(&drafts));
        let checklist = checklist(rng, unit, standing, mode, date, &drafts, ctx);
        batch.inspections.push(inspections::Model {
            id: inspection_id,
            unit_id: unit.id,
            district_code: district.code.clone(),
            agency_code: agency.clone(),
            inspection_date: date,
            source,
            mode,
            // A special-campaign inspection belongs to the seeded campaign running that day.
            campaign_id: if source == SpecialCampaign {
                ctx.campaign_on(date)
            } else {
                None
            },
            materials_reviewed: json!(materials),
            checklist: Value::Array(checklist.iter().map(|(item, _)| item.clone()).collect()),
            notes: inspection_note(rng, source, mode),
            recorded_by_subject: SEED_SUBJECT.to_owned(),
            created_at: recorded_at,
        });
        for inspector_id in team {
            batch
                .inspection_inspectors
                .push(inspection_inspectors::Model {
                    inspection_id,
                    inspector_id,
                });
        }
        self.report.inspections += 1;

        // The re-inspection (复查) confirms every rectification of this inspection at once,
        // after the latest deadline.
        let reinspect_on = drafts.iter().filter_map(|d| d.rectify_by).max();
        let reinspection = match reinspect_on {
            Some(on) if on <= last_day => {
                let failed: Vec<&'static str> =
                    checklist.iter().filter_map(|(_, failed)| *failed).collect();
                Some(self.reinspection(rng, unit, &agency, date, on, &failed, recused, batch))
            }
            _ => None,
        };

        for (k, draft) in drafts.iter().enumerate() {
            // Recorded after the inspection, a few minutes apart.
            let created_at = recorded_at + chrono::Duration::minutes(3 + 4 * k as i64);
            self.finding(
                rng,
                unit,
                inspection_id,
                &agency,
                date,
                mode,
                created_at,
                draft,
                reinspection,
                last_day,
                batch,
            );
        }
    }

    pub(super) fn codes_of(&self, drafts: &[Draft]) -> Vec<&str> {
        drafts
            .iter()
            .map(|d| self.ctx.codes[d.code].code.as_str())
            .collect()
    }

    /// `size` active inspectors without a conflict with the unit: district ones, a municipal
    /// one now and then, one or two municipal ones leading a joint check; municipal ones fill in
    /// where the district list runs short.
    pub(super) fn team(
        &self,
        rng: &mut Rng,
        district: usize,
        joint: bool,
        size: usize,
        recused: &[i64],
    ) -> Vec<i64> {
        let eligible = |roster: &[(i64, bool)]| -> Vec<i64> {
            roster
                .iter()
                .filter(|(id, active)| *active && !recused.contains(id))
                .map(|(id, _)| *id)
                .collect()
        };
        let mut local = eligible(&self.enf.district_rosters[district]);
        let mut city = eligible(&self.enf.municipal_roster);
        let from_city = if joint {
            rng.range(1, 2) as usize
        } else if rng.chance(0.05) {
            1
        } else {
            0
        };
        let mut team = Vec::with_capacity(size);
        draw_into(rng, &mut city, from_city.min(size), &mut team);
        draw_into(rng, &mut local, size - team.len(), &mut team);
        draw_into(rng, &mut city, size - team.len(), &mut team);
        team.sort_unstable();
        team
    }

    /// The codes found, if any: a chance that depends on why the unit was inspected and its
    /// record, then 1–3 distinct codes among those that fit the day's standing.
    #[allow(clippy::too_many_arguments)]
    fn pick_codes(
        &self,
        rng: &mut Rng,
        unit: &UnitFacts,
        standing: Standing,
        mode: InspectionMode,
        source: InspectionSource,
        forced: Option<Forced>,
        date: NaiveDate,
    ) -> Vec<usize> {
        use InspectionSource::*;
        let chance = match standing {
            Standing::Unpermitted | Standing::Unregistered if forced.is_some() => 0.85,
            Standing::Unpermitted | Standing::Unregistered => 0.45,
            Standing::Registered | Standing::EndedToday => 0.0,
            Standing::Expired => 0.5,
            Standing::Ended => 0.5,
            Standing::Valid if matches!(forced, Some(Forced::Withdrawal { .. })) => 1.0,
            Standing::Valid => {
                let base = match source {
                    Complaint => 0.55,
                    Referral => 0.5,
                    SpecialCampaign | JointMunicipal => 0.42,
                    Routine | PostPermitCheck => 0.35,
                    RandomDraw => 0.3,
                };
                let record = match unit.credit_level {
                    CreditLevel::Trustworthy => 0.6,
                    CreditLevel::Good => 0.9,
                    CreditLevel::Warning => 1.5,
                    CreditLevel::Poor => 2.0,
                };
                let remote = if mode == InspectionMode::NonSite {
                    0.7
                } else {
                    1.0
                };
                base * record * remote
            }
        };
        if !rng.chance(chance) {
            return Vec::new();
        }
        let mut weights: Vec<u32> = self
            .ctx
            .codes
            .iter()
            .map(|c| {
                if self.applies(c, unit, standing, mode, date) {
                    code_weight(&c.code)
                } else {
                    0
                }
            })
            .collect();
        let mut chosen = Vec::new();
        let mut wanted = match standing {
            Standing::Valid => *rng.pick_weighted(&[(1usize, 60), (2, 28), (3, 12)]),
            _ => 1,
        };
        if let Some(Forced::Withdrawal { code, .. }) = forced
            && let Some(i) = self.ctx.codes.iter().position(|c| c.code == code)
            && weights[i] > 0
        {
            chosen.push(i);
            weights[i] = 0;
            wanted = if rng.chance(0.3) { 2 } else { 1 };
        }
        while chosen.len() < wanted && weights.iter().any(|&w| w > 0) {
            let i = rng.weighted_index(&weights);
            chosen.push(i);
            weights[i] = 0;
        }
        chosen
    }

    /// Whether a code can be found at this unit on this day.
    pub(super) fn applies(
        &self,
        code: &CodeInfo,
        unit: &UnitFacts,
        standing: Standing,
        mode: InspectionMode,
        date: NaiveDate,
    ) -> bool {
        if mode == InspectionMode::NonSite && !REMOTE_CODES.contains(&code.code.as_str()) {
            return false;
        }
        match code.requirement {
            PermitRequirement::NoPermit => standing == Standing::Unpermitted,
            PermitRequirement::RegistrationTier => standing == Standing::Unregistered,
            PermitRequirement::ExpiredPermit => standing == Standing::Expired,
            PermitRequirement::EndedPermit => standing == Standing::Ended,
            PermitRequirement::ValidPermit => {
                let Holding::Permit(permit) = &unit.holding else {
                    return false;
                };
                if standing != Standing::Valid {
                    return false;
                }
                let key = unit.category == ManagementCategory::Key;
                match code.code.as_str() {
                    "EX-1" => !limits_on(permit, date).is_empty(),
                    "AM-1" | "AM-2" | "RP-1" => key,
                    "FU-1" => has_air(permit, date),
                    "FU-2" => heavy_pollution_season(date),
                    _ => true,
                }
            }
        }
    }

    /// The facts of one finding: permit, outlet and measurement, severity, description, and
    /// how its case will go.
    pub(super) fn draft(
        &self,
        rng: &mut Rng,
        unit: &UnitFacts,
        code_index: usize,
        date: NaiveDate,
        forced: Option<Forced>,
    ) -> Draft {
        let info = &self.ctx.codes[code_index];
        let code = info.code.as_str();
        let permit = match &unit.holding {
            Holding::Permit(p) => Some(p),
            Holding::Registration { .. } => None,
        };
        let permit_id = match info.requirement {
            PermitRequirement::NoPermit | PermitRequirement::RegistrationTier => None,
            _ => permit.map(|p| p.model.id),
        };
        let serious_kind = code.starts_with("NP")
            || code.starts_with("EV")
            || code.starts_with("FR")
            || code == "EX-1"
            || code == "OB-1";
        let mut severity = if serious_kind {
            *rng.pick_weighted(&[
                (FindingSeverity::Serious, 45),
                (FindingSeverity::General, 48),
                (FindingSeverity::Minor, 7),
            ])
        } else {
            *rng.pick_weighted(&[
                (FindingSeverity::Minor, 35),
                (FindingSeverity::General, 55),
                (FindingSeverity::Serious, 10),
            ])
        };

        let mut draft = Draft {
            code: code_index,
            permit_id,
            outlet_id: None,
            pollutant: None,
            measured_value: None,
            measured_unit: None,
            permitted_value: None,
            severity,
            description: String::new(),
            deadline: None,
            route: Route::Rectify,
            ordered_on: None,
            rectify_by: None,
        };
        let withdrawal = match forced {
            Some(Forced::Withdrawal {
                decided_on,
                code: forced_code,
            }) if forced_code == code => Some(decided_on),
            _ => None,
        };

        draft.description = match (code, permit) {
            ("EX-1", Some(p)) => {
                let candidates = limits_on(p, date);
                // A withdrawal for water exceedance (the first reason) names a water outlet.
                let water: Vec<(usize, usize)> = candidates
                    .iter()
                    .copied()
                    .filter(|(o, _)| p.outlets[*o].medium == OutletMedium::Water)
                    .collect();
                let pool = if withdrawal.is_some()
                    && p.withdrawal_reason == Some(0)
                    && !water.is_empty()
                {
                    &water
                } else {
                    &candidates
                };
                let (o, l) = *rng.pick(pool);
                let outlet = &p.outlets[o];
                let limit = &outlet.limits[l];
                let f = rng.f64();
                let ratio = if withdrawal.is_some() {
                    2.0 + 2.0 * f
                } else {
                    1.1 + 1.9 * f * f
                };
                let mut measured = round_significant(limit.value * ratio, 3);
                if measured <= limit.value {
                    measured = limit.value * ratio;
                }
                severity = if ratio >= 2.0 {
                    FindingSeverity::Serious
                } else if ratio >= 1.5 || rng.chance(0.7) {
                    FindingSeverity::General
                } else {
                    FindingSeverity::Minor
                };
                draft.outlet_id = Some(outlet.id);
                draft.pollutant = Some(limit.pollutant.to_owned());
                draft.measured_value = Some(measured);
                draft.measured_unit = Some(limit.unit.to_owned());
                draft.permitted_value = Some(limit.value);
                format!(
                    "{}（{}）{}监测浓度为{}{}，超过许可排放浓度限值{}{}，超标{:.2}倍",
                    outlet.code,
                    outlet.name,
                    limit.pollutant,
                    measured,
                    limit.unit,
                    limit.value,
                    limit.unit,
                    measured / limit.value - 1.0
                )
            }
            ("NP-2", Some(p)) => format!(
                "排污许可证{}有效期已于{}届满，未取得延续仍在排放污染物",
                p.model.permit_number, p.model.valid_to
            ),
            ("NP-3", Some(p)) => {
                let (status, on) = p.end.unwrap_or((PermitStatus::Cancelled, date));
                let what = match status {
                    PermitStatus::Revoked => "撤销",
                    PermitStatus::Withdrawn => "吊销",
                    _ => "注销",
                };
                format!(
                    "排污许可证{}已于{}被依法{}，该单位仍在排放污染物",
                    p.model.permit_number, on, what
                )
            }
            _ => {
                let text = names::FINDING_DESCRIPTIONS
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map(|(_, texts)| *rng.pick(texts));
                text.map_or_else(|| info.label.clone(), str::to_owned)
            }
        };
        // Outlet findings name the outlet (one the permit had that day).
        if let (Some(p), "OU-3" | "AM-1" | "AM-2") = (permit, code) {
            let present: Vec<&OutletFacts> = p
                .outlets
                .iter()
                .filter(|o| o.added_on.is_none_or(|a| a < date))
                .filter(|o| code == "OU-3" || o.category == OutletCategory::Main)
                .collect();
            if !present.is_empty() {
                let outlet = *rng.pick(&present);
                draft.outlet_id = Some(outlet.id);
                draft.description =
                    format!("{}（{}）{}", outlet.code, outlet.name, draft.description);
            }
        }
        draft.severity = severity;

        // The route, then the dates that do not depend on other findings.
        let dismiss = rng.chance(0.05) && withdrawal.is_none();
        draft.route = if let Some(on) = withdrawal {
            Route::Withdrawal(on)
        } else if dismiss {
            Route::Dismiss(*rng.pick_weighted(&[(0u8, 50), (1, 25), (2, 25)]))
        } else if severity == FindingSeverity::Minor {
            *rng.pick_weighted(&[
                (Route::Rectify, 85),
                (Route::CaseAfterOrder, 10),
                (Route::Case, 5),
            ])
        } else if serious_kind || severity == FindingSeverity::Serious {
            *rng.pick_weighted(&[
                (Route::Case, 60),
                (Route::CaseAfterOrder, 17),
                (Route::Rectify, 23),
            ])
        } else {
            *rng.pick_weighted(&[
                (Route::Rectify, 65),
                (Route::CaseAfterOrder, 20),
                (Route::Case, 15),
            ])
        };
        let needs_deadline = matches!(
            draft.route,
            Route::Rectify | Route::CaseAfterOrder | Route::Dismiss(1..)
        );
        if needs_deadline || rng.chance(0.7) {
            draft.deadline = Some(plus_days(date, rng.range(15, 90)));
        }
        if matches!(
            draft.route,
            Route::Rectify | Route::CaseAfterOrder | Route::Dismiss(1..)
        ) {
            draft.ordered_on = Some(plus_days(date, rng.range(1, 6)));
        }
        if draft.route == Route::Rectify
            && let (Some(ordered), Some(deadline)) = (draft.ordered_on, draft.deadline)
        {
            draft.rectify_by = Some(plus_days(
                deadline.max(plus_days(ordered, 7)),
                rng.range(0, 15),
            ));
        }
        draft
    }

    /// A re-inspection (复查) of the unit on `on`, by the agency that found the problems.
    #[allow(clippy::too_many_arguments)]
    fn reinspection(
        &mut self,
        rng: &mut Rng,
        unit: &UnitFacts,
        agency: &str,
        found_on: NaiveDate,
        on: NaiveDate,
        failed: &[&'static str],
        recused: &[i64],
        batch: &mut Batch,
    ) -> (i64, NaiveDate) {
        let ctx = self.ctx;
        // A municipal check is re-inspected by a municipal-led team too.
        let joint = ctx.municipal_enforcement.as_deref() == Some(agency);
        let mut team = self.team(rng, unit.district, joint, 2, recused);
        let mode = if team.len() >= 2 {
            InspectionMode::OnSite
        } else {
            InspectionMode::NonSite
        };
        if team.is_empty() {
            // No inspector at all (a reference data set without any): recorded as a desk check
            // by nobody would break the rules, so take any active municipal inspector.
            team = self
                .enf
                .municipal_roster
                .iter()
                .filter(|(_, active)| *active)
                .map(|(id, _)| *id)
                .take(1)
                .collect();
        }
        let id = next(&mut self.ids.inspection);
        let mut checklist = vec![json!({
            "item": names::REINSPECTION_ITEM,
            "result": "PASS",
            "note": "已按期完成整改",
        })];
        for item in failed {
            checklist.push(json!({ "item": item, "result": "PASS", "note": "已整改" }));
        }
        batch.inspections.push(inspections::Model {
            id,
            unit_id: unit.id,
            district_code: ctx.districts[unit.district].code.clone(),
            agency_code: agency.to_owned(),
            inspection_date: on,
            source: InspectionSource::Routine,
            mode,
            campaign_id: None,
            materials_reviewed: match unit.holding {
                Holding::Permit(_) => json!(["LEDGER", "PERMIT_DOCUMENTS"]),
                Holding::Registration { .. } => json!(["LEDGER"]),
            },
            checklist: Value::Array(checklist),
            notes: Some(format!("复查：{found_on}检查发现问题的整改落实情况")),
            recorded_by_subject: SEED_SUBJECT.to_owned(),
            created_at: timestamp(rng, on),
        });
        for inspector_id in team {
            batch
                .inspection_inspectors
                .push(inspection_inspectors::Model {
                    inspection_id: id,
                    inspector_id,
                });
        }
        self.report.inspections += 1;
        (id, on)
    }

    /// Writes one finding: its row, evidence, transitions and actions.
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &mut self,
        rng: &mut Rng,
        unit: &UnitFacts,
        inspection_id: i64,
        agency: &str,
        found_on: NaiveDate,
        mode: InspectionMode,
        created_at: chrono::DateTime<chrono::Utc>,
        draft: &Draft,
        reinspection: Option<(i64, NaiveDate)>,
        last_day: NaiveDate,
        batch: &mut Batch,
    ) {
        let ctx = self.ctx;
        let info = &ctx.codes[draft.code];
        let finding_id = next(&mut self.ids.finding);
        let (steps, actions) = lifecycle(rng, info, draft, unit, found_on, reinspection);

        // The rows that happened: the steps up to today, less a few cases that stalled.
        let mut kept = steps.iter().take_while(|s| s.date <= last_day).count();
        if kept > 0 && !matches!(draft.route, Route::Withdrawal(_)) && rng.chance(0.04) {
            kept = rng.range(0, kept as i64 - 1) as usize;
        }

        // Evidence, captured during the inspection.
        let evidence_chance = match mode {
            InspectionMode::OnSite => 0.7,
            InspectionMode::NonSite => 0.5,
        };
        if info.code == "EX-1" || rng.chance(evidence_chance) {
            self.evidence(rng, finding_id, info.code.as_str(), mode, created_at, batch);
        }

        let transition =
            |id: i64,
             from: Option<FindingStatus>,
             to: FindingStatus,
             reason: Option<String>,
             reinspection_id: Option<i64>,
             at: chrono::DateTime<chrono::Utc>| finding_transitions::Model {
                id,
                finding_id,
                from_status: from,
                to_status: to,
                reason,
                reinspection_id,
                actor_subject: SEED_SUBJECT.to_owned(),
                actor_agency: Some(agency.to_owned()),
                created_at: at,
            };
        batch.transitions.push(transition(
            next(&mut self.ids.transition),
            None,
            FindingStatus::Open,
            None,
            None,
            created_at,
        ));
        let mut status = FindingStatus::Open;
        let mut updated_at = created_at;
        let mut penalised_transition = None;
        for step in &steps[..kept] {
            let at = timestamp(rng, step.date);
            let row = transition(
                next(&mut self.ids.transition),
                Some(status),
                step.to,
                step.reason.clone(),
                step.reinspection_id,
                at,
            );
            if step.to == FindingStatus::Penalised {
                penalised_transition = Some(row);
            } else {
                batch.transitions.push(row);
            }
            status = step.to;
            updated_at = at;
        }
        self.report.finding_transitions += kept + 1;

        // Actions whose step happened, in date order (a daily penalty after its fine).
        let mut first_penalty = None;
        for action in actions
            .iter()
            .filter(|a| a.gate < kept && a.date <= last_day)
        {
            let index = self.enf.actions.len();
            if action.first_penalty {
                first_penalty = Some(index);
            }
            let typical_case = action.first_penalty && rng.chance(0.05);
            self.enf.actions.push(PendingAction {
                model: enforcement_actions::Model {
                    id: next(&mut self.ids.action),
                    finding_id,
                    kind: action.kind,
                    decision_number: String::new(),
                    decided_on: action.date,
                    amount_yuan: action.amount,
                    days: action.days,
                    typical_case,
                    notes: action.notes.clone(),
                    agency_code: agency.to_owned(),
                    recorded_by_subject: SEED_SUBJECT.to_owned(),
                    created_at: timestamp(rng, action.date),
                },
                prefix: format!(
                    "{}{}",
                    ctx.document_prefix(agency),
                    document_kind(action.kind)
                ),
                unit_id: unit.id,
            });
            self.report.actions += 1;
        }
        if let Some(row) = penalised_transition {
            match first_penalty {
                Some(index) => self.enf.penalised.push((row, index)),
                // Unreachable: PENALISED always comes with its decision.
                None => batch.transitions.push(row),
            }
        }

        batch.findings.push(findings::Model {
            id: finding_id,
            inspection_id,
            unit_id: unit.id,
            district_code: ctx.districts[unit.district].code.clone(),
            permit_id: draft.permit_id,
            violation_code: info.code.clone(),
            category: info.category,
            found_on,
            outlet_id: draft.outlet_id,
            limit_id: None,
            permit_version: None,
            pollutant: draft.pollutant.clone(),
            measured_value: draft.measured_value,
            measured_unit: draft.measured_unit.clone(),
            permitted_value: draft.permitted_value,
            severity: draft.severity,
            description: draft.description.clone(),
            rectification_deadline: draft.deadline,
            status,
            version: kept as i32 + 1,
            created_at,
            updated_at,
        });
        self.report.findings += 1;
    }

    /// 1–4 files: photos, video and records on site, screenshots and exports from a desk;
    /// a monitoring report for every exceedance.
    fn evidence(
        &mut self,
        rng: &mut Rng,
        finding_id: i64,
        code: &str,
        mode: InspectionMode,
        recorded_at: chrono::DateTime<chrono::Utc>,
        batch: &mut Batch,
    ) {
        let kinds = match mode {
            InspectionMode::OnSite => names::EVIDENCE_ON_SITE,
            InspectionMode::NonSite => names::EVIDENCE_REMOTE,
        };
        let count = rng.range(1, 4) as usize;
        let mut files: Vec<(&str, &str, &str, (i64, i64))> = Vec::with_capacity(count + 1);
        if code == "EX-1" {
            files.push(names::EVIDENCE_MONITORING_REPORT);
        }
        for _ in 0..count {
            files.push(*rng.pick(kinds));
        }
        let mut numbered: HashMap<&str, u32> = HashMap::new();
        for (stem, ext, media_type, (min_kib, max_kib)) in files {
            let n = numbered.entry(stem).or_insert(0);
            *n += 1;
            let sha256: String = (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect();
            // Taken during the visit, before it was recorded (still the same day: records are
            // made in office hours, the visit started at most three hours earlier).
            let captured_at = recorded_at - chrono::Duration::minutes(rng.range(5, 180));
            batch.evidence.push(finding_evidence::Model {
                id: next(&mut self.ids.evidence),
                finding_id,
                file_name: format!("{stem}_{:02}.{ext}", *n),
                media_type: media_type.to_owned(),
                size_bytes: rng.range(min_kib * 1024, max_kib * 1024),
                sha256,
                captured_at: Some(captured_at),
            });
            self.report.finding_evidence += 1;
        }
    }

    /// The penalties decided so far, as (unit, day): a unit penalised in the year before a
    /// random draw is always drawn.
    pub(super) fn penalties(&self) -> Vec<(i64, NaiveDate)> {
        use EnforcementActionKind::*;
        self.enf
            .actions
            .iter()
            .filter(|a| {
                matches!(
                    a.model.kind,
                    Fine | ProductionRestriction
                        | Suspension
                        | PermitWithdrawal
                        | DailyContinuousPenalty
                        | SealUp
                )
            })
            .map(|a| (a.unit_id, a.model.decided_on))
            .collect()
    }

    /// The inspector list of a district's own detachment, `(id, active)`.
    pub(super) fn district_roster(&self, district: usize) -> &[(i64, bool)] {
        self.enf
            .district_rosters
            .get(district)
            .map_or(&[][..], Vec::as_slice)
    }

    /// The inspector list of the municipal 执法总队, `(id, active)`.
    pub(super) fn municipal_roster(&self) -> &[(i64, bool)] {
        &self.enf.municipal_roster
    }

    /// Numbers the decisions (per document prefix and year, in date order) and hands back the
    /// actions and the PENALISED transitions that cite them.
    pub(super) fn finish_enforcement(
        &mut self,
    ) -> (
        Vec<enforcement_actions::Model>,
        Vec<finding_transitions::Model>,
    ) {
        let mut pending = std::mem::take(&mut self.enf.actions);
        let mut order: Vec<usize> = (0..pending.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&pending[a], &pending[b]);
            (
                &x.prefix,
                x.model.decided_on.year(),
                x.model.decided_on,
                x.model.id,
            )
                .cmp(&(
                    &y.prefix,
                    y.model.decided_on.year(),
                    y.model.decided_on,
                    y.model.id,
                ))
        });
        let mut counter: Option<(String, i32, u32)> = None;
        for index in order {
            let action = &mut pending[index];
            let year = action.model.decided_on.year();
            let n = match &mut counter {
                Some((prefix, y, n)) if *prefix == action.prefix && *y == year => {
                    *n += 1;
                    *n
                }
                _ => {
                    counter = Some((action.prefix.clone(), year, 1));
                    1
                }
            };
            action.model.decision_number = format!("{}〔{year}〕{n}号", action.prefix);
        }
        let transitions = std::mem::take(&mut self.enf.penalised)
            .into_iter()
            .map(|(mut row, index)| {
                row.reason = Some(format!("处罚决定 {}", pending[index].model.decision_number));
                row
            })
            .collect();
        (pending.into_iter().map(|a| a.model).collect(), transitions)
    }
}

/// The route as dated steps and the actions that go with them. Every step is at least a day
/// after the one before, so the transition times increase.
fn lifecycle(
    rng: &mut Rng,
    info: &CodeInfo,
    draft: &Draft,
    unit: &UnitFacts,
    found_on: NaiveDate,
    reinspection: Option<(i64, NaiveDate)>,
) -> (Vec<Step>, Vec<ActionDraft>) {
    use EnforcementActionKind as Kind;
    use FindingStatus::*;
    let code = info.code.as_str();
    let mut steps: Vec<Step> = Vec::with_capacity(4);
    let mut actions: Vec<ActionDraft> = Vec::new();
    let step = |to, date, reason: Option<String>| Step {
        to,
        date,
        reason,
        reinspection_id: None,
    };
    let order_reason = |deadline: Option<NaiveDate>| match deadline {
        Some(d) => format!("下达责令改正违法行为决定书，限于{d}前完成整改"),
        None => "下达责令改正违法行为决定书，责令立即改正".to_owned(),
    };
    let ordered_on = draft.ordered_on.unwrap_or_else(|| plus_days(found_on, 1));
    let order = |steps: &mut Vec<Step>, actions: &mut Vec<ActionDraft>| {
        actions.push(ActionDraft {
            kind: Kind::CorrectionOrder,
            date: ordered_on,
            amount: None,
            days: None,
            notes: None,
            gate: steps.len(),
            first_penalty: false,
        });
        steps.push(step(
            RectificationOrdered,
            ordered_on,
            Some(order_reason(draft.deadline)),
        ));
    };

    match draft.route {
        Route::Rectify => {
            order(&mut steps, &mut actions);
            if let Some((id, on)) = reinspection {
                steps.push(Step {
                    to: Rectified,
                    date: on,
                    reason: Some(format!("经{on}复查，整改到位")),
                    reinspection_id: Some(id),
                });
                steps.push(step(
                    Closed,
                    plus_days(on, rng.range(1, 20)),
                    Some("整改完成，予以结案".to_owned()),
                ));
            }
            // Without a re-inspection yet, the finding waits in RECTIFICATION_ORDERED.
        }
        Route::Dismiss(before) => {
            let mut last = found_on;
            if before >= 1 {
                order(&mut steps, &mut actions);
                last = ordered_on;
            }
            if before >= 2 {
                last = plus_days(last, rng.range(3, 30));
                steps.push(step(
                    CaseFiled,
                    last,
                    Some("经审查符合立案条件，予以立案调查".to_owned()),
                ));
            }
            steps.push(step(
                Dismissed,
                plus_days(last, rng.range(5, 60)),
                Some((*rng.pick(names::DISMISSAL_REASONS)).to_owned()),
            ));
        }
        Route::Case | Route::CaseAfterOrder | Route::Withdrawal(_) => {
            let filed_on = match draft.route {
                Route::CaseAfterOrder => {
                    order(&mut steps, &mut actions);
                    let due = draft
                        .deadline
                        .unwrap_or(ordered_on)
                        .max(plus_days(ordered_on, 7));
                    plus_days(due, rng.range(1, 15))
                }
                Route::Withdrawal(decided_on) => {
                    let room = (decided_on - found_on).num_days() - 1;
                    plus_days(found_on, rng.range(3.min(room), 20.min(room)))
                }
                _ => plus_days(found_on, rng.range(3, 30)),
            };
            let filed_step = steps.len();
            steps.push(step(
                CaseFiled,
                filed_on,
                Some("经审查符合立案条件，予以立案调查".to_owned()),
            ));
            let decided_on = match draft.route {
                Route::Withdrawal(on) => on,
                _ => plus_days(filed_on, rng.range(20, 120)),
            };
            let evasion = code.starts_with("EV");
            if evasion
                && rng.chance(if matches!(draft.route, Route::Withdrawal(_)) {
                    0.6
                } else {
                    0.4
                })
            {
                let span = (decided_on - filed_on).num_days().max(1);
                actions.push(ActionDraft {
                    kind: Kind::PoliceReferral,
                    date: plus_days(filed_on, rng.range(1, span)),
                    amount: None,
                    days: None,
                    notes: Some(
                        "涉嫌通过逃避监管的方式排放污染物，移送公安机关依法处理（条例第四十四条）"
                            .to_owned(),
                    ),
                    gate: filed_step,
                    first_penalty: false,
                });
            }
            let penalised_step = filed_step + 1;
            steps.push(step(Penalised, decided_on, None));
            let penalty =
                |kind, amount: Option<i64>, days: Option<i32>, notes: Option<String>, first| {
                    ActionDraft {
                        kind,
                        date: decided_on,
                        amount,
                        days,
                        notes,
                        gate: penalised_step,
                        first_penalty: first,
                    }
                };
            let grave = code.starts_with("NP") || code.starts_with("EV") || code == "EX-1";
            let fine = fine_amount(rng, info, draft.severity);
            match fine {
                Some(amount) => actions.push(penalty(Kind::Fine, Some(amount), None, None, true)),
                // No fine in the article: a restriction is the penalty.
                None => actions.push(penalty(
                    *rng.pick(&[Kind::ProductionRestriction, Kind::Suspension]),
                    None,
                    None,
                    None,
                    true,
                )),
            }
            if let (Route::Withdrawal(_), Holding::Permit(p)) = (draft.route, &unit.holding) {
                actions.push(penalty(
                    Kind::PermitWithdrawal,
                    None,
                    None,
                    Some(format!("情节严重，吊销排污许可证{}", p.model.permit_number)),
                    false,
                ));
            } else if fine.is_some() && (grave || code.starts_with("FU")) {
                match rng.below(100) {
                    0..15 => actions.push(penalty(
                        Kind::ProductionRestriction,
                        None,
                        None,
                        None,
                        false,
                    )),
                    15..25 => actions.push(penalty(Kind::Suspension, None, None, None, false)),
                    _ => {}
                }
            }
            if (evasion || code == "EX-1")
                && draft.severity == FindingSeverity::Serious
                && rng.chance(0.15)
            {
                actions.push(penalty(
                    Kind::SealUp,
                    None,
                    None,
                    Some("查封造成污染物排放的设施、设备".to_owned()),
                    false,
                ));
            }
            let mut closing_from = decided_on;
            if let Some(amount) = fine
                && grave
                && rng.chance(0.1)
            {
                // 按日连续处罚 (Art 38): the order to correct was refused after the fine.
                let days = rng.range(2, 30);
                let on = plus_days(decided_on, days + rng.range(3, 20));
                actions.push(ActionDraft {
                    kind: Kind::DailyContinuousPenalty,
                    date: on,
                    amount: Some(amount),
                    days: Some(days as i32),
                    notes: Some(format!(
                        "拒不改正，自责令改正之日的次日起按日连续处罚{days}日"
                    )),
                    gate: penalised_step,
                    first_penalty: false,
                });
                closing_from = on;
            }
            steps.push(step(
                Closed,
                plus_days(closing_from, rng.range(15, 120)),
                Some("处罚决定已执行完毕，予以结案".to_owned()),
            ));
        }
    }
    actions.sort_by_key(|a| a.date);
    (steps, actions)
}

/// A fine inside the article's range, in thousands of yuan, higher for serious cases.
fn fine_amount(rng: &mut Rng, info: &CodeInfo, severity: FindingSeverity) -> Option<i64> {
    let max = info.fine_max?;
    let min = info.fine_min.unwrap_or(0).min(max);
    // An Art 43 style "up to" range still fines something.
    let low = if min == 0 { (max / 10).max(1) } else { min };
    let span = (max - low) as f64;
    let (from, to) = match severity {
        FindingSeverity::Minor => (0.0, 0.3),
        FindingSeverity::General => (0.1, 0.6),
        FindingSeverity::Serious => (0.4, 1.0),
    };
    let raw = low as f64 + span * rng.uniform(from, to);
    let rounded = if max >= 10_000 {
        (raw / 1000.0).round() as i64 * 1000
    } else {
        raw.round() as i64
    };
    Some(rounded.clamp(min, max))
}

fn document_kind(kind: EnforcementActionKind) -> &'static str {
    use EnforcementActionKind::*;
    match kind {
        CorrectionOrder => "责改",
        Fine | DailyContinuousPenalty | PermitWithdrawal => "罚",
        ProductionRestriction => "限产",
        Suspension => "停产",
        SealUp => "封",
        PoliceReferral => "移",
    }
}

/// Draws up to `n` from `pool` without replacement.
pub(super) fn draw_into(rng: &mut Rng, pool: &mut Vec<i64>, n: usize, out: &mut Vec<i64>) {
    for _ in 0..n {
        if pool.is_empty() {
            return;
        }
        let i = rng.index(pool.len());
        out.push(pool.swap_remove(i));
    }
}

pub(super) fn standing(unit: &UnitFacts, date: NaiveDate) -> Standing {
    match &unit.holding {
        Holding::Registration { registered_on } if date < *registered_on => Standing::Unregistered,
        Holding::Registration { .. } => Standing::Registered,
        Holding::Permit(p) => match status_on(&p.model, &p.versions, date) {
            None => Standing::Unpermitted,
            Some(PermitStatus::Valid) => Standing::Valid,
            Some(PermitStatus::Expired) => Standing::Expired,
            Some(_) if p.end.is_some_and(|(_, on)| on < date) => Standing::Ended,
            Some(_) => Standing::EndedToday,
        },
    }
}

/// The (outlet, limit) pairs that stood unchanged on `date`: the outlet was on the permit, and
/// the limit had its current value (so the row in `permit_limits` is the limit of that day).
fn limits_on(permit: &PermitFacts, date: NaiveDate) -> Vec<(usize, usize)> {
    permit
        .outlets
        .iter()
        .enumerate()
        .filter(|(_, o)| o.added_on.is_none_or(|a| a < date))
        .flat_map(|(i, o)| {
            o.limits
                .iter()
                .enumerate()
                .filter(|(_, l)| l.tightened_on.is_none_or(|t| t < date))
                .map(move |(j, _)| (i, j))
        })
        .collect()
}

pub(super) fn has_air(permit: &PermitFacts, date: NaiveDate) -> bool {
    permit
        .outlets
        .iter()
        .any(|o| o.medium == OutletMedium::Air && o.added_on.is_none_or(|a| a < date))
}

/// November to February, when heavy-pollution-weather limits (特殊时段) apply.
pub(super) fn heavy_pollution_season(date: NaiveDate) -> bool {
    matches!(date.month(), 11 | 12 | 1 | 2)
}

/// The days the unit is inspected: a number by category and record, spread over the window on
/// working days, plus the inspections the stories need (before the permit or registration, and
/// the case that ended in a withdrawal). At most one a day.
fn plan_visits(
    rng: &mut Rng,
    unit: &UnitFacts,
    start: NaiveDate,
    last_day: NaiveDate,
) -> Vec<Visit> {
    let counts: &[(usize, u32)] = match unit.category {
        ManagementCategory::Key => &[(0, 18), (1, 38), (2, 28), (3, 12), (4, 4)],
        ManagementCategory::Simplified => &[(0, 65), (1, 30), (2, 5)],
        ManagementCategory::Registration => &[(0, 83), (1, 15), (2, 2)],
    };
    let mut count = *rng.pick_weighted(counts);
    if matches!(unit.credit_level, CreditLevel::Warning | CreditLevel::Poor) && rng.chance(0.4) {
        count += 1;
    }
    let mut visits = Vec::with_capacity(count + 2);
    let in_window = |rng: &mut Rng, from: NaiveDate, to: NaiveDate| {
        working_day(
            plus_days(from, rng.range(0, (to - from).num_days())),
            from,
            to,
        )
    };
    for _ in 0..count {
        visits.push(Visit {
            date: in_window(rng, start, last_day),
            forced: None,
        });
    }
    match &unit.holding {
        Holding::Permit(p) => {
            let before = plus_days(p.first_issued_on, -1);
            if before >= start && rng.chance(0.06) {
                visits.push(Visit {
                    date: in_window(rng, start, before),
                    forced: Some(Forced::Unpermitted),
                });
            }
            if let Some((PermitStatus::Withdrawn, decided_on)) = p.end {
                let code = match p.withdrawal_reason {
                    Some(0) => Some("EX-1"),
                    Some(1) => Some("EV-1"),
                    Some(2) => Some("EV-2"),
                    _ => None,
                };
                let earliest = start.max(plus_days(p.first_issued_on, 1));
                let latest = plus_days(decided_on, -25);
                if let Some(code) = code
                    && decided_on <= last_day
                    && latest >= earliest
                {
                    let back = rng.range(25, 150.min((decided_on - earliest).num_days()));
                    visits.push(Visit {
                        date: working_day(plus_days(decided_on, -back), earliest, latest),
                        forced: Some(Forced::Withdrawal { decided_on, code }),
                    });
                }
            }
        }
        Holding::Registration { registered_on } => {
            let before = plus_days(*registered_on, -1);
            if before >= start && rng.chance(0.06) {
                visits.push(Visit {
                    date: in_window(rng, start, before),
                    forced: Some(Forced::Unregistered),
                });
            }
        }
    }
    // One inspection a day; the planned story wins over a routine visit that day.
    visits.sort_by_key(|v| (v.date, v.forced.is_none()));
    visits.dedup_by_key(|v| v.date);
    visits
}

/// Moves a weekend day to the nearest working day inside `[from, to]` (else leaves it).
pub(super) fn working_day(date: NaiveDate, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let moved = match date.weekday() {
        Weekday::Sat => plus_days(date, -1),
        Weekday::Sun => plus_days(date, 1),
        _ => date,
    };
    if (from..=to).contains(&moved) {
        moved
    } else {
        date
    }
}

/// The materials reviewed: what the unit has and the findings needed, in the canonical order.
pub(super) fn materials(
    rng: &mut Rng,
    unit: &UnitFacts,
    mode: InspectionMode,
    codes: &[&str],
) -> Vec<&'static str> {
    let Holding::Permit(_) = unit.holding else {
        return if rng.chance(0.4) {
            vec!["LEDGER"]
        } else {
            Vec::new()
        };
    };
    let key = unit.category == ManagementCategory::Key;
    let remote = mode == InspectionMode::NonSite;
    let any = |prefixes: &[&str]| {
        codes
            .iter()
            .any(|c| prefixes.iter().any(|p| c.starts_with(p)))
    };
    let chosen = [
        rng.chance(if remote { 0.8 } else { 0.55 }) || any(&["ER"]),
        rng.chance(if remote { 0.2 } else { 0.7 }) || any(&["LG"]),
        rng.chance(0.55) || any(&["SM", "EV-2"]),
        key && (rng.chance(if remote { 0.95 } else { 0.6 }) || any(&["AM", "RP", "EX"])),
        rng.chance(0.85) || any(&["NP", "FR", "OU"]),
    ];
    let list: Vec<&'static str> = MATERIALS
        .iter()
        .zip(chosen)
        .filter(|(_, c)| *c)
        .map(|(m, _)| *m)
        .collect();
    if list.is_empty() {
        vec!["PERMIT_DOCUMENTS"]
    } else {
        list
    }
}

/// The checklist: a FAIL for every item a finding falls under, PASS on most applicable items,
/// NOT_APPLICABLE on some that do not apply. Returns each item, with its text if it failed.
pub(super) fn checklist(
    rng: &mut Rng,
    unit: &UnitFacts,
    standing: Standing,
    mode: InspectionMode,
    date: NaiveDate,
    drafts: &[Draft],
    ctx: &super::Context,
) -> Vec<(Value, Option<&'static str>)> {
    let key = unit.category == ManagementCategory::Key;
    let remote = mode == InspectionMode::NonSite;
    let (permit_holder, air) = match &unit.holding {
        Holding::Permit(p) => (standing == Standing::Valid, has_air(p, date)),
        Holding::Registration { .. } => (false, false),
    };
    let mut items = Vec::new();
    for item in names::CHECK_ITEMS {
        let failed: Vec<&Draft> = drafts
            .iter()
            .filter(|d| item.codes.contains(&ctx.codes[d.code].code.as_str()))
            .collect();
        let applicable = match item.scope {
            CheckScope::Permit => permit_holder,
            CheckScope::Registration => standing == Standing::Registered,
            CheckScope::Any => true,
            CheckScope::Key => permit_holder && key,
            CheckScope::Air => permit_holder && air,
            CheckScope::Season => permit_holder && heavy_pollution_season(date),
        };
        let checkable = !remote || item.remote;
        let (result, note) = if let Some(first) = failed.first() {
            ("FAIL", Some(first.description.clone()))
        } else if applicable && checkable && rng.chance(0.7) {
            let note = rng
                .chance(0.08)
                .then(|| (*rng.pick(names::PASS_NOTES)).to_owned());
            ("PASS", note)
        } else if !applicable && checkable && rng.chance(0.15) {
            ("NOT_APPLICABLE", None)
        } else {
            continue;
        };
        items.push((
            json!({ "item": item.item, "result": result, "note": note }),
            (result == "FAIL").then_some(item.item),
        ));
    }
    if items.is_empty() {
        // Every record checks something: the first item this visit could check.
        let fallback = names::CHECK_ITEMS
            .iter()
            .find(|item| !remote || item.remote)
            .or(names::CHECK_ITEMS.first());
        if let Some(item) = fallback {
            let result = match item.scope {
                CheckScope::Any => "PASS",
                CheckScope::Registration if standing == Standing::Registered => "PASS",
                CheckScope::Permit if permit_holder => "PASS",
                _ => "NOT_APPLICABLE",
            };
            items.push((
                json!({ "item": item.item, "result": result, "note": null }),
                None,
            ));
        }
    }
    items
}

fn inspection_note(
    rng: &mut Rng,
    source: InspectionSource,
    mode: InspectionMode,
) -> Option<String> {
    use InspectionSource::*;
    if mode == InspectionMode::NonSite && rng.chance(0.5) {
        return Some((*rng.pick(names::NON_SITE_NOTES)).to_owned());
    }
    let (notes, chance) = match source {
        Complaint => (names::COMPLAINT_NOTES, 0.9),
        Referral => (names::REFERRAL_NOTES, 0.9),
        SpecialCampaign => (names::CAMPAIGN_NOTES, 0.8),
        RandomDraw => (names::RANDOM_DRAW_NOTES, 0.6),
        JointMunicipal => (names::JOINT_NOTES, 0.9),
        PostPermitCheck => (names::POST_PERMIT_NOTES, 0.7),
        Routine => (names::ROUTINE_NOTES, 0.3),
    };
    rng.chance(chance).then(|| (*rng.pick(notes)).to_owned())
}
