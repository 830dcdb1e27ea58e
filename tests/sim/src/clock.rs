//! Timestamps as the simulators store them: milliseconds since the Unix epoch, UTC.
//!
//! Generated data is dated from a configured base time, never from the wall clock, so the same
//! seed gives the same data. Changes made later (through an API or the control endpoint) are
//! dated `max(now, latest stamp + 1 ms)`, so they sort after everything a client has seen.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// The default base time of generated data: 2026-01-01T00:00:00Z.
pub const DEFAULT_BASE_TIME: Millis = 1_767_225_600_000;

/// The wall clock in milliseconds.
pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

/// Formats as RFC 3339 with milliseconds and `Z`, e.g. `2026-01-01T00:04:12.345Z`.
pub fn format_millis(ms: Millis) -> String {
    to_datetime(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Converts to a chrono time.
pub fn to_datetime(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Parses RFC 3339; a time without zone (`2026-01-01T10:30:00`, as .NET clients often send)
/// is read as UTC.
pub fn parse_timestamp(text: &str) -> Option<Millis> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// The stamp for a change made now, given the latest stamp handed out so far.
pub fn next_change_stamp(latest: Millis) -> Millis {
    now_millis().max(latest + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_accepts_zoneless() {
        let t = DEFAULT_BASE_TIME + 4_012_345;
        let s = format_millis(t);
        assert_eq!(s, "2026-01-01T01:06:52.345Z");
        assert_eq!(parse_timestamp(&s), Some(t));
        assert_eq!(parse_timestamp("2026-01-01T01:06:52.345"), Some(t));
        assert_eq!(parse_timestamp("2026-01-01T02:06:52.345+01:00"), Some(t));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn change_stamp_is_strictly_later() {
        let far_future = now_millis() + 10_000_000;
        assert_eq!(next_change_stamp(far_future), far_future + 1);
        assert!(next_change_stamp(0) > 0);
    }
}
