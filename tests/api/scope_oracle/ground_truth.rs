//! The ground truth the oracle judges by, read from the database by the test itself.

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::TestApp;

/// The ground truth, read from the database by the test itself.
#[derive(Default)]
pub(super) struct Truth {
    pub(super) district_of: HashMap<(&'static str, i64), String>,
    pub(super) finding_status: HashMap<i64, String>,
    pub(super) action_finding: HashMap<i64, i64>,
    /// Draw id → (district, published).
    pub(super) draws: HashMap<i64, (Option<String>, bool)>,
    pub(super) agency_district: HashMap<String, Option<String>>,
    /// Inspector id → its agency's district.
    pub(super) inspector_district: HashMap<i64, Option<String>>,
    /// Feedback id → (poster subject, poster agency, addressee, poster district, pattern district).
    pub(super) feedback: HashMap<i64, [Option<String>; 5]>,
    pub(super) audit_agency: HashMap<i64, Option<String>>,
    pub(super) open_inspections: HashSet<i64>,
    pub(super) personal: HashSet<String>,
    pub(super) subjects: HashSet<String>,
    /// Certificate number → the inspector's agency's district.
    pub(super) certificates: HashMap<String, Option<String>>,
    /// Evidence file id → (district, finding, inspection).
    pub(super) evidence: HashMap<i64, (String, Option<i64>, Option<i64>)>,
}

pub(super) async fn rows(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    let backend = app.db.conn.get_database_backend();
    app.db
        .conn
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .expect(sql)
}

pub(super) fn text(row: &sea_orm::QueryResult, i: usize) -> Option<String> {
    row.try_get_by_index::<Option<String>>(i).ok().flatten()
}

fn int(row: &sea_orm::QueryResult, i: usize) -> i64 {
    row.try_get_by_index::<i64>(i).expect("an integer column")
}

pub(super) async fn truth(app: &TestApp) -> Truth {
    let mut t = Truth::default();
    for (kind, table) in [
        ("Unit", "units"),
        ("Permit", "permits"),
        ("Inspection", "inspections"),
        ("Finding", "findings"),
    ] {
        for r in rows(app, &format!("SELECT id, district_code FROM {table}")).await {
            t.district_of
                .insert((kind, int(&r, 0)), text(&r, 1).unwrap_or_default());
        }
    }
    for r in rows(app, "SELECT id, status, inspection_id FROM findings").await {
        let status = text(&r, 1).unwrap_or_default();
        if status != "CLOSED" {
            t.open_inspections.insert(int(&r, 2));
        }
        t.finding_status.insert(int(&r, 0), status);
    }
    for r in rows(
        app,
        "SELECT id, district_code, finding_id, inspection_id FROM evidence_files",
    )
    .await
    {
        let record = |i: usize| r.try_get_by_index::<Option<i64>>(i).expect("record id");
        t.evidence.insert(
            int(&r, 0),
            (text(&r, 1).unwrap_or_default(), record(2), record(3)),
        );
    }
    for r in rows(app, "SELECT id, finding_id FROM enforcement_actions").await {
        t.action_finding.insert(int(&r, 0), int(&r, 1));
    }
    for r in rows(app, "SELECT id, district_code, published FROM random_draws").await {
        let published = r.try_get_by_index::<bool>(2).expect("published");
        t.draws.insert(int(&r, 0), (text(&r, 1), published));
    }
    for r in rows(app, "SELECT code, district_code FROM agencies").await {
        t.agency_district
            .insert(text(&r, 0).unwrap_or_default(), text(&r, 1));
    }
    for r in rows(
        app,
        "SELECT id, agency_code, certificate_number FROM inspectors",
    )
    .await
    {
        let district = t
            .agency_district
            .get(&text(&r, 1).unwrap_or_default())
            .cloned()
            .flatten();
        t.inspector_district.insert(int(&r, 0), district.clone());
        t.certificates
            .insert(text(&r, 2).unwrap_or_default(), district);
    }
    for r in rows(
        app,
        "SELECT id, poster_subject, poster_agency_code, addressed_agency_code, \
         poster_district_code, pattern_district_code FROM feedback",
    )
    .await
    {
        t.feedback.insert(
            int(&r, 0),
            [
                text(&r, 1),
                text(&r, 2),
                text(&r, 3),
                text(&r, 4),
                text(&r, 5),
            ],
        );
    }
    for r in rows(app, "SELECT id, agency FROM audit_events").await {
        t.audit_agency.insert(int(&r, 0), text(&r, 1));
    }
    for r in rows(app, "SELECT legal_representative, contact_phone FROM units").await {
        t.personal
            .extend([text(&r, 0), text(&r, 1)].into_iter().flatten());
    }
    for sql in [
        "SELECT DISTINCT actor_subject FROM change_events",
        "SELECT DISTINCT drawn_by_subject FROM random_draws",
        "SELECT DISTINCT changed_by_subject FROM permit_versions",
        "SELECT DISTINCT changed_by_subject FROM unit_versions",
        "SELECT DISTINCT actor_subject FROM finding_transitions",
        "SELECT DISTINCT uploaded_by_subject FROM evidence_files",
    ] {
        for r in rows(app, sql).await {
            t.subjects.extend(text(&r, 0));
        }
    }
    t.personal.retain(|s| !s.is_empty());
    t.subjects.retain(|s| !s.is_empty());
    t
}
