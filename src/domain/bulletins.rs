//! Information bulletins (信息通报, plan §5(4)): liaison rosters, campaign notices, typical cases,
//! summaries. A bulletin names its audience — agencies, roles, districts, or the public — and
//! each addressed agency acknowledges it; a bulletin shows who has and who has not.
//!
//! Audience: public reaches every principal; otherwise a principal is addressed when its agency
//! is listed, or its role is listed (within the listed districts, if any), or — with no roles
//! listed — its district is listed.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::auth::{Principal, Role};
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::error::{AppError, AppResult};
use entity::enums::{AgencyKind, BulletinKind, EnforcementActionKind, FindingStatus};
use entity::{
    agencies, bulletin_acknowledgements, bulletin_links, bulletins, enforcement_actions, findings,
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

/// Whether the bulletin is addressed to the principal (publishers always see their own).
pub fn addressed_to(bulletin: &bulletins::Model, principal: &Principal) -> bool {
    if bulletin.public || bulletin.publisher_subject == principal.subject {
        return true;
    }
    let agencies = strings(&bulletin.audience_agencies);
    let roles = strings(&bulletin.audience_roles);
    let districts = strings(&bulletin.audience_districts);
    let own_district = principal.district.as_ref().map(|d| d.as_str().to_owned());
    if principal
        .agency_code
        .as_ref()
        .is_some_and(|a| agencies.contains(a))
    {
        return true;
    }
    let in_districts =
        districts.is_empty() || own_district.as_ref().is_some_and(|d| districts.contains(d));
    if roles.iter().any(|r| r == principal.role.as_str()) && in_districts {
        return true;
    }
    roles.is_empty() && own_district.is_some_and(|d| districts.contains(&d))
}

/// The agency kind that acts for a role.
fn kind_of(role: Role) -> Option<AgencyKind> {
    match role {
        Role::PermitOfficer => Some(AgencyKind::PermitOffice),
        Role::EnforcementOfficer => Some(AgencyKind::Enforcement),
        Role::Monitoring => Some(AgencyKind::Monitoring),
        Role::Supervisor => Some(AgencyKind::Supervision),
        Role::Integrator | Role::Admin => None,
    }
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
                && roles.iter().any(|r| kind_of(*r) == Some(a.kind))
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
    let title = input.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(AppError::invalid("input.title", "1 to 200 characters"));
    }
    let body = input.body.trim().to_owned();
    if body.is_empty() || body.chars().count() > 20_000 {
        return Err(AppError::invalid("input.body", "1 to 20000 characters"));
    }
    let audience = input.audience;
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
    // District staff address their own district only.
    if let Some(own) = &who.district {
        if audience.public && input.kind != BulletinKind::TypicalCase {
            return Err(AppError::Forbidden(
                "district staff publish to the public only typical cases".to_owned(),
            ));
        }
        if audience.districts.iter().any(|d| d != own.as_str())
            || (!audience.roles.is_empty() && audience.districts.is_empty())
        {
            return Err(AppError::Forbidden(
                "district staff address their own district".to_owned(),
            ));
        }
    }
    let txn = crate::db::begin_write(db).await?;
    let known: BTreeSet<String> = agencies::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    if let Some(bad) = audience.agencies.iter().find(|a| !known.contains(*a)) {
        return Err(AppError::invalid(
            "input.audience.agencies",
            format!("unknown agency '{bad}'"),
        ));
    }
    for (i, district) in audience.districts.iter().enumerate() {
        crate::domain::reference::require_district(
            &txn,
            district,
            &format!("input.audience.districts[{i}]"),
        )
        .await?;
    }
    // Linked findings and cases must be ones the publisher can read.
    for id in &input.finding_ids {
        if crate::domain::findings::get(db, Some(who), *id)
            .await?
            .is_none()
        {
            return Err(AppError::invalid(
                "input.findingIds",
                format!("finding {id} is not visible to the publisher"),
            ));
        }
    }
    let mut penalised_case = false;
    for id in &input.action_ids {
        let action = enforcement_actions::Entity::find_by_id(*id)
            .one(&txn)
            .await?
            .ok_or_else(|| {
                AppError::invalid("input.actionIds", format!("no enforcement action {id}"))
            })?;
        let finding = crate::domain::findings::get(db, Some(who), action.finding_id)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "input.actionIds",
                    format!("action {id} is not visible to the publisher"),
                )
            })?;
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
        published_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let links = input
        .finding_ids
        .iter()
        .map(|f| (Some(*f), None))
        .chain(input.action_ids.iter().map(|a| (None, Some(*a))))
        .map(|(finding_id, action_id)| bulletin_links::ActiveModel {
            bulletin_id: Set(saved.id),
            finding_id: Set(finding_id),
            action_id: Set(action_id),
            ..Default::default()
        })
        .collect::<Vec<_>>();
    if !links.is_empty() {
        bulletin_links::Entity::insert_many(links)
            .exec(&txn)
            .await?;
    }
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

/// Bulletins addressed to the principal, newest first (the latest `limit`).
pub async fn list(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    limit: u64,
) -> AppResult<Vec<bulletins::Model>> {
    let who = access::authorize(principal, Operation::ReadBulletins)?;
    // Audiences are small JSON lists: read the newest and keep those addressed to the caller.
    let rows = bulletins::Entity::find()
        .order_by_desc(bulletins::Column::PublishedAt)
        .order_by_desc(bulletins::Column::Id)
        .limit(1000)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|b| addressed_to(b, who))
        .take(limit as usize)
        .collect())
}

pub async fn get(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<bulletins::Model>> {
    let who = access::authorize(principal, Operation::ReadBulletins)?;
    Ok(bulletins::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|b| addressed_to(b, who)))
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
    let bulletin = bulletins::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|b| addressed_to(b, who))
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
        acknowledged_at: Set(Utc::now()),
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

/// A linked case as published: no personal data (the unit's name and credit code are public
/// registry data; its legal representative and phone are not included).
pub async fn case_of(
    db: &impl ConnectionTrait,
    link: &bulletin_links::Model,
) -> AppResult<Option<(findings::Model, Option<enforcement_actions::Model>)>> {
    let action = match link.action_id {
        Some(id) => enforcement_actions::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let finding_id = link.finding_id.or(action.as_ref().map(|a| a.finding_id));
    let Some(finding_id) = finding_id else {
        return Ok(None);
    };
    Ok(findings::Entity::find_by_id(finding_id)
        .one(db)
        .await?
        .map(|f| (f, action)))
}
