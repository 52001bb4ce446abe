//! The scope oracle: walks the schema by introspection from every root query field to a bounded
//! depth, asks for every object as each kind of caller, and checks every object and string that
//! comes back against the database, by rules stated here independently of the service's policy.
//! It knows no paths: a field added later is walked, and its objects checked, without editing
//! this test.
//!
//! Checked for every object with an id (decoded from the opaque `Type:number`): district scope
//! of units, permits, inspections, findings and actions; closed findings only for integrators;
//! unpublished draws only for the drawing district, supervision and ADMIN; inspectors only of
//! the caller's district or municipal agencies, and none for integrators; feedback only for its
//! parties and supervision in scope; audit events only of the caller's district's agencies.
//! Checked on every string: no personal data for integrators and monitoring, no official's
//! subject for integrators, no other district's inspector certificate number for a district
//! caller; and an integrator's inspection with an open finding carries no free text.

use std::collections::{BTreeMap, HashMap, HashSet};

use base64::Engine;
use permit_api::config::Limits;
use permit_core::auth::Role;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

/// How deep below a root field objects are walked (a connection's edges and node count).
const DEPTH: usize = 5;

const INTROSPECTION: &str = r#"{ __schema { queryType { name } types { name kind fields {
  name type { ...T } args { name type { ...T } } } } } }
  fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#;

#[derive(Debug, Clone)]
struct TypeRef {
    /// The named type at the bottom of the wrappers.
    name: String,
    kind: String,
    non_null: bool,
}

fn type_ref(value: &Value) -> TypeRef {
    let non_null = value["kind"] == "NON_NULL";
    let mut t = value;
    while t["name"].is_null() && !t["ofType"].is_null() {
        t = &t["ofType"];
    }
    TypeRef {
        name: t["name"].as_str().unwrap_or_default().to_owned(),
        kind: t["kind"].as_str().unwrap_or_default().to_owned(),
        non_null,
    }
}

#[derive(Debug, Clone)]
struct Field {
    name: String,
    ty: TypeRef,
    args: Vec<(String, TypeRef)>,
}

struct Schema {
    types: HashMap<String, Vec<Field>>,
    query: String,
}

fn parse_schema(data: &Value) -> Schema {
    let mut types = HashMap::new();
    for t in data["__schema"]["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || t["kind"] != "OBJECT" {
            continue;
        }
        let fields = t["fields"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .map(|f| Field {
                        name: f["name"].as_str().unwrap_or_default().to_owned(),
                        ty: type_ref(&f["type"]),
                        args: f["args"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|a| {
                                        (
                                            a["name"].as_str().unwrap_or_default().to_owned(),
                                            type_ref(&a["type"]),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        types.insert(name.to_owned(), fields);
    }
    Schema {
        types,
        query: data["__schema"]["queryType"]["name"]
            .as_str()
            .unwrap_or("Query")
            .to_owned(),
    }
}

/// Values for required arguments, learnt from what an administrator's walk returned.
#[derive(Default)]
struct Pool {
    /// Ids by GraphQL type name.
    ids: BTreeMap<String, Vec<String>>,
    /// String values by field name (credit codes, permit numbers).
    strings: BTreeMap<String, Vec<String>>,
    districts: Vec<String>,
}

impl Pool {
    fn learn(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                if let (Some(Value::String(t)), Some(Value::String(id))) =
                    (map.get("__typename"), map.get("id"))
                {
                    let ids = self.ids.entry(t.clone()).or_default();
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
                for (key, v) in map {
                    if let Value::String(s) = v {
                        let seen = self.strings.entry(key.clone()).or_default();
                        if seen.len() < 50 && !seen.contains(s) {
                            seen.push(s.clone());
                        }
                    }
                    self.learn(v);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.learn(v)),
            _ => {}
        }
    }

    /// A few values spread over what was seen (first, middle, last).
    fn sample(values: &[String]) -> Vec<String> {
        let n = values.len();
        let mut picks: Vec<String> = [0, n / 3, n / 2, 2 * n / 3, n.saturating_sub(1)]
            .into_iter()
            .filter(|i| *i < n)
            .map(|i| values[i].clone())
            .collect();
        picks.dedup();
        picks
    }

    /// Literal values for a required argument, or none (the field is then not walked).
    fn values_for(&self, arg: &str, ty: &TypeRef, returns: &str) -> Vec<String> {
        let quote = |s: &String| serde_json::to_string(s).unwrap_or_default();
        if ty.name == "ID" {
            return self
                .ids
                .get(returns)
                .map(|ids| Self::sample(ids).iter().map(quote).collect())
                .unwrap_or_default();
        }
        if ty.name == "String" && arg.to_lowercase().contains("district") {
            return self.districts.iter().map(quote).collect();
        }
        if ty.name == "String" {
            return self
                .strings
                .get(arg)
                .map(|v| Self::sample(v).iter().map(quote).collect())
                .unwrap_or_default();
        }
        Vec::new()
    }
}

/// The selection of every field of `type_name`, objects to `depth`; nested required arguments
/// take the first pool value (or the field is left out).
fn selection(schema: &Schema, pool: &Pool, type_name: &str, depth: usize) -> String {
    let Some(fields) = schema.types.get(type_name) else {
        return String::new();
    };
    let mut out = vec!["__typename".to_owned()];
    for field in fields {
        let mut args = Vec::new();
        let mut walkable = true;
        for (name, ty) in &field.args {
            if name == "first" {
                args.push("first: 2".to_owned());
            } else if ty.non_null {
                match pool.values_for(name, ty, &field.ty.name).first() {
                    Some(v) => args.push(format!("{name}: {v}")),
                    None => walkable = false,
                }
            }
        }
        if !walkable {
            continue;
        }
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        match field.ty.kind.as_str() {
            "OBJECT" if depth > 0 => {
                let inner = selection(schema, pool, &field.ty.name, depth - 1);
                out.push(format!("{}{args} {{ {inner} }}", field.name));
            }
            "SCALAR" | "ENUM" => out.push(format!("{}{args}", field.name)),
            _ => {}
        }
    }
    out.join(" ")
}

/// One document per root field and value of its required arguments.
fn root_queries(schema: &Schema, pool: &Pool) -> Vec<String> {
    let mut out = Vec::new();
    for field in schema.types.get(&schema.query).into_iter().flatten() {
        if field.ty.kind != "OBJECT" {
            continue;
        }
        let inner = selection(schema, pool, &field.ty.name, DEPTH);
        let required: Vec<&(String, TypeRef)> =
            field.args.iter().filter(|(_, t)| t.non_null).collect();
        let optional_first = field.args.iter().any(|(n, _)| n == "first");
        let first = if optional_first {
            vec!["first: 3".to_owned()]
        } else {
            vec![]
        };
        match required.as_slice() {
            [] => {
                let args = if first.is_empty() {
                    String::new()
                } else {
                    format!("({})", first.join(", "))
                };
                out.push(format!("{{ {}{args} {{ {inner} }} }}", field.name));
            }
            [(name, ty)] => {
                for value in pool.values_for(name, ty, &field.ty.name) {
                    out.push(format!(
                        "{{ {}({name}: {value}) {{ {inner} }} }}",
                        field.name
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// The ground truth, read from the database by the test itself.
#[derive(Default)]
struct Truth {
    district_of: HashMap<(&'static str, i64), String>,
    finding_status: HashMap<i64, String>,
    action_finding: HashMap<i64, i64>,
    /// Draw id → (district, published).
    draws: HashMap<i64, (Option<String>, bool)>,
    agency_district: HashMap<String, Option<String>>,
    /// Inspector id → its agency's district.
    inspector_district: HashMap<i64, Option<String>>,
    /// Feedback id → (poster subject, poster agency, addressee, poster district, pattern district).
    feedback: HashMap<i64, [Option<String>; 5]>,
    audit_agency: HashMap<i64, Option<String>>,
    open_inspections: HashSet<i64>,
    personal: HashSet<String>,
    subjects: HashSet<String>,
    /// Certificate number → the inspector's agency's district.
    certificates: HashMap<String, Option<String>>,
    /// Evidence file id → (district, finding, inspection).
    evidence: HashMap<i64, (String, Option<i64>, Option<i64>)>,
}

async fn rows(app: &TestApp, sql: &str) -> Vec<sea_orm::QueryResult> {
    let backend = app.db.conn.get_database_backend();
    app.db
        .conn
        .query_all_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .expect(sql)
}

fn text(row: &sea_orm::QueryResult, i: usize) -> Option<String> {
    row.try_get_by_index::<Option<String>>(i).ok().flatten()
}

fn int(row: &sea_orm::QueryResult, i: usize) -> i64 {
    row.try_get_by_index::<i64>(i).expect("an integer column")
}

async fn truth(app: &TestApp) -> Truth {
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

#[derive(Clone)]
struct Caller {
    label: String,
    role: Role,
    district: Option<String>,
    agency: Option<String>,
    subject: String,
}

fn decode(id: &str) -> Option<(String, i64)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, number) = text.split_once(':')?;
    Some((kind.to_owned(), number.parse().ok()?))
}

/// What the oracle says the caller must not have received, for one object.
fn object_leak(caller: &Caller, t: &Truth, kind: &str, id: i64, object: &Value) -> Option<String> {
    let district = caller.district.as_deref();
    let integrator = caller.role == Role::Integrator;
    let monitoring = caller.role == Role::Monitoring;
    let supervises = matches!(caller.role, Role::Supervisor | Role::Admin);
    let out_of_district = |d: Option<&str>| match (district, d) {
        (Some(own), Some(d)) => own != d,
        (Some(_), None) => false,
        _ => false,
    };
    let finding_closed = |f: i64| t.finding_status.get(&f).is_some_and(|s| s == "CLOSED");
    match kind {
        "Unit" | "Permit" | "Inspection" | "Finding" => {
            let key = match kind {
                "Unit" => "Unit",
                "Permit" => "Permit",
                "Inspection" => "Inspection",
                _ => "Finding",
            };
            let d = t.district_of.get(&(key, id))?;
            if out_of_district(Some(d)) {
                return Some(format!("{kind} {id} of district {d}"));
            }
            if kind == "Finding" && integrator && !finding_closed(id) {
                return Some(format!("open finding {id}"));
            }
            if monitoring && kind != "Unit" && kind != "Permit" {
                return Some(format!("{kind} {id} to monitoring"));
            }
            if kind == "Inspection" && integrator && t.open_inspections.contains(&id) {
                let notes = !object["notes"].is_null();
                let checklist_notes = object["checklist"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|i| !i["note"].is_null()));
                if notes || checklist_notes {
                    return Some(format!("free text of inspection {id} with open findings"));
                }
            }
            None
        }
        // Files follow their record: a finding's as the finding, an inspection's as its notes.
        "EvidenceFile" => {
            let (d, finding, inspection) = t.evidence.get(&id)?;
            let closed_only_denied = match (finding, inspection) {
                (Some(f), _) => !finding_closed(*f),
                (None, Some(i)) => t.open_inspections.contains(i),
                (None, None) => true,
            };
            if out_of_district(Some(d)) || monitoring || (integrator && closed_only_denied) {
                return Some(format!("evidence file {id} of district {d}"));
            }
            None
        }
        "EnforcementAction" => {
            let finding = t.action_finding.get(&id)?;
            let d = t.district_of.get(&("Finding", *finding))?;
            if out_of_district(Some(d)) || (integrator && !finding_closed(*finding)) || monitoring {
                return Some(format!("enforcement action {id} of finding {finding}"));
            }
            None
        }
        "RandomDraw" => {
            let (d, published) = t.draws.get(&id)?;
            let may_see_unpublished = match d {
                Some(d) => {
                    !integrator
                        && !monitoring
                        && (district == Some(d.as_str()) || (supervises && district.is_none()))
                }
                None => supervises && district.is_none(),
            };
            if !published && !may_see_unpublished {
                return Some(format!("unpublished draw {id}"));
            }
            if monitoring {
                return Some(format!("draw {id} to monitoring"));
            }
            if integrator && !object["frozenInputs"].is_null() {
                return Some(format!("frozen inputs of draw {id}"));
            }
            None
        }
        "Inspector" => {
            let d = t.inspector_district.get(&id)?;
            if integrator || monitoring || out_of_district(d.as_deref()) {
                return Some(format!("inspector {id} of {d:?}"));
            }
            None
        }
        "Feedback" => {
            let [
                poster,
                poster_agency,
                addressee,
                poster_district,
                pattern_district,
            ] = t.feedback.get(&id)?;
            let addressee_district = addressee
                .as_ref()
                .and_then(|a| t.agency_district.get(a).cloned().flatten());
            let visible = if integrator || monitoring {
                false
            } else if supervises {
                district.is_none()
                    || [poster_district, pattern_district, &addressee_district]
                        .iter()
                        .any(|d| d.as_deref() == district)
            } else {
                poster.as_deref() == Some(caller.subject.as_str())
                    || (caller.agency.is_some()
                        && (poster_agency == &caller.agency || addressee == &caller.agency))
            };
            (!visible).then(|| format!("feedback {id}"))
        }
        "AuditEvent" => {
            let agency = t.audit_agency.get(&id)?;
            let agency_district = agency
                .as_ref()
                .and_then(|a| t.agency_district.get(a).cloned().flatten());
            let visible =
                supervises && (district.is_none() || agency_district.as_deref() == district);
            (!visible).then(|| format!("audit event {id}"))
        }
        _ => None,
    }
}

/// Every leak in one response, as sentences.
fn leaks(caller: &Caller, t: &Truth, value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(typename)), Some(Value::String(id))) =
                (map.get("__typename"), map.get("id"))
                && let Some((kind, number)) = decode(id)
                && kind == *typename
                && let Some(leak) = object_leak(caller, t, &kind, number, value)
            {
                out.push(format!("{path}: {leak}"));
            }
            for (key, v) in map {
                leaks(caller, t, v, &format!("{path}.{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                leaks(caller, t, v, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) => {
            let personal_data_role = matches!(caller.role, Role::Integrator | Role::Monitoring);
            if personal_data_role && t.personal.contains(s) {
                out.push(format!("{path}: personal data '{s}'"));
            }
            if caller.role == Role::Integrator && t.subjects.contains(s) {
                out.push(format!("{path}: an official's subject '{s}'"));
            }
            if let (Some(own), Some(Some(d))) = (&caller.district, t.certificates.get(s))
                && own != d
            {
                out.push(format!("{path}: certificate of a {d} inspector"));
            }
        }
        _ => {}
    }
}

/// Oracle servers walk large documents: the document limits are out of the way (they have
/// tests of their own).
fn walking_limits() -> Limits {
    Limits {
        max_depth: 64,
        max_complexity: usize::MAX / 4,
        max_tokens: 1_000_000,
        max_document_chars: 10_000_000,
        max_body_bytes: 50_000_000,
        max_aliases: 1000,
        rate_per_second: 1_000_000.0,
        rate_burst: 1_000_000.0,
        request_timeout: std::time::Duration::from_secs(60),
        ..Limits::default()
    }
}

/// Data the demo seed has none of: an unpublished draw, feedback, and bulletins with cases.
async fn add_liaison_data(app: &TestApp, a: &str, b: &str) {
    for district in [a, b] {
        let enforcement = app.token(Role::EnforcementOfficer, Some(district));
        let draw = app
            .gql(
                Some(&enforcement),
                "mutation($d: String) { drawRandomInspections(input: { category: SIMPLIFIED, count: 2, districtCode: $d }) { id } }",
                json!({ "d": district }),
            )
            .await;
        assert!(draw.get("errors").is_none(), "draw in {district}: {draw}");
        let finding = app
            .data(
                &enforcement,
                "{ findings(first: 1) { edges { node { id code { code } } } } }",
                json!({}),
            )
            .await;
        let node = &finding["findings"]["edges"][0]["node"];
        upload_evidence(app, district, node["id"].as_str().expect("finding id")).await;
        let posted = app
            .gql(
                Some(&enforcement),
                "mutation($a: String!, $c: String!, $f: ID!, $d: String) { postFeedback(input: {
                   addressedAgencyCode: $a, codes: [$c], district: $d, findingIds: [$f],
                   periodFrom: \"2020-01-01\", periodTo: \"2030-12-31\",
                   recommendation: TIGHTEN_PERMIT_CONDITION, recommendationText: \"limits too loose\" }) { id } }",
                json!({ "a": format!("{district}-PMT"), "c": node["code"]["code"], "f": node["id"], "d": district }),
            )
            .await;
        assert!(
            posted.get("errors").is_none(),
            "feedback in {district}: {posted}"
        );
        let bulletin = app
            .gql(
                Some(&enforcement),
                "mutation($d: String!, $f: ID!) { publishBulletin(input: { kind: GENERAL,
                   title: \"通报\", body: \"本区检查情况\", audience: { districts: [$d] },
                   findingIds: [$f] }) { id } }",
                json!({ "d": district, "f": node["id"] }),
            )
            .await;
        assert!(
            bulletin.get("errors").is_none(),
            "bulletin in {district}: {bulletin}"
        );
    }
}

/// An evidence file of the finding and one of its inspection, uploaded by the district's
/// officer (through the domain: the walk lists them, it does not download them).
async fn upload_evidence(app: &TestApp, district: &str, finding: &str) {
    use permit_core::domain::evidence::{self, Target, Upload};
    let (_, finding) = decode(finding).expect("a finding id");
    let inspection = app
        .scalar_i64(&format!(
            "SELECT inspection_id FROM findings WHERE id = {finding}"
        ))
        .await;
    let officer = permit_core::auth::Principal {
        subject: format!("enforcement_officer@{district}"),
        role: Role::EnforcementOfficer,
        agency_code: Some(format!("{district}-ENF")),
        district: Some(
            permit_core::domain::codes::DistrictCode::parse(district).expect("district"),
        ),
        request: Default::default(),
    };
    let store = permit_core::storage::EvidenceStore::open("memory:").expect("store");
    let content = bytes::Bytes::from_static(b"%PDF-1.7 monitoring printout");
    let sha256: String = <sha2::Sha256 as sha2::Digest>::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for target in [Target::Finding(finding), Target::Inspection(inspection)] {
        evidence::upload(
            &app.db.conn,
            &store,
            Some(&officer),
            Upload {
                target,
                file_name: format!("监测报告-{district}.pdf"),
                declared_type: None,
                content: content.clone(),
                sha256: sha256.clone(),
                captured_at: None,
            },
            1 << 20,
        )
        .await
        .expect("upload");
    }
}

async fn walk(app: &TestApp, schema: &Schema, pool: &Pool, token: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for query in root_queries(schema, pool) {
        let body = app.gql(Some(token), &query, json!({})).await;
        out.push((query, body));
    }
    out
}

async fn oracle(app: TestApp) {
    app.seed_demo(120).await;
    // The two districts with most units.
    let busiest = rows(
        &app,
        "SELECT district_code FROM units GROUP BY district_code ORDER BY COUNT(*) DESC, district_code LIMIT 2",
    )
    .await;
    let a = text(&busiest[0], 0).expect("a district");
    let b = text(&busiest[1], 0).expect("another district");
    add_liaison_data(&app, &a, &b).await;

    let admin = app.token(Role::Admin, None);
    let introspection = app.data(&admin, INTROSPECTION, json!({})).await;
    let schema = parse_schema(&introspection);
    let mut pool = Pool {
        districts: vec![a.clone(), b.clone()],
        ..Pool::default()
    };
    // Two rounds: lists first, then the lookups their ids make possible.
    for _ in 0..2 {
        for (_, body) in walk(&app, &schema, &pool, &admin).await {
            pool.learn(&body["data"]);
        }
    }
    for kind in [
        "Unit",
        "Permit",
        "Inspection",
        "Finding",
        "RandomDraw",
        "Feedback",
        "EvidenceFile",
    ] {
        assert!(
            pool.ids.get(kind).is_some_and(|ids| !ids.is_empty()),
            "the administrator's walk found no {kind}: the oracle would check nothing"
        );
    }
    let truth = truth(&app).await;

    let callers = [
        (Role::EnforcementOfficer, Some(a.as_str())),
        (Role::EnforcementOfficer, Some(b.as_str())),
        (Role::PermitOfficer, Some(a.as_str())),
        (Role::EnforcementOfficer, None),
        (Role::Integrator, None),
        (Role::Monitoring, None),
        (Role::Supervisor, Some(a.as_str())),
        (Role::Admin, Some(b.as_str())),
    ];
    let mut found = Vec::new();
    let mut objects = 0usize;
    for (role, district) in callers {
        let token = app.token(role, district);
        let caller = Caller {
            label: format!("{} {}", role.as_str(), district.unwrap_or("municipal")),
            role,
            district: district.map(str::to_owned),
            agency: match role {
                Role::PermitOfficer => Some(format!("{}-PMT", district.unwrap_or("500000"))),
                Role::EnforcementOfficer => Some(format!("{}-ENF", district.unwrap_or("500000"))),
                Role::Supervisor => Some("500000-SUP".to_owned()),
                Role::Monitoring => Some("500000-MON".to_owned()),
                _ => None,
            },
            subject: format!(
                "{}@{}",
                role.as_str().to_lowercase(),
                district.unwrap_or("municipal")
            ),
        };
        for (query, body) in walk(&app, &schema, &pool, &token).await {
            for error in body["errors"].as_array().into_iter().flatten() {
                let code = error["extensions"]["code"].as_str();
                assert!(
                    code.is_some() && code != Some("INTERNAL_SERVER_ERROR"),
                    "{}: {query}\n{error}",
                    caller.label
                );
            }
            objects += body.to_string().matches("__typename").count();
            let mut leaked = Vec::new();
            leaks(&caller, &truth, &body["data"], "data", &mut leaked);
            for leak in leaked.into_iter().take(3) {
                found.push(format!(
                    "{}: {leak}\n  in {}",
                    caller.label,
                    &query[..query.len().min(120)]
                ));
            }
        }
    }
    assert!(objects > 1000, "the walk returned only {objects} objects");
    assert!(
        found.is_empty(),
        "{} leaks:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_out_of_scope_reaches_any_caller_sqlite() {
    oracle(TestApp::spawn_with_limits(Backend::Sqlite, walking_limits()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_out_of_scope_reaches_any_caller_postgres() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        oracle(TestApp::spawn_with_limits(Backend::Postgres, walking_limits()).await).await;
    }
}
