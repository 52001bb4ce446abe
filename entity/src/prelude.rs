//! Entity types under short names, in the style of `sea-orm-cli` generated preludes.

pub use super::agencies::Entity as Agencies;
pub use super::campaign_phases::Entity as CampaignPhases;
pub use super::campaign_sampling_rules::Entity as CampaignSamplingRules;
pub use super::campaigns::Entity as Campaigns;
pub use super::districts::Entity as Districts;
pub use super::enforcement_actions::Entity as EnforcementActions;
pub use super::enums::*;
pub use super::finding_evidence::Entity as FindingEvidence;
pub use super::finding_transitions::Entity as FindingTransitions;
pub use super::findings::Entity as Findings;
pub use super::idempotency_keys::Entity as IdempotencyKeys;
pub use super::inspection_inspectors::Entity as InspectionInspectors;
pub use super::inspections::Entity as Inspections;
pub use super::inspector_conflicts::Entity as InspectorConflicts;
pub use super::inspectors::Entity as Inspectors;
pub use super::outlets::Entity as Outlets;
pub use super::permit_limits::Entity as PermitLimits;
pub use super::permit_versions::Entity as PermitVersions;
pub use super::permits::Entity as Permits;
pub use super::random_draw_items::Entity as RandomDrawItems;
pub use super::random_draws::Entity as RandomDraws;
pub use super::registrations::Entity as Registrations;
pub use super::summary_reports::Entity as SummaryReports;
pub use super::units::Entity as Units;
pub use super::violation_codes::Entity as ViolationCodes;
