//! Interagency trust: the change feed, provenance of records, and the audit trail.

use super::connection::{self, Conn};
use super::time::Time;
use crate::graphql::error::Result;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::DateTime;

use super::reference::{Agency, District, load_agency, load_district};
use entity::{audit_events, change_events};
use permit_core::domain::changes::{self, ChangeKind};
use permit_core::error::AppError;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "ChangeKind")]
pub enum ChangeKindGql {
    /// 排污单位
    Unit,
    /// 排污许可证
    Permit,
    /// 排污登记
    Registration,
    /// 执法检查
    Inspection,
    /// 违法问题
    Finding,
    /// 执法处理
    EnforcementAction,
    /// 专项行动
    Campaign,
    /// 随机抽查
    RandomDraw,
    /// 总结报告
    SummaryReport,
    /// 执法人员
    Inspector,
    /// 问题反馈
    Feedback,
    /// 信息通报
    Bulletin,
    /// 违法线索（监测数据）
    ViolationCandidate,
}

impl From<ChangeKindGql> for ChangeKind {
    fn from(k: ChangeKindGql) -> Self {
        match k {
            ChangeKindGql::Unit => ChangeKind::Unit,
            ChangeKindGql::Permit => ChangeKind::Permit,
            ChangeKindGql::Registration => ChangeKind::Registration,
            ChangeKindGql::Inspection => ChangeKind::Inspection,
            ChangeKindGql::Finding => ChangeKind::Finding,
            ChangeKindGql::EnforcementAction => ChangeKind::EnforcementAction,
            ChangeKindGql::Campaign => ChangeKind::Campaign,
            ChangeKindGql::RandomDraw => ChangeKind::RandomDraw,
            ChangeKindGql::SummaryReport => ChangeKind::SummaryReport,
            ChangeKindGql::Inspector => ChangeKind::Inspector,
            ChangeKindGql::Feedback => ChangeKind::Feedback,
            ChangeKindGql::Bulletin => ChangeKind::Bulletin,
            ChangeKindGql::ViolationCandidate => ChangeKind::ViolationCandidate,
        }
    }
}

/// The GraphQL type name of each kind, for the opaque ids of changed records.
pub fn type_name(kind: &str) -> &'static str {
    match kind {
        "UNIT" => "Unit",
        "PERMIT" => "Permit",
        "REGISTRATION" => "Registration",
        "INSPECTION" => "Inspection",
        "FINDING" => "Finding",
        "ENFORCEMENT_ACTION" => "EnforcementAction",
        "CAMPAIGN" => "Campaign",
        "RANDOM_DRAW" => "RandomDraw",
        "SUMMARY_REPORT" => "SummaryReport",
        "FEEDBACK" => "Feedback",
        "BULLETIN" => "Bulletin",
        "VIOLATION_CANDIDATE" => "ViolationCandidate",
        _ => "Inspector",
    }
}

/// Who acted, and from which level.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Actor {
    #[graphql(skip)]
    subject: String,
    #[graphql(skip)]
    agency_code: Option<String>,
    /// MUNICIPAL or DISTRICT.
    level: String,
}

#[async_graphql::ComplexObject]
impl Actor {
    /// The official (null for INTEGRATOR: it learns the agency and level, not the person).
    async fn subject(&self, ctx: &Context<'_>) -> Option<String> {
        permit_core::domain::access::official_subject(super::principal(ctx), &self.subject)
    }
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.agency_code.as_deref()).await
    }
}

pub fn actor_of(row: &change_events::Model) -> Actor {
    Actor {
        subject: row.actor_subject.clone(),
        agency_code: row.actor_agency.clone(),
        level: row.actor_level.clone(),
    }
}

/// One committed change.
pub struct ChangeEvent(pub change_events::Model);

#[Object]
impl ChangeEvent {
    /// UNIT, PERMIT, REGISTRATION, INSPECTION, FINDING, ENFORCEMENT_ACTION, CAMPAIGN,
    /// RANDOM_DRAW, SUMMARY_REPORT, INSPECTOR, FEEDBACK, BULLETIN, VIOLATION_CANDIDATE.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// The opaque id of the changed record (query it by kind).
    async fn record_id(&self) -> ID {
        super::ids::encode(type_name(&self.0.kind), self.0.record_id)
    }
    /// The record's version after the change, where it has one.
    async fn version(&self) -> Option<i32> {
        self.0.version
    }
    /// CREATED, UPDATED or STATE_CHANGED.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    /// The new status, where the record has one.
    async fn state(&self) -> Option<&str> {
        self.0.state.as_deref()
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<Option<District>> {
        load_district(ctx, self.0.district_code.as_deref()).await
    }
    async fn actor(&self) -> Actor {
        actor_of(&self.0)
    }
    async fn committed_at(&self) -> Time {
        self.0.committed_at.into()
    }
}

#[derive(SimpleObject)]
pub struct ChangeEdge {
    cursor: String,
    node: ChangeEvent,
}

/// A page of the change feed. `endCursor` is where to resume; it never expires.
#[derive(SimpleObject)]
pub struct ChangeFeed {
    edges: Vec<ChangeEdge>,
    has_next_page: bool,
    end_cursor: Option<String>,
}

/// One audit record: a mutation, or a read of personal data.
pub struct AuditEvent(pub audit_events::Model);

#[Object]
impl AuditEvent {
    async fn id(&self) -> ID {
        super::ids::encode("AuditEvent", self.0.id)
    }
    async fn at(&self) -> Time {
        self.0.at.into()
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        load_agency(ctx, self.0.agency.as_deref()).await
    }
    async fn role(&self) -> &str {
        &self.0.role
    }
    /// The GraphQL operation name, or the root field of an anonymous operation.
    async fn operation_name(&self) -> Option<&str> {
        self.0.operation_name.as_deref()
    }
    /// Also in the server log and the `x-request-id` response header.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// MUTATION or READ_PERSONAL_DATA.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn record_kind(&self) -> Option<&str> {
        self.0.record_kind.as_deref()
    }
    async fn record_ids(&self) -> Vec<ID> {
        let kind = self
            .0
            .record_kind
            .as_deref()
            .map(type_name)
            .unwrap_or("Record");
        let ids: Vec<i64> = serde_json::from_value(self.0.record_ids.clone()).unwrap_or_default();
        ids.into_iter()
            .map(|id| super::ids::encode(kind, id))
            .collect()
    }
}

#[derive(InputObject, Default)]
pub struct AuditFilter {
    subject: Option<String>,
    agency: Option<String>,
    /// MUTATION or READ_PERSONAL_DATA.
    action: Option<String>,
    operation_name: Option<String>,
    request_id: Option<String>,
    from: Option<Time>,
    to: Option<Time>,
}

#[derive(Default)]
pub struct HistoryQuery;

#[Object]
impl HistoryQuery {
    /// Every committed change the caller could query, in commit order. Resume from the last
    /// `endCursor`: a reader never misses a change and never sees one twice. `first` 1–1000.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        #[graphql(default = 100)] first: i32,
        #[graphql(default)] kinds: Vec<ChangeKindGql>,
    ) -> Result<ChangeFeed> {
        let first = u64::try_from(first).map_err(|_| AppError::invalid("first", "1 to 1000"))?;
        let kinds: Vec<ChangeKind> = kinds.into_iter().map(Into::into).collect();
        let page = changes::feed(
            super::db(ctx)?,
            super::principal(ctx),
            after.as_deref(),
            first,
            &kinds,
        )
        .await?;
        Ok(ChangeFeed {
            edges: page
                .items
                .into_iter()
                .map(|(cursor, row)| ChangeEdge {
                    cursor,
                    node: ChangeEvent(row),
                })
                .collect(),
            has_next_page: page.has_next_page,
            end_cursor: page.end_cursor,
        })
    }

    /// The audit trail, newest first (SUPERVISOR, ADMIN). `first` at most 100.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<AuditEvent>> {
        let f = filter.unwrap_or_default();
        let filter = changes::AuditFilter {
            subject: f.subject,
            agency: f.agency,
            action: f.action,
            operation_name: f.operation_name,
            request_id: f.request_id,
            from: f.from.map(DateTime::from),
            to: f.to.map(DateTime::from),
        };
        let listing = changes::audit_events(super::principal(ctx), &filter)?;
        connection::listed(
            ctx,
            listing,
            connection::page_args(first, after, last, before),
            AuditEvent,
        )
        .await
    }
}

/// Who created a record and who last changed it, and from which level (district or municipal).
/// Null for records loaded before the change feed began (the demo seed's history is its own).
#[derive(SimpleObject)]
pub struct Provenance {
    created_at: Time,
    created_by: Actor,
    updated_at: Time,
    updated_by: Actor,
}

pub async fn provenance(
    ctx: &Context<'_>,
    kind: ChangeKind,
    id: i64,
) -> Result<Option<Provenance>> {
    let rows = super::load_one(
        ctx,
        super::loaders::ChangesOf {
            kind,
            record_id: id,
        },
    )
    .await?
    .unwrap_or_default();
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(None);
    };
    Ok(Some(Provenance {
        created_at: first.committed_at.into(),
        created_by: actor_of(first),
        updated_at: last.committed_at.into(),
        updated_by: actor_of(last),
    }))
}
