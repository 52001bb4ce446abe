//! Desk reviews (非现场检查): the district detachment reviews a permitted unit's automatic- and
//! self-monitoring data and execution reports every couple of months and records what it flags
//! as findings. They give the data set its volume — about ten findings a unit, as a city
//! accumulates over the years — at a few rows a finding, so a 100 000-unit seed stays fast.
//!
//! The rows obey the same rules as the rest of the enforcement data: non-site, one active
//! inspector without a conflict with the unit, codes a non-site check can establish on a permit
//! valid that day (`Generator::applies`), at most one inspection a unit a day. A flagged item is
//! a lead: it stays OPEN for the next on-site inspection, or is DISMISSED once the unit shows an
//! instrument or transmission fault it reported in time; no order or fine comes of a desk review,
//! so there are no actions and no deadlines.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::enforcement::{Standing, UnitFacts, checklist, materials, standing, working_day};
use super::{Batch, Generator, SEED_SUBJECT, next, plus_days, timestamp};
use entity::enums::{FindingStatus, InspectionMode, InspectionSource, ManagementCategory};
use entity::{finding_transitions, findings, inspection_inspectors, inspections};
use permit_core::rng::Rng;

/// Salt of the desk reviews' own random streams (the other rows of a seed stay as they were).
const REVIEW_STREAMS: u64 = 0x5245_5649_4557_5331; // "REVIEWS1"

/// Days between two reviews of a unit, on average.
const REVIEW_EVERY_DAYS: i64 = 95;

/// The note every desk review carries (tests tell them from ordinary inspections by it).
pub(crate) const DESK_REVIEW_NOTE: &str = "非现场检查：自动监控、自行监测数据及执行报告审查";

/// Why a flagged item was dropped.
const DISMISS_REASONS: [&str; 3] = [
    "核实为监测设备故障，企业已按规定及时报告",
    "核实为数据传输中断，补传数据未见异常",
    "企业补充材料后核实不构成违法",
];

impl Generator<'_> {
    /// The desk reviews of one unit over `[start, last_day]`, skipping the days it already has
    /// an inspection (`taken`).
    pub(super) fn desk_reviews(
        &mut self,
        unit: &UnitFacts,
        start: NaiveDate,
        last_day: NaiveDate,
        recused: &[i64],
        taken: &HashSet<NaiveDate>,
        batch: &mut Batch,
    ) {
        if !matches!(unit.holding, super::enforcement::Holding::Permit(_)) {
            return;
        }
        let ctx = self.ctx;
        let mut rng = Rng::stream(ctx.seed ^ REVIEW_STREAMS, unit.index);
        let district = &ctx.districts[unit.district];
        let mut from = start;
        while from <= last_day {
            let to = plus_days(from, REVIEW_EVERY_DAYS - 1).min(last_day);
            let date = working_day(
                plus_days(from, rng.range(0, (to - from).num_days())),
                from,
                to,
            );
            from = plus_days(to, 1);
            // A campaign's coverage counts every inspection of its category: KEY units are
            // left to the campaign's own on-site checks while one runs, so that the seeded
            // coverage (most districts complete, a few lagging) stays as planned.
            let in_campaign =
                unit.category == ManagementCategory::Key && ctx.campaign_on(date).is_some();
            if in_campaign || taken.contains(&date) || standing(unit, date) != Standing::Valid {
                continue;
            }
            let team = self.team(&mut rng, unit.district, false, 1, recused);
            let Some(&inspector_id) = team.first() else {
                continue;
            };
            let codes = self.review_codes(&mut rng, unit, date);
            let drafts: Vec<_> = codes
                .into_iter()
                .map(|code| self.draft(&mut rng, unit, code, date, None))
                .collect();

            let mode = InspectionMode::NonSite;
            let inspection_id = next(&mut self.ids.inspection);
            let recorded_at = timestamp(&mut rng, date);
            let materials = materials(&mut rng, unit, mode, &self.codes_of(&drafts));
            let checklist = checklist(&mut rng, unit, Standing::Valid, mode, date, &drafts, ctx);
            let agency = district.enforcement_agency.clone();
            batch.inspections.push(inspections::Model {
                id: inspection_id,
                unit_id: unit.id,
                district_code: district.code.clone(),
                agency_code: agency.clone(),
                inspection_date: date,
                source: InspectionSource::Routine,
                mode,
                campaign_id: None,
                materials_reviewed: json!(materials),
                checklist: Value::Array(checklist.into_iter().map(|(item, _)| item).collect()),
                notes: Some(DESK_REVIEW_NOTE.to_owned()),
                recorded_by_subject: SEED_SUBJECT.to_owned(),
                created_at: recorded_at,
            });
            batch
                .inspection_inspectors
                .push(inspection_inspectors::Model {
                    inspection_id,
                    inspector_id,
                });
            self.report.inspections += 1;

            for (k, draft) in drafts.iter().enumerate() {
                let created_at = recorded_at + chrono::Duration::minutes(3 + 4 * k as i64);
                let finding_id = next(&mut self.ids.finding);
                let transition =
                    |id, from, to, reason: Option<&str>, at| finding_transitions::Model {
                        id,
                        finding_id,
                        from_status: from,
                        to_status: to,
                        reason: reason.map(str::to_owned),
                        reinspection_id: None,
                        actor_subject: SEED_SUBJECT.to_owned(),
                        actor_agency: Some(agency.clone()),
                        created_at: at,
                    };
                batch.transitions.push(transition(
                    next(&mut self.ids.transition),
                    None,
                    FindingStatus::Open,
                    None,
                    created_at,
                ));
                let mut status = FindingStatus::Open;
                let mut updated_at = created_at;
                let mut version = 1;
                let dismissed_on = plus_days(date, rng.range(5, 40));
                if dismissed_on <= last_day && rng.chance(0.45) {
                    let at = timestamp(&mut rng, dismissed_on);
                    batch.transitions.push(transition(
                        next(&mut self.ids.transition),
                        Some(FindingStatus::Open),
                        FindingStatus::Dismissed,
                        Some(*rng.pick(&DISMISS_REASONS)),
                        at,
                    ));
                    status = FindingStatus::Dismissed;
                    updated_at = at;
                    version = 2;
                }
                let info = &ctx.codes[draft.code];
                batch.findings.push(findings::Model {
                    id: finding_id,
                    inspection_id,
                    unit_id: unit.id,
                    district_code: district.code.clone(),
                    permit_id: draft.permit_id,
                    violation_code: info.code.clone(),
                    category: info.category,
                    found_on: date,
                    outlet_id: draft.outlet_id,
                    limit_id: None,
                    permit_version: None,
                    pollutant: draft.pollutant.clone(),
                    measured_value: draft.measured_value,
                    measured_unit: draft.measured_unit.clone(),
                    permitted_value: draft.permitted_value,
                    severity: draft.severity,
                    description: draft.description.clone(),
                    rectification_deadline: None,
                    status,
                    version,
                    created_at,
                    updated_at,
                });
                self.report.findings += 1;
                self.report.finding_transitions += version as usize;
            }
        }
    }

    /// One to four distinct codes a desk review can establish at this unit on this day.
    fn review_codes(&self, rng: &mut Rng, unit: &UnitFacts, date: NaiveDate) -> Vec<usize> {
        let mut weights: Vec<u32> = self
            .ctx
            .codes
            .iter()
            .map(|c| {
                if self.applies(c, unit, Standing::Valid, InspectionMode::NonSite, date) {
                    super::enforcement::code_weight(&c.code)
                } else {
                    0
                }
            })
            .collect();
        let wanted = *rng.pick_weighted(&[(1usize, 15), (2, 35), (3, 35), (4, 15)]);
        let mut chosen = Vec::with_capacity(wanted);
        while chosen.len() < wanted && weights.iter().any(|&w| w > 0) {
            let i = rng.weighted_index(&weights);
            chosen.push(i);
            weights[i] = 0;
        }
        chosen
    }
}
