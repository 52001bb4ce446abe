//! The rules, one module per concept. Functions take a connection and a `Principal`, validate,
//! write, and return domain values or `AppError`; they know nothing of GraphQL or HTTP.

pub mod access;
pub mod bulletins;
pub mod campaigns;
pub mod candidates;
pub mod cases;
pub mod changes;
pub mod clock;
pub mod codes;
pub mod draws;
pub mod evidence;
pub mod feedback;
pub mod findings;
pub mod idempotency;
pub mod inspections;
pub mod inspectors;
pub mod ledgers;
pub mod locations;
pub mod monitoring;
pub mod page;
pub mod pattern_cells;
pub mod patterns;
pub mod permits;
pub mod reference;
pub mod registrations;
pub mod reports;
pub mod sampling;
pub mod taxonomy;
pub mod text;
pub mod tokens;
pub mod units;
