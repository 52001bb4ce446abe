//! Enforcement: inspectors, inspections, findings, actions and violation patterns.
//!
//! One module per concept; `EnforcementQuery` and `EnforcementMutation` merge their fields in
//! the order the schema has always listed them.

mod actions;
mod evidence;
mod findings;
mod inspections;
mod inspectors;
mod patterns;

use async_graphql::MergedObject;
use permit_core::error::AppError;

pub use actions::{ActionMutation, EnforcementAction, RecordEnforcementActionInput};
pub use evidence::{
    EVIDENCE_FILE, EvidenceFile, EvidenceMutation, UploadEvidenceInput, UploadLimit,
};
pub use findings::{
    AdvanceFindingInput, Evidence, EvidenceInput, Finding, FindingFilter, FindingMutation,
    FindingObject, FindingQuery, FindingTransition, RecordFindingInput, finding_filter_from_json,
};
pub use inspections::{
    ChecklistInput, ChecklistResult, Inspection, InspectionFilter, InspectionMutation,
    InspectionQuery, RecordInspectionInput, inspection_filter_from_json,
};
pub use inspectors::{
    Conflict, DeclareConflictInput, Inspector, InspectorMutation, InspectorQuery,
    RegisterInspectorInput,
};
pub use patterns::{PatternDimension, PatternQuery, ViolationPattern};

pub const INSPECTION: &str = "Inspection";
pub const FINDING: &str = "Finding";
pub const INSPECTOR: &str = "Inspector";

fn missing(what: &str) -> crate::graphql::error::ApiError {
    AppError::NotFound(what.to_owned()).into()
}

/// The reads of enforcement.
#[derive(MergedObject, Default)]
pub struct EnforcementQuery(InspectionQuery, FindingQuery, PatternQuery, InspectorQuery);

/// The writes of enforcement.
#[derive(MergedObject, Default)]
pub struct EnforcementMutation(
    EvidenceMutation,
    InspectionMutation,
    FindingMutation,
    ActionMutation,
    InspectorMutation,
);

/// A filter sent as JSON outside GraphQL (exports), read as the GraphQL input type it is, so
/// that exports take exactly the filters of the queries.
pub(crate) fn parse_json_input<T: async_graphql::InputType>(
    json: Option<serde_json::Value>,
) -> Result<Option<T>, AppError> {
    let Some(json) = json.filter(|j| !j.is_null()) else {
        return Ok(None);
    };
    let value = async_graphql::Value::from_json(json)
        .map_err(|e| AppError::invalid("filter", e.to_string()))?;
    T::parse(Some(value))
        .map(Some)
        .map_err(|e| AppError::invalid("filter", e.into_server_error(Default::default()).message))
}
