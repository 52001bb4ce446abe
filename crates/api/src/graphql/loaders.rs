//! DataLoaders: every nested field loads through one of these, so a page of N parents costs one
//! statement per nested field, not N (no N+1). One loader value per request, carrying the
//! principal, so batched reads are scoped exactly like top-level reads.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use entity::{outlets, permit_limits, permit_versions, registrations as reg, units as unit_rows};
use permit_core::auth::Principal;
use permit_core::domain::{permits, registrations, units};
use permit_core::error::AppError;

pub struct DbLoader {
    pub db: DatabaseConnection,
    pub principal: Option<Principal>,
}

/// Loader errors travel as a shared `AppError` (the loader API wants `Clone`).
pub type LoadError = Arc<AppError>;

impl DbLoader {
    fn principal(&self) -> Result<&Principal, LoadError> {
        self.principal
            .as_ref()
            .ok_or_else(|| Arc::new(AppError::Unauthenticated("send a bearer token".to_owned())))
    }
}

fn group<K: std::hash::Hash + Eq + Clone, V>(
    keys: &[K],
    rows: Vec<V>,
    key_of: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for row in rows {
        map.entry(key_of(&row)).or_default().push(row);
    }
    map
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UnitId(pub i64);

impl Loader<UnitId> for DbLoader {
    type Value = unit_rows::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[UnitId]) -> Result<HashMap<UnitId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = units::by_ids(&self.db, self.principal()?, &ids).await?;
        Ok(rows.into_iter().map(|u| (UnitId(u.id), u)).collect())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PermitsOfUnit(pub i64);

impl Loader<PermitsOfUnit> for DbLoader {
    type Value = Vec<entity::permits::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[PermitsOfUnit],
    ) -> Result<HashMap<PermitsOfUnit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::by_unit_ids(&self.db, self.principal()?, &ids).await?;
        Ok(group(keys, rows, |p| PermitsOfUnit(p.unit_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegistrationsOfUnit(pub i64);

impl Loader<RegistrationsOfUnit> for DbLoader {
    type Value = Vec<reg::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RegistrationsOfUnit],
    ) -> Result<HashMap<RegistrationsOfUnit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = registrations::of_units(&self.db, self.principal()?, &ids).await?;
        Ok(group(keys, rows, |r| RegistrationsOfUnit(r.unit_id)))
    }
}

/// Outlets, limits and versions are reached only through a permit already in scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutletsOfPermit(pub i64);

impl Loader<OutletsOfPermit> for DbLoader {
    type Value = Vec<outlets::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[OutletsOfPermit],
    ) -> Result<HashMap<OutletsOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::outlets_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |o| OutletsOfPermit(o.permit_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LimitsOfPermit(pub i64);

impl Loader<LimitsOfPermit> for DbLoader {
    type Value = Vec<permit_limits::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LimitsOfPermit],
    ) -> Result<HashMap<LimitsOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::limits_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |l| LimitsOfPermit(l.permit_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VersionsOfPermit(pub i64);

impl Loader<VersionsOfPermit> for DbLoader {
    type Value = Vec<permit_versions::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[VersionsOfPermit],
    ) -> Result<HashMap<VersionsOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::versions_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |v| VersionsOfPermit(v.permit_id)))
    }
}

/// A permit's self-monitoring plan, every version (the field filters by version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequirementsOfPermit(pub i64);

impl Loader<RequirementsOfPermit> for DbLoader {
    type Value = Vec<entity::monitoring_requirements::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RequirementsOfPermit],
    ) -> Result<HashMap<RequirementsOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::requirements_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |r| RequirementsOfPermit(r.permit_id)))
    }
}

/// A permit's execution-report duties, every version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DutiesOfPermit(pub i64);

impl Loader<DutiesOfPermit> for DbLoader {
    type Value = Vec<entity::report_duties::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DutiesOfPermit],
    ) -> Result<HashMap<DutiesOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::duties_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |r| DutiesOfPermit(r.permit_id)))
    }
}

/// A permit's execution reports (reached through a permit in scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportsOfPermit(pub i64);

impl Loader<ReportsOfPermit> for DbLoader {
    type Value = Vec<entity::execution_reports::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ReportsOfPermit],
    ) -> Result<HashMap<ReportsOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permit_core::domain::reports::of_permits(&self.db, &ids).await?;
        Ok(group(keys, rows, |r| ReportsOfPermit(r.permit_id)))
    }
}

/// An inspection's ledger checks (reached through an inspection in scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LedgerChecksOfInspection(pub i64);

impl Loader<LedgerChecksOfInspection> for DbLoader {
    type Value = Vec<entity::ledger_checks::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LedgerChecksOfInspection],
    ) -> Result<HashMap<LedgerChecksOfInspection, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permit_core::domain::ledgers::of_inspections(&self.db, &ids).await?;
        Ok(group(keys, rows, |r| {
            LedgerChecksOfInspection(r.inspection_id)
        }))
    }
}

/// A reading by id, for a candidate's or a finding's evidence (scoped like `readings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReadingId(pub i64);

impl Loader<ReadingId> for DbLoader {
    type Value = entity::readings::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ReadingId],
    ) -> Result<HashMap<ReadingId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows =
            permit_core::domain::monitoring::by_ids(&self.db, self.principal()?, &ids).await?;
        Ok(rows.into_iter().map(|r| (ReadingId(r.id), r)).collect())
    }
}

/// The candidate a finding was recorded from (scoped like `violationCandidates`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CandidateOfFinding(pub i64);

impl Loader<CandidateOfFinding> for DbLoader {
    type Value = entity::violation_candidates::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CandidateOfFinding],
    ) -> Result<HashMap<CandidateOfFinding, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows =
            permit_core::domain::candidates::of_findings(&self.db, self.principal()?, &ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|c| c.finding_id.map(|f| (CandidateOfFinding(f), c)))
            .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Enforcement: inspections, findings and what hangs off them.

use entity::{
    enforcement_actions, finding_evidence, finding_transitions, findings as finding_rows,
    inspection_inspectors, inspections as inspection_rows, inspectors as inspector_rows,
    random_draws,
};
use permit_core::domain::access::{self, Operation};
use permit_core::domain::{cases, draws, findings, inspections, inspectors};

impl DbLoader {
    /// Enforcement records need a role that may read them (MONITORING may not).
    fn enforcement_reader(&self) -> Result<&Principal, LoadError> {
        let principal = self.principal()?;
        access::authorize(Some(principal), Operation::ReadEnforcement).map_err(Arc::new)
    }
}

/// Splits keys that carry a page size, so each size is one statement.
fn by_limit<K: Copy>(keys: &[K], limit_of: impl Fn(&K) -> u64) -> HashMap<u64, Vec<K>> {
    let mut groups: HashMap<u64, Vec<K>> = HashMap::new();
    for key in keys {
        groups.entry(limit_of(key)).or_default().push(*key);
    }
    groups
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InspectionId(pub i64);

impl Loader<InspectionId> for DbLoader {
    type Value = inspection_rows::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[InspectionId],
    ) -> Result<HashMap<InspectionId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = inspections::by_ids(&self.db, self.enforcement_reader()?, &ids).await?;
        Ok(rows.into_iter().map(|i| (InspectionId(i.id), i)).collect())
    }
}

/// The newest `limit` findings of a permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FindingsOfPermit {
    pub permit_id: i64,
    pub limit: u64,
}

impl Loader<FindingsOfPermit> for DbLoader {
    type Value = Vec<finding_rows::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FindingsOfPermit],
    ) -> Result<HashMap<FindingsOfPermit, Self::Value>, Self::Error> {
        let principal = self.enforcement_reader()?;
        let mut out = HashMap::new();
        for (limit, group) in by_limit(keys, |k| k.limit) {
            let ids: Vec<i64> = group.iter().map(|k| k.permit_id).collect();
            let rows = findings::newest_per(
                &self.db,
                principal,
                findings::FindingParent::Permit,
                &ids,
                limit,
            )
            .await?;
            let mut grouped = group_rows(&ids, rows, |f| f.permit_id.unwrap_or_default());
            for key in group {
                out.insert(key, grouped.remove(&key.permit_id).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FindingsOfInspection(pub i64);

/// More findings than one inspection plausibly records.
const FINDINGS_PER_INSPECTION: u64 = 500;

impl Loader<FindingsOfInspection> for DbLoader {
    type Value = Vec<finding_rows::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FindingsOfInspection],
    ) -> Result<HashMap<FindingsOfInspection, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = findings::newest_per(
            &self.db,
            self.enforcement_reader()?,
            findings::FindingParent::Inspection,
            &ids,
            FINDINGS_PER_INSPECTION,
        )
        .await?;
        Ok(group(keys, rows, |f| FindingsOfInspection(f.inspection_id)))
    }
}

/// The newest `limit` inspections of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InspectionsOfUnit {
    pub unit_id: i64,
    pub limit: u64,
}

impl Loader<InspectionsOfUnit> for DbLoader {
    type Value = Vec<inspection_rows::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[InspectionsOfUnit],
    ) -> Result<HashMap<InspectionsOfUnit, Self::Value>, Self::Error> {
        let principal = self.enforcement_reader()?;
        let mut out = HashMap::new();
        for (limit, group) in by_limit(keys, |k| k.limit) {
            let ids: Vec<i64> = group.iter().map(|k| k.unit_id).collect();
            let rows = inspections::newest_of_units(&self.db, principal, &ids, limit).await?;
            let mut grouped = group_rows(&ids, rows, |i| i.unit_id);
            for key in group {
                out.insert(key, grouped.remove(&key.unit_id).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

/// The newest `limit` draws of a campaign (the first page of `Campaign.randomDraws`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DrawsOfCampaign {
    pub campaign_id: i64,
    pub limit: u64,
}

impl Loader<DrawsOfCampaign> for DbLoader {
    type Value = Vec<random_draws::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DrawsOfCampaign],
    ) -> Result<HashMap<DrawsOfCampaign, Self::Value>, Self::Error> {
        let principal = self.enforcement_reader()?;
        let mut out = HashMap::new();
        for (limit, group) in by_limit(keys, |k| k.limit) {
            let ids: Vec<i64> = group.iter().map(|k| k.campaign_id).collect();
            let rows = draws::newest_of_campaigns(&self.db, principal, &ids, limit).await?;
            let mut grouped = group_rows(&ids, rows, |d| d.campaign_id.unwrap_or_default());
            for key in group {
                out.insert(key, grouped.remove(&key.campaign_id).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

/// How many draws of a campaign the caller may read (a nested `totalCount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DrawCountOfCampaign(pub i64);

impl Loader<DrawCountOfCampaign> for DbLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DrawCountOfCampaign],
    ) -> Result<HashMap<DrawCountOfCampaign, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let counts = draws::count_per_campaign(&self.db, self.enforcement_reader()?, &ids).await?;
        let mut out: HashMap<_, _> = keys.iter().map(|k| (*k, 0)).collect();
        for (campaign, n) in counts {
            out.insert(DrawCountOfCampaign(campaign), n.max(0) as u64);
        }
        Ok(out)
    }
}

/// How many inspections of a unit the caller may read (a nested `totalCount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InspectionCountOfUnit(pub i64);

impl Loader<InspectionCountOfUnit> for DbLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[InspectionCountOfUnit],
    ) -> Result<HashMap<InspectionCountOfUnit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let counts =
            inspections::count_per_unit(&self.db, self.enforcement_reader()?, &ids).await?;
        let mut out: HashMap<_, _> = keys.iter().map(|k| (*k, 0)).collect();
        for (unit, n) in counts {
            out.insert(InspectionCountOfUnit(unit), n.max(0) as u64);
        }
        Ok(out)
    }
}

/// How many findings of a permit the caller may read (a nested `totalCount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FindingCountOfPermit(pub i64);

impl Loader<FindingCountOfPermit> for DbLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FindingCountOfPermit],
    ) -> Result<HashMap<FindingCountOfPermit, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let counts = findings::count_per(
            &self.db,
            self.enforcement_reader()?,
            findings::FindingParent::Permit,
            &ids,
        )
        .await?;
        let mut out: HashMap<_, _> = keys.iter().map(|k| (*k, 0)).collect();
        for (permit, n) in counts {
            if let Some(permit) = permit {
                out.insert(FindingCountOfPermit(permit), n.max(0) as u64);
            }
        }
        Ok(out)
    }
}

fn group_rows<V>(ids: &[i64], rows: Vec<V>, key_of: impl Fn(&V) -> i64) -> HashMap<i64, Vec<V>> {
    group(ids, rows, key_of)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TeamOfInspection(pub i64);

impl Loader<TeamOfInspection> for DbLoader {
    type Value = Vec<inspection_inspectors::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[TeamOfInspection],
    ) -> Result<HashMap<TeamOfInspection, Self::Value>, Self::Error> {
        self.enforcement_reader()?;
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = inspections::teams_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |t| TeamOfInspection(t.inspection_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InspectorId(pub i64);

impl Loader<InspectorId> for DbLoader {
    type Value = inspector_rows::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[InspectorId],
    ) -> Result<HashMap<InspectorId, Self::Value>, Self::Error> {
        let reader = self.enforcement_reader()?;
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = inspectors::visible_by_ids(&self.db, reader, &ids).await?;
        Ok(rows.into_iter().map(|i| (InspectorId(i.id), i)).collect())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HistoryOfFinding(pub i64);

impl Loader<HistoryOfFinding> for DbLoader {
    type Value = Vec<finding_transitions::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[HistoryOfFinding],
    ) -> Result<HashMap<HistoryOfFinding, Self::Value>, Self::Error> {
        self.enforcement_reader()?;
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = findings::transitions_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |t| HistoryOfFinding(t.finding_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EvidenceOfFinding(pub i64);

impl Loader<EvidenceOfFinding> for DbLoader {
    type Value = Vec<finding_evidence::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[EvidenceOfFinding],
    ) -> Result<HashMap<EvidenceOfFinding, Self::Value>, Self::Error> {
        self.enforcement_reader()?;
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = findings::evidence_of(&self.db, &ids).await?;
        Ok(group(keys, rows, |e| EvidenceOfFinding(e.finding_id)))
    }
}

/// Uploaded files of a finding or an inspection, under the record's own rule
/// (`access::evidence_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilesOf {
    Finding(i64),
    Inspection(i64),
}

impl Loader<FilesOf> for DbLoader {
    type Value = Vec<entity::evidence_files::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[FilesOf]) -> Result<HashMap<FilesOf, Self::Value>, Self::Error> {
        use entity::evidence_files::Column;
        let principal = self.principal()?;
        let mut out: HashMap<FilesOf, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        // One statement per kind of record asked for in the batch.
        let findings: Vec<i64> = keys
            .iter()
            .filter_map(|k| match k {
                FilesOf::Finding(id) => Some(*id),
                FilesOf::Inspection(_) => None,
            })
            .collect();
        let inspections: Vec<i64> = keys
            .iter()
            .filter_map(|k| match k {
                FilesOf::Inspection(id) => Some(*id),
                FilesOf::Finding(_) => None,
            })
            .collect();
        if !findings.is_empty() {
            for row in permit_core::domain::evidence::of_records(
                &self.db,
                principal,
                Column::FindingId,
                &findings,
            )
            .await?
            {
                if let Some(id) = row.finding_id {
                    out.entry(FilesOf::Finding(id)).or_default().push(row);
                }
            }
        }
        if !inspections.is_empty() {
            for row in permit_core::domain::evidence::of_records(
                &self.db,
                principal,
                Column::InspectionId,
                &inspections,
            )
            .await?
            {
                if let Some(id) = row.inspection_id {
                    out.entry(FilesOf::Inspection(id)).or_default().push(row);
                }
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ActionsOfFinding(pub i64);

impl Loader<ActionsOfFinding> for DbLoader {
    type Value = Vec<enforcement_actions::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ActionsOfFinding],
    ) -> Result<HashMap<ActionsOfFinding, Self::Value>, Self::Error> {
        self.enforcement_reader()?;
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = cases::of_findings(&self.db, &ids).await?;
        Ok(group(keys, rows, |a| ActionsOfFinding(a.finding_id)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutletId(pub i64);

impl Loader<OutletId> for DbLoader {
    type Value = outlets::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[OutletId]) -> Result<HashMap<OutletId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::outlets_by_ids(&self.db, &ids).await?;
        Ok(rows.into_iter().map(|o| (OutletId(o.id), o)).collect())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PermitId(pub i64);

impl Loader<PermitId> for DbLoader {
    type Value = entity::permits::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[PermitId]) -> Result<HashMap<PermitId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = permits::by_ids(&self.db, self.principal()?, &ids).await?;
        Ok(rows.into_iter().map(|p| (PermitId(p.id), p)).collect())
    }
}

/// First and last change of a record, for its provenance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChangesOf {
    pub kind: permit_core::domain::changes::ChangeKind,
    pub record_id: i64,
}

impl Loader<ChangesOf> for DbLoader {
    type Value = Vec<entity::change_events::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ChangesOf],
    ) -> Result<HashMap<ChangesOf, Self::Value>, Self::Error> {
        self.principal()?;
        let mut out: HashMap<ChangesOf, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        let mut kinds: Vec<permit_core::domain::changes::ChangeKind> =
            keys.iter().map(|k| k.kind).collect();
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        for kind in kinds {
            let ids: Vec<i64> = keys
                .iter()
                .filter(|k| k.kind == kind)
                .map(|k| k.record_id)
                .collect();
            for row in permit_core::domain::changes::first_and_last(&self.db, kind, &ids).await? {
                out.entry(ChangesOf {
                    kind,
                    record_id: row.record_id,
                })
                .or_default()
                .push(row);
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FindingId(pub i64);

impl Loader<FindingId> for DbLoader {
    type Value = finding_rows::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FindingId],
    ) -> Result<HashMap<FindingId, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let rows = findings::by_ids(&self.db, self.enforcement_reader()?, &ids).await?;
        Ok(rows.into_iter().map(|f| (FindingId(f.id), f)).collect())
    }
}

/// A bulletin's linked cases, as the reader may see them (`public`: the bulletin's, which
/// decides whether closed cases of other districts show).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CasesOfBulletin {
    pub id: i64,
    pub public: bool,
}

impl Loader<CasesOfBulletin> for DbLoader {
    type Value = Vec<permit_core::domain::bulletins::Case>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CasesOfBulletin],
    ) -> Result<HashMap<CasesOfBulletin, Self::Value>, Self::Error> {
        let bulletins: Vec<(i64, bool)> = keys.iter().map(|k| (k.id, k.public)).collect();
        let rows =
            permit_core::domain::bulletins::cases_of(&self.db, self.principal.as_ref(), &bulletins)
                .await?;
        let mut out: HashMap<CasesOfBulletin, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for case in rows {
            if let Some(key) = keys.iter().find(|k| k.id == case.bulletin_id) {
                out.entry(*key).or_default().push(case);
            }
        }
        Ok(out)
    }
}

/// Whether an inspection has a finding that is not closed (its free text then belongs to an
/// open case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpenFindingsOfInspection(pub i64);

impl Loader<OpenFindingsOfInspection> for DbLoader {
    type Value = bool;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[OpenFindingsOfInspection],
    ) -> Result<HashMap<OpenFindingsOfInspection, Self::Value>, Self::Error> {
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let open = findings::inspections_with_open_findings(&self.db, &ids).await?;
        Ok(keys.iter().map(|k| (*k, open.contains(&k.0))).collect())
    }
}
