//! Monitoring: `readings`, `recordReading`, `recordReadings`, and the permit's obligations
//! (`Outlet.monitoring`, `Permit.monitoringRequirements`, `Permit.reportDuties`); the automatic
//! monitors, the violation candidates the data suggests, execution reports and ledger checks.
//!
//! One module per concept; the merged mutations keep the order the schema has always listed
//! their fields in.

mod candidates;
mod devices;
mod ledgers;
mod obligations;
mod readings;
mod reports;

use async_graphql::MergedObject;

pub use candidates::{
    CANDIDATE, CandidateMutation, CandidateQuery, DetectViolationCandidatesInput,
    DetectedCandidates, ViolationCandidate, ViolationCandidateFilter,
};
pub(crate) use candidates::{candidate_of_finding, readings_of_finding};
pub use devices::{
    DeviceMutation, Hj212IngestResult, Hj212Refusals, IngestHj212PacketsInput, MonitoringDevice,
    RegisterMonitoringDeviceInput,
};
pub use ledgers::{LedgerCheck, LedgerCheckMutation, LedgerCheckRecorded, RecordLedgerCheckInput};
pub use obligations::{MonitoringRequirement, ReportDuty};
pub(crate) use obligations::{duties, requirements};
pub use readings::{
    MonitoringQuery, Reading, ReadingFilter, ReadingInput, ReadingMutation, RecordReadingsInput,
    RecordReadingsResult,
};
pub(crate) use reports::reports_of;
pub use reports::{ExecutionReport, ExecutionReportMutation, RecordExecutionReportInput};

pub const READING: &str = "Reading";
pub const OUTLET: &str = "Outlet";

/// The writes of monitoring devices and readings.
#[derive(MergedObject, Default)]
pub struct MonitoringMutation(DeviceMutation, ReadingMutation);

/// The writes of what the permit office and the inspectors receive: execution reports and
/// ledger checks.
#[derive(MergedObject, Default)]
pub struct ReportMutation(ExecutionReportMutation, LedgerCheckMutation);
