//! Liaison between the offices: feedback on violation patterns and information bulletins.

use super::time::Time;
use crate::graphql::error::Result;
use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::NaiveDate;

use super::connection::{self, Conn};
use super::enforcement::{FINDING, Finding};
use super::enums::{BulletinKind, FeedbackRecommendation, FeedbackStatus, Role};
use super::ids;
use super::loaders::FindingId;
use super::permits::PERMIT;
use super::reference::{Agency, District, ViolationCode, load_agency, load_district};
use entity::{bulletins as bulletin_rows, feedback as feedback_rows};
use permit_core::domain::{bulletins, feedback};
use permit_core::error::AppError;

pub const FEEDBACK: &str = "Feedback";
pub const BULLETIN: &str = "Bulletin";

async fn findings_by_ids(ctx: &Context<'_>, ids: Vec<i64>) -> Result<Vec<Finding>> {
    let found = super::loader(ctx)?
        .load_many(ids.iter().map(|i| FindingId(*i)))
        .await
        .map_err(AppError::from)?;
    Ok(ids
        .iter()
        .filter_map(|i| found.get(&FindingId(*i)).cloned())
        .map(Finding::new)
        .collect())
}

/// Feedback from enforcement to a permit office on a violation pattern (plan §5(3)).
///
/// The second field is the feed cursor of the event that delivered it (subscriptions only).
pub struct Feedback(pub feedback_rows::Model, pub Option<String>);

impl Feedback {
    pub fn new(row: feedback_rows::Model) -> Self {
        Self(row, None)
    }

    /// As `feedbackPosted` delivers it, at `cursor` in the change feed.
    pub fn delivered(row: feedback_rows::Model, cursor: String) -> Self {
        Self(row, Some(cursor))
    }
}

#[derive(SimpleObject)]
pub struct PermitChangeRef {
    permit_id: ID,
    version: i32,
}

#[Object]
impl Feedback {
    /// Where the event that delivered this record lies in the change feed: set in `feedbackPosted`
    /// payloads (pass it as `after` to resume there, here or to `changes`), null elsewhere.
    async fn cursor(&self) -> Option<&str> {
        self.1.as_deref()
    }
    async fn id(&self) -> ID {
        ids::encode(FEEDBACK, self.0.id)
    }
    async fn poster(&self) -> &str {
        &self.0.poster_subject
    }
    async fn poster_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.poster_agency_code.as_deref()).await
    }
    async fn addressed_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, Some(&self.0.addressed_agency_code)).await
    }
    /// The violation codes of the pattern.
    async fn codes(&self, ctx: &Context<'_>) -> Result<Vec<ViolationCode>> {
        let codes: Vec<String> =
            serde_json::from_value(self.0.pattern_codes.clone()).unwrap_or_default();
        let reference = super::reference_data(ctx).await?;
        Ok(codes
            .iter()
            .filter_map(|c| reference.violation_codes.get(c).cloned())
            .map(Into::into)
            .collect())
    }
    async fn industry(&self) -> Option<&str> {
        self.0.pattern_industry.as_deref()
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, self.0.pattern_district_code.as_deref()).await
    }
    async fn period_from(&self) -> NaiveDate {
        self.0.period_from
    }
    async fn period_to(&self) -> NaiveDate {
        self.0.period_to
    }
    /// The `violationPatterns` figures for these codes, frozen when the feedback was posted.
    async fn figures(&self) -> Json<serde_json::Value> {
        Json(self.0.figures.clone())
    }
    /// The findings it rests on (those the reader may see).
    async fn findings(&self, ctx: &Context<'_>) -> Result<Vec<Finding>> {
        let ids = feedback::finding_ids_of(super::db(ctx)?, self.0.id).await?;
        findings_by_ids(ctx, ids).await
    }
    async fn recommendation(&self) -> FeedbackRecommendation {
        self.0.recommendation.into()
    }
    async fn recommendation_text(&self) -> &str {
        &self.0.recommendation_text
    }
    async fn status(&self) -> FeedbackStatus {
        self.0.status.into()
    }
    async fn answer(&self) -> Option<&str> {
        self.0.answer_text.as_deref()
    }
    async fn answered_by(&self) -> Option<&str> {
        self.0.answered_by_subject.as_deref()
    }
    async fn answered_at(&self) -> Option<Time> {
        self.0.answered_at.map(Time)
    }
    /// Permit versions the office made in response.
    async fn permit_changes(&self, ctx: &Context<'_>) -> Result<Vec<PermitChangeRef>> {
        Ok(feedback::permit_changes_of(super::db(ctx)?, self.0.id)
            .await?
            .into_iter()
            .map(|c| PermitChangeRef {
                permit_id: ids::encode(PERMIT, c.permit_id),
                version: c.permit_version,
            })
            .collect())
    }
    /// Optimistic-locking version: pass it as `expectedVersion` to `respondToFeedback`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> Time {
        self.0.created_at.into()
    }
}

/// An information bulletin (信息通报).
///
/// The second field is the feed cursor of the event that delivered it (subscriptions only).
pub struct Bulletin(pub bulletin_rows::Model, pub Option<String>);

impl Bulletin {
    pub fn new(row: bulletin_rows::Model) -> Self {
        Self(row, None)
    }

    /// As `bulletinPublished` delivers it, at `cursor` in the change feed.
    pub fn delivered(row: bulletin_rows::Model, cursor: String) -> Self {
        Self(row, Some(cursor))
    }
}

#[derive(SimpleObject)]
pub struct Acknowledgement {
    agency: Agency,
    /// The official who acknowledged (null for INTEGRATOR: officials are not named to it).
    acknowledged_by: Option<String>,
    at: Time,
}

/// A case a bulletin reports. No personal data: the unit's legal representative and phone
/// number are not part of a published case.
#[derive(SimpleObject)]
pub struct BulletinCase {
    finding_id: ID,
    code: String,
    found_on: NaiveDate,
    district_code: String,
    unit_name: String,
    credit_code: String,
    decision_number: Option<String>,
    amount_yuan: Option<i64>,
    decided_on: Option<NaiveDate>,
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

#[Object]
impl Bulletin {
    /// Where the event that delivered this record lies in the change feed: set in `bulletinPublished`
    /// payloads (pass it as `after` to resume there, here or to `changes`), null elsewhere.
    async fn cursor(&self) -> Option<&str> {
        self.1.as_deref()
    }
    async fn id(&self) -> ID {
        ids::encode(BULLETIN, self.0.id)
    }
    async fn kind(&self) -> BulletinKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Addressed to everyone.
    async fn public(&self) -> bool {
        self.0.public
    }
    async fn audience_agencies(&self, ctx: &Context<'_>) -> Result<Vec<Agency>> {
        let mut out = Vec::new();
        for code in strings(&self.0.audience_agencies) {
            if let Some(a) = load_agency(ctx, Some(&code)).await? {
                out.push(a);
            }
        }
        Ok(out)
    }
    async fn audience_roles(&self) -> Vec<Role> {
        strings(&self.0.audience_roles)
            .iter()
            .filter_map(|r| permit_core::auth::Role::parse(r))
            .map(Into::into)
            .collect()
    }
    async fn audience_districts(&self, ctx: &Context<'_>) -> Result<Vec<District>> {
        let mut out = Vec::new();
        for code in strings(&self.0.audience_districts) {
            if let Some(d) = load_district(ctx, Some(&code)).await? {
                out.push(d);
            }
        }
        Ok(out)
    }
    async fn publisher_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.publisher_agency_code.as_deref()).await
    }
    async fn published_at(&self) -> Time {
        self.0.published_at.into()
    }
    /// The cases it reports, without personal data: those the reader may read (in a public
    /// bulletin also closed cases of other districts). At most 50.
    async fn cases(&self, ctx: &Context<'_>) -> Result<Vec<BulletinCase>> {
        let key = super::loaders::CasesOfBulletin {
            id: self.0.id,
            public: self.0.public,
        };
        let cases = super::load_one(ctx, key).await?.unwrap_or_default();
        Ok(cases
            .into_iter()
            .map(|case| BulletinCase {
                finding_id: ids::encode(FINDING, case.finding.id),
                code: case.finding.violation_code.clone(),
                found_on: case.finding.found_on,
                district_code: case.finding.district_code.clone(),
                unit_name: case
                    .unit
                    .as_ref()
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                credit_code: case.unit.map(|u| u.credit_code).unwrap_or_default(),
                decision_number: case.action.as_ref().map(|a| a.decision_number.clone()),
                amount_yuan: case.action.as_ref().and_then(|a| a.amount_yuan),
                decided_on: case.action.as_ref().map(|a| a.decided_on),
            })
            .collect())
    }
    /// Agencies that have acknowledged, with who and when.
    async fn acknowledged_by(&self, ctx: &Context<'_>) -> Result<Vec<Acknowledgement>> {
        let mut out = Vec::new();
        for ack in bulletins::acknowledgements_of(super::db(ctx)?, self.0.id).await? {
            if let Some(agency) = load_agency(ctx, Some(&ack.agency_code)).await? {
                out.push(Acknowledgement {
                    agency,
                    acknowledged_by: permit_core::domain::access::official_subject(
                        super::principal(ctx),
                        &ack.acknowledged_by_subject,
                    ),
                    at: ack.acknowledged_at.into(),
                });
            }
        }
        Ok(out)
    }
    /// Addressed agencies that have not acknowledged yet.
    async fn not_acknowledged(&self, ctx: &Context<'_>) -> Result<Vec<Agency>> {
        let db = super::db(ctx)?;
        let done: Vec<String> = bulletins::acknowledgements_of(db, self.0.id)
            .await?
            .into_iter()
            .map(|a| a.agency_code)
            .collect();
        Ok(bulletins::addressed_agencies(db, &self.0)
            .await?
            .into_iter()
            .filter(|a| !done.contains(&a.code))
            .map(Agency)
            .collect())
    }
}

#[derive(InputObject)]
pub struct PostFeedbackInput {
    /// The permit office addressed, e.g. `500103-PMT`.
    addressed_agency_code: String,
    /// Violation codes of the pattern.
    codes: Vec<String>,
    industry: Option<String>,
    district: Option<String>,
    period_from: NaiveDate,
    period_to: NaiveDate,
    /// The findings it rests on; each must be visible to the poster.
    finding_ids: Vec<ID>,
    recommendation: FeedbackRecommendation,
    recommendation_text: String,
}

#[derive(InputObject)]
pub struct PermitChangeInput {
    permit_id: ID,
    version: i32,
}

#[derive(InputObject)]
pub struct RespondToFeedbackInput {
    /// ACKNOWLEDGED, ANSWERED or CLOSED; defaults to ANSWERED with an answer, else ACKNOWLEDGED.
    status: Option<FeedbackStatus>,
    answer: Option<String>,
    #[graphql(default)]
    permit_changes: Vec<PermitChangeInput>,
}

#[derive(InputObject, Default)]
pub struct AudienceInput {
    #[graphql(default)]
    agencies: Vec<String>,
    #[graphql(default)]
    roles: Vec<Role>,
    #[graphql(default)]
    districts: Vec<String>,
    #[graphql(default)]
    public: bool,
}

#[derive(InputObject)]
pub struct PublishBulletinInput {
    kind: BulletinKind,
    title: String,
    body: String,
    audience: AudienceInput,
    #[graphql(default)]
    finding_ids: Vec<ID>,
    /// Enforcement actions (cases) it reports; a typical case links a penalty decision.
    #[graphql(default)]
    action_ids: Vec<ID>,
}

#[derive(Default)]
pub struct LiaisonQuery;

#[Object]
impl LiaisonQuery {
    /// Feedback the caller sent or received (SUPERVISOR: all), newest first. `first` at most 100.
    async fn feedback(
        &self,
        ctx: &Context<'_>,
        status: Option<FeedbackStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<Feedback>> {
        let list = feedback::list(super::principal(ctx), status.map(Into::into))?;
        let page = list
            .page(
                super::db(ctx)?,
                &connection::page_args(first, after, None, None),
            )
            .await?;
        Ok(connection::from_page(
            page,
            list.count_query(),
            Feedback::new,
        ))
    }

    async fn feedback_item(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Feedback>> {
        let id = ids::decode(FEEDBACK, "id", &id)?;
        Ok(feedback::get(super::db(ctx)?, super::principal(ctx), id)
            .await?
            .map(Feedback::new))
    }

    /// Bulletins addressed to the caller (and those it published), newest first; optionally of
    /// one kind. `first` at most 100.
    async fn bulletins(
        &self,
        ctx: &Context<'_>,
        kind: Option<BulletinKind>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Bulletin>> {
        let listing = bulletins::list(super::principal(ctx), kind.map(Into::into))?;
        connection::listed(
            ctx,
            listing,
            connection::page_args(first, after, last, before),
            Bulletin::new,
        )
        .await
    }

    async fn bulletin(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Bulletin>> {
        let id = ids::decode(BULLETIN, "id", &id)?;
        Ok(bulletins::get(super::db(ctx)?, super::principal(ctx), id)
            .await?
            .map(Bulletin::new))
    }
}

#[derive(Default)]
pub struct LiaisonMutation;

#[Object]
impl LiaisonMutation {
    /// Posts feedback on a violation pattern to a permit office (ENFORCEMENT_OFFICER, SUPERVISOR);
    /// the figures of `violationPatterns` are frozen with it.
    async fn post_feedback(&self, ctx: &Context<'_>, input: PostFeedbackInput) -> Result<Feedback> {
        let finding_ids = input
            .finding_ids
            .iter()
            .map(|id| ids::decode(FINDING, "input.findingIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let input = feedback::PostFeedbackInput {
            addressed_agency_code: input.addressed_agency_code,
            codes: input.codes,
            industry: input.industry,
            district: input.district,
            period_from: input.period_from,
            period_to: input.period_to,
            finding_ids,
            recommendation: input.recommendation.into(),
            recommendation_text: input.recommendation_text,
        };
        let saved = feedback::post(super::db(ctx)?, super::principal(ctx), input).await?;
        // After the commit, so subscribers can load what they are told about.
        if let Ok(bus) = ctx.data::<permit_core::events::EventBus>() {
            bus.publish(permit_core::events::Event::FeedbackPosted { id: saved.id })
                .await;
        }
        Ok(Feedback::new(saved))
    }

    /// The addressed permit office acknowledges, answers (with the permit changes made) or closes.
    async fn respond_to_feedback(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i32,
        input: RespondToFeedbackInput,
    ) -> Result<Feedback> {
        let id = ids::decode(FEEDBACK, "id", &id)?;
        let permit_changes = input
            .permit_changes
            .iter()
            .map(|c| {
                ids::decode(PERMIT, "input.permitChanges", &c.permit_id).map(|p| (p, c.version))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let response = feedback::Response {
            to: input.status.map(Into::into),
            answer: input.answer,
            permit_changes,
        };
        let saved = feedback::respond(
            super::db(ctx)?,
            super::principal(ctx),
            id,
            expected_version,
            response,
        )
        .await?;
        Ok(Feedback::new(saved))
    }

    /// Publishes a bulletin to its audience.
    async fn publish_bulletin(
        &self,
        ctx: &Context<'_>,
        input: PublishBulletinInput,
    ) -> Result<Bulletin> {
        let finding_ids = input
            .finding_ids
            .iter()
            .map(|id| ids::decode(FINDING, "input.findingIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let action_ids = input
            .action_ids
            .iter()
            .map(|id| ids::decode("EnforcementAction", "input.actionIds", id))
            .collect::<Result<Vec<_>, _>>()?;
        let input = bulletins::PublishInput {
            kind: input.kind.into(),
            title: input.title,
            body: input.body,
            audience: bulletins::Audience {
                agencies: input.audience.agencies,
                roles: input.audience.roles.into_iter().map(Into::into).collect(),
                districts: input.audience.districts,
                public: input.audience.public,
            },
            finding_ids,
            action_ids,
        };
        let saved = bulletins::publish(super::db(ctx)?, super::principal(ctx), input).await?;
        if let Ok(bus) = ctx.data::<permit_core::events::EventBus>() {
            bus.publish(permit_core::events::Event::BulletinPublished { id: saved.id })
                .await;
        }
        Ok(Bulletin::new(saved))
    }

    /// Acknowledges a bulletin for the caller's agency.
    async fn acknowledge_bulletin(&self, ctx: &Context<'_>, id: ID) -> Result<Bulletin> {
        let id = ids::decode(BULLETIN, "id", &id)?;
        let db = super::db(ctx)?;
        bulletins::acknowledge(db, super::principal(ctx), id).await?;
        bulletins::get(db, super::principal(ctx), id)
            .await?
            .map(Bulletin::new)
            .ok_or_else(|| AppError::NotFound(format!("bulletin {id}")).into())
    }
}
