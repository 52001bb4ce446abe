//! The transports of the permit–enforcement service, over the rules of `permit-core`.
//!
//! Data flows one way: HTTP (`http`, `ws`) → GraphQL (`graphql`) → rules (`permit_core::domain`)
//! → database (`entity`, `migration`). Beside GraphQL: the HJ 212 listener (`hj212`), file
//! exports and downloads, the change-feed export, and observability (`metrics`, `logging`).
//! `config` holds every setting of a serving instance; `server` assembles one.

pub mod admission;
pub mod config;
pub mod documents;
pub mod downloads;
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
pub mod pipeline;
pub mod server;
pub mod ws;
