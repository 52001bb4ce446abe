//! Feedback on violation patterns (plan §5(3)): enforcement analyses the types and features of
//! permit violations and feeds them back to the permit office that can change the permits; the
//! office answers and links the permit changes it made. Lifecycle:
//! OPEN → ACKNOWLEDGED → ANSWERED → CLOSED (an answer may also come straight from OPEN).

use crate::domain::clock;
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::findings::{self, FindingFilter};
use crate::domain::page::{self, CountQuery, Ordering, Page, PageArgs, SortValue};
use crate::domain::patterns::{self, Dimension};
use crate::domain::taxonomy;
use crate::error::{AppError, AppResult};
use entity::enums::{AgencyKind, FeedbackRecommendation, FeedbackStatus};
use entity::{agencies, feedback, feedback_findings, feedback_permit_changes, permit_versions};

#[derive(Debug, Clone)]
pub struct PostFeedbackInput {
    pub addressed_agency_code: String,
    pub codes: Vec<String>,
    pub industry: Option<String>,
    pub district: Option<String>,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub finding_ids: Vec<i64>,
    pub recommendation: FeedbackRecommendation,
    pub recommendation_text: String,
}

pub fn status_name(status: FeedbackStatus) -> &'static str {
    match status {
        FeedbackStatus::Open => "OPEN",
        FeedbackStatus::Acknowledged => "ACKNOWLEDGED",
        FeedbackStatus::Answered => "ANSWERED",
        FeedbackStatus::Closed => "CLOSED",
    }
}

/// The feedback lifecycle.
pub fn transition(from: FeedbackStatus, to: FeedbackStatus) -> AppResult<()> {
    use FeedbackStatus::*;
    if matches!(
        (from, to),
        (Open, Acknowledged) | (Open | Acknowledged, Answered) | (Answered, Closed)
    ) {
        return Ok(());
    }
    Err(AppError::InvalidTransition {
        from: status_name(from).to_owned(),
        to: status_name(to).to_owned(),
        reason: "feedback moves OPEN → ACKNOWLEDGED → ANSWERED → CLOSED".to_owned(),
    })
}

fn scoped(principal: &Principal) -> Select<feedback::Entity> {
    feedback::Entity::find().filter(access::feedback_filter(principal))
}

pub async fn post(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: PostFeedbackInput,
) -> AppResult<feedback::Model> {
    let who = access::authorize(principal, Operation::PostFeedback)?;
    let (text, industry) = checked_input(who, &input)?;
    let txn = crate::db::begin_write(db).await?;
    let mut codes = Vec::with_capacity(input.codes.len());
    for code in &input.codes {
        codes.push(taxonomy::find(&txn, code, "input.codes").await?.code);
    }
    codes.sort();
    codes.dedup();
    let agency = addressed_office(&txn, who, &input.addressed_agency_code).await?;
    let rested_on = findings_of_pattern(db, who, &input, &codes).await?;
    if let Some(prefix) = &industry {
        check_industry(&txn, &rested_on, prefix).await?;
    }
    let figures = frozen_figures(db, who, &input, industry.clone(), &codes).await?;
    let now = clock::now();
    let saved = feedback::ActiveModel {
        poster_subject: Set(who.subject.clone()),
        poster_agency_code: Set(who.agency_code.clone()),
        poster_district_code: Set(who.district.as_ref().map(|d| d.as_str().to_owned())),
        addressed_agency_code: Set(agency.code.clone()),
        pattern_codes: Set(serde_json::json!(codes)),
        pattern_industry: Set(industry.clone()),
        pattern_district_code: Set(input.district.clone()),
        period_from: Set(input.period_from),
        period_to: Set(input.period_to),
        figures: Set(serde_json::Value::Array(figures)),
        recommendation: Set(input.recommendation),
        recommendation_text: Set(text),
        status: Set(FeedbackStatus::Open),
        answer_text: Set(None),
        answered_by_subject: Set(None),
        answered_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut ids = input.finding_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    feedback_findings::Entity::insert_many(ids.iter().map(|f| feedback_findings::ActiveModel {
        feedback_id: Set(saved.id),
        finding_id: Set(*f),
    }))
    .exec(&txn)
    .await?;
    changes::record(
        &txn,
        who,
        Change {
            kind: ChangeKind::Feedback,
            record_id: saved.id,
            version: Some(saved.version),
            operation: ChangeOperation::Created,
            state: Some(status_name(saved.status)),
            district: agency.district_code.as_deref(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The checks that need no database; returns the recommendation text, trimmed, and the
/// pattern's industry, upper-cased.
fn checked_input(
    who: &Principal,
    input: &PostFeedbackInput,
) -> AppResult<(String, Option<String>)> {
    let text = input.recommendation_text.trim().to_owned();
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(AppError::invalid(
            "input.recommendationText",
            "1 to 4000 characters",
        ));
    }
    if input.period_to < input.period_from {
        return Err(AppError::invalid(
            "input.periodTo",
            "the period ends after it starts",
        ));
    }
    if input.codes.is_empty() || input.codes.len() > 27 {
        return Err(AppError::invalid(
            "input.codes",
            "name the violation codes of the pattern",
        ));
    }
    if input.finding_ids.is_empty() || input.finding_ids.len() > 500 {
        return Err(AppError::invalid(
            "input.findingIds",
            "the feedback rests on 1 to 500 findings",
        ));
    }
    if let Some(d) = &input.district {
        access::check_district(who, d)?;
    }
    // A GB/T 4754 industry code or a prefix of one (`C`, `C26`, `C2614`), as the findings
    // filter takes it.
    let industry = match input
        .industry
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        Some(i) if i.len() <= 5 && i.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(i.to_ascii_uppercase())
        }
        Some(_) => {
            return Err(AppError::invalid(
                "input.industry",
                "a GB/T 4754 industry code or its prefix (a letter and up to four digits)",
            ));
        }
        None => None,
    };
    Ok((text, industry))
}

/// The permit office the feedback goes to, within the poster's district.
async fn addressed_office(
    txn: &DatabaseTransaction,
    who: &Principal,
    code: &str,
) -> AppResult<agencies::Model> {
    let agency = agencies::Entity::find_by_id(code.to_owned())
        .one(txn)
        .await?
        .ok_or_else(|| AppError::invalid("input.addressedAgencyCode", "unknown agency"))?;
    if agency.kind != AgencyKind::PermitOffice {
        return Err(AppError::invalid(
            "input.addressedAgencyCode",
            "feedback goes to a permit office",
        ));
    }
    if let Some(d) = &agency.district_code
        && !access::in_scope(who, d)
    {
        return Err(AppError::invalid(
            "input.addressedAgencyCode",
            format!("{} is outside the poster's district", agency.code),
        ));
    }
    Ok(agency)
}

/// The findings the feedback rests on, as (finding id, unit id).
async fn findings_of_pattern(
    db: &DatabaseConnection,
    who: &Principal,
    input: &PostFeedbackInput,
    codes: &[String],
) -> AppResult<Vec<(i64, i64)>> {
    // Every finding the feedback rests on must be one the poster can read.
    // ... and one of the pattern: its codes, its period, its district, its industry (plan
    // §5(3)).
    let mut rested_on = Vec::with_capacity(input.finding_ids.len());
    for id in &input.finding_ids {
        let Some(finding) = findings::get(db, Some(who), *id).await? else {
            return Err(AppError::invalid(
                "input.findingIds",
                format!("finding {id} is not visible to the poster"),
            ));
        };
        rested_on.push((*id, finding.unit_id));
        let outside = if !codes.contains(&finding.violation_code) {
            Some(format!(
                "is coded {}, not one of the pattern's codes",
                finding.violation_code
            ))
        } else if finding.found_on < input.period_from || finding.found_on > input.period_to {
            Some(format!(
                "was found on {}, outside the pattern's period",
                finding.found_on
            ))
        } else if input
            .district
            .as_ref()
            .is_some_and(|d| *d != finding.district_code)
        {
            Some(format!(
                "is in district {}, not the pattern's",
                finding.district_code
            ))
        } else {
            None
        };
        if let Some(why) = outside {
            return Err(AppError::invalid(
                "input.findingIds",
                format!("finding {id} {why}"),
            ));
        }
    }
    Ok(rested_on)
}

/// Every finding's unit is of the pattern's industry (`prefix`).
async fn check_industry(
    txn: &DatabaseTransaction,
    rested_on: &[(i64, i64)],
    prefix: &str,
) -> AppResult<()> {
    let unit_ids: std::collections::HashSet<i64> = rested_on.iter().map(|(_, u)| *u).collect();
    let industries: std::collections::HashMap<i64, String> = entity::units::Entity::find()
        .filter(entity::units::Column::Id.is_in(unit_ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.industry_code))
        .collect();
    if let Some((id, industry_code)) = rested_on.iter().find_map(|(id, unit)| {
        let code = industries.get(unit).map(String::as_str).unwrap_or("");
        (!code.starts_with(prefix)).then_some((*id, code))
    }) {
        return Err(AppError::invalid(
            "input.findingIds",
            format!("finding {id} is of industry {industry_code}, not the pattern's {prefix}"),
        ));
    }
    Ok(())
}

/// The figures as `violationPatterns` gives them now, frozen with the feedback.
async fn frozen_figures(
    db: &DatabaseConnection,
    who: &Principal,
    input: &PostFeedbackInput,
    industry: Option<String>,
    codes: &[String],
) -> AppResult<Vec<serde_json::Value>> {
    let filter = FindingFilter {
        district: input.district.clone(),
        industry,
        found_from: Some(input.period_from),
        found_to: Some(input.period_to),
        ..Default::default()
    };
    let rows = patterns::violation_patterns(
        db,
        Some(who),
        &filter,
        &[Dimension::Code],
        patterns::MAX_ROWS,
        patterns::Counts::FindingsOnly,
    )
    .await?;
    let figures: Vec<serde_json::Value> = rows
        .into_iter()
        .filter(|r| r.code.as_ref().is_some_and(|c| codes.contains(c)))
        .map(|r| {
            serde_json::json!({
                "code": r.code, "findings": r.findings, "unitsAffected": r.units_affected, "finesYuan": r.fines_yuan
            })
        })
        .collect();
    Ok(figures)
}

#[derive(Debug, Clone, Default)]
pub struct Response {
    pub to: Option<FeedbackStatus>,
    pub answer: Option<String>,
    /// (permit id, permit version) of the changes made in response.
    pub permit_changes: Vec<(i64, i32)>,
}

/// The addressed permit office acknowledges, answers or closes feedback.
pub async fn respond(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
    expected_version: i32,
    response: Response,
) -> AppResult<feedback::Model> {
    let who = access::authorize(principal, Operation::WritePermits)?;
    let txn = crate::db::begin_write(db).await?;
    let current = scoped(who)
        .filter(feedback::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("feedback {id}")))?;
    if who.agency_code.as_deref() != Some(current.addressed_agency_code.as_str()) {
        return Err(AppError::Forbidden(format!(
            "only the addressed permit office {} answers this feedback",
            current.addressed_agency_code
        )));
    }
    if current.version != expected_version {
        return Err(AppError::Conflict(format!(
            "feedback {id} is at version {}, not {expected_version}: reload and retry",
            current.version
        )));
    }
    let answer = response
        .answer
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty());
    let to = response.to.unwrap_or(if answer.is_some() {
        FeedbackStatus::Answered
    } else {
        FeedbackStatus::Acknowledged
    });
    transition(current.status, to)?;
    if to == FeedbackStatus::Answered && answer.is_none() {
        return Err(AppError::invalid(
            "input.answer",
            "an answer says what the office did",
        ));
    }
    for (permit_id, version) in &response.permit_changes {
        let known = permit_versions::Entity::find()
            .filter(permit_versions::Column::PermitId.eq(*permit_id))
            .filter(permit_versions::Column::Version.eq(*version))
            .one(&txn)
            .await?;
        let permit = crate::domain::permits::by_ids(&txn, who, &[*permit_id]).await?;
        let Some(known) = known.filter(|_| !permit.is_empty()) else {
            return Err(AppError::invalid(
                "input.permitChanges",
                format!("permit {permit_id} has no version {version} in the office's scope"),
            ));
        };
        // A response cites what was changed after the feedback arrived, not what stood before.
        if known.created_at < current.created_at {
            return Err(AppError::invalid(
                "input.permitChanges",
                format!(
                    "version {version} of permit {permit_id} predates the feedback; cite the change made in response"
                ),
            ));
        }
        feedback_permit_changes::ActiveModel {
            feedback_id: Set(id),
            permit_id: Set(*permit_id),
            permit_version: Set(*version),
        }
        .insert(&txn)
        .await?;
    }
    let mut active: feedback::ActiveModel = current.clone().into();
    active.status = Set(to);
    active.version = Set(current.version + 1);
    active.updated_at = Set(clock::now());
    if let Some(answer) = answer {
        active.answer_text = Set(Some(answer));
        active.answered_by_subject = Set(Some(who.subject.clone()));
        active.answered_at = Set(Some(clock::now()));
    }
    let updated = active.update(&txn).await?;
    changes::record(
        &txn,
        who,
        Change {
            kind: ChangeKind::Feedback,
            record_id: updated.id,
            version: Some(updated.version),
            operation: ChangeOperation::StateChanged,
            state: Some(status_name(updated.status)),
            district: updated.poster_district_code.as_deref(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

pub struct FeedbackList {
    select: Select<feedback::Entity>,
}

impl FeedbackList {
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        args: &PageArgs,
    ) -> AppResult<Page<feedback::Model>> {
        let ordering = Ordering {
            column: feedback::Column::Id,
            id_column: Some(feedback::Column::Id),
            descending: true,
            date_sort: false,
            key: |m: &feedback::Model| (SortValue::Int(m.id), m.id),
        };
        page::fetch_page(db, self.select.clone(), &ordering, args).await
    }

    pub fn count_query(&self) -> CountQuery {
        CountQuery::new(self.select.clone())
    }
}

pub fn list(
    principal: Option<&Principal>,
    status: Option<FeedbackStatus>,
) -> AppResult<FeedbackList> {
    let who = access::authorize(principal, Operation::ReadFeedback)?;
    let mut select = scoped(who);
    if let Some(s) = status {
        select = select.filter(feedback::Column::Status.eq(s));
    }
    Ok(FeedbackList { select })
}

pub async fn get(
    db: &impl ConnectionTrait,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<feedback::Model>> {
    let who = access::authorize(principal, Operation::ReadFeedback)?;
    Ok(scoped(who)
        .filter(feedback::Column::Id.eq(id))
        .one(db)
        .await?)
}

pub async fn finding_ids_of(db: &impl ConnectionTrait, feedback_id: i64) -> AppResult<Vec<i64>> {
    Ok(feedback_findings::Entity::find()
        .select_only()
        .column(feedback_findings::Column::FindingId)
        .filter(feedback_findings::Column::FeedbackId.eq(feedback_id))
        .order_by_asc(feedback_findings::Column::FindingId)
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn permit_changes_of(
    db: &impl ConnectionTrait,
    feedback_id: i64,
) -> AppResult<Vec<feedback_permit_changes::Model>> {
    Ok(feedback_permit_changes::Entity::find()
        .filter(feedback_permit_changes::Column::FeedbackId.eq(feedback_id))
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        use FeedbackStatus::*;
        assert!(transition(Open, Acknowledged).is_ok());
        assert!(transition(Acknowledged, Answered).is_ok());
        assert!(transition(Open, Answered).is_ok());
        assert!(transition(Answered, Closed).is_ok());
        assert!(transition(Open, Closed).is_err());
        assert!(transition(Closed, Open).is_err());
    }
}
