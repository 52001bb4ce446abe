//! The campaigns of the demo data (专项行动).
//!
//! **The 2021 campaign of the plan** (重庆市2021年排污许可专项执法现场检查计划), seeded when
//! `today` is past 2021: April to November, every KEY unit to be inspected by 30 September
//! (全覆盖), SIMPLIFIED units sampled a quarter per quarter and REGISTRATION units a tenth a
//! year, summary reports due 30 November. What happened in it:
//! - **District self-inspections** (区县自查, April–September): a SPECIAL_CAMPAIGN on-site
//!   inspection, linked to the campaign, of every KEY unit that was on file before the deadline,
//!   by two or three active inspectors of the district who were on the list that day and have
//!   declared no conflict with the unit (municipal ones fill in where the district list was
//!   short). Most districts finish; a few lag at 60–85 %.
//! - **Random draws** (双随机) of SIMPLIFIED units in every district in April and July, run with
//!   the service's own algorithm ([`permit_core::domain::sampling`]) on the candidate list as it stood
//!   that day (units on file, not on a valid positive list, weights and mandatory units as
//!   `domain::draws` sets them), the district's active listed inspectors and the declared
//!   conflicts (the seed treats a declared conflict as holding throughout, as the enforcement
//!   generator does). Every drawn unit is inspected by its drawn team (RANDOM_DRAW, linked), and
//!   the result is published within 20 days of the last inspection; `draws::verify` holds.
//! - **Municipal joint spot checks** (市级联合抽查, October): the four joint groups dealt to the
//!   districts by a published JOINT_GROUPS draw; each group's 执法总队 inspectors check a unit or
//!   two already self-inspected in its districts (JOINT_MUNICIPAL, linked).
//! - **Summary reports** (总结报告): most districts report by 30 November, a few late, a few
//!   not at all; each snapshot is `domain::campaigns::Summary` computed, like the service does
//!   at submission, from the rows as they stood at that moment (read back from the database).
//!
//! No findings are recorded on these inspections.
//!
//! **The current year's campaign** (证后监管专项行动) runs 1 January to 31 December of `today`'s
//! year; the enforcement generator links this year's SPECIAL_CAMPAIGN inspections to it, so its
//! coverage shows the year's progress.
//!
//! A campaign whose name is already in the table is not created again. Randomness comes from
//! streams of their own (per unit, per district, per decision), so the rows the seed wrote
//! before campaigns existed are unchanged, ids included.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait,
};
use serde_json::{Value, json};

use super::enforcement::{self, Holding, Standing, UnitFacts};
use super::history::Change;
use super::names::{self, CheckScope};
use super::{
    Batch, Context, Generator, Ids, SEED_SUBJECT, insert_chunked, next, plus_days, timestamp,
};
use entity::enums::{
    CampaignPhaseKind, CreditLevel, DrawKind, EnforcementActionKind, FindingStatus, InspectionMode,
    InspectionSource, ManagementCategory, SamplingPeriod, ViolationCategory,
};
use entity::{
    campaign_phases, campaign_sampling_rules, campaigns, enforcement_actions, finding_transitions,
    findings, inspection_inspectors, inspections, inspector_conflicts, inspectors,
    random_draw_items, random_draws, summary_reports, units,
};
use permit_core::domain::campaigns::{CategoryCount, CodeCount, Summary};
use permit_core::domain::changes::{ChangeKind, ChangeOperation};
use permit_core::domain::clock::date_of;
use permit_core::domain::sampling::{
    self, ALGORITHM_VERSION, Candidate, JointGroupInputs, UnitDrawInputs,
};
use permit_core::rng::Rng;

/// Salt of the campaign streams ("CAMPAIGN"); each decision mixes in a purpose of its own.
const CAMPAIGN_STREAMS: u64 = 0x4341_4D50_4149_474E;

/// Purposes: which decision a stream serves.
const CREATED: u64 = 1;
const UNIT: u64 = 2;
const DRAW_DAYS: u64 = 3;
const LAGGING: u64 = 4;
const JOINT_DRAW: u64 = 5;
const JOINT_PICK: u64 = 6;
const UNIT_DRAW: u64 = 7;
const REPORTS: u64 = 8;

/// Inspectors per drawn unit.
const DRAWN_TEAM: u32 = 2;

/// Campaign inspections built and written at a time.
const VISITS_PER_BATCH: usize = 2000;

fn stream(ctx: &Context, purpose: u64, n: u64) -> Rng {
    Rng::stream(
        ctx.seed ^ CAMPAIGN_STREAMS ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        n,
    )
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// A uniformly drawn working day in `[from, to]` not in `busy` (a few tries), if any.
fn pick_day(
    rng: &mut Rng,
    from: NaiveDate,
    to: NaiveDate,
    busy: &HashSet<NaiveDate>,
) -> Option<NaiveDate> {
    if from > to {
        return None;
    }
    for _ in 0..8 {
        let day = enforcement::working_day(
            plus_days(from, rng.range(0, (to - from).num_days())),
            from,
            to,
        );
        if !busy.contains(&day) {
            return Some(day);
        }
    }
    None
}

/// A campaign the seed creates.
pub(super) struct CampaignPlan {
    pub id: i64,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub coverage_deadline: NaiveDate,
    pub summary_deadline: NaiveDate,
    /// Self-inspection, joint spot check and summary phases, as (first, last day).
    pub phases: [(NaiveDate, NaiveDate); 3],
    pub created_at: DateTime<Utc>,
}

impl Context {
    /// The seeded campaign running on `date`, for special-campaign inspections.
    pub(super) fn campaign_on(&self, date: NaiveDate) -> Option<i64> {
        self.campaigns
            .iter()
            .find(|c| c.starts_on <= date && date <= c.ends_on)
            .map(|c| c.id)
    }
}

/// The 2021 campaign's own calendar.
struct Calendar2021 {
    campaign: i64,
    starts_on: NaiveDate,
    deadline: NaiveDate,
    /// The days of each district's April and July unit draws, by district index.
    draw_days: Vec<[NaiveDate; 2]>,
}

/// The last day the inspections of a draw round may take place.
fn round_end(round: usize) -> NaiveDate {
    match round {
        0 => ymd(2021, 6, 25),
        _ => ymd(2021, 9, 24),
    }
}

/// October's joint spot checks, after the National Day holiday.
fn joint_window() -> (NaiveDate, NaiveDate) {
    (ymd(2021, 10, 8), ymd(2021, 10, 29))
}

/// One checklist line: item index, PASS or NOT_APPLICABLE, and a note index if any.
#[derive(Debug, Clone, Copy)]
struct Mark {
    item: u8,
    applicable: bool,
    note: Option<u8>,
}

/// An inspection the campaign may record of a unit, prepared while the unit is generated (its
/// standing on the day decides the checklist); whether it happens is decided at the end.
struct Prospect {
    unit_id: i64,
    district: usize,
    date: NaiveDate,
    created_at: DateTime<Utc>,
    checklist: Vec<Mark>,
    materials: Vec<&'static str>,
    note: Option<&'static str>,
    /// Self-inspections: the team; others get theirs from a draw or a joint group.
    team: Vec<i64>,
    /// Place in a lagging district's queue (the lowest are done).
    rank: f64,
}

/// A SIMPLIFIED unit as a draw's candidate list sees it.
struct DrawCandidate {
    unit_id: i64,
    district: usize,
    on_file: NaiveDate,
    credit_level: CreditLevel,
    /// On the positive list from the first day to the second.
    positive: Option<(NaiveDate, NaiveDate)>,
}

/// What the campaigns gather while the units are generated.
#[derive(Default)]
pub(super) struct CampaignState {
    calendar: Option<Calendar2021>,
    /// The day each inspector was put on the list.
    listed: HashMap<i64, NaiveDate>,
    /// Declared conflicts, (inspector, unit).
    conflicts: Vec<(i64, i64)>,
    self_checks: Vec<Prospect>,
    /// October visits by unit.
    joint_checks: HashMap<i64, Prospect>,
    /// Visits after the April and the July draw, by unit.
    drawn_checks: [HashMap<i64, Prospect>; 2],
    candidates: Vec<DrawCandidate>,
}

impl CampaignState {
    /// Decides which campaigns to create (ids, dates) and the 2021 calendar; records them in
    /// the context so the enforcement generator can link inspections.
    pub(super) async fn plan(
        txn: &DatabaseTransaction,
        ctx: &mut Context,
        ids: &mut Ids,
    ) -> Result<Self, DbErr> {
        let existing: HashSet<String> = campaigns::Entity::find()
            .select_only()
            .column(campaigns::Column::Name)
            .into_tuple::<String>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let today = ctx.today;
        let mut state = CampaignState::default();

        if today.year() > 2021 && !existing.contains(names::CAMPAIGN_2021_NAME) {
            // Planned in March, before the liaison lists were due (plan §5(四)).
            let mut rng = stream(ctx, CREATED, 2021);
            let day = enforcement::working_day(
                ymd(2021, 3, 15 + rng.range(0, 4) as u32),
                ymd(2021, 3, 15),
                ymd(2021, 3, 19),
            );
            let id = next(&mut ids.campaign);
            let plan = CampaignPlan {
                id,
                name: names::CAMPAIGN_2021_NAME.to_owned(),
                starts_on: ymd(2021, 4, 1),
                ends_on: ymd(2021, 11, 30),
                coverage_deadline: ymd(2021, 9, 30),
                summary_deadline: ymd(2021, 11, 30),
                phases: [
                    (ymd(2021, 4, 1), ymd(2021, 9, 30)),
                    (ymd(2021, 10, 1), ymd(2021, 10, 31)),
                    (ymd(2021, 11, 1), ymd(2021, 11, 30)),
                ],
                created_at: timestamp(&mut rng, day),
            };
            let draw_days = (0..ctx.districts.len())
                .map(|d| {
                    let mut rng = stream(ctx, DRAW_DAYS, d as u64);
                    let april = (ymd(2021, 4, 6), ymd(2021, 4, 16));
                    let july = (ymd(2021, 7, 5), ymd(2021, 7, 15));
                    let none = HashSet::new();
                    [
                        pick_day(&mut rng, april.0, april.1, &none).unwrap_or(april.0),
                        pick_day(&mut rng, july.0, july.1, &none).unwrap_or(july.0),
                    ]
                })
                .collect();
            state.calendar = Some(Calendar2021 {
                campaign: id,
                starts_on: plan.starts_on,
                deadline: plan.coverage_deadline,
                draw_days,
            });
            ctx.campaigns.push(plan);
        }

        let year = today.year();
        let name = format!("{year}{}", names::CURRENT_CAMPAIGN_SUFFIX);
        if !existing.contains(&name) {
            // Issued in the second half of December before the year starts.
            let mut rng = stream(ctx, CREATED, year as u64);
            let (from, to) = (ymd(year - 1, 12, 14), ymd(year - 1, 12, 28));
            let day = pick_day(&mut rng, from, to, &HashSet::new()).unwrap_or(from);
            ctx.campaigns.push(CampaignPlan {
                id: next(&mut ids.campaign),
                name,
                starts_on: ymd(year, 1, 1),
                ends_on: ymd(year, 12, 31),
                coverage_deadline: ymd(year, 12, 31),
                summary_deadline: ymd(year, 12, 15),
                phases: [
                    (ymd(year, 1, 1), ymd(year, 9, 30)),
                    (ymd(year, 10, 1), ymd(year, 10, 31)),
                    (ymd(year, 11, 1), ymd(year, 12, 15)),
                ],
                created_at: timestamp(&mut rng, day),
            });
        }
        Ok(state)
    }

    pub(super) fn note_inspectors(&mut self, rows: &[inspectors::Model]) {
        for i in rows {
            self.listed.insert(i.id, date_of(i.created_at));
        }
    }

    pub(super) fn note_conflicts(&mut self, rows: &[inspector_conflicts::Model]) {
        self.conflicts
            .extend(rows.iter().map(|c| (c.inspector_id, c.unit_id)));
    }
}

/// The checklist of a campaign visit that found nothing: most applicable items PASS, some
/// inapplicable ones marked so (the rules of the enforcement generator's checklists).
fn clean_checklist(rng: &mut Rng, unit: &UnitFacts, date: NaiveDate) -> Vec<Mark> {
    let standing = enforcement::standing(unit, date);
    let key = unit.category == ManagementCategory::Key;
    let (permit_holder, air) = match &unit.holding {
        Holding::Permit(p) => (standing == Standing::Valid, enforcement::has_air(p, date)),
        Holding::Registration { .. } => (false, false),
    };
    let mut marks = Vec::new();
    for (i, item) in names::CHECK_ITEMS.iter().enumerate() {
        let applicable = match item.scope {
            CheckScope::Permit => permit_holder,
            CheckScope::Registration => standing == Standing::Registered,
            CheckScope::Any => true,
            CheckScope::Key => permit_holder && key,
            CheckScope::Air => permit_holder && air,
            CheckScope::Season => permit_holder && enforcement::heavy_pollution_season(date),
        };
        if applicable && rng.chance(0.85) {
            let note = rng
                .chance(0.08)
                .then(|| rng.index(names::PASS_NOTES.len()) as u8);
            marks.push(Mark {
                item: i as u8,
                applicable: true,
                note,
            });
        } else if !applicable && rng.chance(0.15) {
            marks.push(Mark {
                item: i as u8,
                applicable: false,
                note: None,
            });
        }
    }
    if marks.is_empty() {
        // The first item applies to every unit or is marked not applicable.
        let applicable = names::CHECK_ITEMS
            .first()
            .is_some_and(|item| match item.scope {
                CheckScope::Any => true,
                CheckScope::Registration => standing == Standing::Registered,
                CheckScope::Permit => permit_holder,
                _ => false,
            });
        marks.push(Mark {
            item: 0,
            applicable,
            note: None,
        });
    }
    marks
}

fn checklist_json(marks: &[Mark]) -> Value {
    Value::Array(
        marks
            .iter()
            .filter_map(|m| {
                let item = names::CHECK_ITEMS.get(usize::from(m.item))?;
                let note = m
                    .note
                    .and_then(|n| names::PASS_NOTES.get(usize::from(n)).copied());
                Some(json!({
                    "item": item.item,
                    "result": if m.applicable { "PASS" } else { "NOT_APPLICABLE" },
                    "note": note,
                }))
            })
            .collect(),
    )
}

impl Generator<'_> {
    /// Active inspectors of a roster who were on the list before `date` and have no conflict
    /// with the unit.
    fn eligible(&self, roster: &[(i64, bool)], date: NaiveDate, recused: &[i64]) -> Vec<i64> {
        roster
            .iter()
            .filter(|(id, active)| {
                *active
                    && !recused.contains(id)
                    && self
                        .camp
                        .listed
                        .get(id)
                        .is_some_and(|listed| *listed < date)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// A visit on `date`, prepared now; its note always says what it was part of, which tells
    /// the campaign's own records from ordinary special-campaign inspections of its period.
    fn prospect(
        &self,
        rng: &mut Rng,
        unit: &UnitFacts,
        date: NaiveDate,
        notes: &'static [&'static str],
    ) -> Prospect {
        let checklist = clean_checklist(rng, unit, date);
        let materials = enforcement::materials(rng, unit, InspectionMode::OnSite, &[]);
        let note = Some(*rng.pick(notes));
        Prospect {
            unit_id: unit.id,
            district: unit.district,
            date,
            created_at: timestamp(rng, date),
            checklist,
            materials,
            note,
            team: Vec::new(),
            rank: rng.f64(),
        }
    }

    /// What the 2021 campaign may do with this unit (a stream of the unit's own).
    pub(super) fn campaign_prospects(&mut self, unit: &UnitFacts, batch: &Batch) {
        let ctx = self.ctx;
        let Some(cal) = &self.camp.calendar else {
            return;
        };
        let mut rng = stream(ctx, UNIT, unit.index);
        // One inspection a day: the unit's other inspections are the last rows of the batch.
        let mut busy: HashSet<NaiveDate> = batch
            .inspections
            .iter()
            .rev()
            .take_while(|i| i.unit_id == unit.id)
            .map(|i| i.inspection_date)
            .collect();
        let recused: Vec<i64> = batch
            .conflicts
            .iter()
            .rev()
            .take_while(|c| c.unit_id == unit.id)
            .map(|c| c.inspector_id)
            .collect();

        match unit.category {
            ManagementCategory::Key if unit.on_file < cal.deadline => {
                // Self-inspection, after the permit was issued where the period allows.
                let mut from = cal.starts_on.max(plus_days(unit.on_file, 1));
                if let Holding::Permit(p) = &unit.holding {
                    let issued = plus_days(p.first_issued_on, 1);
                    if issued > from && issued <= cal.deadline {
                        from = issued;
                    }
                }
                let deadline = cal.deadline;
                let mut self_check = None;
                if let Some(date) = pick_day(&mut rng, from, deadline, &busy) {
                    let size = if rng.chance(0.75) { 2 } else { 3 };
                    let mut local =
                        self.eligible(self.district_roster(unit.district), date, &recused);
                    let mut city = self.eligible(self.municipal_roster(), date, &recused);
                    let mut team = Vec::with_capacity(size);
                    enforcement::draw_into(&mut rng, &mut local, size, &mut team);
                    enforcement::draw_into(
                        &mut rng,
                        &mut city,
                        2usize.saturating_sub(team.len()),
                        &mut team,
                    );
                    team.sort_unstable();
                    let mut p = self.prospect(&mut rng, unit, date, names::PERMIT_CAMPAIGN_NOTES);
                    p.team = team;
                    if p.team.len() >= 2 {
                        busy.insert(date);
                        self_check = Some(p);
                    }
                }
                // A possible October spot check by a joint group (of a unit on file since
                // before the deadline, so before October).
                let (from, to) = joint_window();
                let joint = pick_day(&mut rng, from, to, &busy)
                    .map(|date| self.prospect(&mut rng, unit, date, names::JOINT_SPOT_CHECK_NOTES));
                if let Some(p) = self_check {
                    self.camp.self_checks.push(p);
                    if let Some(j) = joint {
                        self.camp.joint_checks.insert(unit.id, j);
                    }
                }
            }
            ManagementCategory::Simplified => {
                let days = cal.draw_days[unit.district];
                let mut prospects: [Option<Prospect>; 2] = [None, None];
                for (round, day) in days.iter().enumerate() {
                    if unit.on_file >= *day {
                        continue;
                    }
                    let from = plus_days(*day, 5);
                    if let Some(date) = pick_day(&mut rng, from, round_end(round), &busy) {
                        busy.insert(date);
                        prospects[round] =
                            Some(self.prospect(&mut rng, unit, date, names::RANDOM_DRAW_NOTES));
                    }
                }
                if unit.on_file < days[0].max(days[1]) {
                    let positive = batch
                        .units
                        .last()
                        .filter(|u| u.id == unit.id && u.positive_list)
                        .and_then(|u| Some((date_of(u.updated_at), u.positive_list_expires_on?)));
                    self.camp.candidates.push(DrawCandidate {
                        unit_id: unit.id,
                        district: unit.district,
                        on_file: unit.on_file,
                        credit_level: unit.credit_level,
                        positive,
                    });
                }
                for (round, p) in prospects.into_iter().enumerate() {
                    if let Some(p) = p {
                        self.camp.drawn_checks[round].insert(unit.id, p);
                    }
                }
            }
            _ => {}
        }
    }

    /// Writes the campaigns, and for 2021 its draws, inspections and summary reports.
    pub(super) async fn campaigns(
        &mut self,
        txn: &DatabaseTransaction,
        penalties: &[(i64, NaiveDate)],
        max_params: usize,
    ) -> Result<(), DbErr> {
        let ctx = self.ctx;
        let creator = ctx
            .supervision
            .clone()
            .or_else(|| ctx.municipal_enforcement.clone());
        let mut campaign_rows = Vec::new();
        let mut phases = Vec::new();
        let mut rules = Vec::new();
        for plan in &ctx.campaigns {
            campaign_rows.push(campaigns::Model {
                id: plan.id,
                name: plan.name.clone(),
                starts_on: plan.starts_on,
                ends_on: plan.ends_on,
                coverage_category: ManagementCategory::Key,
                coverage_deadline: plan.coverage_deadline,
                summary_deadline: plan.summary_deadline,
                created_by_subject: SEED_SUBJECT.to_owned(),
                created_by_agency: creator.clone(),
                created_at: plan.created_at,
            });
            let kinds = [
                CampaignPhaseKind::SelfInspection,
                CampaignPhaseKind::JointSpotCheck,
                CampaignPhaseKind::Summary,
            ];
            for (i, ((starts_on, ends_on), kind)) in plan.phases.iter().zip(kinds).enumerate() {
                phases.push(campaign_phases::Model {
                    id: next(&mut self.ids.phase),
                    campaign_id: plan.id,
                    name: names::PHASE_NAMES[i].to_owned(),
                    kind,
                    starts_on: *starts_on,
                    ends_on: *ends_on,
                    sort_order: i as i32 + 1,
                });
            }
            for (category, share, period) in [
                (
                    ManagementCategory::Simplified,
                    0.25,
                    SamplingPeriod::Quarter,
                ),
                (ManagementCategory::Registration, 0.1, SamplingPeriod::Year),
            ] {
                rules.push(campaign_sampling_rules::Model {
                    id: next(&mut self.ids.rule),
                    campaign_id: plan.id,
                    management_category: category,
                    share,
                    period,
                });
            }
            self.history.push(Change {
                at: plan.created_at,
                kind: ChangeKind::Campaign,
                record_id: plan.id,
                version: None,
                operation: ChangeOperation::Created,
                state: None,
                district: None,
                agency: creator.as_deref(),
            });
        }
        self.report.campaigns += campaign_rows.len();
        let campaign_2021 = self
            .camp
            .calendar
            .as_ref()
            .and_then(|cal| campaign_rows.iter().find(|c| c.id == cal.campaign).cloned());
        insert_chunked::<campaigns::Entity>(txn, campaign_rows, max_params).await?;
        insert_chunked::<campaign_phases::Entity>(txn, phases, max_params).await?;
        insert_chunked::<campaign_sampling_rules::Entity>(txn, rules, max_params).await?;

        let (Some(cal), Some(campaign)) = (self.camp.calendar.take(), campaign_2021) else {
            return Ok(());
        };
        let mut visits: Vec<Visit> = Vec::new();
        let covered = self.self_inspections(&mut visits);
        let mut draws = Vec::new();
        let mut items = Vec::new();
        self.joint_checks(&cal, &covered, &mut draws, &mut items, &mut visits);
        self.unit_draws(&cal, penalties, &mut draws, &mut items, &mut visits);
        renumber(&mut draws, &mut items);

        // The inspections, numbered in the order they were recorded (written below, a batch at
        // a time: with their JSON they are the bulk of the campaign's rows).
        visits.sort_by(|a, b| {
            (a.prospect.created_at, a.prospect.unit_id)
                .cmp(&(b.prospect.created_at, b.prospect.unit_id))
        });
        self.report.draws += draws.len();
        for d in &draws {
            self.history.push(Change {
                at: d.model.drawn_at,
                kind: ChangeKind::RandomDraw,
                record_id: d.model.id,
                version: None,
                operation: ChangeOperation::Created,
                state: Some("UNPUBLISHED"),
                district: d.model.district_code.as_deref(),
                agency: d.model.drawn_by_agency.as_deref(),
            });
            self.history.push(Change {
                at: d.published_at,
                kind: ChangeKind::RandomDraw,
                record_id: d.model.id,
                version: None,
                operation: ChangeOperation::StateChanged,
                state: Some("PUBLISHED"),
                district: d.model.district_code.as_deref(),
                agency: d.model.drawn_by_agency.as_deref(),
            });
        }
        let draw_rows: Vec<random_draws::Model> = draws.into_iter().map(|d| d.model).collect();
        insert_chunked::<random_draws::Entity>(txn, draw_rows, max_params).await?;
        insert_chunked::<random_draw_items::Entity>(txn, items, max_params).await?;
        let mut visits = visits.into_iter().peekable();
        while visits.peek().is_some() {
            let mut rows = Vec::with_capacity(VISITS_PER_BATCH);
            let mut teams = Vec::new();
            for v in visits.by_ref().take(VISITS_PER_BATCH) {
                let id = next(&mut self.ids.inspection);
                for inspector_id in &v.team {
                    teams.push(inspection_inspectors::Model {
                        inspection_id: id,
                        inspector_id: *inspector_id,
                    });
                }
                let p = v.prospect;
                rows.push(inspections::Model {
                    id,
                    unit_id: p.unit_id,
                    district_code: ctx.districts[p.district].code.clone(),
                    agency_code: v.agency,
                    inspection_date: p.date,
                    source: v.source,
                    mode: InspectionMode::OnSite,
                    campaign_id: Some(cal.campaign),
                    materials_reviewed: json!(p.materials),
                    checklist: checklist_json(&p.checklist),
                    notes: p.note.map(str::to_owned),
                    recorded_by_subject: SEED_SUBJECT.to_owned(),
                    created_at: p.created_at,
                });
            }
            self.report.inspections += rows.len();
            self.history.inspections(&rows);
            insert_chunked::<inspections::Entity>(txn, rows, max_params).await?;
            insert_chunked::<inspection_inspectors::Entity>(txn, teams, max_params).await?;
        }

        let reports = self.summary_reports(txn, &campaign).await?;
        for r in &reports {
            self.history.push(Change {
                at: r.submitted_at,
                kind: ChangeKind::SummaryReport,
                record_id: r.id,
                version: None,
                operation: ChangeOperation::Created,
                state: None,
                district: Some(&r.district_code),
                agency: r.submitted_by_agency.as_deref(),
            });
        }
        self.report.summary_reports += reports.len();
        insert_chunked::<summary_reports::Entity>(txn, reports, max_params).await?;
        Ok(())
    }

    /// The self-inspections that happened: all in most districts, 60–85 % of the units in a few
    /// lagging ones. Returns the inspected units of each district (by district index).
    fn self_inspections(&mut self, visits: &mut Vec<Visit>) -> Vec<Vec<i64>> {
        let ctx = self.ctx;
        let n = ctx.districts.len();
        let mut by_district: Vec<Vec<Prospect>> = (0..n).map(|_| Vec::new()).collect();
        for p in std::mem::take(&mut self.camp.self_checks) {
            by_district[p.district].push(p);
        }
        let mut rng = stream(ctx, LAGGING, 0);
        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        let wanted = rng.range(3, 5) as usize;
        let mut lagging: Vec<Option<f64>> = vec![None; n];
        let mut chosen = 0;
        for d in order {
            // A share of 60–85 % needs at least three units to be told from done or none.
            if chosen < wanted && by_district[d].len() >= 3 {
                lagging[d] = Some(rng.uniform(0.60, 0.85));
                chosen += 1;
            }
        }
        let mut covered = vec![Vec::new(); n];
        for (d, mut prospects) in by_district.into_iter().enumerate() {
            if let Some(share) = lagging[d] {
                let total = prospects.len() as f64;
                let low = (0.6 * total).ceil();
                let high = (0.85 * total).floor();
                let keep = (share * total).round().clamp(low, high) as usize;
                prospects.sort_by(|a, b| a.rank.total_cmp(&b.rank));
                prospects.truncate(keep);
            }
            let agency = ctx.districts[d].enforcement_agency.clone();
            for mut p in prospects {
                covered[d].push(p.unit_id);
                let team = std::mem::take(&mut p.team);
                visits.push(Visit {
                    prospect: p,
                    source: InspectionSource::SpecialCampaign,
                    agency: agency.clone(),
                    team,
                });
            }
            covered[d].sort_unstable();
        }
        covered
    }

    /// The joint-group draw (published before October) and the groups' spot checks.
    fn joint_checks(
        &mut self,
        cal: &Calendar2021,
        covered: &[Vec<i64>],
        draws: &mut Vec<DrawRow>,
        items: &mut Vec<random_draw_items::Model>,
        visits: &mut Vec<Visit>,
    ) {
        let ctx = self.ctx;
        let Some(municipal) = ctx.municipal_enforcement.clone() else {
            return;
        };
        let mut rng = stream(ctx, JOINT_DRAW, 0);
        let mut districts: Vec<String> = ctx.districts.iter().map(|d| d.code.clone()).collect();
        districts.sort();
        let inputs = JointGroupInputs {
            groups: names::JOINT_GROUPS
                .iter()
                .map(|g| (*g).to_owned())
                .collect(),
            districts,
        };
        let seed = rng.next_u64();
        let assignments = sampling::draw_joint_groups(&inputs, seed);
        let drawn_on = pick_day(
            &mut rng,
            ymd(2021, 9, 22),
            ymd(2021, 9, 28),
            &HashSet::new(),
        )
        .unwrap_or(ymd(2021, 9, 22));
        let published_on = plus_days(drawn_on, rng.range(1, 2));
        let drawn_at = timestamp(&mut rng, drawn_on);
        let published_at = timestamp(&mut rng, published_on);
        let draw_id = next(&mut self.ids.draw);
        for (i, a) in assignments.iter().enumerate() {
            items.push(random_draw_items::Model {
                id: next(&mut self.ids.draw_item),
                draw_id,
                unit_id: None,
                district_code: Some(a.district_code.clone()),
                group_label: Some(a.group_label.clone()),
                inspector_ids: json!([]),
                position: i as i32 + 1,
            });
        }
        draws.push(DrawRow {
            model: random_draws::Model {
                id: draw_id,
                campaign_id: Some(cal.campaign),
                district_code: None,
                kind: DrawKind::JointGroups,
                management_category: None,
                requested_count: inputs.groups.len() as i32,
                inspectors_per_unit: 0,
                seed: seed.to_string(),
                algorithm_version: ALGORITHM_VERSION.to_owned(),
                input_digest: sampling::digest(&inputs),
                frozen_inputs: serde_json::to_value(&inputs).unwrap_or(Value::Null),
                result: serde_json::to_value(&assignments).unwrap_or(Value::Null),
                drawn_by_subject: SEED_SUBJECT.to_owned(),
                drawn_by_agency: ctx.supervision.clone().or_else(|| Some(municipal.clone())),
                drawn_at,
                published: true,
                published_on: Some(published_on),
            },
            published_at,
        });

        // The groups: 执法总队 inspectors on the list by October, dealt round-robin.
        let (window_start, _) = joint_window();
        let mut members = self.eligible(self.municipal_roster(), window_start, &[]);
        rng.shuffle(&mut members);
        let groups = inputs.groups.len();
        let mut teams: Vec<Vec<i64>> = vec![Vec::new(); groups];
        if members.len() >= 2 * groups {
            for (i, id) in members.iter().take(3 * groups).enumerate() {
                teams[i % groups].push(*id);
            }
        } else if members.len() >= 2 {
            for (g, team) in teams.iter_mut().enumerate() {
                team.push(members[(2 * g) % members.len()]);
                team.push(members[(2 * g + 1) % members.len()]);
            }
        } else {
            return;
        }
        for team in &mut teams {
            team.sort_unstable();
            team.dedup();
        }

        // Each group checks none, one or two units its districts have self-inspected.
        for a in &assignments {
            let Some(&d) = ctx.district_index.get(&a.district_code) else {
                continue;
            };
            let Some(g) = inputs.groups.iter().position(|l| *l == a.group_label) else {
                continue;
            };
            let mut pick = stream(ctx, JOINT_PICK, d as u64);
            let count = *pick.pick_weighted(&[(0usize, 30), (1, 50), (2, 20)]);
            let mut pool: Vec<i64> = covered[d]
                .iter()
                .copied()
                .filter(|u| self.camp.joint_checks.contains_key(u))
                .collect();
            for _ in 0..count.min(pool.len()) {
                let unit_id = pool.swap_remove(pick.index(pool.len()));
                let team: Vec<i64> = teams[g]
                    .iter()
                    .copied()
                    .filter(|i| !self.camp.conflicts.contains(&(*i, unit_id)))
                    .collect();
                if team.len() < 2 {
                    continue;
                }
                if let Some(prospect) = self.camp.joint_checks.remove(&unit_id) {
                    visits.push(Visit {
                        prospect,
                        source: InspectionSource::JointMunicipal,
                        agency: municipal.clone(),
                        team,
                    });
                }
            }
        }
    }

    /// Each district's April and July draws of SIMPLIFIED units, and the drawn inspections.
    fn unit_draws(
        &mut self,
        cal: &Calendar2021,
        penalties: &[(i64, NaiveDate)],
        draws: &mut Vec<DrawRow>,
        items: &mut Vec<random_draw_items::Model>,
        visits: &mut Vec<Visit>,
    ) {
        let ctx = self.ctx;
        let share = 0.25;
        let mut penalised: HashMap<i64, Vec<NaiveDate>> = HashMap::new();
        for (unit, on) in penalties {
            penalised.entry(*unit).or_default().push(*on);
        }
        let mut by_district: Vec<Vec<&DrawCandidate>> =
            (0..ctx.districts.len()).map(|_| Vec::new()).collect();
        for c in &self.camp.candidates {
            by_district[c.district].push(c);
        }
        let mut conflicts = self.camp.conflicts.clone();
        conflicts.sort_unstable();
        conflicts.dedup();

        let mut planned = Vec::new();
        for (d, list) in by_district.iter().enumerate() {
            for (round, day) in cal.draw_days[d].iter().copied().enumerate() {
                // The target list as it stood that day (units in id order).
                let candidates: Vec<Candidate> = list
                    .iter()
                    .filter(|c| c.on_file < day)
                    .filter(|c| {
                        !c.positive
                            .is_some_and(|(from, to)| from <= day && day <= to)
                    })
                    .map(|c| {
                        let recent = penalised.get(&c.unit_id).is_some_and(|days| {
                            days.iter()
                                .any(|on| *on < day && *on >= plus_days(day, -365))
                        });
                        candidate(c.unit_id, c.credit_level, recent)
                    })
                    .collect();
                if candidates.is_empty() {
                    continue;
                }
                let inspector_ids = {
                    let mut ids = self.eligible(self.district_roster(d), day, &[]);
                    ids.sort_unstable();
                    ids
                };
                let own: Vec<(i64, i64)> = conflicts
                    .iter()
                    .copied()
                    .filter(|(i, _)| inspector_ids.binary_search(i).is_ok())
                    .collect();
                let count = ((candidates.len() as f64) * share).ceil() as u32;
                let inputs = UnitDrawInputs {
                    candidates,
                    inspectors: inspector_ids,
                    conflicts: own,
                    requested_count: count,
                    inspectors_per_unit: DRAWN_TEAM,
                };
                planned.push((d, round, day, inputs));
            }
        }

        for (d, round, day, inputs) in planned {
            let mut rng = stream(ctx, UNIT_DRAW, (d * 2 + round) as u64);
            let seed = rng.next_u64();
            let Ok(drawn) = sampling::draw_units(&inputs, seed) else {
                // Too few inspectors on the district's list that day: no draw.
                continue;
            };
            if drawn.is_empty() {
                continue;
            }
            let district = &ctx.districts[d];
            let draw_id = next(&mut self.ids.draw);
            let mut last_inspection = day;
            for (i, unit) in drawn.iter().enumerate() {
                items.push(random_draw_items::Model {
                    id: next(&mut self.ids.draw_item),
                    draw_id,
                    unit_id: Some(unit.unit_id),
                    district_code: Some(district.code.clone()),
                    group_label: None,
                    inspector_ids: json!(unit.inspector_ids),
                    position: i as i32 + 1,
                });
                if let Some(prospect) = self.camp.drawn_checks[round].remove(&unit.unit_id) {
                    last_inspection = last_inspection.max(prospect.date);
                    visits.push(Visit {
                        prospect,
                        source: InspectionSource::RandomDraw,
                        agency: district.enforcement_agency.clone(),
                        team: unit.inspector_ids.clone(),
                    });
                }
            }
            // Published after the inspections, within 20 days (results of random checks).
            let published_on = plus_days(last_inspection, rng.range(3, 15));
            let drawn_at = timestamp(&mut rng, day);
            let published_at = timestamp(&mut rng, published_on);
            draws.push(DrawRow {
                model: random_draws::Model {
                    id: draw_id,
                    campaign_id: Some(cal.campaign),
                    district_code: Some(district.code.clone()),
                    kind: DrawKind::Units,
                    management_category: Some(ManagementCategory::Simplified),
                    requested_count: inputs.requested_count as i32,
                    inspectors_per_unit: inputs.inspectors_per_unit as i32,
                    seed: seed.to_string(),
                    algorithm_version: ALGORITHM_VERSION.to_owned(),
                    input_digest: sampling::digest(&inputs),
                    frozen_inputs: serde_json::to_value(&inputs).unwrap_or(Value::Null),
                    result: serde_json::to_value(&drawn).unwrap_or(Value::Null),
                    drawn_by_subject: SEED_SUBJECT.to_owned(),
                    drawn_by_agency: Some(district.enforcement_agency.clone()),
                    drawn_at,
                    published: true,
                    published_on: Some(published_on),
                },
                published_at,
            });
        }
    }

    /// The districts' summary reports: most on time, a few late, a few missing; each snapshot
    /// computed as the service would have at the moment of submission.
    async fn summary_reports(
        &mut self,
        txn: &DatabaseTransaction,
        campaign: &campaigns::Model,
    ) -> Result<Vec<summary_reports::Model>, DbErr> {
        let ctx = self.ctx;
        let n = ctx.districts.len();
        let mut rng = stream(ctx, REPORTS, 0);
        let mut order: Vec<usize> = (0..n).collect();
        rng.shuffle(&mut order);
        let missing = (rng.range(2, 3) as usize).min(n / 4);
        let late = (rng.range(3, 5) as usize).min(n / 4);
        let mut plans: Vec<(usize, DateTime<Utc>, bool)> = Vec::new();
        for (k, d) in order.into_iter().enumerate() {
            if k < missing {
                continue;
            }
            let mut r = stream(ctx, REPORTS, d as u64 + 1);
            let none = HashSet::new();
            let is_late = k < missing + late;
            let (from, to) = if is_late {
                (ymd(2021, 12, 1), ymd(2021, 12, 24))
            } else {
                (ymd(2021, 11, 15), campaign.summary_deadline)
            };
            let day = pick_day(&mut r, from, to, &none).unwrap_or(to);
            plans.push((d, timestamp(&mut r, day), is_late));
        }
        plans.sort_by_key(|(d, at, _)| (*at, *d));

        let facts = WindowFacts::load(txn, campaign).await?;
        let mut rows = Vec::with_capacity(plans.len());
        for (d, at, late) in plans {
            let district = &ctx.districts[d];
            let snapshot = facts.summary(campaign, &district.code, at);
            rows.push(summary_reports::Model {
                id: next(&mut self.ids.summary_report),
                campaign_id: campaign.id,
                district_code: district.code.clone(),
                snapshot: serde_json::to_value(&snapshot).unwrap_or(Value::Null),
                submitted_by_subject: SEED_SUBJECT.to_owned(),
                submitted_by_agency: Some(district.enforcement_agency.clone()),
                submitted_at: at,
                late: late && date_of(at) > campaign.summary_deadline,
            });
        }
        Ok(rows)
    }
}

/// Numbers the draws in the order they were made, and their items after them, as the service
/// would have (the ids were taken from the same ranges while generating).
fn renumber(draws: &mut [DrawRow], items: &mut [random_draw_items::Model]) {
    let (Some(first_draw), Some(first_item)) = (
        draws.iter().map(|d| d.model.id).min(),
        items.iter().map(|i| i.id).min(),
    ) else {
        return;
    };
    draws.sort_by_key(|d| (d.model.drawn_at, d.model.id));
    let mut new_id: HashMap<i64, i64> = HashMap::with_capacity(draws.len());
    for (k, d) in draws.iter_mut().enumerate() {
        let id = first_draw + k as i64;
        new_id.insert(d.model.id, id);
        d.model.id = id;
    }
    for item in items.iter_mut() {
        item.draw_id = new_id.get(&item.draw_id).copied().unwrap_or(item.draw_id);
    }
    items.sort_by_key(|i| (i.draw_id, i.position));
    for (k, item) in items.iter_mut().enumerate() {
        item.id = first_item + k as i64;
    }
}

/// A candidate as `domain::draws` weighs it: poor credit or penalised in the last year always
/// drawn; trustworthy units half as often as good ones, warning ones one and a half times.
fn candidate(unit_id: i64, credit_level: CreditLevel, penalised_last_year: bool) -> Candidate {
    let weight = match credit_level {
        CreditLevel::Trustworthy => sampling::WEIGHT_TRUSTWORTHY,
        CreditLevel::Good => sampling::WEIGHT_GOOD,
        CreditLevel::Warning | CreditLevel::Poor => sampling::WEIGHT_WARNING,
    };
    Candidate {
        unit_id,
        weight,
        mandatory: credit_level == CreditLevel::Poor || penalised_last_year,
    }
}

/// An inspection the campaign recorded.
struct Visit {
    prospect: Prospect,
    source: InspectionSource,
    agency: String,
    team: Vec<i64>,
}

struct DrawRow {
    model: random_draws::Model,
    /// When the result was published (the STATE_CHANGED row of the feed).
    published_at: DateTime<Utc>,
}

/// The rows a 2021 summary is computed from, read back from the database (the columns it
/// needs).
struct WindowFacts {
    /// KEY units: (id, district, created_at).
    key_units: Vec<(i64, String, DateTime<Utc>)>,
    /// Inspections linked to the campaign or in its period.
    inspections: Vec<InspectionFact>,
    findings: Vec<FindingFact>,
    /// Their moves: (finding, status reached, when).
    transitions: Vec<(i64, FindingStatus, DateTime<Utc>)>,
    fines: Vec<FineFact>,
}

/// A finding found in the period: (id, district, code, category, created_at).
type FindingFact = (i64, String, String, ViolationCategory, DateTime<Utc>);

/// A fine or daily penalty on one: (finding, amount, days, created_at).
type FineFact = (i64, Option<i64>, Option<i32>, DateTime<Utc>);

struct InspectionFact {
    unit_id: i64,
    district_code: String,
    inspection_date: NaiveDate,
    campaign_id: Option<i64>,
    created_at: DateTime<Utc>,
}

impl WindowFacts {
    async fn load(txn: &DatabaseTransaction, campaign: &campaigns::Model) -> Result<Self, DbErr> {
        let key_units = units::Entity::find()
            .select_only()
            .column(units::Column::Id)
            .column(units::Column::DistrictCode)
            .column(units::Column::CreatedAt)
            .filter(units::Column::ManagementCategory.eq(ManagementCategory::Key))
            .into_tuple::<(i64, String, DateTime<Utc>)>()
            .all(txn)
            .await?;
        let inspections = inspections::Entity::find()
            .select_only()
            .column(inspections::Column::UnitId)
            .column(inspections::Column::DistrictCode)
            .column(inspections::Column::InspectionDate)
            .column(inspections::Column::CampaignId)
            .column(inspections::Column::CreatedAt)
            .filter(
                Condition::any()
                    .add(inspections::Column::CampaignId.eq(campaign.id))
                    .add(
                        inspections::Column::InspectionDate
                            .between(campaign.starts_on, campaign.ends_on),
                    ),
            )
            .into_tuple::<(i64, String, NaiveDate, Option<i64>, DateTime<Utc>)>()
            .all(txn)
            .await?
            .into_iter()
            .map(
                |(unit_id, district_code, inspection_date, campaign_id, created_at)| {
                    InspectionFact {
                        unit_id,
                        district_code,
                        inspection_date,
                        campaign_id,
                        created_at,
                    }
                },
            )
            .collect();
        let in_period = || {
            findings::Entity::find()
                .select_only()
                .column(findings::Column::Id)
                .filter(findings::Column::FoundOn.between(campaign.starts_on, campaign.ends_on))
                .into_query()
        };
        let findings = findings::Entity::find()
            .select_only()
            .column(findings::Column::Id)
            .column(findings::Column::DistrictCode)
            .column(findings::Column::ViolationCode)
            .column(findings::Column::Category)
            .column(findings::Column::CreatedAt)
            .filter(findings::Column::FoundOn.between(campaign.starts_on, campaign.ends_on))
            .into_tuple()
            .all(txn)
            .await?;
        let transitions = finding_transitions::Entity::find()
            .select_only()
            .column(finding_transitions::Column::FindingId)
            .column(finding_transitions::Column::ToStatus)
            .column(finding_transitions::Column::CreatedAt)
            .filter(finding_transitions::Column::FindingId.in_subquery(in_period()))
            .into_tuple()
            .all(txn)
            .await?;
        let fines = enforcement_actions::Entity::find()
            .select_only()
            .column(enforcement_actions::Column::FindingId)
            .column(enforcement_actions::Column::AmountYuan)
            .column(enforcement_actions::Column::Days)
            .column(enforcement_actions::Column::CreatedAt)
            .filter(enforcement_actions::Column::FindingId.in_subquery(in_period()))
            .filter(enforcement_actions::Column::Kind.is_in([
                EnforcementActionKind::Fine,
                EnforcementActionKind::DailyContinuousPenalty,
            ]))
            .into_tuple()
            .all(txn)
            .await?;
        Ok(Self {
            key_units,
            inspections,
            findings,
            transitions,
            fines,
        })
    }

    /// `domain::campaigns::summary` of one district as of `at`: the rows that existed then.
    fn summary(&self, campaign: &campaigns::Model, district: &str, at: DateTime<Utc>) -> Summary {
        let on = date_of(at);
        let counted_until = campaign.coverage_deadline.min(on);
        let in_scope: HashSet<i64> = self
            .key_units
            .iter()
            .filter(|(_, d, created)| d == district && *created <= at)
            .map(|(id, _, _)| *id)
            .collect();
        let existing: Vec<&InspectionFact> = self
            .inspections
            .iter()
            .filter(|i| i.created_at <= at)
            .collect();
        let inspected: HashSet<i64> = existing
            .iter()
            .filter(|i| in_scope.contains(&i.unit_id))
            .filter(|i| {
                i.campaign_id == Some(campaign.id)
                    || (campaign.starts_on <= i.inspection_date
                        && i.inspection_date <= counted_until)
            })
            .map(|i| i.unit_id)
            .collect();
        let inspections = existing
            .iter()
            .filter(|i| i.district_code == district)
            .filter(|i| {
                i.campaign_id == Some(campaign.id)
                    || (campaign.starts_on <= i.inspection_date
                        && i.inspection_date <= campaign.ends_on)
            })
            .count() as i64;
        let found: Vec<&FindingFact> = self
            .findings
            .iter()
            .filter(|(_, d, _, _, created)| d == district && *created <= at)
            .collect();
        let ids: HashSet<i64> = found.iter().map(|f| f.0).collect();
        let mut by_code: Vec<CodeCount> = Vec::new();
        let mut by_category: Vec<CategoryCount> = Vec::new();
        for (_, _, code, category, _) in &found {
            match by_code.iter_mut().find(|c| c.code == *code) {
                Some(c) => c.findings += 1,
                None => by_code.push(CodeCount {
                    code: code.clone(),
                    findings: 1,
                }),
            }
            let category = sea_orm::ActiveEnum::to_value(category);
            match by_category.iter_mut().find(|c| c.category == category) {
                Some(c) => c.findings += 1,
                None => by_category.push(CategoryCount {
                    category,
                    findings: 1,
                }),
            }
        }
        by_code.sort_by(|a, b| b.findings.cmp(&a.findings).then(a.code.cmp(&b.code)));
        by_category.sort_by(|a, b| {
            b.findings
                .cmp(&a.findings)
                .then(a.category.cmp(&b.category))
        });
        let reaching = |status: FindingStatus| {
            self.transitions
                .iter()
                .filter(|(finding, to, when)| *to == status && *when <= at && ids.contains(finding))
                .map(|(finding, _, _)| *finding)
                .collect::<HashSet<i64>>()
                .len() as i64
        };
        let fines_yuan = self
            .fines
            .iter()
            .filter(|(finding, _, _, when)| ids.contains(finding) && *when <= at)
            .map(|(_, amount, days, _)| amount.unwrap_or(0) * i64::from(days.unwrap_or(1)))
            .sum();
        let ordered = reaching(FindingStatus::RectificationOrdered);
        let rectified = reaching(FindingStatus::Rectified);
        Summary {
            campaign_id: campaign.id,
            district_code: district.to_owned(),
            in_scope: in_scope.len() as i64,
            inspected: inspected.len() as i64,
            inspections,
            findings: found.len() as i64,
            by_category,
            by_code,
            cases: reaching(FindingStatus::CaseFiled),
            fines_yuan,
            rectification_ordered: ordered,
            rectified,
            rectification_rate: if ordered == 0 {
                0.0
            } else {
                rectified as f64 / ordered as f64
            },
            // The seed writes no feedback (证后管理反馈) rows.
            feedback_sent: 0,
            computed_on: on,
        }
    }
}
