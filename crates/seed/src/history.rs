//! The change feed of the demo data: one `change_events` row for every seeded record, and one
//! for every later version or status move of it, so that the feed, `permit-exchange export` and
//! `provenance` tell the demo history as if the service had recorded it.
//!
//! The rows are those the service writes (`domain::changes::record`): the same kinds,
//! operations and states, the record's district (none for campaigns and joint-group draws), the
//! seed as actor with the agency that acted (`MUNICIPAL` for the `500000-*` agencies, `DISTRICT`
//! otherwise), no request id, and `txid` set by the same SQL expression (the writing
//! transaction's id on PostgreSQL, 0 on SQLite). `committed_at` is the record's own time, and the
//! rows are numbered in that order (ties by kind, then record id), so the feed reads as history.
//! No audit rows are written: nobody made a request.
//!
//! Entries are gathered in a compact form while the batches are generated (agencies and
//! districts interned) and sorted and written at the end.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, StatementBuilder, TransactionTrait,
};

use super::{Batch, Context, SEED_SUBJECT};
use entity::enums::{PermitChangeKind, PermitStatus};
use entity::{
    change_events, enforcement_actions, finding_transitions, inspections, inspectors, permits,
};
use permit_core::domain::changes::{ChangeKind, ChangeOperation};

/// One change, before its row is written.
struct Entry {
    at: DateTime<Utc>,
    record_id: i64,
    version: Option<i32>,
    kind: ChangeKind,
    operation: ChangeOperation,
    state: Option<&'static str>,
    /// Interned district code.
    district: Option<u32>,
    /// Interned agency code.
    agency: Option<u32>,
}

/// What a finding's later rows need: its first transition's id (a transition's version is its
/// position in the history) and its district.
struct FindingRef {
    first_transition: i64,
    district: u32,
}

#[derive(Default)]
pub(super) struct History {
    entries: Vec<Entry>,
    names: Vec<String>,
    interned: HashMap<String, u32>,
    findings: HashMap<i64, FindingRef>,
}

/// The change to record, as `domain::changes::Change` has it.
pub(super) struct Change<'a> {
    pub at: DateTime<Utc>,
    pub kind: ChangeKind,
    pub record_id: i64,
    pub version: Option<i32>,
    pub operation: ChangeOperation,
    pub state: Option<&'static str>,
    pub district: Option<&'a str>,
    pub agency: Option<&'a str>,
}

impl History {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(&i) = self.interned.get(text) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(text.to_owned());
        self.interned.insert(text.to_owned(), i);
        i
    }

    pub(super) fn push(&mut self, change: Change<'_>) {
        let district = change.district.map(|d| self.intern(d));
        let agency = change.agency.map(|a| self.intern(a));
        self.entries.push(Entry {
            at: change.at,
            record_id: change.record_id,
            version: change.version,
            kind: change.kind,
            operation: change.operation,
            state: change.state,
            district,
            agency,
        });
    }

    fn created(
        &mut self,
        at: DateTime<Utc>,
        kind: ChangeKind,
        record_id: i64,
        district: Option<&str>,
        agency: Option<&str>,
    ) {
        self.push(Change {
            at,
            kind,
            record_id,
            version: None,
            operation: ChangeOperation::Created,
            state: None,
            district,
            agency,
        });
    }

    /// The inspector lists: each entry created by its agency (district: the agency's).
    pub(super) fn inspectors(&mut self, rows: &[inspectors::Model], ctx: &Context) {
        for i in rows {
            let district = ctx.agency_districts.get(&i.agency_code).map(String::as_str);
            self.created(
                i.created_at,
                ChangeKind::Inspector,
                i.id,
                district,
                Some(&i.agency_code),
            );
        }
    }

    pub(super) fn inspections(&mut self, rows: &[inspections::Model]) {
        for i in rows {
            self.created(
                i.created_at,
                ChangeKind::Inspection,
                i.id,
                Some(&i.district_code),
                Some(&i.agency_code),
            );
        }
    }

    /// Everything of one generated batch: units, permits and their versions, registrations,
    /// inspections, findings and their moves.
    pub(super) fn batch(&mut self, batch: &Batch, ctx: &Context) {
        // A unit is put on file by the office that issued its permit, or (registration units)
        // by its district's permit office.
        let issuer: HashMap<i64, &str> = batch
            .permits
            .iter()
            .map(|p| (p.unit_id, p.issuing_agency_code.as_str()))
            .collect();
        let permit_office = |district: &str| {
            ctx.district_index
                .get(district)
                .map(|&i| ctx.districts[i].permit_office.as_str())
        };
        for u in &batch.units {
            let agency = issuer
                .get(&u.id)
                .copied()
                .or_else(|| permit_office(&u.district_code));
            self.push(Change {
                at: u.created_at,
                kind: ChangeKind::Unit,
                record_id: u.id,
                version: Some(u.version),
                operation: ChangeOperation::Created,
                state: None,
                district: Some(&u.district_code),
                agency,
            });
        }

        let permit_district: HashMap<i64, &permits::Model> =
            batch.permits.iter().map(|p| (p.id, p)).collect();
        for v in &batch.versions {
            let district = permit_district
                .get(&v.permit_id)
                .map(|p| p.district_code.as_str());
            let operation = if v.version == 1 {
                ChangeOperation::Created
            } else {
                match v.change_kind {
                    PermitChangeKind::Revoked
                    | PermitChangeKind::Cancelled
                    | PermitChangeKind::Withdrawn => ChangeOperation::StateChanged,
                    _ => ChangeOperation::Updated,
                }
            };
            self.push(Change {
                at: v.created_at,
                kind: ChangeKind::Permit,
                record_id: v.permit_id,
                version: Some(v.version),
                operation,
                state: Some(permit_status(v.status)),
                district,
                agency: v.changed_by_agency.as_deref(),
            });
        }

        for r in &batch.registrations {
            self.push(Change {
                at: r.created_at,
                kind: ChangeKind::Registration,
                record_id: r.id,
                version: None,
                operation: ChangeOperation::Created,
                // As the service records a registration: valid when made.
                state: Some("VALID"),
                district: Some(&r.district_code),
                agency: permit_office(&r.district_code),
            });
        }

        self.inspections(&batch.inspections);

        // Findings: created by the agency of their first transition (OPEN, version 1).
        let opened: HashMap<i64, &finding_transitions::Model> = batch
            .transitions
            .iter()
            .filter(|t| t.from_status.is_none())
            .map(|t| (t.finding_id, t))
            .collect();
        for f in &batch.findings {
            let open = opened.get(&f.id);
            let district = self.intern(&f.district_code);
            self.findings.insert(
                f.id,
                FindingRef {
                    first_transition: open.map_or(0, |t| t.id),
                    district,
                },
            );
            self.push(Change {
                at: f.created_at,
                kind: ChangeKind::Finding,
                record_id: f.id,
                version: Some(1),
                operation: ChangeOperation::Created,
                state: Some(permit_core::domain::findings::status_name(
                    entity::enums::FindingStatus::Open,
                )),
                district: Some(&f.district_code),
                agency: open.and_then(|t| t.actor_agency.as_deref()),
            });
        }
        self.moves(batch.transitions.iter().filter(|t| t.from_status.is_some()));
    }

    /// Finding moves after the first: STATE_CHANGED to the new status, version = position.
    fn moves<'a>(&mut self, rows: impl Iterator<Item = &'a finding_transitions::Model>) {
        for t in rows {
            let Some(f) = self.findings.get(&t.finding_id) else {
                continue;
            };
            let version = (t.id - f.first_transition + 1) as i32;
            let district = f.district;
            let agency = t.actor_agency.as_deref().map(|a| self.intern(a));
            self.entries.push(Entry {
                at: t.created_at,
                record_id: t.finding_id,
                version: Some(version),
                kind: ChangeKind::Finding,
                operation: ChangeOperation::StateChanged,
                state: Some(permit_core::domain::findings::status_name(t.to_status)),
                district: Some(district),
                agency,
            });
        }
    }

    /// The actions (and the PENALISED moves held back until their decisions were numbered).
    pub(super) fn actions(
        &mut self,
        actions: &[enforcement_actions::Model],
        penalised: &[finding_transitions::Model],
    ) {
        for a in actions {
            let district = self.findings.get(&a.finding_id).map(|f| f.district);
            let agency = self.intern(&a.agency_code);
            self.entries.push(Entry {
                at: a.created_at,
                record_id: a.id,
                version: None,
                kind: ChangeKind::EnforcementAction,
                operation: ChangeOperation::Created,
                state: None,
                district,
                agency: Some(agency),
            });
        }
        self.moves(penalised.iter());
    }

    /// Sorts the entries into history order and writes them, ids after `last_id`. Returns how
    /// many rows were written.
    pub(super) async fn write(
        mut self,
        db: &DatabaseConnection,
        last_id: &mut i64,
        max_params: usize,
    ) -> Result<usize, DbErr> {
        // Stable: whatever still ties keeps the (deterministic) order of generation.
        self.entries.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.kind.as_str().cmp(b.kind.as_str()))
                .then(a.record_id.cmp(&b.record_id))
                .then(a.version.cmp(&b.version))
        });
        let backend = db.get_database_backend();
        let columns = [
            change_events::Column::Id,
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
        ];
        let per_statement = (max_params / columns.len()).max(1);
        let name = |i: Option<u32>| i.map(|i| self.names[i as usize].clone());
        // Committed every few statements, like the batches before it (see `seed_demo`).
        for group in self.entries.chunks(per_statement * 8) {
            let txn = db.begin().await?;
            for chunk in group.chunks(per_statement) {
                let mut insert = Query::insert();
                insert.into_table(change_events::Entity).columns(columns);
                for e in chunk {
                    *last_id += 1;
                    let agency = name(e.agency);
                    let level = actor_level(agency.as_deref());
                    insert.values_panic([
                        (*last_id).into(),
                        txid_expr(backend),
                        e.kind.as_str().into(),
                        e.record_id.into(),
                        e.version.into(),
                        e.operation.as_str().into(),
                        e.state.map(str::to_owned).into(),
                        name(e.district).into(),
                        SEED_SUBJECT.into(),
                        agency.into(),
                        level.into(),
                        Option::<String>::None.into(),
                        e.at.into(),
                    ]);
                }
                txn.execute_raw(StatementBuilder::build(&insert, &backend))
                    .await?;
            }
            txn.commit().await?;
        }
        Ok(self.entries.len())
    }
}

/// The writing transaction's id, by the expression the service uses.
fn txid_expr(backend: DbBackend) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust("pg_current_xact_id()::text::bigint"),
        _ => Expr::val(0i64),
    }
}

/// `MUNICIPAL` for the municipal agencies (`500000-*`) and the seed acting without one.
pub(super) fn actor_level(agency: Option<&str>) -> &'static str {
    match agency {
        Some(a) if !a.starts_with("500000-") => "DISTRICT",
        _ => "MUNICIPAL",
    }
}

fn permit_status(status: PermitStatus) -> &'static str {
    permit_core::domain::permits::status_name(status)
}
