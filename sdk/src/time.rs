//! RFC 3339 timestamps: parse, compare, shift, format — without a clock.
//!
//! Plugins have no clock of their own: the host passes `now` in every
//! `fetch-request`. Canonical timestamps are RFC 3339 texts in UTC; [`Timestamp`]
//! parses any offset, compares instants, subtracts an overlap window and formats
//! back as `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
//!
//! ```
//! use switchyard_sdk::time::Timestamp;
//! let t = Timestamp::parse("2026-12-01T11:30:00+01:00").unwrap();
//! assert_eq!(t.to_string(), "2026-12-01T10:30:00Z");
//! assert_eq!(t.minus_seconds(300).to_string(), "2026-12-01T10:25:00Z");
//! assert!(t < Timestamp::parse("2026-12-01T10:30:00.5Z").unwrap());
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::{ConnectorError, Result};

/// Why a timestamp text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an RFC 3339 timestamp: {reason}")]
pub struct TimestampError {
    text: String,
    reason: &'static str,
}

impl TimestampError {
    /// This error as `invalid-input` at `location` (a field path).
    pub fn at(self, location: &str) -> ConnectorError {
        ConnectorError::invalid_input(format!("{location}: {self}"), location)
    }
}

/// An instant: seconds and nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// 1970-01-01T00:00:00Z, where a first run without a start date begins.
    pub const EPOCH: Timestamp = Timestamp { secs: 0, nanos: 0 };

    /// The instant `secs` seconds after the epoch.
    pub fn from_unix(secs: i64) -> Self {
        Timestamp { secs, nanos: 0 }
    }

    /// Seconds since the epoch (whole seconds, rounded down).
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// Parses RFC 3339: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`. Leniently, a
    /// space may replace `T`, and a missing offset means UTC (common in .NET
    /// APIs); a bare date means its midnight UTC.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        parse(text.trim()).map_err(|reason| TimestampError {
            text: text.to_string(),
            reason,
        })
    }

    /// Parses the timestamp at `location`, as `invalid-input` naming it.
    pub fn parse_field(text: &str, location: &str) -> Result<Self> {
        Self::parse(text).map_err(|e| e.at(location))
    }

    /// This instant moved `seconds` earlier.
    pub fn minus_seconds(&self, seconds: u64) -> Self {
        Timestamp {
            secs: self
                .secs
                .saturating_sub(seconds.min(i64::MAX as u64) as i64),
            nanos: self.nanos,
        }
    }

    /// This instant moved `seconds` later.
    pub fn plus_seconds(&self, seconds: u64) -> Self {
        Timestamp {
            secs: self
                .secs
                .saturating_add(seconds.min(i64::MAX as u64) as i64),
            nanos: self.nanos,
        }
    }

    /// Whole seconds from `self` to `later` (negative when `later` is earlier).
    pub fn seconds_until(&self, later: &Timestamp) -> i64 {
        let mut d = later.secs - self.secs;
        if later.nanos < self.nanos {
            d -= 1;
        }
        d
    }

    /// RFC 3339 in UTC; fractional seconds only when there are any.
    pub fn to_rfc3339(&self) -> String {
        self.to_string()
    }
}

/// A timestamp text normalised to UTC (`2026-12-01T10:30:00Z`).
pub fn normalize(text: &str) -> Result<String, TimestampError> {
    Timestamp::parse(text).map(|t| t.to_string())
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, TimestampError> {
        Timestamp::parse(s)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Result<i64, &'static str> {
    let part = b.get(at..at + n).ok_or("too short")?;
    if !part.iter().all(u8::is_ascii_digit) {
        return Err("expected digits");
    }
    Ok(part
        .iter()
        .fold(0i64, |acc, d| acc * 10 + (d - b'0') as i64))
}

fn parse(text: &str) -> Result<Timestamp, &'static str> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err("expected YYYY-MM-DD");
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("no such date");
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Ok(Timestamp {
            secs: days * 86_400,
            nanos: 0,
        });
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return Err("expected `T` between date and time");
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return Err("expected HH:MM:SS");
    }
    // 60 allows a leap second, counted as the next second's start.
    if hour > 23 || minute > 59 || second > 60 {
        return Err("no such time of day");
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + (b[i] - b'0') as u32;
            }
            i += 1;
        }
        if i == start {
            return Err("expected digits after `.`");
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)?;
            let om = digits(b, i + 4, 2)?;
            if b.get(i + 3) != Some(&b':') || i + 6 != b.len() || oh > 23 || om > 59 {
                return Err("expected an offset ±HH:MM");
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return Err("unexpected text after the time"),
    };
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok(Timestamp { secs, nanos })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

// Howard Hinnant's algorithms: days since 1970-01-01 ⇄ proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn parses_offsets_and_fractions_into_utc() {
        assert_eq!(ts("1970-01-01T00:00:00Z"), Timestamp::EPOCH);
        assert_eq!(ts("2026-12-01T10:30:00Z").unix_seconds(), 1_796_121_000);
        assert_eq!(ts("2026-12-01T05:30:00-05:00"), ts("2026-12-01T10:30:00Z"));
        assert_eq!(ts("2026-12-01 10:30:00"), ts("2026-12-01T10:30:00Z"));
        assert_eq!(ts("2026-12-01"), ts("2026-12-01T00:00:00Z"));
        assert_eq!(
            ts("2026-12-01T10:30:00.1234567Z").to_string(),
            "2026-12-01T10:30:00.1234567Z"
        );
        assert_eq!(
            ts("2024-02-29T23:59:59+00:00").to_string(),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(ts("1969-12-31T23:59:59Z").unix_seconds(), -1);
        assert_eq!(
            ts("2026-01-01T00:30:00+01:00").to_string(),
            "2025-12-31T23:30:00Z"
        );
    }

    #[test]
    fn rejects_what_is_not_a_timestamp() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T10:30Z",
            "2026-12-01T10:30:00+0100",
            "2026-12-01T10:30:00.Z",
            "2026-12-01T10:30:00Zjunk",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
        match Timestamp::parse_field("nope", "Details.ModifiedDate").unwrap_err() {
            ConnectorError::InvalidInput(i) => assert_eq!(i.location, "Details.ModifiedDate"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn compares_and_shifts() {
        let a = ts("2026-12-01T10:30:00Z");
        let b = ts("2026-12-01T10:30:00.001Z");
        assert!(a < b);
        assert_eq!(a.seconds_until(&b), 0);
        assert_eq!(a.minus_seconds(86_400).to_string(), "2026-11-30T10:30:00Z");
        assert_eq!(a.plus_seconds(60).to_string(), "2026-12-01T10:31:00Z");
        assert_eq!(a.seconds_until(&a.minus_seconds(5)), -5);
        assert_eq!(
            normalize("2026-12-01T11:30:00+01:00").unwrap(),
            "2026-12-01T10:30:00Z"
        );
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"2026-12-01T10:30:00Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), a);
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        for days in (-150_000i64..150_000).step_by(7) {
            let t = Timestamp::from_unix(days * 86_400 + 3723);
            assert_eq!(ts(&t.to_string()), t);
        }
    }
}
