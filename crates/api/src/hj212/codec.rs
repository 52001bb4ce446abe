//! HJ 212-2017 (污染物在线监控（监测）系统数据传输标准) packets, without I/O.
//!
//! A packet is `##` + the data segment's length (4 decimal digits) + the data segment + its
//! CRC (4 hex digits) + CR LF. The data segment is `key=value` pairs separated by `;`: `QN`
//! (request number, `YYYYMMDDhhmmsszzz`), `ST` (system), `CN` (command), `PW` (password),
//! `MN` (the device), `Flag` (bit 0: an answer is wanted; bit 1: the packet is split, with
//! `PNUM`/`PNO`; bits 2–7: the version, 1 for 2017), then `CP=&&…&&`, the command's data:
//! `DataTime=YYYYMMDDhhmmss` and per pollutant code `code-Rtd=…,code-Flag=N` (real-time data)
//! or `code-Avg=…,code-Min=…,code-Max=…,code-Flag=N` (minute, hourly, daily data), the items of
//! one pollutant separated by `,`, pollutants by `;`.
//!
//! The CRC is the standard's: register 0xFFFF; per byte `crc = (crc >> 8) ^ byte`, then eight
//! times shift right, xor 0xA001 when the bit shifted out was 1; over the data segment only.
//! (Not CRC-16/MODBUS, which xors the byte into the low half; some devices send that. We
//! accept only the standard's.)
//!
//! [`Framer`] cuts a byte stream into packets: a packet ends at CR LF (the data segment never
//! holds CR or LF), so a damaged packet costs only itself, and garbage between packets is
//! skipped. Each frame is then checked for its length and CRC.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

/// The largest data segment the standard allows.
pub const MAX_SEGMENT: usize = 1024;
/// `##`, four digits of length, the segment, four of CRC, CR LF.
pub const MAX_PACKET: usize = 2 + 4 + MAX_SEGMENT + 4 + 2;

/// Commands this service takes (CN).
pub const CN_REALTIME: &str = "2011";
pub const CN_MINUTE: &str = "2051";
pub const CN_HOURLY: &str = "2061";
pub const CN_DAILY: &str = "2031";
/// The platform's data answer (数据应答).
pub const CN_DATA_ACK: &str = "9014";
/// The system code of answers (系统交互).
pub const ST_SYSTEM: &str = "91";

/// Why a packet was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Bytes that are not a packet (before `##`, or a packet cut short by the next `##`).
    Garbage,
    /// No CR LF within the largest packet the standard allows.
    TooLong,
    /// The length field is not four digits, or disagrees with the segment.
    Length,
    /// The CRC field is not four hex digits, or disagrees with the segment.
    Crc,
    /// The segment is not the standard's `key=value;…;CP=&&…&&`, or lacks a field.
    Segment(&'static str),
}

impl FrameError {
    /// The label the metrics count refusals by.
    pub fn reason(&self) -> &'static str {
        match self {
            FrameError::Garbage => "garbage",
            FrameError::TooLong => "too_long",
            FrameError::Length => "length",
            FrameError::Crc => "crc",
            FrameError::Segment(_) => "malformed",
        }
    }
}

/// The CRC of HJ 212-2017 over `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in bytes {
        crc = (crc >> 8) ^ u16::from(byte);
        for _ in 0..8 {
            let carry = crc & 1 == 1;
            crc >>= 1;
            if carry {
                crc ^= 0xA001;
            }
        }
    }
    crc
}

/// The packet around a data segment: `##`, length, segment, CRC (upper-case hex), CR LF.
pub fn encode(segment: &str) -> String {
    format!(
        "##{:04}{segment}{:04X}\r\n",
        segment.len(),
        crc16(segment.as_bytes())
    )
}

/// Checks one frame (`##` … up to, not including, CR LF) and returns its data segment.
pub fn check_frame(frame: &[u8]) -> Result<&str, FrameError> {
    let body = frame.strip_prefix(b"##").ok_or(FrameError::Garbage)?;
    if body.len() < 8 {
        return Err(FrameError::Length);
    }
    let (length, rest) = body.split_at(4);
    let declared: usize = std::str::from_utf8(length)
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .ok_or(FrameError::Length)?;
    if declared > MAX_SEGMENT || rest.len() != declared + 4 {
        return Err(FrameError::Length);
    }
    let (segment, crc) = rest.split_at(declared);
    let crc = std::str::from_utf8(crc)
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|s| u16::from_str_radix(s, 16).ok())
        .ok_or(FrameError::Crc)?;
    if crc != crc16(segment) {
        return Err(FrameError::Crc);
    }
    std::str::from_utf8(segment).map_err(|_| FrameError::Segment("not ASCII text"))
}

/// A data segment's header fields and its `CP` data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub qn: Option<String>,
    pub st: String,
    pub cn: String,
    pub pw: String,
    pub mn: String,
    pub flag: u8,
    /// The text between `CP=&&` and the closing `&&`.
    pub cp: String,
}

impl Packet {
    /// Flag bit 0: the sender wants an answer.
    pub fn wants_answer(&self) -> bool {
        self.flag & 1 == 1
    }
}

/// Parses a data segment.
pub fn parse_segment(segment: &str) -> Result<Packet, FrameError> {
    let (head, cp) = segment
        .split_once("CP=&&")
        .ok_or(FrameError::Segment("no CP=&&…&&"))?;
    let cp = cp
        .strip_suffix("&&")
        .ok_or(FrameError::Segment("CP does not end with &&"))?;
    let mut fields = BTreeMap::new();
    for pair in head.split(';').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or(FrameError::Segment("a field without ="))?;
        fields.insert(key, value);
    }
    let field = |name: &'static str| {
        fields
            .get(name)
            .map(|v| (*v).to_owned())
            .ok_or(FrameError::Segment(name))
    };
    let flag = match fields.get("Flag") {
        Some(f) => f.parse().map_err(|_| FrameError::Segment("Flag"))?,
        None => 0,
    };
    let mn = field("MN")?;
    if mn.is_empty() || mn.len() > 24 {
        return Err(FrameError::Segment("MN"));
    }
    Ok(Packet {
        qn: fields.get("QN").map(|v| (*v).to_owned()),
        st: field("ST")?,
        cn: field("CN")?,
        pw: fields
            .get("PW")
            .map(|v| (*v).to_owned())
            .unwrap_or_default(),
        mn,
        flag,
        cp: cp.to_owned(),
    })
}

/// One pollutant's items in `CP`: `Rtd`, `Avg`, `Min`, `Max`, `Cou`, `Flag`, … by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub code: String,
    pub values: BTreeMap<String, String>,
}

impl Item {
    /// The value of the command: `Rtd` for real-time data, `Avg` otherwise.
    pub fn value(&self, cn: &str) -> Option<f64> {
        let key = if cn == CN_REALTIME { "Rtd" } else { "Avg" };
        self.values.get(key).and_then(|v| v.parse().ok())
    }

    /// The data flag (`N` when the device sent none).
    pub fn flag(&self) -> &str {
        self.values.get("Flag").map(String::as_str).unwrap_or("N")
    }
}

/// `CP`'s data time (local time, as the standard has it) and pollutant items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    pub data_time: NaiveDateTime,
    pub items: Vec<Item>,
}

pub fn parse_data(cp: &str) -> Result<Data, FrameError> {
    let mut data_time = None;
    let mut items: Vec<Item> = Vec::new();
    for group in cp.split(';').filter(|g| !g.is_empty()) {
        for pair in group.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or(FrameError::Segment("a CP item without ="))?;
            if key == "DataTime" {
                data_time = Some(
                    NaiveDateTime::parse_from_str(value, "%Y%m%d%H%M%S")
                        .map_err(|_| FrameError::Segment("DataTime"))?,
                );
                continue;
            }
            let Some((code, item)) = key.split_once('-') else {
                // Other CP fields (e.g. RtdInterval) are not pollutant data.
                continue;
            };
            match items.iter_mut().find(|i| i.code == code) {
                Some(existing) => {
                    existing.values.insert(item.to_owned(), value.to_owned());
                }
                None => items.push(Item {
                    code: code.to_owned(),
                    values: BTreeMap::from([(item.to_owned(), value.to_owned())]),
                }),
            }
        }
    }
    Ok(Data {
        data_time: data_time.ok_or(FrameError::Segment("DataTime"))?,
        items,
    })
}

/// The platform's answer to a data packet that asked for one (CN=9014, 数据应答): the
/// packet's QN, ST=91, its PW and MN, Flag=4 (version 2017, no answer wanted), empty CP.
pub fn data_ack(packet: &Packet) -> String {
    let mut segment = String::with_capacity(96);
    if let Some(qn) = &packet.qn {
        segment.push_str(&format!("QN={qn};"));
    }
    segment.push_str(&format!(
        "ST={ST_SYSTEM};CN={CN_DATA_ACK};PW={};MN={};Flag=4;CP=&&&&",
        packet.pw, packet.mn
    ));
    encode(&segment)
}

/// Cuts a byte stream into frames. Holds at most `MAX_PACKET` bytes of a packet in progress.
#[derive(Debug, Default)]
pub struct Framer {
    buffer: Vec<u8>,
}

impl Framer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes held of a packet not yet complete.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// Feeds bytes; returns each complete frame's data segment, or why it was refused, in
    /// order. Garbage between packets counts once per run.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<String, FrameError>> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            // Skip to the next packet start.
            let Some(start) = find(&self.buffer, b"##") else {
                // Keep a trailing '#' (the start may be split across reads).
                let keep = usize::from(self.buffer.last() == Some(&b'#'));
                if self.buffer[..self.buffer.len() - keep]
                    .iter()
                    .any(|b| !b.is_ascii_whitespace())
                {
                    out.push(Err(FrameError::Garbage));
                }
                self.buffer.drain(..self.buffer.len() - keep);
                break;
            };
            if self.buffer[..start]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
            {
                out.push(Err(FrameError::Garbage));
            }
            self.buffer.drain(..start);
            // A packet ends at CR LF; another "##" before it means this one was cut short.
            let end = find(&self.buffer, b"\r\n");
            let restart = find(&self.buffer[2..], b"##").map(|i| i + 2);
            match (end, restart) {
                (Some(end), Some(next)) if next < end => {
                    out.push(Err(FrameError::Garbage));
                    self.buffer.drain(..next);
                }
                (Some(end), _) => {
                    let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
                    out.push(check_frame(&frame[..end]).map(str::to_owned));
                }
                (None, Some(next)) if next > MAX_PACKET => {
                    out.push(Err(FrameError::TooLong));
                    self.buffer.drain(..next);
                }
                (None, Some(next)) => {
                    // Wait only if the cut-short packet could still end; it cannot: a new
                    // packet began inside it.
                    out.push(Err(FrameError::Garbage));
                    self.buffer.drain(..next);
                }
                (None, None) if self.buffer.len() > MAX_PACKET => {
                    out.push(Err(FrameError::TooLong));
                    self.buffer.clear();
                    break;
                }
                (None, None) => break,
            }
        }
        out
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example packet of HJ 212-2017 (its §6.3 sample): length 0101, CRC 1C80.
    const STANDARD_EXAMPLE: &str = "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;\
        MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";

    #[test]
    fn the_standards_example_checks() {
        let segment = &STANDARD_EXAMPLE[6..STANDARD_EXAMPLE.len() - 6];
        assert_eq!(segment.len(), 101);
        assert_eq!(crc16(segment.as_bytes()), 0x1C80);
        assert_eq!(encode(segment), STANDARD_EXAMPLE);
        let frame = STANDARD_EXAMPLE.trim_end().as_bytes();
        assert_eq!(check_frame(frame), Ok(segment));
        let packet = parse_segment(segment).expect("parses");
        assert_eq!(packet.cn, "1062");
        assert_eq!(packet.mn, "010000A8900016F000169DC0");
        assert!(packet.wants_answer());
    }

    #[test]
    fn the_crc_is_not_modbus() {
        // CRC-16/MODBUS of "123456789" is 0x4B37; the standard's register update differs.
        assert_ne!(crc16(b"123456789"), 0x4B37);
        assert_eq!(crc16(b""), 0xFFFF);
    }

    fn realtime(mn: &str) -> String {
        encode(&format!(
            "QN=20260601100000001;ST=32;CN=2011;PW=123456;MN={mn};Flag=5;\
             CP=&&DataTime=20260601100000;w01018-Rtd=42.5,w01018-Flag=N;w21003-Rtd=3.1,w21003-Flag=T&&"
        ))
    }

    #[test]
    fn data_segments_parse_into_items() {
        let packet = realtime("DEV0001");
        let segment = check_frame(packet.trim_end().as_bytes()).expect("frame");
        let p = parse_segment(segment).expect("segment");
        let data = parse_data(&p.cp).expect("cp");
        assert_eq!(data.data_time.to_string(), "2026-06-01 10:00:00");
        assert_eq!(data.items.len(), 2);
        assert_eq!(data.items[0].code, "w01018");
        assert_eq!(data.items[0].value(CN_REALTIME), Some(42.5));
        assert_eq!(data.items[1].flag(), "T");
        let ack = data_ack(&p);
        assert_eq!(
            check_frame(ack.trim_end().as_bytes()),
            Ok("QN=20260601100000001;ST=91;CN=9014;PW=123456;MN=DEV0001;Flag=4;CP=&&&&")
        );
    }

    #[test]
    fn damaged_packets_cost_only_themselves() {
        let good = realtime("DEV0001");
        let mut bad_crc = realtime("DEV0002");
        bad_crc.replace_range(bad_crc.len() - 6..bad_crc.len() - 2, "0000");
        let bad_length = format!("##0999{}", &good[6..]);
        let cut_short = &good[..40];
        let stream = format!("junk{good}{bad_crc}{bad_length}{cut_short}{good}\r\n  ");
        let mut framer = Framer::new();
        // Fed in small pieces, as a slow client sends it.
        let mut results = Vec::new();
        for piece in stream.as_bytes().chunks(7) {
            results.extend(framer.push(piece));
        }
        let summary: Vec<&str> = results
            .iter()
            .map(|r| match r {
                Ok(_) => "ok",
                Err(e) => e.reason(),
            })
            .collect();
        assert_eq!(summary, ["garbage", "ok", "crc", "length", "garbage", "ok"]);
        assert_eq!(framer.pending(), 0);
    }

    #[test]
    fn an_endless_packet_is_dropped() {
        let mut framer = Framer::new();
        let mut results = framer.push(b"##0101");
        results.extend(framer.push(&[b'x'; MAX_PACKET + 10]));
        assert_eq!(results, vec![Err(FrameError::TooLong)]);
        assert_eq!(framer.pending(), 0);
        let good = realtime("DEV0001");
        assert!(matches!(framer.push(good.as_bytes()).as_slice(), [Ok(_)]));
    }

    #[test]
    fn segments_lacking_fields_are_refused() {
        assert_eq!(
            parse_segment("QN=1;ST=32;CN=2011;PW=1;Flag=4;CP=&&DataTime=20260101000000&&"),
            Err(FrameError::Segment("MN"))
        );
        assert_eq!(
            parse_segment("ST=32;CN=2011;MN=A;CP=&&DataTime=20260101000000"),
            Err(FrameError::Segment("CP does not end with &&"))
        );
        assert_eq!(
            parse_data("w01018-Rtd=1"),
            Err(FrameError::Segment("DataTime"))
        );
    }
}
