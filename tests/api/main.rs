//! Integration tests: one binary (links once), the real server, both databases.

mod helpers;
mod history;
mod hj212;
mod liaison;
mod limits;
mod logging;
mod metrics;
mod monitoring;

mod access;
mod auth;
mod campaigns;
mod candidates;
mod conventions;
mod crash;
mod enforcement;
mod faults;
mod fixtures;
mod fuzzing;
mod http;
mod n_plus_one;
mod office;
mod outage;
mod permits;
mod persisted;
mod planned_reads;
mod schema;
mod scope_leaks;
mod scope_oracle;
mod shutdown;
mod subscriptions;
mod text_inputs;
mod tokens;
mod units;
