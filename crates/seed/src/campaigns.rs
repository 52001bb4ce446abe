//! The campaigns, through the domain: the 2021 permit special enforcement of the plan
//! (重庆市2021年排污许可专项执法现场检查计划) — created by municipal supervision, district
//! self-inspections covering the KEY units, per-district random draws (双随机) of SIMPLIFIED
//! units inspected by the drawn teams, the municipal joint-group draw and its joint spot checks,
//! and the districts' summary reports (a few late or missing) — and the current year's
//! campaign, to which this year's special-campaign inspections belong. Draw seeds come from the
//! seed, so the draws are reproducible and verifiable (`draws::verify`).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::DbErr;

use super::names;
use super::replay::{Act, Inspection, Replay, noon};
use super::story::{Visit, working_day};
use super::{Context, Refused, office_hours, plus_days, principal};
use entity::enums::{
    CampaignPhaseKind, InspectionMode, InspectionSource, ManagementCategory, SamplingPeriod,
};
use permit_core::auth::Role;
use permit_core::domain::campaigns::{self, CreateCampaignInput, PhaseInput, SamplingInput};
use permit_core::domain::draws::{self, DrawUnitsInput};
use permit_core::error::AppError;
use permit_core::rng::Rng;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The campaigns' dates: (start, self-inspection end, joint checks end, summary deadline).
fn calendar(current: bool, today: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate, NaiveDate) {
    // (month, day) of each, this year's campaign first.
    let [start, self_end, joint_end, deadline] = match current {
        true => [(1, 10), (6, 30), (10, 31), (12, 20)],
        false => [(3, 1), (8, 31), (10, 31), (11, 30)],
    };
    let on = |(m, d)| ymd(if current { today.year() } else { 2021 }, m, d);
    (on(start), on(self_end), on(joint_end), on(deadline))
}

/// Whether the 2021 campaign is part of the history (it is, unless `today` predates its end).
fn with_2021(ctx: &Context) -> bool {
    ctx.supervision.is_some() && ctx.today > ymd(2021, 12, 31)
}

/// The first day the replay needs: the 2021 campaign's start, or the enforcement window's.
pub(super) fn first_day(ctx: &Context) -> NaiveDate {
    let start = ymd(2021, 2, 1);
    if with_2021(ctx) { start } else { ctx.today }
}

/// Schedules the campaigns' decisions.
pub(super) fn plan(replay: &mut Replay<'_>) -> Result<(), DbErr> {
    let ctx = replay.ctx;
    let mut campaigns = Vec::new();
    if with_2021(ctx) {
        campaigns.push(false);
    }
    if ctx.supervision.is_some()
        && ctx.today.year() > 2021
        && ctx.today > ymd(ctx.today.year(), 1, 20)
    {
        campaigns.push(true);
    }
    for current in campaigns {
        let (start, self_end, joint_end, deadline) = calendar(current, ctx.today);
        replay.schedule(noon(start), Act::CreateCampaign { current });
        for district in 0..ctx.districts.len() {
            let at = noon(plus_days(start, 14 + district as i64 % 5));
            replay.schedule(at, Act::District { current, district });
            if !current {
                // Due by the deadline; about one district in ten is late by some days.
                let late = (ctx.seed as usize + district).is_multiple_of(10);
                let on = plus_days(deadline, if late { 12 } else { -(district as i64 % 20) });
                replay.schedule(noon(on), Act::Summary { district });
            }
        }
        if !current {
            replay.schedule(noon(plus_days(self_end, -5)), Act::JointDraw);
        }
        let _ = joint_end;
    }
    Ok(())
}

impl Replay<'_> {
    fn campaign_id(&self, current: bool) -> Option<i64> {
        self.campaign_ids.get(&current).copied()
    }

    pub(super) async fn create(&mut self, current: bool) -> Result<(), DbErr> {
        let ctx = self.ctx;
        let Some(supervision) = &ctx.supervision else {
            return Ok(());
        };
        let (start, self_end, joint_end, deadline) = calendar(current, ctx.today);
        let kinds = [
            (CampaignPhaseKind::SelfInspection, start, self_end),
            (
                CampaignPhaseKind::JointSpotCheck,
                plus_days(self_end, 1),
                joint_end,
            ),
            (
                CampaignPhaseKind::Summary,
                plus_days(joint_end, 1),
                deadline,
            ),
        ];
        let phases = (kinds.into_iter().zip(names::PHASE_NAMES))
            .map(|((kind, starts_on, ends_on), name)| PhaseInput {
                name: name.to_owned(),
                kind,
                starts_on,
                ends_on,
            })
            .collect();
        let input = CreateCampaignInput {
            name: if current {
                format!("{}{}", ctx.today.year(), names::CURRENT_CAMPAIGN_SUFFIX)
            } else {
                names::CAMPAIGN_2021_NAME.to_owned()
            },
            starts_on: start,
            ends_on: deadline,
            coverage_category: ManagementCategory::Key,
            coverage_deadline: self_end,
            summary_deadline: deadline,
            phases,
            sampling: vec![SamplingInput {
                category: ManagementCategory::Simplified,
                share: 0.05,
                period: SamplingPeriod::Campaign,
            }],
        };
        let who = principal(Role::Supervisor, supervision);
        let saved = campaigns::create(self.db, Some(&who), input)
            .await
            .refused("a campaign")?;
        self.campaign_ids.insert(current, saved.id);
        self.report.campaigns += 1;
        Ok(())
    }

    /// Schedules a campaign inspection of `subject` on `date`.
    #[allow(clippy::too_many_arguments)]
    fn campaign_visit(
        &mut self,
        subject: usize,
        date: NaiveDate,
        source: InspectionSource,
        campaign: i64,
        team: Option<Vec<i64>>,
        agency: Option<String>,
        rng: &mut Rng,
    ) {
        let visit = Visit {
            date,
            source,
            mode: InspectionMode::OnSite,
        };
        let inspection = Inspection {
            subject,
            visit,
            campaign: Some(campaign),
            team,
            agency,
            follows: None,
            finding_rate: 0.25,
        };
        let at = office_hours(rng, date);
        self.schedule(at, Act::Inspect(inspection));
    }

    /// A district's part: its random draw of SIMPLIFIED units, inspected by the drawn teams,
    /// and the inspections of its KEY units (the 2021 plan's full coverage; a sample this year).
    pub(super) async fn district(
        &mut self,
        current: bool,
        district: usize,
        at: DateTime<Utc>,
        rng: &mut Rng,
    ) -> Result<(), DbErr> {
        let (ctx, from) = (self.ctx, permit_core::domain::clock::date_of(at));
        let until = calendar(current, ctx.today).1.min(ctx.today);
        let Some(campaign) = self.campaign_id(current).filter(|_| from < until) else {
            return Ok(());
        };
        let day = |rng: &mut Rng| {
            let on = plus_days(from, rng.range(1, (until - from).num_days().max(1)));
            working_day(on, ctx.today)
        };
        let index: HashMap<i64, usize> = (0..self.subjects.len())
            .filter(|&i| self.subjects[i].replayed && self.subjects[i].district == district)
            .map(|i| (self.subjects[i].unit_id, i))
            .collect();
        let agency = ctx.districts[district].enforcement.clone();
        // Only the 2021 plan drew SIMPLIFIED units; this year's lists stay whole for the offices.
        let drawn = match current {
            true => Vec::new(),
            false => self.draw(district, campaign).await?,
        };
        for (unit, team) in drawn {
            if let Some(&subject) = index.get(&unit) {
                let date = day(rng);
                let source = InspectionSource::RandomDraw;
                self.campaign_visit(
                    subject,
                    date,
                    source,
                    campaign,
                    Some(team),
                    Some(agency.clone()),
                    rng,
                );
            }
        }
        // Coverage of the KEY units: all of them in 2021 (a lagging district misses some),
        // about a third this year.
        let share = match (current, rng.chance(0.2)) {
            (true, _) => 0.35,
            (false, lagging) => {
                if lagging {
                    0.8
                } else {
                    1.0
                }
            }
        };
        let mut keys: Vec<usize> = index.into_values().collect();
        keys.retain(|&i| self.subjects[i].category == ManagementCategory::Key);
        keys.sort_unstable();
        for subject in keys {
            if rng.chance(share) {
                let date = day(rng);
                self.campaign_visit(
                    subject,
                    date,
                    InspectionSource::SpecialCampaign,
                    campaign,
                    None,
                    None,
                    rng,
                );
            }
        }
        Ok(())
    }

    /// The district's random draw (双随机) of SIMPLIFIED units with their teams, reproducible
    /// from a seed of the seed's; none where the stratum is empty.
    async fn draw(
        &mut self,
        district: usize,
        campaign: i64,
    ) -> Result<Vec<(i64, Vec<i64>)>, DbErr> {
        let d = &self.ctx.districts[district];
        let who = self.officer(&d.enforcement);
        let seed = self.ctx.seed.wrapping_mul(31).wrapping_add(district as u64);
        let input = DrawUnitsInput {
            campaign_id: Some(campaign),
            district_code: Some(d.code.clone()),
            category: ManagementCategory::Simplified,
            count: None,
            inspectors_per_unit: 2,
            seed: Some(seed),
        };
        let draw = match draws::draw_units(self.db, Some(&who), input).await {
            Ok(draw) => draw,
            Err(AppError::InvalidInput { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e).refused("a district draw"),
        };
        self.report.draws += 1;
        // Results are published (双随机、一公开).
        let published = draws::publish(self.db, Some(&who), draw.id).await;
        published.refused("a draw's publication")?;
        let items = draws::items_of(self.db, draw.id).await.refused("items")?;
        Ok(items
            .into_iter()
            .filter_map(|item| {
                Some((
                    item.unit_id?,
                    serde_json::from_value(item.inspector_ids).ok()?,
                ))
            })
            .collect())
    }

    /// Municipal supervision deals the joint groups to eight districts; each group checks two
    /// KEY units of its district in the joint phase.
    pub(super) async fn joint_draw(&mut self, rng: &mut Rng) -> Result<(), DbErr> {
        let ctx = self.ctx;
        let (Some(campaign), Some(supervision), Some(municipal)) = (
            self.campaign_id(false),
            &ctx.supervision,
            &ctx.municipal_enforcement,
        ) else {
            return Ok(());
        };
        let mut codes: Vec<String> = ctx.districts.iter().map(|d| d.code.clone()).collect();
        rng.shuffle(&mut codes);
        codes.truncate(8);
        let who = principal(Role::Supervisor, supervision);
        let groups = names::JOINT_GROUPS.iter().map(|g| g.to_string()).collect();
        let seed = Some(ctx.seed ^ 0x4A4F_494E);
        let draw =
            draws::draw_joint_groups(self.db, Some(&who), Some(campaign), groups, codes, seed)
                .await
                .refused("the joint-group draw")?;
        self.report.draws += 1;
        let published = draws::publish(self.db, Some(&who), draw.id).await;
        published.refused("the joint-group draw's publication")?;
        let items = draws::items_of(self.db, draw.id).await.refused("items")?;
        let (_, self_end, joint_end, _) = calendar(false, ctx.today);
        for code in items.into_iter().filter_map(|item| item.district_code) {
            let mut keys: Vec<usize> = (0..self.subjects.len())
                .filter(|&i| {
                    let s = &self.subjects[i];
                    s.replayed
                        && ctx.districts[s.district].code == code
                        && s.category == ManagementCategory::Key
                })
                .collect();
            rng.shuffle(&mut keys);
            for subject in keys.into_iter().take(2) {
                let on = plus_days(
                    self_end,
                    rng.range(2, (joint_end - self_end).num_days() - 2),
                );
                let team = self.team(municipal, self.subjects[subject].unit_id, 3, rng);
                let source = InspectionSource::JointMunicipal;
                let date = working_day(on, ctx.today);
                self.campaign_visit(
                    subject,
                    date,
                    source,
                    campaign,
                    Some(team),
                    Some(municipal.clone()),
                    rng,
                );
            }
        }
        Ok(())
    }

    /// A district's summary report, computed by the domain from what was recorded; about one
    /// district in twelve never submits.
    pub(super) async fn summary(&mut self, district: usize) -> Result<(), DbErr> {
        let Some(campaign) = self.campaign_id(false) else {
            return Ok(());
        };
        let d = &self.ctx.districts[district];
        if (self.ctx.seed as usize + district * 7).is_multiple_of(12) {
            return Ok(());
        }
        let who = self.officer(&d.enforcement);
        campaigns::submit_summary(self.db, Some(&who), campaign, Some(&d.code))
            .await
            .refused("a summary report")?;
        self.report.summary_reports += 1;
        Ok(())
    }
}
