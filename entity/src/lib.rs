//! SeaORM entities for the permit-exchange database: one module per table, plus the enumerated
//! column types in [`enums`]. Data only; the rules live in the service crate.
//!
//! The schema itself is created by the `migration` crate; column types and lengths here mirror it
//! so that the entity metadata (and anything derived from it) describes the real tables.

pub mod enums;
pub mod prelude;

pub mod agencies;
pub mod districts;
pub mod idempotency_keys;
pub mod outlets;
pub mod permit_limits;
pub mod permit_versions;
pub mod permits;
pub mod registrations;
pub mod units;
pub mod violation_codes;

pub use enums::*;
