//! The change feed and the audit trail of writes.
//!
//! Every committed create, update and state change writes a `change_events` row, and an
//! `audit_events` row naming the request, in the same transaction as the change itself: a write
//! that fails leaves neither.
//!
//! Reading the feed without skipping: on PostgreSQL sequence values are taken in one order and
//! committed in another, so ordering by the sequence alone would let a reader pass a row that
//! commits later. Each row therefore carries its transaction id, and a reader is given only rows
//! whose transaction is older than the oldest one still running (`pg_snapshot_xmin`): those are
//! final, and every row committed later has a larger transaction id. The feed is ordered by
//! (transaction id, sequence) and the cursor holds both; it never expires. SQLite has one writer
//! at a time, so its sequence order is already commit order.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, InsertStatement, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, StatementBuilder,
};

use crate::auth::Principal;
use crate::db::batch::Writes;
use crate::domain::access::{self, Operation};
use crate::domain::clock;
use crate::domain::page::{Listing, Ordering, SortValue};
use crate::error::{AppError, AppResult};
use entity::{audit_events, change_events};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Unit,
    Permit,
    Registration,
    Inspection,
    Finding,
    EnforcementAction,
    Campaign,
    RandomDraw,
    SummaryReport,
    Inspector,
    Feedback,
    Bulletin,
    ViolationCandidate,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 13] = [
        ChangeKind::Unit,
        ChangeKind::Permit,
        ChangeKind::Registration,
        ChangeKind::Inspection,
        ChangeKind::Finding,
        ChangeKind::EnforcementAction,
        ChangeKind::Campaign,
        ChangeKind::RandomDraw,
        ChangeKind::SummaryReport,
        ChangeKind::Inspector,
        ChangeKind::Feedback,
        ChangeKind::Bulletin,
        ChangeKind::ViolationCandidate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Unit => "UNIT",
            ChangeKind::Permit => "PERMIT",
            ChangeKind::Registration => "REGISTRATION",
            ChangeKind::Inspection => "INSPECTION",
            ChangeKind::Finding => "FINDING",
            ChangeKind::EnforcementAction => "ENFORCEMENT_ACTION",
            ChangeKind::Campaign => "CAMPAIGN",
            ChangeKind::RandomDraw => "RANDOM_DRAW",
            ChangeKind::SummaryReport => "SUMMARY_REPORT",
            ChangeKind::Inspector => "INSPECTOR",
            ChangeKind::Feedback => "FEEDBACK",
            ChangeKind::Bulletin => "BULLETIN",
            ChangeKind::ViolationCandidate => "VIOLATION_CANDIDATE",
        }
    }

    pub fn parse(text: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOperation {
    Created,
    Updated,
    StateChanged,
}

impl ChangeOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOperation::Created => "CREATED",
            ChangeOperation::Updated => "UPDATED",
            ChangeOperation::StateChanged => "STATE_CHANGED",
        }
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub kind: ChangeKind,
    pub record_id: i64,
    pub version: Option<i32>,
    pub operation: ChangeOperation,
    /// The new status, where the record has one.
    pub state: Option<&'a str>,
    /// The record's district; `None` for municipal records.
    pub district: Option<&'a str>,
}

/// The expression for the writing transaction's id.
fn txid_expr(backend: DatabaseBackend) -> Expr {
    match backend {
        DatabaseBackend::Postgres => Expr::cust("pg_current_xact_id()::text::bigint"),
        _ => Expr::val(0i64),
    }
}

pub fn level(principal: &Principal) -> &'static str {
    access::level(principal)
}

/// Records a change and its audit row inside the caller's transaction.
/// What `audit_events.operation_name` holds of a request's operation name.
const MAX_OPERATION_NAME_CHARS: usize = 128;

pub async fn record(
    db: &impl ConnectionTrait,
    who: &Principal,
    change: Change<'_>,
) -> AppResult<()> {
    let mut writes = Writes::new();
    record_into(&mut writes, db.get_database_backend(), who, change);
    writes.run(db).await
}

/// `record`'s two rows, added to writes sent together (one statement on PostgreSQL).
pub fn record_into(
    writes: &mut Writes,
    backend: DatabaseBackend,
    who: &Principal,
    change: Change<'_>,
) {
    use sea_orm::QueryTrait;
    let record_id = change.record_id;
    let kind = change.kind;
    let now = clock::now();
    let insert = feed_insert(backend, [(who, change, now)]);
    writes.push(StatementBuilder::build(&insert, &backend));
    let audit = audit_row(who, "MUTATION", Some(kind), &[record_id], now);
    writes.push(audit_events::Entity::insert(audit).build(backend));
}

/// The `change_events` INSERT of changes made at the given instants: the one shape of a feed
/// row, which `record` writes one at a time and the demo seed's bulk path many at once.
pub fn feed_insert<'a>(
    backend: DatabaseBackend,
    changes: impl IntoIterator<Item = (&'a Principal, Change<'a>, DateTime<Utc>)>,
) -> InsertStatement {
    let mut insert = Query::insert();
    insert.into_table(change_events::Entity).columns([
        change_events::Column::Txid,
        change_events::Column::Kind,
        change_events::Column::RecordId,
        change_events::Column::Version,
        change_events::Column::Operation,
        change_events::Column::State,
        change_events::Column::DistrictCode,
        change_events::Column::ActorSubject,
        change_events::Column::ActorAgency,
        change_events::Column::ActorLevel,
        change_events::Column::RequestId,
        change_events::Column::CommittedAt,
    ]);
    for (who, change, at) in changes {
        insert.values_panic([
            txid_expr(backend),
            change.kind.as_str().into(),
            change.record_id.into(),
            change.version.into(),
            change.operation.as_str().into(),
            change.state.map(str::to_owned).into(),
            change.district.map(str::to_owned).into(),
            who.subject.clone().into(),
            who.agency_code.clone().into(),
            level(who).into(),
            who.request.request_id.clone().into(),
            at.into(),
        ]);
    }
    insert
}

/// Writes one audit row (mutations, and reads of personal data).
pub async fn audit(
    db: &impl ConnectionTrait,
    who: &Principal,
    action: &str,
    kind: Option<ChangeKind>,
    record_ids: &[i64],
) -> AppResult<()> {
    use sea_orm::ActiveModelTrait;
    audit_row(who, action, kind, record_ids, clock::now())
        .insert(db)
        .await?;
    Ok(())
}

/// The audit row of an action by `who` at `at` (the seed's bulk path writes these too).
pub fn audit_row(
    who: &Principal,
    action: &str,
    kind: Option<ChangeKind>,
    record_ids: &[i64],
    at: DateTime<Utc>,
) -> audit_events::ActiveModel {
    use sea_orm::Set;
    audit_events::ActiveModel {
        at: Set(at),
        subject: Set(who.subject.clone()),
        agency: Set(who.agency_code.clone()),
        role: Set(who.role.as_str().to_owned()),
        // Provenance, not input: a name longer than the column is kept cut, not refused.
        operation_name: Set(who
            .request
            .operation_name
            .as_ref()
            .map(|name| name.chars().take(MAX_OPERATION_NAME_CHARS).collect())),
        request_id: Set(who.request.request_id.clone()),
        action: Set(action.to_owned()),
        record_kind: Set(kind.map(|k| k.as_str().to_owned())),
        record_ids: Set(serde_json::json!(record_ids)),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the feed

/// A position in the feed. Ordered as the feed is: by transaction id, then sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedCursor {
    pub txid: i64,
    pub id: i64,
}

impl FeedCursor {
    /// Before every change.
    pub const START: FeedCursor = FeedCursor { txid: 0, id: 0 };

    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.txid, self.id))
    }

    pub fn decode(text: &str) -> AppResult<FeedCursor> {
        let bad = || AppError::invalid("after", "not a cursor of this feed");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (txid, id) = text.split_once(':').ok_or_else(bad)?;
        Ok(FeedCursor {
            txid: txid.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }

    fn of(row: &change_events::Model) -> FeedCursor {
        FeedCursor {
            txid: row.txid,
            id: row.id,
        }
    }
}

pub struct FeedPage {
    pub items: Vec<(String, change_events::Model)>,
    pub has_next_page: bool,
    /// Where to resume; unchanged when the page is empty, so a reader can poll with it.
    pub end_cursor: Option<String>,
}

/// One page of the feed after `after`, in commit order, within the caller's view.
pub async fn feed(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    after: Option<&str>,
    first: u64,
    kinds: &[ChangeKind],
) -> AppResult<FeedPage> {
    let principal = access::authorize(principal, Operation::ReadUnits)?;
    if first == 0 || first > 1000 {
        return Err(AppError::invalid("first", "1 to 1000 changes per page"));
    }
    let cursor = after.map(FeedCursor::decode).transpose()?;
    let mut select = change_events::Entity::find().filter(access::feed_filter(principal));
    if !kinds.is_empty() {
        select = select.filter(change_events::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())));
    }
    if let Some(c) = cursor {
        select = select.filter(
            Condition::any()
                .add(change_events::Column::Txid.gt(c.txid))
                .add(
                    Condition::all()
                        .add(change_events::Column::Txid.eq(c.txid))
                        .add(change_events::Column::Id.gt(c.id)),
                ),
        );
    }
    if let Some(rule) = final_rows(db.get_database_backend()) {
        select = select.filter(rule);
    }
    let mut rows = select
        .order_by_asc(change_events::Column::Txid)
        .order_by_asc(change_events::Column::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    let has_next_page = rows.len() as u64 > first;
    rows.truncate(first as usize);
    let end_cursor = rows
        .last()
        .map(|r| FeedCursor::of(r).encode())
        .or_else(|| after.map(str::to_owned));
    Ok(FeedPage {
        items: rows
            .into_iter()
            .map(|r| (FeedCursor::of(&r).encode(), r))
            .collect(),
        has_next_page,
        end_cursor,
    })
}

/// The feed's visibility rule as an SQL condition: on PostgreSQL only rows of transactions older
/// than every running one (they are final, and whatever commits later sorts after them);
/// SQLite's single writer makes every committed row final.
fn final_rows(backend: DatabaseBackend) -> Option<sea_orm::sea_query::SimpleExpr> {
    (backend == DatabaseBackend::Postgres).then(|| {
        Expr::col((change_events::Entity, change_events::Column::Txid)).lt(Expr::cust(
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        ))
    })
}

/// `final_rows` for readers that poll often (the event bus), without the wait on other
/// databases: `pg_snapshot_xmin` is the oldest transaction running anywhere on the cluster, so a
/// migration in a neighbouring database would hold every event back as long as it runs. The
/// bound here is the oldest transaction of our snapshot's running ones (`pg_snapshot_xip`) that
/// is not known to run in another database (a backend of another database cannot write this
/// table), else the snapshot's `xmax`. Every row below it is final, and every row committed
/// later has a transaction id at or above it (it runs in this database, or began after the
/// snapshot), so what is returned is still a prefix of the feed. A transaction whose database
/// is unknown (ended since the snapshot, prepared, its row hidden) counts as ours.
fn final_rows_here(backend: DatabaseBackend) -> Option<sea_orm::sea_query::SimpleExpr> {
    (backend == DatabaseBackend::Postgres).then(|| {
        Expr::col((change_events::Entity, change_events::Column::Txid)).lt(Expr::cust(
            "LEAST(\
               (SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x \
                WHERE x::text::bigint % 4294967296 NOT IN (\
                  SELECT backend_xid::text::bigint FROM pg_stat_activity \
                  WHERE backend_xid IS NOT NULL \
                    AND datname IS DISTINCT FROM current_database())), \
               pg_snapshot_xmax(pg_current_snapshot())::text::bigint)",
        ))
    })
}

/// A creation that a subscription announces (`graphql::subscriptions`), at its feed position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announced {
    pub cursor: FeedCursor,
    pub kind: ChangeKind,
    pub record_id: i64,
}

/// The kinds whose creation a subscription announces: `findingRecorded`, `bulletinPublished`
/// (a bulletin is created published), `feedbackPosted`, `violationCandidateDetected`.
pub const ANNOUNCED: [ChangeKind; 4] = [
    ChangeKind::Finding,
    ChangeKind::Bulletin,
    ChangeKind::Feedback,
    ChangeKind::ViolationCandidate,
];

/// Up to `limit` creations of `kinds` after `after`, in feed order, under the feed's visibility
/// rule (`final_rows_here`), so a reader that resumes from the last one returned never skips a
/// late committer.
/// Not scoped to a caller: the event bus reads it, and each subscriber then loads the records
/// with its own principal (the access policy decides what it receives).
pub async fn announced_after(
    db: &impl ConnectionTrait,
    after: FeedCursor,
    kinds: &[ChangeKind],
    limit: u64,
) -> AppResult<Vec<Announced>> {
    let backend = db.get_database_backend();
    // A row comparison, with the leading column alone beside it, so the (txid, id) index
    // starts at the cursor rather than filtering the whole history.
    let mut select = change_events::Entity::find()
        .filter(change_events::Column::Txid.gte(after.txid))
        .filter(
            Expr::tuple([
                Expr::col((change_events::Entity, change_events::Column::Txid)),
                Expr::col((change_events::Entity, change_events::Column::Id)),
            ])
            .gt(Expr::tuple([Expr::val(after.txid), Expr::val(after.id)])),
        )
        .filter(change_events::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())))
        .filter(change_events::Column::Operation.eq(ChangeOperation::Created.as_str()));
    if let Some(rule) = final_rows_here(backend) {
        select = select.filter(rule);
    }
    let rows = select
        .order_by_asc(change_events::Column::Txid)
        .order_by_asc(change_events::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(Announced {
                cursor: FeedCursor::of(row),
                kind: ChangeKind::parse(&row.kind)?,
                record_id: row.record_id,
            })
        })
        .collect())
}

/// The feed's current end: every change readable now lies at or before it, every later one
/// after it (`START` for an empty feed).
pub async fn feed_end(db: &impl ConnectionTrait) -> AppResult<FeedCursor> {
    let mut select = change_events::Entity::find();
    if let Some(rule) = final_rows_here(db.get_database_backend()) {
        select = select.filter(rule);
    }
    let last = select
        .order_by_desc(change_events::Column::Txid)
        .order_by_desc(change_events::Column::Id)
        .one(db)
        .await?;
    Ok(last.as_ref().map_or(FeedCursor::START, FeedCursor::of))
}

/// First and last change of each record (provenance), in one statement per kind.
pub async fn first_and_last(
    db: &impl ConnectionTrait,
    kind: ChangeKind,
    record_ids: &[i64],
) -> AppResult<Vec<change_events::Model>> {
    let rows = change_events::Entity::find()
        .filter(change_events::Column::Kind.eq(kind.as_str()))
        .filter(change_events::Column::RecordId.is_in(record_ids.iter().copied()))
        .order_by_asc(change_events::Column::RecordId)
        .order_by_asc(change_events::Column::Id)
        .all(db)
        .await?;
    // Keep each record's first and last row only.
    let mut kept: Vec<change_events::Model> = Vec::new();
    for row in rows {
        match kept.last() {
            Some(prev) if prev.record_id == row.record_id => {
                let is_first_of_record =
                    kept.len() < 2 || kept[kept.len() - 2].record_id != row.record_id;
                if is_first_of_record {
                    kept.push(row);
                } else if let Some(last) = kept.last_mut() {
                    *last = row;
                }
            }
            _ => kept.push(row),
        }
    }
    Ok(kept)
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub subject: Option<String>,
    pub agency: Option<String>,
    pub action: Option<String>,
    pub operation_name: Option<String>,
    pub request_id: Option<String>,
    pub from: Option<chrono::DateTime<Utc>>,
    pub to: Option<chrono::DateTime<Utc>>,
}

/// The audit trail, newest first (SUPERVISOR, ADMIN).
pub fn audit_events(
    principal: Option<&Principal>,
    filter: &AuditFilter,
) -> AppResult<Listing<audit_events::Entity>> {
    let who = access::authorize(principal, Operation::ReadAudit)?;
    let mut select = audit_events::Entity::find().filter(access::audit_filter(who));
    if let Some(s) = &filter.subject {
        select = select.filter(audit_events::Column::Subject.eq(s.clone()));
    }
    if let Some(a) = &filter.agency {
        select = select.filter(audit_events::Column::Agency.eq(a.clone()));
    }
    if let Some(a) = &filter.action {
        select = select.filter(audit_events::Column::Action.eq(a.clone()));
    }
    if let Some(o) = &filter.operation_name {
        select = select.filter(audit_events::Column::OperationName.eq(o.clone()));
    }
    if let Some(r) = &filter.request_id {
        select = select.filter(audit_events::Column::RequestId.eq(r.clone()));
    }
    if let Some(from) = filter.from {
        select = select.filter(audit_events::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(audit_events::Column::At.lte(to));
    }
    Ok(Listing::new(
        select,
        Ordering {
            column: audit_events::Column::Id,
            id_column: None,
            descending: true,
            date_sort: false,
            key: |m: &audit_events::Model| (SortValue::Int(m.id), m.id),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = FeedCursor {
            txid: 123_456_789,
            id: 42,
        };
        assert_eq!(FeedCursor::decode(&c.encode()).ok(), Some(c));
        assert!(FeedCursor::decode("garbage").is_err());
        assert_eq!(
            ChangeKind::parse("ENFORCEMENT_ACTION"),
            Some(ChangeKind::EnforcementAction)
        );
    }
}
