//! History through the domain: every act after the base tables (permit changes, renewals and
//! ends, the inspector lists, inspections, findings and their lifecycles, enforcement actions,
//! the campaigns) is a domain command, run in date order under `clock::at` with a principal of
//! the agency that acted. Acts may schedule later ones (a finding its correction order,
//! re-inspection and closing); those that would fall after `today` are left undone, so recent
//! findings are still open or in progress, as they would be.
//!
//! Choices that depend on what stands on the day (which code a finding can bear) are asked of
//! the domain (`permits::standing_on`), so the seed never keeps its own copy of the rules.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::base::Subject;
use super::names::{self, CheckScope};
use super::story::{self, Visit};
use super::{Context, Refused, SeedReport, at_local, office_hours, plus_days, principal};
use entity::enums::{
    EnforcementActionKind, FindingSeverity, FindingStatus, InspectionMode, InspectionSource,
    ManagementCategory, PermitStatus, RegistrationStatus,
};
use entity::registrations;
use permit_core::auth::{Principal, Role};
use permit_core::domain::reference::ReferenceCache;
use permit_core::domain::taxonomy::{PermitRequirement, allowed_actions, permit_requirement};
use permit_core::domain::{cases, clock, findings, inspections, inspectors, permits};
use permit_core::rng::Rng;

/// Streams of the replay's own choices, apart from the units' streams.
const REPLAY_STREAMS: u64 = 0x5245_504C_4159_3031; // "REPLAY01"

/// Share of ordinary inspections that find a violation.
const FINDING_RATE: f64 = 0.35;

/// Something to do on a day.
pub(super) enum Act {
    Permit {
        subject: usize,
        step: usize,
    },
    Inspect(Inspection),
    /// Correction order (责令改正) and RECTIFICATION_ORDERED.
    Order(usize),
    /// A finding's case filed (立案).
    File(usize),
    /// The penalty decision; the domain moves the finding to PENALISED.
    Penalise(usize),
    /// Closed after rectification or penalty.
    Close(usize),
    Dismiss(usize),
    /// Municipal supervision creates a campaign (the 2021 one, or the current year's).
    CreateCampaign {
        current: bool,
    },
    /// A district's part in a campaign: its draw, then its inspections.
    District {
        current: bool,
        district: usize,
    },
    /// The 2021 campaign's joint-group draw.
    JointDraw,
    /// A district's 2021 summary report.
    Summary {
        district: usize,
    },
}

/// An inspection to record.
pub(super) struct Inspection {
    pub subject: usize,
    pub visit: Visit,
    pub campaign: Option<i64>,
    /// A drawn team; otherwise picked from the agency's list.
    pub team: Option<Vec<i64>>,
    /// The agency recording it; otherwise the district's enforcement agency.
    pub agency: Option<String>,
    /// The finding whose rectification this re-inspection (复查) confirms.
    pub follows: Option<usize>,
    pub finding_rate: f64,
}

/// A finding as the replay follows it.
struct Followed {
    id: i64,
    version: i32,
    code: String,
    found_on: NaiveDate,
    agency: String,
    district: String,
    subject: usize,
    severity: FindingSeverity,
}

pub(super) struct Replay<'a> {
    pub db: &'a DatabaseConnection,
    pub ctx: &'a Context,
    pub subjects: &'a [Subject],
    pub report: &'a mut SeedReport,
    acts: Vec<Option<Act>>,
    queue: BinaryHeap<Reverse<(DateTime<Utc>, usize)>>,
    /// Active inspectors of each enforcement agency.
    pub inspectors: HashMap<String, Vec<i64>>,
    conflicts: HashSet<(i64, i64)>,
    permit_versions: HashMap<usize, i32>,
    followed: Vec<Followed>,
    /// Decision numbers given so far, by agency, kind and year.
    counters: HashMap<(String, i32), u32>,
    /// The campaigns created so far: the 2021 one (`false`) and the current year's (`true`).
    pub campaign_ids: HashMap<bool, i64>,
    /// The reference tables, read once (the violation codes findings are recorded under).
    reference: ReferenceCache,
}

/// Replays the history of `subjects` (see the module documentation).
pub(super) async fn run(
    db: &DatabaseConnection,
    ctx: &Context,
    subjects: &[Subject],
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let mut replay = Replay {
        db,
        ctx,
        subjects,
        report,
        acts: Vec::new(),
        queue: BinaryHeap::new(),
        inspectors: HashMap::new(),
        conflicts: HashSet::new(),
        permit_versions: HashMap::new(),
        followed: Vec::new(),
        counters: HashMap::new(),
        campaign_ids: HashMap::new(),
        reference: ReferenceCache::default(),
    };
    let start = plus_days(ctx.today, -story::WINDOW_DAYS).min(super::campaigns::first_day(ctx));
    replay.register_inspectors(plus_days(start, -30)).await?;
    replay.plan(start)?;
    while let Some(Reverse((at, slot))) = replay.queue.pop() {
        let Some(act) = replay.acts.get_mut(slot).and_then(Option::take) else {
            continue;
        };
        let mut rng = Rng::stream(ctx.seed ^ REPLAY_STREAMS, slot as u64);
        clock::at(at, replay.act(act, at, &mut rng)).await?;
    }
    replay.finish().await?;
    super::monitoring::run(db, ctx, subjects, replay.report).await
}

impl Replay<'_> {
    /// Schedules `act` at `at`, unless that is after `today`.
    pub fn schedule(&mut self, at: DateTime<Utc>, act: Act) {
        if clock::date_of(at) > self.ctx.today {
            return;
        }
        self.acts.push(Some(act));
        self.queue.push(Reverse((at, self.acts.len() - 1)));
    }

    /// The permit steps of every unit, the inspections of the replayed ones, the campaigns.
    fn plan(&mut self, start: NaiveDate) -> Result<(), DbErr> {
        let ctx = self.ctx;
        for (i, s) in self.subjects.iter().enumerate() {
            let mut rng = Rng::stream(ctx.seed ^ REPLAY_STREAMS ^ 0xFF, s.index);
            if let Some(permit) = &s.permit {
                for (k, step) in permit.steps.iter().enumerate() {
                    let at = office_hours(&mut rng, step.date);
                    self.schedule(
                        at,
                        Act::Permit {
                            subject: i,
                            step: k,
                        },
                    );
                }
            }
            if !s.replayed {
                continue;
            }
            for visit in story::visits(&mut rng, s.category, s.on_file.max(start), ctx.today) {
                let at = office_hours(&mut rng, visit.date);
                self.schedule(at, Act::Inspect(self.ordinary(i, visit)));
            }
        }
        super::campaigns::plan(self)
    }

    /// An inspection of the unit's own agency; desk reviews find less.
    fn ordinary(&self, subject: usize, visit: Visit) -> Inspection {
        let on_site = visit.mode == InspectionMode::OnSite;
        let finding_rate = if on_site { FINDING_RATE } else { 0.1 };
        let (campaign, team, agency, follows) = (None, None, None, None);
        Inspection {
            subject,
            visit,
            campaign,
            team,
            agency,
            follows,
            finding_rate,
        }
    }

    async fn act(&mut self, act: Act, at: DateTime<Utc>, rng: &mut Rng) -> Result<(), DbErr> {
        match act {
            Act::Permit { subject, step } => self.permit_step(subject, step).await,
            Act::Inspect(inspection) => self.inspect(inspection, at, rng).await.map(|_| ()),
            Act::Order(f) => self.order(f, at).await,
            Act::File(f) => self.advance(f, FindingStatus::CaseFiled, None, None).await,
            Act::Penalise(f) => self.penalise(f, at, rng).await,
            Act::Close(f) => self.advance(f, FindingStatus::Closed, None, None).await,
            Act::Dismiss(f) => {
                let reason = rng.pick(names::DISMISSAL_REASONS).to_string();
                self.advance(f, FindingStatus::Dismissed, Some(reason), None)
                    .await
            }
            Act::CreateCampaign { current } => self.create(current).await,
            Act::District { current, district } => self.district(current, district, at, rng).await,
            Act::JointDraw => self.joint_draw(rng).await,
            Act::Summary { district } => self.summary(district).await,
        }
    }

    /// Agency principals: the district's enforcement officer, or the municipal one.
    pub fn officer(&self, agency: &str) -> Principal {
        principal(Role::EnforcementOfficer, agency)
    }

    async fn permit_step(&mut self, subject: usize, step: usize) -> Result<(), DbErr> {
        let Some(permit) = &self.subjects[subject].permit else {
            return Ok(());
        };
        let Some(step) = permit.steps.get(step) else {
            return Ok(());
        };
        let who = principal(Role::PermitOfficer, &permit.agency);
        let version = *self.permit_versions.get(&subject).unwrap_or(&1);
        let (action, change) = (step.action, step.change.clone());
        let applied = permits::apply(self.db, Some(&who), permit.id, version, action, change).await;
        match applied {
            Ok(updated) => {
                self.permit_versions.insert(subject, updated.version);
                self.report.permit_versions += 1;
                Ok(())
            }
            // A step the state machine refuses (planned after an end) is not taken: the office
            // could not have taken it either.
            Err(e @ permit_core::error::AppError::InvalidTransition { .. }) => {
                tracing::debug!(error = ?e, "demo seed: a planned permit step refused");
                Ok(())
            }
            Err(e) => Err(e).refused("a permit step"),
        }
    }

    /// The lists of every enforcement agency (执法人员名录库).
    async fn register_inspectors(&mut self, on: NaiveDate) -> Result<(), DbErr> {
        let mut agencies: Vec<(String, u32)> = self
            .ctx
            .districts
            .iter()
            .filter(|d| d.enforcement.starts_with(&d.code))
            .map(|d| (d.enforcement.clone(), 5 + d.weight))
            .collect();
        if let Some(m) = &self.ctx.municipal_enforcement {
            agencies.push((m.clone(), 30));
        }
        let mut rng = Rng::stream(self.ctx.seed ^ REPLAY_STREAMS, u64::MAX);
        for (agency, count) in agencies {
            let who = self.officer(&agency);
            let digits: String = agency.chars().filter(char::is_ascii_digit).collect();
            for n in 1..=count {
                let name = super::base::person_name(&mut rng);
                let certificate = format!("{digits}{:03}{n:03}", self.ctx.seed % 1000);
                let at = office_hours(&mut rng, on);
                let saved = clock::at(
                    at,
                    inspectors::register(self.db, Some(&who), &name, &agency, &certificate),
                )
                .await
                .refused("an inspector")?;
                self.inspectors
                    .entry(agency.clone())
                    .or_default()
                    .push(saved.id);
                self.report.inspectors += 1;
            }
        }
        self.declare_conflicts(on, &mut rng).await
    }

    /// About one unit in seventy has an inspector who declared a conflict (回避).
    async fn declare_conflicts(&mut self, on: NaiveDate, rng: &mut Rng) -> Result<(), DbErr> {
        for s in self.subjects.iter().filter(|s| s.replayed) {
            if !rng.chance(1.0 / 70.0) {
                continue;
            }
            let agency = self.ctx.districts[s.district].enforcement.clone();
            let Some(&inspector) = self.inspectors.get(&agency).map(|l| rng.pick(l)) else {
                continue;
            };
            let who = self.officer(&agency);
            let reason = rng.pick(names::CONFLICT_REASONS);
            clock::at(
                office_hours(rng, on),
                inspectors::declare_conflict(self.db, Some(&who), inspector, s.unit_id, reason),
            )
            .await
            .refused("a conflict of interest")?;
            self.conflicts.insert((inspector, s.unit_id));
            self.report.inspector_conflicts += 1;
        }
        Ok(())
    }

    /// A team of `size` from `agency`'s list, leaving out whoever declared a conflict.
    pub fn team(&self, agency: &str, unit_id: i64, size: usize, rng: &mut Rng) -> Vec<i64> {
        let mut pool: Vec<i64> = self
            .inspectors
            .get(agency)
            .map(|l| {
                l.iter()
                    .copied()
                    .filter(|i| !self.conflicts.contains(&(*i, unit_id)))
                    .collect()
            })
            .unwrap_or_default();
        rng.shuffle(&mut pool);
        pool.truncate(size);
        pool
    }

    /// Records an inspection and, now and then, its finding; returns the inspection's id.
    pub async fn inspect(
        &mut self,
        plan: Inspection,
        at: DateTime<Utc>,
        rng: &mut Rng,
    ) -> Result<Option<i64>, DbErr> {
        let subject = &self.subjects[plan.subject];
        let home = &self.ctx.districts[subject.district].enforcement;
        let agency = plan.agency.clone().unwrap_or_else(|| home.clone());
        let on_site = plan.visit.mode == InspectionMode::OnSite;
        let size = if on_site { rng.range(2, 3) as usize } else { 1 };
        let team = match plan.team.clone() {
            Some(team) => team,
            None => self.team(&agency, subject.unit_id, size, rng),
        };
        if team.len() < size.min(2) {
            return Ok(None);
        }
        let (date, revisit) = (plan.visit.date, plan.follows.is_some());
        let finding = match rng.chance(plan.finding_rate) && !revisit {
            true => self.code_for(subject, date, on_site, rng).await?,
            false => None,
        };
        let failed = finding.as_ref().map(|f| f.0.as_str());
        let input = inspections::RecordInspectionInput {
            unit_id: subject.unit_id,
            inspection_date: date,
            source: plan.visit.source,
            mode: plan.visit.mode,
            campaign_id: plan.campaign,
            inspector_ids: team,
            materials_reviewed: materials(rng, on_site),
            checklist: checklist(rng, subject, date, failed, revisit),
            notes: Some(note(plan.visit.source, revisit).to_owned()),
        };
        let who = self.officer(&agency);
        let saved = inspections::record(self.db, Some(&who), input, None)
            .await
            .refused("an inspection")?;
        self.report.inspections += 1;
        if let Some(f) = plan.follows {
            self.advance(f, FindingStatus::Rectified, None, Some(saved.id))
                .await?;
            let later = plus_days(date, rng.range(3, 15));
            let later = office_hours(rng, later);
            self.schedule(later, Act::Close(f));
        }
        if let Some(code) = finding {
            self.find(&plan, saved.id, &agency, code, at, rng).await?;
        }
        Ok(Some(saved.id))
    }

    /// A code the unit's standing on `date` allows, asked of the domain, with the permit it
    /// names; none when nothing fits (a registered REGISTRATION-tier unit).
    async fn code_for(
        &self,
        subject: &Subject,
        date: NaiveDate,
        on_site: bool,
        rng: &mut Rng,
    ) -> Result<Option<(String, Option<i64>)>, DbErr> {
        use PermitStatus::*;
        let standing = permits::standing_on(self.db, subject.unit_id, date)
            .await
            .refused("a permit standing")?;
        let named = |statuses: &[PermitStatus]| {
            let found = standing
                .iter()
                .find(|(_, s)| s.is_some_and(|s| statuses.contains(&s)));
            found.map(|(p, _)| Some(p.id))
        };
        if let Some(permit) = named(&[Valid]) {
            return Ok(self.breach(rng, on_site).map(|code| (code, permit)));
        }
        if let Some(permit) = named(&[Expired]) {
            return Ok(Some(("NP-2".to_owned(), permit)));
        }
        if let Some(permit) = named(&[Revoked, Cancelled, Withdrawn]) {
            return Ok(Some(("NP-3".to_owned(), permit)));
        }
        let wanted = match subject.category {
            ManagementCategory::Registration => PermitRequirement::RegistrationTier,
            _ => PermitRequirement::NoPermit,
        };
        // RG-1 is for a unit not registered that day.
        let registered = registrations::Entity::find()
            .filter(registrations::Column::UnitId.eq(subject.unit_id))
            .filter(registrations::Column::Status.eq(RegistrationStatus::Valid))
            .filter(registrations::Column::RegisteredOn.lte(date))
            .filter(registrations::Column::ValidTo.gte(date))
            .one(self.db)
            .await?;
        if registered.is_some() {
            return Ok(None);
        }
        let code = self
            .ctx
            .codes
            .iter()
            .find(|c| permit_requirement(&c.code) == wanted);
        Ok(code.map(|c| (c.code.clone(), None)))
    }

    /// A breach of a valid permit's conditions; the grave ones (evasion, fraud) rarely, and not
    /// exceedances (those come with measurements, from the monitoring).
    fn breach(&self, rng: &mut Rng, on_site: bool) -> Option<String> {
        let codes: Vec<(&str, u32)> = self
            .ctx
            .codes
            .iter()
            .filter(|c| {
                permit_requirement(&c.code) == PermitRequirement::ValidPermit && c.code != "EX-1"
            })
            .filter(|c| {
                on_site
                    || names::CHECK_ITEMS
                        .iter()
                        .any(|(_, codes, _, remote)| *remote && codes.contains(&c.code.as_str()))
            })
            .map(|c| {
                (
                    c.code.as_str(),
                    if c.code.starts_with("EV") || c.code.starts_with("FR") {
                        1
                    } else {
                        4
                    },
                )
            })
            .collect();
        (!codes.is_empty()).then(|| rng.pick_weighted(&codes).to_string())
    }

    /// Records the finding of an inspection and schedules its lifecycle.
    async fn find(
        &mut self,
        plan: &Inspection,
        inspection_id: i64,
        agency: &str,
        (code, permit_id): (String, Option<i64>),
        at: DateTime<Utc>,
        rng: &mut Rng,
    ) -> Result<(), DbErr> {
        use FindingSeverity::*;
        let severity = *rng.pick_weighted(&[(Minor, 35), (General, 50), (Serious, 15)]);
        // The code's wording, as the record of the inspection states it.
        let label = self.ctx.codes.iter().find(|c| c.code == code);
        let description = label.map_or(code.clone(), |c| format!("经现场检查，{}", c.label_zh));
        let date = plan.visit.date;
        let evidence = evidence(rng, plan.visit.mode == InspectionMode::OnSite, at);
        self.report.finding_evidence += evidence.len();
        let input = findings::RecordFindingInput {
            inspection_id,
            code: code.clone(),
            permit_id,
            outlet_code: None,
            pollutant: None,
            measured_value: None,
            measured_unit: None,
            severity,
            description,
            rectification_deadline: Some(plus_days(date, 30)),
            evidence,
            candidate_id: None,
        };
        let who = self.officer(agency);
        let reference = self
            .reference
            .get(self.db)
            .await
            .refused("the reference tables")?;
        let recorded = findings::record(self.db, reference, Some(&who), input, None)
            .await
            .refused("a finding")?;
        self.report.findings += 1;
        self.followed.push(Followed {
            id: recorded.finding.id,
            version: recorded.finding.version,
            code,
            found_on: date,
            agency: agency.to_owned(),
            district: recorded.finding.district_code,
            subject: plan.subject,
            severity,
        });
        self.lifecycle(self.followed.len() - 1, date, rng);
        Ok(())
    }

    /// Dismissed now and then; otherwise ordered to correct and re-inspected, or a case filed
    /// and penalised (where the code's article provides a fine), then closed.
    fn lifecycle(&mut self, f: usize, date: NaiveDate, rng: &mut Rng) {
        let fines = allowed_actions(&self.followed[f].code).contains(&EnforcementActionKind::Fine);
        let serious = self.followed[f].severity != FindingSeverity::Minor;
        let roll = rng.f64();
        // About a third wait weeks or months for the first decision: recent ones are still OPEN.
        let start = plus_days(
            date,
            if rng.chance(0.35) {
                rng.range(20, 150)
            } else {
                0
            },
        );
        let day = |rng: &mut Rng, lo, hi| {
            let on = plus_days(start, rng.range(lo, hi));
            office_hours(rng, on)
        };
        if roll < 0.08 {
            let at = day(rng, 5, 20);
            self.schedule(at, Act::Dismiss(f));
        } else if fines && serious && roll < 0.5 {
            let filed = day(rng, 3, 10);
            let decided = day(rng, 20, 45);
            let closed = day(rng, 60, 120);
            self.schedule(filed, Act::File(f));
            self.schedule(decided, Act::Penalise(f));
            // Some stay PENALISED (the fine not yet paid), some RECTIFICATION_ORDERED below.
            if rng.chance(0.75) {
                self.schedule(closed, Act::Close(f));
            }
        } else {
            let ordered = day(rng, 1, 5);
            let revisit = rng.range(25, 60);
            self.schedule(ordered, Act::Order(f));
            if rng.chance(0.25) {
                return;
            }
            let s = self.followed[f].subject;
            let visit = Visit {
                date: story::working_day(plus_days(start, revisit), self.ctx.today),
                source: InspectionSource::Routine,
                mode: InspectionMode::OnSite,
            };
            let at = office_hours(rng, visit.date);
            let agency = Some(self.followed[f].agency.clone());
            let follow_up = Inspection {
                follows: Some(f),
                agency,
                ..self.ordinary(s, visit)
            };
            self.schedule(at, Act::Inspect(follow_up));
        }
    }

    async fn advance(
        &mut self,
        f: usize,
        to: FindingStatus,
        reason: Option<String>,
        reinspection: Option<i64>,
    ) -> Result<(), DbErr> {
        let followed = &self.followed[f];
        let who = self.officer(&followed.agency);
        let moved = findings::advance(
            self.db,
            Some(&who),
            followed.id,
            followed.version,
            to,
            reason,
            reinspection,
        )
        .await
        .refused("a finding's move")?;
        self.followed[f].version = moved.version;
        self.report.finding_transitions += 1;
        Ok(())
    }

    fn decision_number(&mut self, f: usize, kind: &str, on: NaiveDate) -> String {
        let agency = self.followed[f].agency.clone();
        let district = self
            .ctx
            .districts
            .iter()
            .find(|d| d.code == self.followed[f].district);
        let prefix = match district {
            Some(d) if agency.starts_with(&d.code) => format!("{}环", d.short),
            _ => "渝环执".to_owned(),
        };
        let year = chrono::Datelike::year(&on);
        let n = self
            .counters
            .entry((format!("{agency}{kind}"), year))
            .or_insert(0);
        *n += 1;
        format!("{prefix}{kind}〔{year}〕{n}号")
    }

    async fn order(&mut self, f: usize, at: DateTime<Utc>) -> Result<(), DbErr> {
        let on = clock::date_of(at);
        let number = self.decision_number(f, "责改", on);
        self.action(f, EnforcementActionKind::CorrectionOrder, number, on, None)
            .await?;
        self.advance(
            f,
            FindingStatus::RectificationOrdered,
            Some("责令限期改正".to_owned()),
            None,
        )
        .await
    }

    async fn penalise(&mut self, f: usize, at: DateTime<Utc>, rng: &mut Rng) -> Result<(), DbErr> {
        let on = clock::date_of(at);
        let code = self
            .ctx
            .codes
            .iter()
            .find(|c| c.code == self.followed[f].code);
        let (lo, hi) = code.map_or((10_000, 100_000), |c| {
            (c.fine_min.unwrap_or(10_000), c.fine_max.unwrap_or(100_000))
        });
        // Round thousands within the article's range.
        let amount = (rng.range(lo, hi.max(lo)) / 1000 * 1000).clamp(lo, hi.max(lo));
        let number = self.decision_number(f, "罚", on);
        self.action(f, EnforcementActionKind::Fine, number, on, Some(amount))
            .await?;
        // The domain moved the finding to PENALISED with the decision.
        let moved = entity::findings::Entity::find_by_id(self.followed[f].id)
            .one(self.db)
            .await?;
        self.followed[f].version = moved.map_or(self.followed[f].version, |m| m.version);
        self.report.finding_transitions += 1;
        Ok(())
    }

    async fn action(
        &mut self,
        f: usize,
        kind: EnforcementActionKind,
        number: String,
        on: NaiveDate,
        amount: Option<i64>,
    ) -> Result<(), DbErr> {
        let followed = &self.followed[f];
        let who = self.officer(&followed.agency);
        let input = cases::RecordActionInput {
            finding_id: followed.id,
            kind,
            decision_number: number,
            decided_on: on.max(followed.found_on),
            amount_yuan: amount,
            days: None,
            typical_case: false,
            notes: None,
        };
        cases::record(self.db, Some(&who), input, None)
            .await
            .refused("an enforcement action")?;
        self.report.actions += 1;
        Ok(())
    }

    /// What the replay leaves to the calendar: permits past their end without a renewal are
    /// EXPIRED (the status the service reads from the dates).
    async fn finish(&mut self) -> Result<(), DbErr> {
        use entity::permits as rows;
        rows::Entity::update_many()
            .col_expr(
                rows::Column::Status,
                sea_orm::sea_query::Expr::value(PermitStatus::Expired),
            )
            .filter(rows::Column::Status.eq(PermitStatus::Valid))
            .filter(rows::Column::ValidTo.lt(self.ctx.today))
            .exec(self.db)
            .await?;
        Ok(())
    }
}

/// Materials reviewed: the permit documents, and on site most of the others, from the desk
/// the data.
fn materials(rng: &mut Rng, on_site: bool) -> Vec<String> {
    let all = inspections::MATERIALS;
    let others = all[if on_site { 0 } else { 2 }..4]
        .iter()
        .filter(|_| rng.chance(0.7));
    others.chain(&all[4..]).map(|m| m.to_string()).collect()
}

/// The checklist items that apply to the unit, all passing but the one the finding's code
/// stands for; a re-inspection first checks the ordered correction.
fn checklist(
    rng: &mut Rng,
    subject: &Subject,
    date: NaiveDate,
    code: Option<&str>,
    reinspection: bool,
) -> Vec<inspections::ChecklistItem> {
    let season = matches!(chrono::Datelike::month(&date), 11 | 12 | 1 | 2);
    let applies = |scope| match scope {
        CheckScope::Permit => subject.permit.is_some(),
        CheckScope::Registration => subject.permit.is_none(),
        CheckScope::Key => subject.category == ManagementCategory::Key,
        CheckScope::Season => season,
        CheckScope::Air | CheckScope::Any => true,
    };
    let revisit = reinspection.then_some(("责令改正事项整改落实情况", &[][..]));
    let items = names::CHECK_ITEMS.iter().filter(|i| applies(i.2));
    revisit
        .into_iter()
        .chain(items.map(|&(item, codes, _, _)| (item, codes)))
        .map(|(item, codes)| {
            let fail = code.is_some_and(|c| codes.contains(&c));
            let note = match (fail, rng.chance(0.1)) {
                (true, _) => Some("发现问题，详见检查发现"),
                (false, true) => Some("未发现异常"),
                _ => None,
            };
            inspections::ChecklistItem {
                item: item.to_owned(),
                result: if fail { "FAIL" } else { "PASS" }.to_owned(),
                note: note.map(str::to_owned),
            }
        })
        .collect()
}

fn note(source: InspectionSource, reinspection: bool) -> &'static str {
    match source {
        _ if reinspection => "复查：责令改正事项整改落实情况",
        InspectionSource::Complaint => "群众信访投诉核查",
        InspectionSource::Referral => "上级交办案件线索核查",
        InspectionSource::RandomDraw => "“双随机、一公开”抽查",
        InspectionSource::PostPermitCheck => "排污许可证后监管检查",
        InspectionSource::SpecialCampaign => "排污许可专项执法检查",
        InspectionSource::JointMunicipal => "市级联合抽查",
        _ => "日常监管检查",
    }
}

/// One to three evidence files' metadata, captured during the inspection.
fn evidence(rng: &mut Rng, on_site: bool, at: DateTime<Utc>) -> Vec<findings::EvidenceInput> {
    let kinds = if on_site {
        names::EVIDENCE_ON_SITE
    } else {
        names::EVIDENCE_REMOTE
    };
    (0..rng.range(1, 3))
        .map(|n| {
            let (stem, ext, media, (lo, hi)) = *rng.pick(kinds);
            findings::EvidenceInput {
                file_name: format!("{stem}{}.{ext}", n + 1),
                media_type: media.to_owned(),
                size_bytes: rng.range(lo, hi) * 1024,
                sha256: (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect(),
                captured_at: Some(at - chrono::Duration::minutes(rng.range(5, 90))),
            }
        })
        .collect()
}

/// Noon in Chongqing: campaign decisions that have no office hour of their own.
pub(super) fn noon(date: NaiveDate) -> DateTime<Utc> {
    at_local(date, 12 * 3600)
}
