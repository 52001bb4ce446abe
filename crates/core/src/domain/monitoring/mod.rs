//! Monitoring readings (issue 17; plan §3: inspections rest on "自行监测数据" among other
//! materials; Regulation Art 19–20: self-monitoring plans and automatic monitors).
//!
//! A reading is one result for an outlet and pollutant at an instant, from an automatic
//! monitor, the unit's self-monitoring or the monitoring centre's supervisory monitoring,
//! with its HJ 212 data flag. It is checked against the permit as it stood on that day
//! (Chongqing's calendar): the permit valid then, the outlet on the version in force, the
//! pollutant limited or monitored at that outlet, the unit the limit's; a time in the future
//! is refused. `(outlet, pollutant, time, source)` is the key: the same reading sent again
//! writes nothing new, the same key with another value is `CONFLICT`.
//!
//! Single readings and batches go the same way: the rows are parsed one by one, the checks
//! against permits read every outlet, permit, version, limit and plan of the batch in one
//! statement each (set-wise, not per row), and the rows go in as multi-row
//! `INSERT … ON CONFLICT DO NOTHING` of `INSERT_CHUNK` rows, all in one transaction: a batch
//! is stored whole or not at all.
//!
//! `checks` parses readings and checks them against the permits; `storing` writes them and the
//! candidates they raise; `devices` registers automatic monitors; `listing` reads readings back.
//! Everything public is re-exported here.

mod checks;
mod devices;
mod listing;
mod storing;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::auth::Principal;
use crate::domain::access::{self, Operation};
use crate::domain::{changes, clock};
use crate::error::{AppError, AppResult};
use checks::{Checked, Key, Parsed, check, key_of, parse, permit_data};
use entity::enums::ReadingSource;
use storing::{check_stored, insert_chunk, raised_candidates};

pub use devices::{DeviceInput, device_by_mn, register_device};
pub use listing::{ReadingFilter, by_ids, list};

/// At most this many readings in one request (a day of hourly data for 80 series; the default
/// `LIMIT_MAX_BODY_BYTES` of 256 KiB holds about 1500).
pub const MAX_BATCH: usize = 2000;
/// Rows per INSERT statement: 14 values a row stays far below both databases' limits on
/// bound parameters (SQLite 32766, PostgreSQL 65535).
const INSERT_CHUNK: usize = 1000;
/// Device clocks drift: a time up to this far ahead of the server's is accepted.
pub const CLOCK_SKEW_SECONDS: i64 = 300;
/// Readings before this are not monitoring data of this service (Unix seconds, 2000-01-01).
const EARLIEST: i64 = 946_684_800;

/// HJ 212-2017 data flags: N normal, F stopped (停运), M maintenance (维护), S set by hand
/// (手工输入), D fault (故障), C calibration (校准), T over the range (超测上限), B
/// communication lost (通讯异常).
pub const FLAGS: [&str; 8] = ["N", "F", "M", "S", "D", "C", "T", "B"];

/// The flag of normal data (HJ 212 `N`).
pub const NORMAL: &str = "N";

/// The largest value a reading may carry; beyond it a value is a transmission error.
const MAX_VALUE: f64 = 1.0e9;

#[derive(Debug, Clone)]
pub struct ReadingInput {
    pub outlet_id: i64,
    pub pollutant: String,
    pub measured_at: DateTime<Utc>,
    pub value: f64,
    pub unit: String,
    pub source: ReadingSource,
    /// HJ 212 flag; `N` when absent.
    pub flag: Option<String>,
}

/// What a write did: rows stored now, rows that were stored already (the same reading), and
/// rows left out as neither limited nor monitored at the outlet (`Mode::SkipUnplanned`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    pub inserted: u64,
    pub unchanged: u64,
    pub skipped: u64,
    /// New violation candidates (EX-1, NP-2) the readings raised.
    pub candidates: u64,
}

/// How a pollutant the permit neither limits nor monitors at the outlet is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refused (`BAD_USER_INPUT`): what a client sends by name it means.
    Strict,
    /// Left out: a monitor reports every parameter it measures (flow, temperature, …).
    SkipUnplanned,
}

/// Records readings: all or none. `path(i)` is the input path of the i-th reading
/// (`input` for one, `input.readings[3]` in a batch), for the errors.
pub async fn record(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    inputs: &[ReadingInput],
    path: impl Fn(usize) -> String,
) -> AppResult<Recorded> {
    record_with(db, principal, inputs, path, Mode::Strict).await
}

/// `record` with a choice of what becomes of readings the permit does not ask for.
pub async fn record_with(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    inputs: &[ReadingInput],
    path: impl Fn(usize) -> String,
    mode: Mode,
) -> AppResult<Recorded> {
    let principal = access::authorize(principal, Operation::WriteReadings)?;
    if inputs.is_empty() {
        return Ok(Recorded::default());
    }
    if inputs.len() > MAX_BATCH {
        return Err(AppError::invalid(
            "input.readings",
            format!("at most {MAX_BATCH} readings a request"),
        ));
    }
    let now = clock::now().timestamp();
    let mut parsed = Vec::with_capacity(inputs.len());
    let mut seen: HashMap<Key, usize> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let p = parse(input, &path(i), now)?;
        if let Some(&first) = seen.get(&key_of(&p)) {
            let earlier: &Parsed = &parsed[first];
            if earlier.value != p.value || earlier.unit != p.unit || earlier.flag != p.flag {
                return Err(AppError::Duplicate {
                    field: format!("{}.value", path(i)),
                    reason: format!(
                        "{} repeats the outlet, pollutant, time and source of {} with another value",
                        path(i),
                        path(first)
                    ),
                });
            }
        } else {
            seen.insert(key_of(&p), i);
        }
        parsed.push(p);
    }
    let txn = crate::db::begin_write(db).await?;
    let outlet_ids: Vec<i64> = parsed
        .iter()
        .map(|p| p.outlet_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let latest = parsed
        .iter()
        .map(|p| p.measured_at)
        .max()
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .map(clock::date_of)
        .unwrap_or_else(clock::today);
    let data = permit_data(&txn, &outlet_ids, latest).await?;
    let mut checked = Vec::with_capacity(parsed.len());
    let mut recorded = Recorded::default();
    for (i, p) in parsed.into_iter().enumerate() {
        match check(principal, &data, p, &path(i), mode)? {
            Some(c) => checked.push((i, c)),
            None => recorded.skipped += 1,
        }
    }
    let created = clock::now();
    for chunk in checked.chunks(INSERT_CHUNK) {
        let inserted = insert_chunk(&txn, principal, chunk, created).await?;
        recorded.inserted += inserted;
        if (inserted as usize) < chunk.len() {
            // Some keys were stored already: the same reading again is fine, another value
            // under the same key is a conflict.
            check_stored(&txn, chunk, &path).await?;
        }
    }
    recorded.unchanged = checked.len() as u64 - recorded.inserted;
    if checked.is_empty() {
        txn.commit().await?;
        return Ok(recorded);
    }
    let flagged: Vec<&Checked> = checked
        .iter()
        .map(|(_, c)| c)
        .filter(|c| c.exceeds.is_some() || c.unpermitted)
        .collect();
    if !flagged.is_empty() {
        recorded.candidates = raised_candidates(&txn, principal, &flagged).await?;
    }
    changes::audit(&txn, principal, "RECORD_READINGS", None, &[]).await?;
    txn.commit().await?;
    Ok(recorded)
}
