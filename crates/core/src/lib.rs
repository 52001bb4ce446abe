//! The core of the permit–enforcement service: the rules, and nothing about how they are reached.
//!
//! `domain` holds one module per concept (units, permits, inspections, findings, campaigns, ...)
//! and `domain::access`, the policy; `auth` turns a token into a `Principal`; `error` decides
//! the codes every refusal carries; `db` connects and counts statements; `events` streams the
//! change feed; `storage` keeps evidence files; `rng` and `domain::clock` make draws and
//! history reproducible. No transport lives here: the crate depends on neither actix nor
//! async-graphql (`permit-api` does), so the compiler keeps the layers in their order.
//!
//! Inside, from the bottom: `error`, `rng`, `ids`, `storage`; `db` and `auth` (which use only
//! two leaf modules of the domain: the natural keys of `domain::codes` and the cache type of
//! `domain::reference`); `domain`; `events` (the change feed, streamed). Authenticating a
//! request, which needs the policy, is `domain::tokens::authenticate`.

pub mod auth;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod ids;
pub mod rng;
pub mod storage;
