//! "Who sees what": the policy rendered as the README's table, by asking the policy's own
//! functions about a district and a municipal principal of each role (a test keeps the README
//! equal to it, so the table cannot drift from the rules).

use super::{
    Operation, check_reading_write, draw_filter, inspector_visible, may_see_case_text,
    may_see_draw_inputs, may_see_officials, may_see_personal_data, role_allows,
    sees_closed_findings_only,
};
use crate::auth::{Principal, Role};
use crate::domain::codes::DistrictCode;

fn principal(role: Role, district: Option<&str>) -> Principal {
    Principal {
        subject: "table".into(),
        role,
        agency_code: None,
        district: district.and_then(|d| DistrictCode::parse(d).ok()),
        request: Default::default(),
    }
}

fn yes_no(allowed: bool) -> &'static str {
    if allowed { "yes" } else { "no" }
}

/// The markdown table: one row per role, one column per concept. "scope" means the caller's
/// district (a `district` claim) or every district (none).
pub fn who_sees_what() -> String {
    let header = [
        "role",
        "units, permits, readings",
        "personal data",
        "inspections, findings",
        "open findings and their text",
        "officials' names",
        "inspectors",
        "unpublished draws",
        "draw inputs",
        "feedback",
        "audit trail",
        "records readings",
    ];
    let mut out = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for role in Role::ALL {
        let district = principal(role, Some("500103"));
        let municipal = principal(role, None);
        let reads = |op| if role_allows(role, op) { "scope" } else { "no" };
        let open = if !role_allows(role, Operation::ReadEnforcement) {
            "no"
        } else if sees_closed_findings_only(&municipal)
            || !may_see_case_text(Some(&municipal), true)
        {
            "no (closed only)"
        } else {
            "scope"
        };
        let inspectors = if role_allows(role, Operation::ReadEnforcement)
            && inspector_visible(Some(&district), Some("500103"))
            && !inspector_visible(Some(&district), Some("500106"))
        {
            "scope and municipal"
        } else {
            "no"
        };
        // A municipal principal with no published condition sees every unpublished draw.
        let unpublished = if !role_allows(role, Operation::ReadEnforcement) {
            "no"
        } else if draw_filter(&municipal) == sea_orm::Condition::all() {
            "scope"
        } else if draw_filter(&district) != draw_filter(&principal(role, Some("500106"))) {
            "own district's"
        } else {
            "no"
        };
        let feedback = if !role_allows(role, Operation::ReadFeedback) {
            "no"
        } else if matches!(role, Role::Supervisor | Role::Admin) {
            "scope"
        } else {
            "sent or received"
        };
        let readings = reading_writes(role, &district);
        let cells = [
            role.as_str(),
            reads(Operation::ReadUnits),
            yes_no(may_see_personal_data(Some(&municipal))),
            reads(Operation::ReadEnforcement),
            open,
            yes_no(may_see_officials(Some(&municipal))),
            inspectors,
            unpublished,
            if role_allows(role, Operation::ReadEnforcement)
                && may_see_draw_inputs(Some(&district), Some("500103"))
                && !may_see_draw_inputs(Some(&district), Some("500106"))
            {
                "scope"
            } else {
                "no"
            },
            feedback,
            reads(Operation::ReadAudit),
            &readings,
        ];
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Where and from which sources a role records readings, as `check_reading_write` decides.
fn reading_writes(role: Role, district: &Principal) -> String {
    use entity::enums::ReadingSource;
    if !role_allows(role, Operation::WriteReadings) {
        return "no".to_owned();
    }
    let sources = [
        (ReadingSource::Automatic, "AUTOMATIC"),
        (ReadingSource::SelfMonitoring, "SELF_MONITORING"),
        (ReadingSource::Supervisory, "SUPERVISORY"),
    ];
    let allowed = |d: &str| -> Vec<&str> {
        sources
            .iter()
            .filter(|(s, _)| check_reading_write(district, d, *s, "source").is_ok())
            .map(|(_, name)| *name)
            .collect()
    };
    let own = allowed("500103");
    let where_ = if allowed("500106").is_empty() {
        "scope"
    } else {
        "any district"
    };
    if own.len() == sources.len() {
        where_.to_owned()
    } else {
        format!("{where_}, {}", own.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_quotes_the_policy() {
        let readme = include_str!("../../../../../README.md");
        let table = super::who_sees_what();
        assert!(
            readme.contains(&table),
            "README's \"Who sees what\" differs from the policy; paste:\n{table}"
        );
    }
}
