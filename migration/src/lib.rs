//! Schema migrations and reference data for permit-exchange.
//!
//! [`Migrator`] applies the schema (SQLite and PostgreSQL alike); [`reference::load`] then
//! upserts the districts, agencies and violation codes. Both are idempotent and meant to run on
//! every start, in that order.

use sea_orm_migration::prelude::*;

mod m20261128_000001_foundation;
mod m20261128_000002_enforcement;
mod m20261128_000003_campaigns;
mod m20261128_000004_history;
mod m20261128_000005_liaison;
mod m20261128_000006_token_revocations;
pub mod m20261128_000007_pattern_cells;
pub mod m20261128_000008_finding_page_order;
pub mod m20261203_000009_versioned_items;
pub mod m20261203_000010_evidence_and_locations;
pub mod m20261203_000011_monitoring;
pub mod m20261203_000012_monitoring_devices;
pub mod m20261203_000013_violation_candidates;
pub mod m20261203_000014_execution_reports;
pub mod m20261204_000015_ledger_checks;
mod m20261207_000016_feed_wakes_its_readers;
mod m20261207_000017_outlets_of_a_permit;
pub mod reference;

pub use sea_orm_migration::MigratorTrait;

/// All migrations, oldest first. `Migrator::up(&db, None)` applies whatever is pending.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_foundation::Migration),
            Box::new(m20261128_000002_enforcement::Migration),
            Box::new(m20261128_000003_campaigns::Migration),
            Box::new(m20261128_000004_history::Migration),
            Box::new(m20261128_000005_liaison::Migration),
            Box::new(m20261128_000006_token_revocations::Migration),
            Box::new(m20261128_000007_pattern_cells::Migration),
            Box::new(m20261128_000008_finding_page_order::Migration),
            Box::new(m20261203_000009_versioned_items::Migration),
            Box::new(m20261203_000010_evidence_and_locations::Migration),
            Box::new(m20261203_000011_monitoring::Migration),
            Box::new(m20261203_000012_monitoring_devices::Migration),
            Box::new(m20261203_000013_violation_candidates::Migration),
            Box::new(m20261203_000014_execution_reports::Migration),
            Box::new(m20261204_000015_ledger_checks::Migration),
            Box::new(m20261207_000016_feed_wakes_its_readers::Migration),
            Box::new(m20261207_000017_outlets_of_a_permit::Migration),
        ]
    }
}
