//! SeaORM entities for the permit-exchange database: one module per table, plus the enumerated
//! column types in [`enums`]. Data only; the rules live in the service crate.
//!
//! The schema itself is created by the `migration` crate; column types and lengths here mirror it
//! so that the entity metadata (and anything derived from it) describes the real tables.

pub mod enums;
pub mod prelude;

pub mod agencies;
pub mod audit_events;
pub mod bulletin_acknowledgements;
pub mod bulletin_links;
pub mod bulletins;
pub mod campaign_phases;
pub mod campaign_sampling_rules;
pub mod campaigns;
pub mod change_events;
pub mod districts;
pub mod enforcement_actions;
pub mod evidence_files;
pub mod execution_reports;
pub mod feedback;
pub mod feedback_findings;
pub mod feedback_permit_changes;
pub mod finding_evidence;
pub mod finding_transitions;
pub mod findings;
pub mod idempotency_keys;
pub mod inspection_inspectors;
pub mod inspections;
pub mod inspector_conflicts;
pub mod inspectors;
pub mod ledger_checks;
pub mod monitoring_devices;
pub mod monitoring_requirements;
pub mod outlets;
pub mod permit_limits;
pub mod permit_versions;
pub mod permits;
pub mod random_draw_items;
pub mod random_draws;
pub mod readings;
pub mod registrations;
pub mod report_duties;
pub mod summary_reports;
pub mod token_revocations;
pub mod unit_versions;
pub mod units;
pub mod violation_candidates;
pub mod violation_codes;
pub mod violation_pattern_cells;

pub use enums::*;
