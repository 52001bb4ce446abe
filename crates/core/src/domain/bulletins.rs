//! Information bulletins (信息通报, plan §5(4)): liaison rosters, campaign notices, typical cases,
//! summaries. A bulletin names its audience — agencies, roles, districts, or the public — and
//! each addressed agency acknowledges it; a bulletin shows who has and who has not.
//!
//! Audience: public reaches every principal; otherwise a principal is addressed when its agency
//! is listed, or its role is listed (within the listed districts, if any), or — with no roles
//! listed — its district is listed.

use crate::domain::clock;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, Select, Set,
};

use crate::auth::{Principal, Role};
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::page::{Listing, Ordering, SortValue};
use crate::error::{AppError, AppResult};
use entity::enums::{BulletinKind, EnforcementActionKind, FindingStatus};
use entity::{
    agencies, bulletin_acknowledgements, bulletin_links, bulletins, enforcement_actions, findings,
    units,
};

#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub agencies: Vec<String>,
    pub roles: Vec<Role>,
    pub districts: Vec<String>,
    pub public: bool,
}

#[derive(Debug, Clone)]
pub struct PublishInput {
    pub kind: BulletinKind,
    pub title: String,
    pub body: String,
    pub audience: Audience,
    pub finding_ids: Vec<i64>,
    pub action_ids: Vec<i64>,
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// The agencies expected to acknowledge: those listed, and those standing for a listed role or
/// district. A public bulletin expects only the agencies it lists.
pub async fn addressed_agencies(
    db: &impl ConnectionTrait,
    bulletin: &bulletins::Model,
) -> AppResult<Vec<agencies::Model>> {
    let listed = strings(&bulletin.audience_agencies);
    let roles: Vec<Role> = strings(&bulletin.audience_roles)
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect();
    let districts = strings(&bulletin.audience_districts);
    let all = agencies::Entity::find()
        .order_by_asc(agencies::Column::Code)
        .all(db)
        .await?;
    Ok(all
        .into_iter()
        .filter(|a| {
            if listed.contains(&a.code) {
                return true;
            }
            if bulletin.public {
                return false;
            }
            let in_districts = districts.is_empty()
                || a.district_code
                    .as_ref()
                    .is_some_and(|d| districts.contains(d));
            let by_role = !roles.is_empty()
                && roles
                    .iter()
                    .any(|r| access::agency_kind_of(*r) == Some(a.kind))
                && in_districts;
            let by_district = roles.is_empty()
                && a.district_code
                    .as_ref()
                    .is_some_and(|d| districts.contains(d));
            by_role || by_district
        })
        .collect())
}

pub async fn publish(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: PublishInput,
) -> AppResult<bulletins::Model> {
    let who = access::authorize(principal, Operation::PublishBulletin)?;
    let (title, body) = checked_input(&input)?;
    let audience = &input.audience;
    let txn = crate::db::begin_write(db).await?;
    let reach = audience_reach(&txn, audience).await?;
    access::check_bulletin_audience(who, &reach, input.kind == BulletinKind::TypicalCase)?;
    check_linked_cases(db, &txn, who, &reach, &input).await?;
    let saved = bulletins::ActiveModel {
        kind: Set(input.kind),
        title: Set(title),
        body: Set(body),
        public: Set(audience.public),
        audience_agencies: Set(serde_json::json!(audience.agencies)),
        audience_roles: Set(serde_json::json!(
            audience
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
        )),
        audience_districts: Set(serde_json::json!(audience.districts)),
        publisher_subject: Set(who.subject.clone()),
        publisher_agency_code: Set(who.agency_code.clone()),
        published_at: Set(clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    insert_links(&txn, saved.id, &input.finding_ids, &input.action_ids).await?;
    changes::record(
        &txn,
        who,
        Change {
            kind: ChangeKind::Bulletin,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: None,
            district: who.district.as_ref().map(|d| d.as_str()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The checks that need no database; returns the title and body, trimmed.
fn checked_input(input: &PublishInput) -> AppResult<(String, String)> {
    let title = input.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::invalid("input.title", "1 to 200 characters"));
    }
    let body = input.body.trim().to_owned();
    if body.is_empty() || body.chars().count() > 20_000 {
        return Err(AppError::invalid("input.body", "1 to 20000 characters"));
    }
    let audience = &input.audience;
    if !audience.public
        && audience.agencies.is_empty()
        && audience.roles.is_empty()
        && audience.districts.is_empty()
    {
        return Err(AppError::invalid(
            "input.audience",
            "name agencies, roles, districts, or make it public",
        ));
    }
    if input.finding_ids.len() + input.action_ids.len() > MAX_CASES {
        return Err(AppError::invalid(
            "input.findingIds",
            format!("a bulletin links at most {MAX_CASES} findings and actions"),
        ));
    }
    Ok((title, body))
}

/// The audience as the policy weighs it: the listed agencies (each must exist) and districts
/// (each must be known).
async fn audience_reach(
    txn: &DatabaseTransaction,
    audience: &Audience,
) -> AppResult<access::BulletinAudience> {
    let listed = agencies::Entity::find()
        .filter(agencies::Column::Code.is_in(audience.agencies.iter().cloned()))
        .all(txn)
        .await?;
    if let Some(bad) = audience
        .agencies
        .iter()
        .find(|code| !listed.iter().any(|a| &a.code == *code))
    {
        return Err(AppError::invalid(
            "input.audience.agencies",
            format!("unknown agency '{bad}'"),
        ));
    }
    for (i, district) in audience.districts.iter().enumerate() {
        crate::domain::reference::require_district(
            txn,
            district,
            &format!("input.audience.districts[{i}]"),
        )
        .await?;
    }
    Ok(access::BulletinAudience {
        agencies: listed,
        roles: audience.roles.clone(),
        districts: audience.districts.clone(),
        public: audience.public,
    })
}

/// Linked findings and cases must be ones the publisher can read, and its audience too; a
/// typical case links a penalised case, and a public one only decisions flagged for exposure.
async fn check_linked_cases(
    db: &DatabaseConnection,
    txn: &DatabaseTransaction,
    who: &Principal,
    reach: &access::BulletinAudience,
    input: &PublishInput,
) -> AppResult<()> {
    let unreadable = |field: &str| {
        AppError::invalid(
            field,
            "the bulletin's audience may not read this case (public bulletins link closed cases)",
        )
    };
    for id in &input.finding_ids {
        let finding = crate::domain::findings::get(db, Some(who), *id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("finding {id}")))?;
        if !access::audience_may_read_finding(reach, &finding) {
            return Err(unreadable("input.findingIds"));
        }
    }
    let mut penalised_case = false;
    for id in &input.action_ids {
        let not_found = || AppError::NotFound(format!("enforcement action {id}"));
        let action = enforcement_actions::Entity::find_by_id(*id)
            .one(txn)
            .await?
            .ok_or_else(not_found)?;
        let finding = crate::domain::findings::get(db, Some(who), action.finding_id)
            .await?
            .ok_or_else(not_found)?;
        if !access::audience_may_read_finding(reach, &finding) {
            return Err(unreadable("input.actionIds"));
        }
        // Publishing names a case to everyone: only a decision its authority flagged for
        // exposure (典型案例) may be shown that way.
        if input.audience.public && input.kind == BulletinKind::TypicalCase && !action.typical_case
        {
            return Err(AppError::invalid(
                "input.actionIds",
                "a public typical case links only enforcement actions flagged for exposure (typicalCase)",
            ));
        }
        let penalty = !matches!(
            action.kind,
            EnforcementActionKind::CorrectionOrder | EnforcementActionKind::PoliceReferral
        );
        penalised_case |= penalty
            && matches!(
                finding.status,
                FindingStatus::Penalised | FindingStatus::Closed
            );
    }
    if input.kind == BulletinKind::TypicalCase && !penalised_case {
        return Err(AppError::invalid(
            "input.actionIds",
            "a typical case links a penalised case (a penalty decision)",
        ));
    }
    Ok(())
}

/// The bulletin's links to findings, then to enforcement actions, in one statement.
async fn insert_links(
    txn: &DatabaseTransaction,
    bulletin_id: i64,
    finding_ids: &[i64],
    action_ids: &[i64],
) -> AppResult<()> {
    let links = finding_ids
        .iter()
        .map(|f| (Some(*f), None))
        .chain(action_ids.iter().map(|a| (None, Some(*a))))
        .map(|(finding_id, action_id)| bulletin_links::ActiveModel {
            bulletin_id: Set(bulletin_id),
            finding_id: Set(finding_id),
            action_id: Set(action_id),
            ..Default::default()
        })
        .collect::<Vec<_>>();
    if !links.is_empty() {
        bulletin_links::Entity::insert_many(links).exec(txn).await?;
    }
    Ok(())
}

/// Bulletins addressed to the principal, newest first, optionally of one kind.
pub fn list(
    principal: Option<&Principal>,
    kind: Option<BulletinKind>,
) -> AppResult<Listing<bulletins::Entity>> {
    let who = access::authorize(principal, Operation::ReadBulletins)?;
    let mut select = addressed(who);
    if let Some(kind) = kind {
        select = select.filter(bulletins::Column::Kind.eq(kind));
    }
    Ok(Listing::new(
        select,
        Ordering {
            column: bulletins::Column::Id,
            id_column: None,
            descending: true,
            date_sort: false,
            key: |m: &bulletins::Model| (SortValue::Int(m.id), m.id),
        },
    ))
}

fn addressed(principal: &Principal) -> Select<bulletins::Entity> {
    bulletins::Entity::find().filter(access::bulletin_filter(principal))
}

pub async fn get(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<bulletins::Model>> {
    let who = access::authorize(principal, Operation::ReadBulletins)?;
    Ok(addressed(who)
        .filter(bulletins::Column::Id.eq(id))
        .one(db)
        .await?)
}

pub async fn acknowledge(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<bulletin_acknowledgements::Model> {
    let who = access::authorize(principal, Operation::ReadBulletins)?;
    let agency = who.agency_code.clone().ok_or_else(|| {
        AppError::Forbidden("acknowledgement is by an agency; the token names none".to_owned())
    })?;
    let txn = crate::db::begin_write(db).await?;
    let bulletin = addressed(who)
        .filter(bulletins::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("bulletin {id}")))?;
    if !addressed_agencies(&txn, &bulletin)
        .await?
        .iter()
        .any(|a| a.code == agency)
    {
        return Err(AppError::Forbidden(format!(
            "bulletin {id} is not addressed to agency {agency}"
        )));
    }
    let saved = bulletin_acknowledgements::ActiveModel {
        bulletin_id: Set(id),
        agency_code: Set(agency.clone()),
        acknowledged_by_subject: Set(who.subject.clone()),
        acknowledged_at: Set(clock::now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(format!(
            "agency {agency} has already acknowledged bulletin {id}"
        )),
        other => other,
    })?;
    changes::record(
        &txn,
        who,
        Change {
            kind: ChangeKind::Bulletin,
            record_id: id,
            version: None,
            operation: ChangeOperation::Updated,
            state: Some("ACKNOWLEDGED"),
            district: who.district.as_ref().map(|d| d.as_str()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

pub async fn acknowledgements_of(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<Vec<bulletin_acknowledgements::Model>> {
    Ok(bulletin_acknowledgements::Entity::find()
        .filter(bulletin_acknowledgements::Column::BulletinId.eq(id))
        .order_by_asc(bulletin_acknowledgements::Column::AcknowledgedAt)
        .all(db)
        .await?)
}

pub async fn links_of(db: &impl ConnectionTrait, id: i64) -> AppResult<Vec<bulletin_links::Model>> {
    Ok(bulletin_links::Entity::find()
        .filter(bulletin_links::Column::BulletinId.eq(id))
        .order_by_asc(bulletin_links::Column::Id)
        .all(db)
        .await?)
}

/// The most findings and actions one bulletin links (a list a reader receives whole).
pub const MAX_CASES: usize = 50;

/// A linked case as a reader sees it: the finding, its unit and the action, without personal
/// data (the unit's name and credit code are public registry data).
#[derive(Debug, Clone)]
pub struct Case {
    pub bulletin_id: i64,
    pub finding: findings::Model,
    pub unit: Option<units::Model>,
    pub action: Option<enforcement_actions::Model>,
}

/// The cases of several bulletins in three statements, each filtered for the reader
/// (`access::bulletin_case_filter`): what it may read, or a closed case of a public bulletin.
pub async fn cases_of(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    bulletins: &[(i64, bool)],
) -> AppResult<Vec<Case>> {
    let who = access::authorize(principal, Operation::ReadBulletins)?;
    let ids: Vec<i64> = bulletins.iter().map(|(id, _)| *id).collect();
    let links = bulletin_links::Entity::find()
        .filter(bulletin_links::Column::BulletinId.is_in(ids))
        .order_by_asc(bulletin_links::Column::Id)
        .all(db)
        .await?;
    let action_ids: Vec<i64> = links.iter().filter_map(|l| l.action_id).collect();
    let actions = if action_ids.is_empty() {
        Vec::new()
    } else {
        enforcement_actions::Entity::find()
            .filter(enforcement_actions::Column::Id.is_in(action_ids))
            .all(db)
            .await?
    };
    let finding_of = |link: &bulletin_links::Model| {
        link.finding_id.or_else(|| {
            actions
                .iter()
                .find(|a| Some(a.id) == link.action_id)
                .map(|a| a.finding_id)
        })
    };
    let finding_ids: Vec<i64> = links.iter().filter_map(finding_of).collect();
    let linked = if finding_ids.is_empty() {
        Vec::new()
    } else {
        findings::Entity::find()
            .filter(findings::Column::Id.is_in(finding_ids))
            .find_also_related(units::Entity)
            .all(db)
            .await?
    };
    let mut out = Vec::new();
    for link in &links {
        let public = bulletins
            .iter()
            .any(|(id, public)| *id == link.bulletin_id && *public);
        let Some((finding, unit)) =
            finding_of(link).and_then(|id| linked.iter().find(|(f, _)| f.id == id))
        else {
            continue;
        };
        if !access::bulletin_case_visible(who, finding, public) {
            continue;
        }
        out.push(Case {
            bulletin_id: link.bulletin_id,
            finding: finding.clone(),
            unit: unit.clone(),
            action: actions
                .iter()
                .find(|a| Some(a.id) == link.action_id)
                .cloned(),
        });
    }
    Ok(out)
}
