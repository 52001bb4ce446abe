//! What happens to a unit, planned from its own random stream before anything is written: the
//! permit's outlets and limits as issued and its later history (changes that add an outlet or
//! tighten a limit, a renewal, a revocation, withdrawal or cancellation), and the dates and
//! kinds of its routine inspections. Nothing here decides whether a move is allowed: the
//! replay hands each step to the domain, whose state machine has the last word.

use std::collections::HashSet;

use chrono::{Datelike, Months, NaiveDate, Weekday};

use super::names::{self, Industry, Media, Pollutant};
use super::plus_days;
use entity::enums::{
    InspectionMode, InspectionSource, ManagementCategory, OutletCategory, OutletMedium,
};
use permit_core::domain::permits::{
    LimitInput, MonitoringInput, OutletInput, PermitAction, PermitChange, default_valid_to,
};
use permit_core::rng::Rng;

/// A permit: as issued, and what the offices do to it later.
pub(super) struct PermitStory {
    pub id: i64,
    pub agency: String,
    pub issued_on: NaiveDate,
    pub issued_outlets: Vec<OutletInput>,
    pub steps: Vec<PermitStep>,
}

/// One later move of a permit, replayed through `permits::apply`.
pub(super) struct PermitStep {
    pub date: NaiveDate,
    pub action: PermitAction,
    pub change: PermitChange,
}

/// How a permit's life ends up as of `today`, in per mille.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Valid,
    /// Valid, but `valid_to` within 60 days: due for renewal (Art 14).
    Expiring,
    Expired,
    Revoked,
    Withdrawn,
    Cancelled,
}

const SCENARIOS: [(Scenario, u32); 6] = [
    (Scenario::Valid, 850),
    (Scenario::Expiring, 50),
    (Scenario::Expired, 50),
    (Scenario::Revoked, 20),
    (Scenario::Withdrawn, 10),
    (Scenario::Cancelled, 20),
];

/// The national programme started issuing in 2017; no permit predates it.
fn programme_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2017, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Plans a permit: draws the scenario and dates, the outlets, and the steps after issue.
pub(super) fn plan_permit(
    rng: &mut Rng,
    today: NaiveDate,
    industry: &'static Industry,
    category: ManagementCategory,
) -> PermitStory {
    let scenario = *rng.pick_weighted(&SCENARIOS);
    let target_end = match scenario {
        Scenario::Valid => plus_days(today, rng.range(63, 1820)),
        Scenario::Expiring => plus_days(today, rng.range(1, 57)),
        Scenario::Expired => plus_days(today, -rng.range(3, 730)),
        _ => plus_days(today, rng.range(-700, 1700)),
    };
    // The current five-year period; an earlier one replaced by a renewal (延续), sometimes.
    let current_from = plus_days(target_end, 1)
        .checked_sub_months(Months::new(60))
        .unwrap_or(target_end);
    let previous_from = current_from.checked_sub_months(Months::new(60));
    let renewed = scenario != Scenario::Expired
        && previous_from.is_some_and(|p| p >= programme_start())
        && rng.chance(0.25);
    let issued_on = match previous_from {
        Some(p) if renewed => p,
        _ => current_from.max(programme_start()),
    };
    let valid_to = default_valid_to(current_from.max(issued_on));
    let mut steps = Vec::new();
    if renewed {
        // Decided some weeks before the first period ends.
        let on = plus_days(default_valid_to(issued_on), -rng.range(5, 50));
        let reason = *rng.pick(names::RENEWAL_REASONS);
        steps.push(step(on, PermitAction::Renew, reason, Some(valid_to)));
    }
    let in_force_until = valid_to.min(today);
    let end_on = |rng: &mut Rng| {
        let earliest = plus_days(issued_on, 60);
        plus_days(
            earliest,
            rng.range(0, (in_force_until - earliest).num_days().max(0)),
        )
        .min(today)
    };
    let end = match scenario {
        Scenario::Revoked => Some((PermitAction::Revoke, *rng.pick(names::REVOCATION_REASONS))),
        Scenario::Withdrawn => Some((PermitAction::Withdraw, "吊销：情节严重，依法吊销排污许可证")),
        Scenario::Cancelled => Some((PermitAction::Cancel, *rng.pick(names::CANCELLATION_REASONS))),
        _ => None,
    };
    let end = end.map(|(action, reason)| match action {
        // An expired permit is cancelled afterwards (EXPIRED → CANCELLED), sometimes.
        PermitAction::Cancel if valid_to < today && rng.chance(0.4) => {
            let after = rng.range(1, (today - valid_to).num_days().max(1));
            (
                plus_days(valid_to, after),
                action,
                "排污许可证有效期届满未延续，依法注销",
            )
        }
        _ => (end_on(rng), action, reason),
    });
    let full = plan_outlets(rng, industry, category);
    let last_change = end.map_or(in_force_until, |e| e.0);
    let (issued_outlets, changes) = plan_changes(rng, full, issued_on, last_change);
    steps.extend(changes);
    if let Some((on, action, reason)) = end {
        steps.push(step(on, action, reason, None));
    }
    // In date order; a renewal and a change on one day go renewal first (stable sort).
    steps.sort_by_key(|s| s.date);
    steps.retain(|s| s.date <= today && s.date > issued_on);
    PermitStory {
        id: 0,
        agency: String::new(),
        issued_on,
        issued_outlets,
        steps,
    }
}

fn step(
    date: NaiveDate,
    action: PermitAction,
    reason: &str,
    valid_to: Option<NaiveDate>,
) -> PermitStep {
    PermitStep {
        date,
        action,
        change: PermitChange {
            reason: reason.to_owned(),
            valid_to,
            ..Default::default()
        },
    }
}

/// 0–2 changes (变更) while the permit is in force: a quarter add the newest outlet (so it is
/// missing as issued), a quarter tighten a limit to its stricter value (so it is laxer as
/// issued), the rest are administrative. Returns the outlets as issued and the changes.
fn plan_changes(
    rng: &mut Rng,
    full: Vec<(OutletInput, Vec<Option<f64>>)>,
    from: NaiveDate,
    to: NaiveDate,
) -> (Vec<OutletInput>, Vec<PermitStep>) {
    let first = plus_days(from, 30);
    let mut dates = Vec::new();
    if first < to {
        let count = *rng.pick_weighted(&[(0usize, 76u32), (1, 19), (2, 5)]);
        for _ in 0..count {
            dates.push(plus_days(first, rng.range(0, (to - first).num_days() - 1)));
        }
        dates.sort_unstable();
        dates.dedup();
    }
    let mut current: Vec<OutletInput> = full.iter().map(|(o, _)| o.clone()).collect();
    let mut states = vec![current.clone()];
    let mut reasons = Vec::new();
    let mut tightened = HashSet::new();
    // Decided latest first, undoing each on `current`: what a later change added or tightened
    // is absent or laxer in every earlier version.
    for _ in &dates {
        let laxer: Vec<(usize, usize, f64)> = full
            .iter()
            .enumerate()
            .take(current.len())
            .flat_map(|(i, (_, lax))| {
                lax.iter()
                    .enumerate()
                    .filter_map(move |(j, l)| l.map(|v| (i, j, v)))
            })
            .filter(|k| !tightened.contains(&(k.0, k.1)))
            .collect();
        let reason = match rng.below(4) {
            0 if current.len() > 1 => {
                let o = current
                    .pop()
                    .map(|o| format!("新增排放口{}（{}）", o.code, o.name.unwrap_or_default()));
                o.unwrap_or_default()
            }
            1 if !laxer.is_empty() => {
                let (i, j, from) = *rng.pick(&laxer);
                tightened.insert((i, j));
                let code = current[i].code.clone();
                let l = &mut current[i].limits[j];
                let to = l.concentration_limit.unwrap_or_default();
                l.concentration_limit = Some(from);
                let unit = l.concentration_unit.clone().unwrap_or_default();
                format!(
                    "执行特别排放限值，{code}{}许可排放浓度由{from}{unit}收严至{to}{unit}",
                    l.pollutant
                )
            }
            _ => (*rng.pick(names::ADMIN_CHANGE_REASONS)).to_owned(),
        };
        reasons.push(reason);
        states.push(current.clone());
    }
    // states[k] is the list after undoing k changes: the issued list is the last.
    let issued = states.pop().unwrap_or_default();
    let steps = dates
        .iter()
        .enumerate()
        .map(|(k, &date)| PermitStep {
            date,
            action: PermitAction::Change,
            change: PermitChange {
                reason: reasons[dates.len() - 1 - k].clone(),
                outlets: states.get(dates.len() - 1 - k).cloned(),
                ..Default::default()
            },
        })
        .collect();
    (issued, steps)
}

/// Outlets per Art 13 and the brief: KEY 2–6 with at least one MAIN, SIMPLIFIED 1–2 GENERAL; the
/// media follow the industry. Each limit comes with the laxer value an earlier version may have
/// had.
fn plan_outlets(
    rng: &mut Rng,
    industry: &Industry,
    category: ManagementCategory,
) -> Vec<(OutletInput, Vec<Option<f64>>)> {
    let (primary, secondary) = match industry.media {
        Media::Air => (OutletMedium::Air, None),
        Media::Water => (OutletMedium::Water, None),
        Media::AirThenWater => (OutletMedium::Air, Some(OutletMedium::Water)),
        Media::WaterThenAir => (OutletMedium::Water, Some(OutletMedium::Air)),
    };
    let key = category == ManagementCategory::Key;
    let count = if key {
        rng.range(2, 6)
    } else {
        rng.range(1, 2)
    } as usize;
    let (mut air_seq, mut water_seq) = (0usize, 0usize);
    let mut outlets = Vec::with_capacity(count);
    for i in 0..count {
        let medium = match secondary {
            // The second outlet of a two-media unit is on the other medium, so both show up.
            Some(other) if i == 1 || (i > 1 && rng.chance(0.3)) => other,
            _ => primary,
        };
        let (prefix, seq, sources, pollutants) = match medium {
            OutletMedium::Air => ("DA", &mut air_seq, industry.air_sources, industry.air),
            OutletMedium::Water => ("DW", &mut water_seq, industry.water_sources, industry.water),
        };
        let nth = *seq;
        *seq += 1;
        let main = key && (i == 0 || (medium == primary && rng.chance(0.35)));
        let source = sources
            .get(nth % sources.len().max(1))
            .copied()
            .unwrap_or("排放口");
        let name = match nth / sources.len().max(1) {
            0 => source.to_owned(),
            round => format!("{}#{source}", round + 1),
        };
        let (limits, laxer) = plan_limits(rng, pollutants, main);
        let mut outlet = OutletInput {
            code: format!("{prefix}{:03}", nth + 1),
            category: if main {
                OutletCategory::Main
            } else {
                OutletCategory::General
            },
            name: Some(name),
            limits,
            monitoring: Vec::new(),
        };
        monitoring_plan(&mut outlet, key);
        outlets.push((outlet, laxer));
    }
    outlets
}

/// The monitoring plan of an outlet: automatic and hourly at a KEY unit's main outlets, by hand
/// and monthly elsewhere.
fn monitoring_plan(outlet: &mut OutletInput, key: bool) {
    use entity::enums::{MonitoringFrequency, MonitoringMethod};
    let (method, frequency) = match key && outlet.category == OutletCategory::Main {
        true => (MonitoringMethod::Automatic, MonitoringFrequency::Hourly),
        false => (MonitoringMethod::Manual, MonitoringFrequency::Monthly),
    };
    let plan = |l: &LimitInput| MonitoringInput {
        pollutant: l.pollutant.clone(),
        method,
        frequency,
    };
    outlet.monitoring = outlet.limits.iter().map(plan).collect();
}

/// 1–4 limits: always the medium's characteristic pollutant, then others of the industry; one
/// strictness for the outlet (special limits, direct or indirect discharge), a few strays.
fn plan_limits(
    rng: &mut Rng,
    pollutants: &'static [Pollutant],
    main: bool,
) -> (Vec<LimitInput>, Vec<Option<f64>>) {
    let Some((first, rest)) = pollutants.split_first() else {
        return (Vec::new(), Vec::new());
    };
    let most = pollutants.len().min(4) as i64;
    let count = if main {
        rng.range(2.min(most), most)
    } else {
        rng.range(1, 3.min(most))
    };
    let mut others: Vec<&'static Pollutant> = rest.iter().collect();
    rng.shuffle(&mut others);
    let mut chosen: Vec<&'static Pollutant> = others.into_iter().take(count as usize - 1).collect();
    chosen.sort_by_key(|p| pollutants.iter().position(|q| q.name == p.name));
    let strictness = rng.f64();
    let (mut limits, mut laxer) = (Vec::new(), Vec::new());
    for p in std::iter::once(first).chain(chosen) {
        let mut values = p.limits.to_vec();
        values.sort_by(f64::total_cmp);
        let concentration = if rng.chance(0.15) {
            *rng.pick(&values)
        } else {
            values[((strictness * values.len() as f64) as usize).min(values.len() - 1)]
        };
        let annual = match p.annual_tpa {
            Some((lo, hi)) if main && rng.chance(0.75) => {
                Some(round_significant(rng.log_uniform(lo, hi), 3))
            }
            _ => None,
        };
        limits.push(LimitInput {
            pollutant: p.name.to_owned(),
            concentration_limit: Some(concentration),
            concentration_unit: Some(p.unit.to_owned()),
            averaging_period: Some(p.period),
            annual_quantity_tpa: annual,
        });
        // The next laxer value of the same standard, if a plausible step (not direct → indirect).
        laxer.push(
            values
                .iter()
                .copied()
                .find(|&l| l > concentration && l <= concentration * 2.5),
        );
    }
    (limits, laxer)
}

/// Rounds to `digits` significant digits, as permits state quantities (12.3 t/a).
fn round_significant(value: f64, digits: i32) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(digits - 1 - value.log10().floor() as i32);
    (value * scale).round() / scale
}

/// A planned inspection (its team, checklist and any finding are decided when replayed).
pub(super) struct Visit {
    pub date: NaiveDate,
    pub source: InspectionSource,
    pub mode: InspectionMode,
}

const SOURCES: [(InspectionSource, u32); 5] = [
    (InspectionSource::Routine, 50),
    (InspectionSource::RandomDraw, 20),
    (InspectionSource::Complaint, 12),
    (InspectionSource::PostPermitCheck, 12),
    (InspectionSource::Referral, 6),
];

/// Days of enforcement history before `today`.
pub(super) const WINDOW_DAYS: i64 = 730;

/// Days between the desk reviews (非现场检查: automatic monitoring, self-monitoring data and
/// execution reports) of a KEY unit.
const REVIEW_EVERY_DAYS: i64 = 120;

/// A unit's ordinary inspections over the window: on site, KEY units most and REGISTRATION ones
/// least, and a KEY unit's periodic desk reviews.
pub(super) fn visits(
    rng: &mut Rng,
    category: ManagementCategory,
    on_file: NaiveDate,
    today: NaiveDate,
) -> Vec<Visit> {
    let (count, key) = match category {
        ManagementCategory::Key => (rng.range(1, 4), true),
        ManagementCategory::Simplified => (rng.range(0, 2), false),
        ManagementCategory::Registration => (i64::from(rng.chance(0.3)), false),
    };
    let from = plus_days(today, -WINDOW_DAYS).max(plus_days(on_file, 1));
    let span = (today - from).num_days();
    if span < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for _ in 0..count {
        let date = working_day(plus_days(from, rng.range(0, span - 1)), today);
        let source = *rng.pick_weighted(&SOURCES);
        out.push(Visit {
            date,
            source,
            mode: InspectionMode::OnSite,
        });
    }
    let mut day = plus_days(from, rng.range(0, REVIEW_EVERY_DAYS));
    while key && day < today {
        let date = working_day(day, today);
        out.push(Visit {
            date,
            source: InspectionSource::Routine,
            mode: InspectionMode::NonSite,
        });
        day = plus_days(day, REVIEW_EVERY_DAYS);
    }
    out
}

/// The working day on or after `date` (Monday to Friday), or `date` itself past `today`.
pub(super) fn working_day(date: NaiveDate, today: NaiveDate) -> NaiveDate {
    let shift = match date.weekday() {
        Weekday::Sat => 2,
        Weekday::Sun => 1,
        _ => 0,
    };
    let moved = plus_days(date, shift);
    if moved > today { date } else { moved }
}
