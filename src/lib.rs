//! permit-exchange: the shared permit–enforcement data service.
//!
//! Data flows one way: HTTP (`http`) → GraphQL (`graphql`) → rules (`domain`) → database
//! (`entity`, `migration`). `auth` turns a token into a principal; `domain::access` decides
//! what it may do; `error` decides the codes clients see.

pub mod admission;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod downloads;
pub mod error;
pub mod events;
pub mod export;
pub mod exports;
pub mod graphiql;
pub mod graphql;
pub mod hj212;
pub mod http;
pub mod input;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod persisted;
pub mod seed;
pub mod server;
pub mod storage;
pub mod ws;
