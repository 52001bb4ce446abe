//! Running, storing and replaying double-random draws (see `sampling` for the algorithm).
//! A draw freezes its inputs (the target list with weights, the inspector list, the declared
//! conflicts), its seed and the algorithm version; `verify` re-runs them. Results stay with
//! the district and municipal supervision until published (results of random checks are
//! published after the inspections).

use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::campaigns;
use crate::domain::changes::{self, Change, ChangeKind, ChangeOperation};
use crate::domain::clock;
use crate::domain::page::{Listing, Ordering, SortValue};
use crate::domain::sampling::{
    self, ALGORITHM_VERSION, Candidate, DrawError, JointGroupInputs, UnitDrawInputs,
};
use crate::domain::text;
use crate::error::{AppError, AppResult};
use entity::enums::{AgencyKind, CreditLevel, DrawKind, EnforcementActionKind, ManagementCategory};
use entity::{
    agencies, districts, enforcement_actions, findings, inspector_conflicts, inspectors,
    random_draw_items, random_draws, units,
};

/// Municipal joint groups dealt in one draw; the city has a handful, not hundreds.
pub const MAX_JOINT_GROUPS: usize = 100;

#[derive(Debug, Clone)]
pub struct DrawUnitsInput {
    pub campaign_id: Option<i64>,
    /// Required for municipal callers; district callers draw in their own district.
    pub district_code: Option<String>,
    pub category: ManagementCategory,
    /// How many units; defaults to the campaign's sampling share of the stratum.
    pub count: Option<u32>,
    pub inspectors_per_unit: u32,
    /// For reproducing a draw elsewhere; a fresh random seed when absent.
    pub seed: Option<u64>,
}

fn random_seed() -> AppResult<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(u64::from_le_bytes(bytes))
}

/// The inspection-target list of a stratum as it stands today, with weights.
async fn candidates(
    db: &impl ConnectionTrait,
    district: &str,
    category: ManagementCategory,
) -> AppResult<Vec<Candidate>> {
    let today = clock::today();
    let rows = units::Entity::find()
        .filter(units::Column::DistrictCode.eq(district))
        .filter(units::Column::ManagementCategory.eq(category))
        .order_by_asc(units::Column::Id)
        .all(db)
        .await?;
    // Penalised in the last year: a penalty decided on one of the unit's findings.
    let penalised: Vec<i64> = findings::Entity::find()
        .select_only()
        .column(findings::Column::UnitId)
        .filter(findings::Column::DistrictCode.eq(district))
        .filter(
            findings::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(enforcement_actions::Column::FindingId)
                    .from(enforcement_actions::Entity)
                    .and_where(
                        enforcement_actions::Column::DecidedOn.gte(today - Duration::days(365)),
                    )
                    .and_where(enforcement_actions::Column::Kind.is_in([
                        EnforcementActionKind::Fine,
                        EnforcementActionKind::ProductionRestriction,
                        EnforcementActionKind::Suspension,
                        EnforcementActionKind::PermitWithdrawal,
                        EnforcementActionKind::DailyContinuousPenalty,
                        EnforcementActionKind::SealUp,
                    ]))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|u| !(u.positive_list && u.positive_list_expires_on.is_none_or(|d| d >= today)))
        .map(|u| {
            let mandatory = u.credit_level == CreditLevel::Poor || penalised.contains(&u.id);
            let weight = match u.credit_level {
                CreditLevel::Trustworthy => sampling::WEIGHT_TRUSTWORTHY,
                CreditLevel::Good => sampling::WEIGHT_GOOD,
                CreditLevel::Warning | CreditLevel::Poor => sampling::WEIGHT_WARNING,
            };
            Candidate {
                unit_id: u.id,
                weight,
                mandatory,
            }
        })
        .collect())
}

/// Active inspectors of the district's enforcement agency, and their declared conflicts.
async fn inspector_list(
    db: &impl ConnectionTrait,
    district: &str,
) -> AppResult<(Vec<i64>, Vec<(i64, i64)>)> {
    let agency_codes: Vec<String> = agencies::Entity::find()
        .filter(agencies::Column::DistrictCode.eq(district))
        .filter(agencies::Column::Kind.eq(AgencyKind::Enforcement))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.code)
        .collect();
    let ids: Vec<i64> = inspectors::Entity::find()
        .select_only()
        .column(inspectors::Column::Id)
        .filter(inspectors::Column::AgencyCode.is_in(agency_codes))
        .filter(inspectors::Column::Active.eq(true))
        .order_by_asc(inspectors::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut conflicts: Vec<(i64, i64)> = inspector_conflicts::Entity::find()
        .select_only()
        .column(inspector_conflicts::Column::InspectorId)
        .column(inspector_conflicts::Column::UnitId)
        .filter(inspector_conflicts::Column::InspectorId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    conflicts.sort_unstable();
    Ok((ids, conflicts))
}

pub async fn draw_units(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    input: DrawUnitsInput,
) -> AppResult<random_draws::Model> {
    let who = access::authorize(principal, Operation::DrawRandom)?;
    let district = draw_district(who, &input)?;
    let txn = crate::db::begin_write(db).await?;
    if districts::Entity::find_by_id(district.clone())
        .one(&txn)
        .await?
        .is_none()
    {
        return Err(AppError::invalid(
            "input.districtCode",
            format!("unknown district '{district}'"),
        ));
    }
    let campaign = match input.campaign_id {
        Some(id) => Some(campaigns::require(&txn, id, "input.campaignId").await?),
        None => None,
    };
    let candidates = candidates(&txn, &district, input.category).await?;
    let count = draw_count(&txn, campaign.as_ref(), &input, candidates.len(), &district).await?;
    let (inspector_ids, conflicts) = inspector_list(&txn, &district).await?;
    let inputs = UnitDrawInputs {
        candidates,
        inspectors: inspector_ids,
        conflicts,
        requested_count: count,
        inspectors_per_unit: input.inspectors_per_unit,
    };
    let seed = match input.seed {
        Some(s) => s,
        None => random_seed()?,
    };
    let drawn = sampling::draw_units(&inputs, seed).map_err(|e| match e {
        DrawError::NotEnoughInspectors {
            unit_id,
            eligible,
            needed,
        } => AppError::invalid(
            "input.inspectorsPerUnit",
            format!(
                "unit {unit_id} has {eligible} eligible inspectors (after recusal), {needed} needed"
            ),
        ),
    })?;
    let saved = random_draws::ActiveModel {
        campaign_id: Set(campaign.map(|c| c.id)),
        district_code: Set(Some(district.clone())),
        kind: Set(DrawKind::Units),
        management_category: Set(Some(input.category)),
        requested_count: Set(count as i32),
        inspectors_per_unit: Set(input.inspectors_per_unit as i32),
        seed: Set(seed.to_string()),
        algorithm_version: Set(ALGORITHM_VERSION.to_owned()),
        input_digest: Set(sampling::digest(&inputs)),
        frozen_inputs: Set(serde_json::to_value(&inputs).map_err(AppError::internal)?),
        result: Set(serde_json::to_value(&drawn).map_err(AppError::internal)?),
        drawn_by_subject: Set(who.subject.clone()),
        drawn_by_agency: Set(who.agency_code.clone()),
        drawn_at: Set(clock::now()),
        published: Set(false),
        published_on: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    insert_unit_items(&txn, saved.id, &drawn, &district).await?;
    changes::record(
        &txn,
        who,
        Change {
            kind: ChangeKind::RandomDraw,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: Some("UNPUBLISHED"),
            district: saved.district_code.as_deref(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The district drawn in (given, or the caller's own) and the team size, checked.
fn draw_district(who: &Principal, input: &DrawUnitsInput) -> AppResult<String> {
    let district = match (&input.district_code, &who.district) {
        (Some(d), _) => d.clone(),
        (None, Some(own)) => own.as_str().to_owned(),
        (None, None) => {
            return Err(AppError::invalid(
                "input.districtCode",
                "name the district to draw in",
            ));
        }
    };
    access::check_district(who, &district)?;
    if input.inspectors_per_unit < 2 || input.inspectors_per_unit > 10 {
        return Err(AppError::invalid(
            "input.inspectorsPerUnit",
            "on-site checks need 2 to 10 inspectors",
        ));
    }
    Ok(district)
}

/// How many units to draw: the count given, or the campaign's sampling share of the stratum's
/// `listed` units; never more than the list holds.
async fn draw_count(
    txn: &DatabaseTransaction,
    campaign: Option<&entity::campaigns::Model>,
    input: &DrawUnitsInput,
    listed: usize,
    district: &str,
) -> AppResult<u32> {
    let count = match input.count {
        Some(n) if n >= 1 => n,
        Some(_) => return Err(AppError::invalid("input.count", "draw at least one unit")),
        None => {
            let rule = match campaign {
                Some(c) => campaigns::rules_of(txn, c.id)
                    .await?
                    .into_iter()
                    .find(|r| r.management_category == input.category),
                None => None,
            };
            let rule = rule.ok_or_else(|| {
                AppError::invalid(
                    "input.count",
                    "give a count, or a campaign with a sampling rule for this category",
                )
            })?;
            ((listed as f64) * rule.share).ceil() as u32
        }
    };
    // A draw takes units from the frozen list; it cannot take more than the list holds.
    if count as usize > listed {
        return Err(AppError::invalid(
            "input.count",
            format!(
                "{count} units asked for, but the inspection-target list of {district} holds {listed} in this category"
            ),
        ));
    }
    Ok(count)
}

/// The drawn units in their order, each with its inspectors.
async fn insert_unit_items(
    txn: &DatabaseTransaction,
    draw_id: i64,
    drawn: &[sampling::DrawnUnit],
    district: &str,
) -> AppResult<()> {
    if !drawn.is_empty() {
        let items = drawn
            .iter()
            .enumerate()
            .map(|(i, d)| random_draw_items::ActiveModel {
                draw_id: Set(draw_id),
                unit_id: Set(Some(d.unit_id)),
                district_code: Set(Some(district.to_owned())),
                group_label: Set(None),
                inspector_ids: Set(serde_json::json!(d.inspector_ids)),
                position: Set(i as i32 + 1),
                ..Default::default()
            });
        random_draw_items::Entity::insert_many(items)
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Municipal joint groups (市级联合检查组) dealt to districts at random.
pub async fn draw_joint_groups(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    campaign_id: Option<i64>,
    groups: Vec<String>,
    district_codes: Vec<String>,
    seed: Option<u64>,
) -> AppResult<random_draws::Model> {
    let who = access::authorize(principal, Operation::ManageCampaigns)?;
    access::check_municipal(who, "drawing joint groups")?;
    let groups: Vec<String> = groups
        .into_iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    if groups.is_empty() || groups.len() > MAX_JOINT_GROUPS {
        return Err(AppError::invalid(
            "input.groups",
            format!("1 to {MAX_JOINT_GROUPS} groups"),
        ));
    }
    for (i, group) in groups.iter().enumerate() {
        text::required(&format!("input.groups[{i}]"), group, 64)?;
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = groups.iter().find(|g| !seen.insert(g.as_str())) {
        return Err(AppError::invalid(
            "input.groups",
            format!("the group label '{twice}' appears twice"),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let known: Vec<String> = districts::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    let mut district_codes = if district_codes.is_empty() {
        known.clone()
    } else {
        district_codes
    };
    if let Some(bad) = district_codes.iter().find(|d| !known.contains(d)) {
        return Err(AppError::invalid(
            "input.districtCodes",
            format!("unknown district '{bad}'"),
        ));
    }
    district_codes.sort();
    district_codes.dedup();
    if let Some(id) = campaign_id {
        campaigns::require(&txn, id, "input.campaignId").await?;
    }
    let inputs = JointGroupInputs {
        groups,
        districts: district_codes,
    };
    let seed = match seed {
        Some(s) => s,
        None => random_seed()?,
    };
    let assignments = sampling::draw_joint_groups(&inputs, seed);
    let saved = random_draws::ActiveModel {
        campaign_id: Set(campaign_id),
        district_code: Set(None),
        kind: Set(DrawKind::JointGroups),
        management_category: Set(None),
        requested_count: Set(inputs.groups.len() as i32),
        inspectors_per_unit: Set(0),
        seed: Set(seed.to_string()),
        algorithm_version: Set(ALGORITHM_VERSION.to_owned()),
        input_digest: Set(sampling::digest(&inputs)),
        frozen_inputs: Set(serde_json::to_value(&inputs).map_err(AppError::internal)?),
        result: Set(serde_json::to_value(&assignments).map_err(AppError::internal)?),
        drawn_by_subject: Set(who.subject.clone()),
        drawn_by_agency: Set(who.agency_code.clone()),
        drawn_at: Set(clock::now()),
        published: Set(false),
        published_on: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let items = assignments
        .iter()
        .enumerate()
        .map(|(i, a)| random_draw_items::ActiveModel {
            draw_id: Set(saved.id),
            unit_id: Set(None),
            district_code: Set(Some(a.district_code.clone())),
            group_label: Set(Some(a.group_label.clone())),
            inspector_ids: Set(serde_json::json!([])),
            position: Set(i as i32 + 1),
            ..Default::default()
        });
    random_draw_items::Entity::insert_many(items)
        .exec(&txn)
        .await?;
    changes::record(
        &txn,
        who,
        Change {
            kind: ChangeKind::RandomDraw,
            record_id: saved.id,
            version: None,
            operation: ChangeOperation::Created,
            state: Some("UNPUBLISHED"),
            district: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Re-runs a stored draw from its frozen inputs and seed: true when the result is identical.
pub fn verify(draw: &random_draws::Model) -> AppResult<bool> {
    if draw.algorithm_version != ALGORITHM_VERSION {
        return Ok(false);
    }
    let seed: u64 = draw
        .seed
        .parse()
        .map_err(|_| AppError::internal("stored seed is not a number"))?;
    let replayed = match draw.kind {
        DrawKind::Units => {
            let inputs: UnitDrawInputs =
                serde_json::from_value(draw.frozen_inputs.clone()).map_err(AppError::internal)?;
            if sampling::digest(&inputs) != draw.input_digest {
                return Ok(false);
            }
            match sampling::draw_units(&inputs, seed) {
                Ok(drawn) => serde_json::to_value(drawn).map_err(AppError::internal)?,
                Err(_) => return Ok(false),
            }
        }
        DrawKind::JointGroups => {
            let inputs: JointGroupInputs =
                serde_json::from_value(draw.frozen_inputs.clone()).map_err(AppError::internal)?;
            if sampling::digest(&inputs) != draw.input_digest {
                return Ok(false);
            }
            serde_json::to_value(sampling::draw_joint_groups(&inputs, seed))
                .map_err(AppError::internal)?
        }
    };
    Ok(replayed == draw.result)
}

/// Draws the principal may see (`access::draw_filter`).
fn visible(principal: &Principal) -> Select<random_draws::Entity> {
    random_draws::Entity::find().filter(access::draw_filter(principal))
}

/// Draws the principal may see, newest first, optionally of one campaign.
pub fn list(
    principal: Option<&Principal>,
    campaign_id: Option<i64>,
) -> AppResult<Listing<random_draws::Entity>> {
    let who = access::authorize(principal, Operation::ReadEnforcement)?;
    let mut select = visible(who);
    if let Some(c) = campaign_id {
        select = select.filter(random_draws::Column::CampaignId.eq(c));
    }
    Ok(Listing::new(
        select,
        Ordering {
            column: random_draws::Column::Id,
            id_column: None,
            descending: true,
            date_sort: false,
            key: |m: &random_draws::Model| (SortValue::Int(m.id), m.id),
        },
    ))
}

/// The newest `limit` draws of each campaign the principal may see, in one statement (a
/// window over the campaigns): the first page of every campaign listed.
pub async fn newest_of_campaigns(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign_ids: &[i64],
    limit: u64,
) -> AppResult<Vec<random_draws::Model>> {
    use sea_orm::StatementBuilder;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, WindowStatement};
    let rank = Alias::new("rank_in_campaign");
    let mut inner = Query::select();
    inner
        .column(sea_orm::sea_query::Asterisk)
        .expr_window_as(
            Func::cust(Alias::new("ROW_NUMBER")),
            WindowStatement::partition_by(random_draws::Column::CampaignId)
                .order_by(random_draws::Column::Id, Order::Desc)
                .to_owned(),
            rank.clone(),
        )
        .from(random_draws::Entity)
        .cond_where(access::draw_filter(principal))
        .and_where(Expr::col(random_draws::Column::CampaignId).is_in(campaign_ids.iter().copied()));
    let outer = Query::select()
        .column(sea_orm::sea_query::Asterisk)
        .from_subquery(inner, Alias::new("ranked"))
        .and_where(Expr::col(rank).lte(limit as i64))
        .order_by(random_draws::Column::Id, Order::Desc)
        .to_owned();
    let statement = StatementBuilder::build(&outer, &db.get_database_backend());
    Ok(random_draws::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?)
}

/// How many draws of each campaign the principal may see, in one statement.
pub async fn count_per_campaign(
    db: &impl ConnectionTrait,
    principal: &Principal,
    campaign_ids: &[i64],
) -> AppResult<Vec<(i64, i64)>> {
    Ok(visible(principal)
        .select_only()
        .column(random_draws::Column::CampaignId)
        .column_as(random_draws::Column::Id.count(), "n")
        .filter(random_draws::Column::CampaignId.is_in(campaign_ids.iter().copied()))
        .group_by(random_draws::Column::CampaignId)
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn get(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<Option<random_draws::Model>> {
    let who = access::authorize(principal, Operation::ReadEnforcement)?;
    Ok(visible(who)
        .filter(random_draws::Column::Id.eq(id))
        .one(db)
        .await?)
}

pub async fn items_of(
    db: &impl ConnectionTrait,
    draw_id: i64,
) -> AppResult<Vec<random_draw_items::Model>> {
    Ok(random_draw_items::Entity::find()
        .filter(random_draw_items::Column::DrawId.eq(draw_id))
        .order_by_asc(random_draw_items::Column::Position)
        .all(db)
        .await?)
}

/// Publishes a draw's result (after its inspections).
pub async fn publish(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    id: i64,
) -> AppResult<random_draws::Model> {
    let who = access::authorize(principal, Operation::DrawRandom)?;
    let draw = visible(who)
        .filter(random_draws::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("random draw {id}")))?;
    access::check_record_scope(
        who,
        draw.district_code.as_deref(),
        "publishing a municipal draw",
    )?;
    if draw.published {
        return Err(AppError::Conflict(format!(
            "random draw {id} is already published"
        )));
    }
    let mut active: random_draws::ActiveModel = draw.into();
    active.published = Set(true);
    active.published_on = Set(Some(clock::today()));
    let txn = crate::db::begin_write(db).await?;
    let published = active.update(&txn).await?;
    changes::record(
        &txn,
        who,
        Change {
            kind: ChangeKind::RandomDraw,
            record_id: published.id,
            version: None,
            operation: ChangeOperation::StateChanged,
            state: Some("PUBLISHED"),
            district: published.district_code.as_deref(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(published)
}
