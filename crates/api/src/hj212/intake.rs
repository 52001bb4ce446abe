//! From an HJ 212 data segment to readings of the device's outlet.
//!
//! The data commands are taken: real-time (CN 2011, the `Rtd` values), minute (2051), hourly
//! (2061) and daily (2031) data (the `Avg` values). The device (`MN`) must be registered, and
//! its packets carry the registered `PW`. Pollutant codes are mapped to the names our permits
//! use (`POLLUTANTS`, HJ 212-2017 Appendix B); parameters the permit neither limits nor
//! monitors at the outlet (flow, temperature, …) are left out, unknown codes too. The readings
//! are AUTOMATIC, with the packet's flags, recorded as the monitoring centre would
//! (`domain::monitoring`: the same checks, the same key, so a resent packet writes nothing).
//! `DataTime` is local time (UTC+8).

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::DatabaseConnection;

use super::codec::{self, CN_DAILY, CN_HOURLY, CN_MINUTE, CN_REALTIME, FrameError, Packet};
use entity::enums::ReadingSource;
use permit_core::auth::{Principal, Role};
use permit_core::domain::clock;
use permit_core::domain::monitoring::{self, Mode, ReadingInput};
use permit_core::error::AppError;

/// HJ 212-2017 codes (Appendix B) → our pollutant names and the unit the code reports in.
pub const POLLUTANTS: &[(&str, &str, &str)] = &[
    ("w01018", "化学需氧量", "mg/L"),
    ("w21003", "氨氮", "mg/L"),
    ("w21011", "总磷", "mg/L"),
    ("w21001", "总氮", "mg/L"),
    ("w01001", "pH", "无量纲"),
    ("w01012", "悬浮物", "mg/L"),
    ("w22001", "石油类", "mg/L"),
    ("w01017", "五日生化需氧量", "mg/L"),
    ("a34013", "颗粒物", "mg/m³"),
    ("a21026", "二氧化硫", "mg/m³"),
    ("a21002", "氮氧化物", "mg/m³"),
    ("a24088", "非甲烷总烃", "mg/m³"),
    // Parameters of the flue gas: stored only where a permit's plan names them.
    ("a01012", "烟气温度", "℃"),
    ("a01011", "烟气流速", "m/s"),
    ("a19001", "氧含量", "%"),
];

/// Our pollutant name and unit for an HJ 212 code.
pub fn pollutant_of(code: &str) -> Option<(&'static str, &'static str)> {
    POLLUTANTS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, name, unit)| (*name, *unit))
}

/// Why a packet was refused.
#[derive(Debug)]
pub enum Refusal {
    Frame(FrameError),
    /// Not a data command this service takes.
    Command,
    UnknownDevice,
    Password,
    /// The readings were refused by the permit checks (or another input error).
    Rejected(String),
    /// The database failed: the device should send the packet again.
    Unavailable,
}

impl Refusal {
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Frame(e) => e.reason(),
            Refusal::Command => "command",
            Refusal::UnknownDevice => "unknown_device",
            Refusal::Password => "password",
            Refusal::Rejected(_) => "rejected",
            Refusal::Unavailable => "unavailable",
        }
    }
}

/// A packet taken: its answer (when it asked for one) and what was stored.
#[derive(Debug)]
pub struct Accepted {
    pub answer: Option<String>,
    pub recorded: monitoring::Recorded,
}

/// Takes one data segment (its frame already checked for length and CRC).
pub async fn accept(db: &DatabaseConnection, segment: &str) -> Result<Accepted, Refusal> {
    let packet = codec::parse_segment(segment).map_err(Refusal::Frame)?;
    if ![CN_REALTIME, CN_MINUTE, CN_HOURLY, CN_DAILY].contains(&packet.cn.as_str()) {
        return Err(Refusal::Command);
    }
    let device = monitoring::device_by_mn(db, &packet.mn)
        .await
        .map_err(|_| Refusal::Unavailable)?
        .ok_or(Refusal::UnknownDevice)?;
    if device.password != packet.pw {
        return Err(Refusal::Password);
    }
    let data = codec::parse_data(&packet.cp).map_err(Refusal::Frame)?;
    let at =
        local_instant(data.data_time).ok_or(Refusal::Frame(FrameError::Segment("DataTime")))?;
    let readings: Vec<ReadingInput> = data
        .items
        .iter()
        .filter_map(|item| {
            let (pollutant, unit) = pollutant_of(&item.code)?;
            Some(ReadingInput {
                outlet_id: device.outlet_id,
                pollutant: pollutant.to_owned(),
                measured_at: at,
                value: item.value(&packet.cn)?,
                unit: unit.to_owned(),
                source: ReadingSource::Automatic,
                flag: Some(item.flag().to_owned()),
            })
        })
        .collect();
    let principal = device_principal(&packet, device.registered_by_agency.clone());
    let recorded = monitoring::record_with(
        db,
        Some(&principal),
        &readings,
        |i| format!("CP[{i}]"),
        Mode::SkipUnplanned,
    )
    .await
    .map_err(|e| match e {
        AppError::Unavailable(_) | AppError::Internal(_) | AppError::TimeLimit(_) => {
            Refusal::Unavailable
        }
        other => Refusal::Rejected(other.message()),
    })?;
    Ok(Accepted {
        answer: packet.wants_answer().then(|| codec::data_ack(&packet)),
        recorded,
    })
}

/// A device writes as the monitoring centre that networked it: readings in any district.
fn device_principal(packet: &Packet, agency: Option<String>) -> Principal {
    Principal {
        subject: format!("hj212:{}", packet.mn),
        role: Role::Monitoring,
        agency_code: agency,
        district: None,
        request: Default::default(),
    }
}

fn local_instant(local: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
    clock::service_offset()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// What a file (or stream) of packets came to.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub accepted: u64,
    pub readings: u64,
    /// New violation candidates the readings raised.
    pub candidates: u64,
    /// Refusals by reason, in the order reasons were first met.
    pub refused: Vec<(&'static str, u64)>,
}

impl Tally {
    pub fn refuse(&mut self, reason: &'static str) {
        match self.refused.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.refused.push((reason, 1)),
        }
    }
}

/// Takes every packet of `bytes` (a file of packets, one after the other), counting each in
/// `metrics` as the listener does.
pub async fn accept_all(
    db: &DatabaseConnection,
    metrics: Option<&crate::metrics::Metrics>,
    bytes: &[u8],
) -> Tally {
    let mut framer = codec::Framer::new();
    let mut frames = framer.push(bytes);
    // A last packet without its CR LF is cut short.
    if framer.pending() > 0 {
        frames.push(Err(FrameError::Garbage));
    }
    let mut tally = Tally::default();
    for frame in frames {
        let outcome = match frame {
            Ok(segment) => accept(db, &segment).await,
            Err(e) => Err(Refusal::Frame(e)),
        };
        count(metrics, &outcome);
        match outcome {
            Ok(accepted) => {
                tally.accepted += 1;
                tally.readings += accepted.recorded.inserted;
                tally.candidates += accepted.recorded.candidates;
            }
            Err(refusal) => tally.refuse(refusal.reason()),
        }
    }
    tally
}

/// Counts a packet's outcome in the instance's metrics.
pub fn count(metrics: Option<&crate::metrics::Metrics>, outcome: &Result<Accepted, Refusal>) {
    let Some(metrics) = metrics else {
        return;
    };
    match outcome {
        Ok(accepted) => metrics.hj212_accepted(accepted.recorded.inserted),
        Err(refusal) => {
            if let Refusal::Rejected(why) = refusal {
                tracing::info!(reason = %why, "HJ 212 packet refused by the permit checks");
            }
            metrics.hj212_refused(refusal.reason());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_our_names() {
        assert_eq!(pollutant_of("w01018"), Some(("化学需氧量", "mg/L")));
        assert_eq!(pollutant_of("a34013"), Some(("颗粒物", "mg/m³")));
        assert_eq!(pollutant_of("x99999"), None);
    }

    #[test]
    fn data_time_is_local() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("time");
        assert_eq!(
            local_instant(t).map(|t| t.to_rfc3339()),
            Some("2026-06-01T02:00:00+00:00".to_owned())
        );
    }
}
