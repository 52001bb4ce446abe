//! Reading the query ahead: which children a root field's rows will be asked for, so that the
//! domain's planned reads fetch them in the statement that reads the rows (issue 15). What is
//! not planned here is loaded by the child field through its DataLoader, as before; a child
//! field uses planned rows only when they answer exactly its arguments.

use async_graphql::{Context, Lookahead, Value};

use permit_core::domain::findings::FindingPlan;
use permit_core::domain::page::MAX_PAGE_SIZE;
use permit_core::domain::permits::PermitPlan;

/// The `first` of `Permit.findings` when the query gives none (its declared default).
pub const PERMIT_FINDINGS_DEFAULT_FIRST: i32 = 10;

/// The selection on a connection's items: `edges { node }` and `nodes` together.
pub fn nodes_of<'a>(connection: &Lookahead<'a>) -> Lookahead<'a> {
    let mut fields = connection.field("edges").field("node").selection_fields();
    fields.extend(connection.field("nodes").selection_fields());
    Lookahead::try_from(fields.as_slice()).unwrap_or_else(|()| connection.field("nodes"))
}

/// The children to read with permits whose selection is `permit`.
pub fn permit_plan(permit: &Lookahead<'_>) -> PermitPlan {
    PermitPlan {
        unit: permit.field("unit").exists(),
        outlets: permit.field("outlets").exists(),
        limits: permit.field("limits").exists() || permit.field("outlets").field("limits").exists(),
        newest_findings: first_page_size(&permit.field("findings"), PERMIT_FINDINGS_DEFAULT_FIRST)
            .map(|first| first + 1),
    }
}

/// The children to read with findings whose selection is `finding`.
pub fn finding_plan(finding: &Lookahead<'_>) -> FindingPlan {
    FindingPlan {
        permit: finding.field("permit").exists(),
        unit: finding.field("unit").exists(),
    }
}

/// The page size of a nested connection when every selection of it asks for the same first
/// page (no `after`, one `first` in 1..=100); `None` otherwise, and then the field loads its
/// own page. Invalid sizes are left to the field, which says what is wrong with them.
fn first_page_size(connection: &Lookahead<'_>, default_first: i32) -> Option<u64> {
    let mut size = None;
    for field in connection.selection_fields() {
        let arguments = field.arguments().ok()?;
        let mut first = i64::from(default_first);
        for (name, value) in arguments {
            match (name.as_str(), value) {
                ("after", Value::Null) => {}
                ("after", _) => return None,
                ("first", Value::Number(n)) => first = n.as_i64()?,
                ("first", _) => return None,
                _ => {}
            }
        }
        let first = u64::try_from(first)
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))?;
        if size.is_some_and(|s| s != first) {
            return None;
        }
        size = Some(first);
    }
    size
}

/// Whether a root connection's `totalCount` is selected: its page's statement then counts too.
pub fn total_count_selected(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// The plan for the permits a root field returns, from the field's own selection.
pub fn root_permit_plan(ctx: &Context<'_>, connection: bool) -> PermitPlan {
    let look = ctx.look_ahead();
    if connection {
        permit_plan(&nodes_of(&look))
    } else {
        permit_plan(&look)
    }
}
