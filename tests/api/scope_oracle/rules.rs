//! The oracle's rules: what each caller must not receive, stated independently of the service's
//! policy, applied to every object with an id and to every string of an answer.

use base64::Engine;
use permit_core::auth::Role;
use serde_json::Value;

use super::ground_truth::Truth;

#[derive(Clone)]
pub(super) struct Caller {
    pub(super) label: String,
    pub(super) role: Role,
    pub(super) district: Option<String>,
    pub(super) agency: Option<String>,
    pub(super) subject: String,
}

pub(super) fn decode(id: &str) -> Option<(String, i64)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, number) = text.split_once(':')?;
    Some((kind.to_owned(), number.parse().ok()?))
}

/// What the oracle says the caller must not have received, for one object.
fn object_leak(caller: &Caller, t: &Truth, kind: &str, id: i64, object: &Value) -> Option<String> {
    let standing = Standing::new(caller, t);
    match kind {
        "Unit" | "Permit" | "Inspection" | "Finding" => standing.record_leak(kind, id, object),
        // Files follow their record: a finding's as the finding, an inspection's as its notes.
        "EvidenceFile" => standing.evidence_file_leak(id),
        "EnforcementAction" => standing.action_leak(id),
        "RandomDraw" => standing.draw_leak(id, object),
        "Inspector" => standing.inspector_leak(id),
        "Feedback" => standing.feedback_leak(id),
        "AuditEvent" => standing.audit_event_leak(id),
        _ => None,
    }
}

/// A caller as the oracle's rules ask about it, with the truth to judge by.
struct Standing<'a> {
    caller: &'a Caller,
    t: &'a Truth,
    district: Option<&'a str>,
    integrator: bool,
    monitoring: bool,
    supervises: bool,
}

impl<'a> Standing<'a> {
    fn new(caller: &'a Caller, t: &'a Truth) -> Self {
        Self {
            caller,
            t,
            district: caller.district.as_deref(),
            integrator: caller.role == Role::Integrator,
            monitoring: caller.role == Role::Monitoring,
            supervises: matches!(caller.role, Role::Supervisor | Role::Admin),
        }
    }

    fn out_of_district(&self, d: Option<&str>) -> bool {
        match (self.district, d) {
            (Some(own), Some(d)) => own != d,
            (Some(_), None) => false,
            _ => false,
        }
    }

    fn finding_closed(&self, f: i64) -> bool {
        self.t.finding_status.get(&f).is_some_and(|s| s == "CLOSED")
    }

    /// Units, permits, inspections and findings: district scope, closed findings only for
    /// integrators, no case records for monitoring, no free text of an open inspection.
    fn record_leak(&self, kind: &str, id: i64, object: &Value) -> Option<String> {
        let key = match kind {
            "Unit" => "Unit",
            "Permit" => "Permit",
            "Inspection" => "Inspection",
            _ => "Finding",
        };
        let d = self.t.district_of.get(&(key, id))?;
        if self.out_of_district(Some(d)) {
            return Some(format!("{kind} {id} of district {d}"));
        }
        if kind == "Finding" && self.integrator && !self.finding_closed(id) {
            return Some(format!("open finding {id}"));
        }
        if self.monitoring && kind != "Unit" && kind != "Permit" {
            return Some(format!("{kind} {id} to monitoring"));
        }
        if kind == "Inspection" && self.integrator && self.t.open_inspections.contains(&id) {
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

    fn evidence_file_leak(&self, id: i64) -> Option<String> {
        let (d, finding, inspection) = self.t.evidence.get(&id)?;
        let closed_only_denied = match (finding, inspection) {
            (Some(f), _) => !self.finding_closed(*f),
            (None, Some(i)) => self.t.open_inspections.contains(i),
            (None, None) => true,
        };
        if self.out_of_district(Some(d))
            || self.monitoring
            || (self.integrator && closed_only_denied)
        {
            return Some(format!("evidence file {id} of district {d}"));
        }
        None
    }

    fn action_leak(&self, id: i64) -> Option<String> {
        let finding = self.t.action_finding.get(&id)?;
        let d = self.t.district_of.get(&("Finding", *finding))?;
        if self.out_of_district(Some(d))
            || (self.integrator && !self.finding_closed(*finding))
            || self.monitoring
        {
            return Some(format!("enforcement action {id} of finding {finding}"));
        }
        None
    }

    fn draw_leak(&self, id: i64, object: &Value) -> Option<String> {
        let (d, published) = self.t.draws.get(&id)?;
        let may_see_unpublished = match d {
            Some(d) => {
                !self.integrator
                    && !self.monitoring
                    && (self.district == Some(d.as_str())
                        || (self.supervises && self.district.is_none()))
            }
            None => self.supervises && self.district.is_none(),
        };
        if !published && !may_see_unpublished {
            return Some(format!("unpublished draw {id}"));
        }
        if self.monitoring {
            return Some(format!("draw {id} to monitoring"));
        }
        if self.integrator && !object["frozenInputs"].is_null() {
            return Some(format!("frozen inputs of draw {id}"));
        }
        None
    }

    fn inspector_leak(&self, id: i64) -> Option<String> {
        let d = self.t.inspector_district.get(&id)?;
        if self.integrator || self.monitoring || self.out_of_district(d.as_deref()) {
            return Some(format!("inspector {id} of {d:?}"));
        }
        None
    }

    fn feedback_leak(&self, id: i64) -> Option<String> {
        let [
            poster,
            poster_agency,
            addressee,
            poster_district,
            pattern_district,
        ] = self.t.feedback.get(&id)?;
        let addressee_district = addressee
            .as_ref()
            .and_then(|a| self.t.agency_district.get(a).cloned().flatten());
        let caller = self.caller;
        let visible = if self.integrator || self.monitoring {
            false
        } else if self.supervises {
            self.district.is_none()
                || [poster_district, pattern_district, &addressee_district]
                    .iter()
                    .any(|d| d.as_deref() == self.district)
        } else {
            poster.as_deref() == Some(caller.subject.as_str())
                || (caller.agency.is_some()
                    && (poster_agency == &caller.agency || addressee == &caller.agency))
        };
        (!visible).then(|| format!("feedback {id}"))
    }

    fn audit_event_leak(&self, id: i64) -> Option<String> {
        let agency = self.t.audit_agency.get(&id)?;
        let agency_district = agency
            .as_ref()
            .and_then(|a| self.t.agency_district.get(a).cloned().flatten());
        let visible = self.supervises
            && (self.district.is_none() || agency_district.as_deref() == self.district);
        (!visible).then(|| format!("audit event {id}"))
    }
}

/// Every leak in one response, as sentences.
pub(super) fn leaks(caller: &Caller, t: &Truth, value: &Value, path: &str, out: &mut Vec<String>) {
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
