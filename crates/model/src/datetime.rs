//! Dates and date-times as records carry them (ISO 8601), and the WCO DM `DateTimeString` forms
//! (UN/EDIFACT 2379 format codes) they are normalised from.
//!
//! Records carry ISO 8601: `YYYY-MM-DD`, or `YYYY-MM-DDThh:mm[:ss[.fraction]]` followed by `Z`
//! or `±hh:mm`. A date-time without a zone is a *local* time: [`parse`] refuses it (border data
//! crosses time zones, so an instant needs its zone), [`parse_local`] reads it, and the
//! validator accepts it with the warning `datetime.local_time`, because WCO DM format codes 203
//! and 204 carry no zone. Nothing here allocates but the normalised string.

/// Seconds since 1970-01-01T00:00:00Z (a date alone means its midnight UTC).
pub type UnixSeconds = i64;

fn digits(b: &[u8], from: usize, n: usize) -> Option<u32> {
    let s = b.get(from..from + n)?;
    s.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil_date(y, i64::from(m), i64::from(d))
}

/// Days since 1970-01-01 of the civil date `y`-`m`-`d` (proleptic Gregorian; `m` 1–12).
pub fn days_from_civil_date(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month 1–12, day) of a day counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Parses an ISO 8601 date or zoned date-time; `None` when it is not one.
pub fn parse(s: &str) -> Option<UnixSeconds> {
    match parse_local(s)? {
        (t, Zone::Given | Zone::DateOnly) => Some(t),
        (_, Zone::Local) => None,
    }
}

/// Whether a parsed date-time said where it was (see [`parse_local`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A date alone (its midnight UTC).
    DateOnly,
    /// A date-time with `Z` or an offset.
    Given,
    /// A date-time without zone: a local time, read as if it were UTC.
    Local,
}

/// Parses an ISO 8601 date or date-time, zoned or local; a local time is read as if it were UTC
/// and says so, so that two local times can still be put in order.
pub fn parse_local(s: &str) -> Option<(UnixSeconds, Zone)> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = i64::from(digits(b, 0, 4)?);
    let mo = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let day = days_from_civil(y, mo, d) * 86_400;
    if b.len() == 10 {
        return Some((day, Zone::DateOnly));
    }
    if !matches!(b[10], b'T' | b't') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let h = digits(b, 11, 2)?;
    let mi = digits(b, 14, 2)?;
    let mut i = 16;
    let mut sec = 0;
    if b.get(i) == Some(&b':') {
        sec = digits(b, i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let (offset, zone) = match b.get(i) {
        None => (0, Zone::Local),
        Some(b'Z' | b'z') if b.len() == i + 1 => (0, Zone::Given),
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let oh = digits(b, i + 1, 2)?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            (if sign == b'+' { o } else { -o }, Zone::Given)
        }
        _ => return None,
    };
    Some((day + i64::from(h * 3600 + mi * 60 + sec) - offset, zone))
}

/// The UN/EDIFACT 2379 date/time format codes that WCO DM `DateTimeString` elements use.
///
/// `(code, pattern, what)`: `C` century, `Y` year, `M` month, `D` day, `H` hour, `M` minute,
/// `S` second, `Z` a time zone (`Z`, `UTC`, `+hh`, `+hhmm` or `+hh:mm`).
pub const EDIFACT_2379_CODES: [(&str, &str, &str); 6] = [
    ("102", "CCYYMMDD", "calendar date"),
    ("203", "CCYYMMDDHHMM", "date and time to the minute, local time"),
    ("204", "CCYYMMDDHHMMSS", "date and time to the second, local time"),
    ("205", "CCYYMMDDHHMMZHHMM", "date and time to the minute with the offset from UTC"),
    ("303", "CCYYMMDDHHMMZZZ", "date and time to the minute with time zone"),
    ("304", "CCYYMMDDHHMMSSZZZ", "date and time to the second with time zone"),
];

/// Why a `DateTimeString` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateTimeStringError {
    /// The format code is not one of [`EDIFACT_2379_CODES`].
    UnknownCode(String),
    /// The string does not have the form its format code says (the pattern expected).
    Mismatch(&'static str),
}

/// Reads a WCO DM `DateTimeString` with its UN/EDIFACT 2379 `formatCode` and gives the same
/// instant in ISO 8601 (`2025-07-31`, `2025-07-31T11:22:00+01:00`, or a local
/// `2025-07-31T11:22:00` for codes 203 and 204). Without a format code, the code is inferred
/// from the length (8, 12 or 14 digits, then a zone), and an ISO 8601 string is taken as it is.
pub fn from_date_time_string(value: &str, format_code: Option<&str>) -> Result<String, DateTimeStringError> {
    let v = value.trim();
    let code = match format_code.map(str::trim) {
        Some(c) => c,
        None if parse_local(v).is_some() => return Ok(v.to_owned()),
        None => infer_code(v),
    };
    let Some(&(code, pattern, _)) = EDIFACT_2379_CODES.iter().find(|(c, _, _)| *c == code) else {
        return Err(DateTimeStringError::UnknownCode(code.to_owned()));
    };
    let mismatch = DateTimeStringError::Mismatch(pattern);
    let b = v.as_bytes();
    let digits_len = match code {
        "102" => 8,
        "203" | "205" | "303" => 12,
        _ => 14,
    };
    if b.len() < digits_len || !b[..digits_len].iter().all(u8::is_ascii_digit) {
        return Err(mismatch);
    }
    let rest = &v[digits_len..];
    let zone = match code {
        "102" | "203" | "204" if rest.is_empty() => String::new(),
        "205" => match rest.as_bytes() {
            [s @ (b'+' | b'-'), h1, h2, m1, m2] if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) => {
                format!("{}{}{}:{}{}", *s as char, *h1 as char, *h2 as char, *m1 as char, *m2 as char)
            }
            _ => return Err(mismatch),
        },
        "303" | "304" => edifact_zone(rest).ok_or(mismatch.clone())?,
        _ => return Err(mismatch),
    };
    let iso = match code {
        "102" => format!("{}-{}-{}", &v[0..4], &v[4..6], &v[6..8]),
        "203" | "205" | "303" => {
            format!("{}-{}-{}T{}:{}:00{zone}", &v[0..4], &v[4..6], &v[6..8], &v[8..10], &v[10..12])
        }
        _ => format!("{}-{}-{}T{}:{}:{}{zone}", &v[0..4], &v[4..6], &v[6..8], &v[8..10], &v[10..12], &v[12..14]),
    };
    // The digits must also make a real date and time (no 31 February, no hour 25).
    if parse_local(&iso).is_none() {
        return Err(mismatch);
    }
    Ok(iso)
}

/// The format code a `DateTimeString` without `formatCode` has, by its shape.
fn infer_code(v: &str) -> &'static str {
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    match (digits, v.len()) {
        (8, 8) => "102",
        (12, 12) => "203",
        (14, 14) => "204",
        (12, _) => "303",
        _ => "304",
    }
}

/// An EDIFACT time zone (`Z`, `UTC`, `GMT`, `+hh`, `+hhmm`, `+hh:mm`) as ISO 8601 (`Z`, `+hh:mm`).
fn edifact_zone(z: &str) -> Option<String> {
    let b = z.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    match b {
        b"Z" | b"z" | b"UTC" | b"GMT" => Some("Z".to_owned()),
        [s @ (b'+' | b'-'), ..] if d(1) && d(2) => {
            let (hh, mm) = match b.len() {
                3 => (&z[1..3], "00"),
                5 if d(3) && d(4) => (&z[1..3], &z[3..5]),
                6 if b[3] == b':' && d(4) && d(5) => (&z[1..3], &z[4..6]),
                _ => return None,
            };
            Some(format!("{}{hh}:{mm}", *s as char))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_zones() {
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse("2026-03-02T09:30:00Z"), Some(1_772_443_800));
        assert_eq!(parse("2024-02-29"), Some(days_from_civil(2024, 2, 29) * 86_400));
        assert_eq!(parse("2026-03-02T09:30:00.125Z"), parse("2026-03-02T09:30:00Z"));
        for bad in ["2023-02-29", "2026-13-01", "2026-03-02 09:30Z", "02/03/2026", "2026-03-02T25:00Z", ""] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse("2026-03-02T09:30:00"), None, "a local time is no instant");
        assert_eq!(parse_local("2026-03-02T09:30:00"), Some((1_772_443_800, Zone::Local)));
    }

    #[test]
    fn every_wco_format_code_reads() {
        let ok = |v: &str, c: &str| from_date_time_string(v, Some(c)).unwrap_or_else(|e| panic!("{v} {c}: {e:?}"));
        assert_eq!(ok("20250731", "102"), "2025-07-31");
        assert_eq!(ok("202507311122", "203"), "2025-07-31T11:22:00");
        assert_eq!(ok("20250731112200", "204"), "2025-07-31T11:22:00");
        assert_eq!(ok("202507311122+0100", "205"), "2025-07-31T11:22:00+01:00");
        assert_eq!(ok("202507311122UTC", "303"), "2025-07-31T11:22:00Z");
        assert_eq!(ok("20250731112200+01", "304"), "2025-07-31T11:22:00+01:00");
        assert_eq!(ok("20250731112200Z", "304"), "2025-07-31T11:22:00Z");
        assert_eq!(ok("20250731112200-0530", "304"), "2025-07-31T11:22:00-05:30");
        assert_eq!(ok("20250731112200+01:00", "304"), "2025-07-31T11:22:00+01:00");
        assert_eq!(parse(&ok("20250731112200+01", "304")), parse("2025-07-31T10:22:00Z"));
    }

    #[test]
    fn format_codes_are_inferred_when_missing() {
        assert_eq!(from_date_time_string("20250731", None).as_deref(), Ok("2025-07-31"));
        assert_eq!(from_date_time_string("20250731112200Z", None).as_deref(), Ok("2025-07-31T11:22:00Z"));
        assert_eq!(from_date_time_string("2025-07-31T11:22:00Z", None).as_deref(), Ok("2025-07-31T11:22:00Z"));
    }

    #[test]
    fn wrong_strings_and_codes_are_named() {
        use DateTimeStringError::*;
        assert_eq!(from_date_time_string("20250731112200+01", Some("102")), Err(Mismatch("CCYYMMDD")));
        assert_eq!(from_date_time_string("20250731", Some("304")), Err(Mismatch("CCYYMMDDHHMMSSZZZ")));
        assert_eq!(from_date_time_string("20250231", Some("102")), Err(Mismatch("CCYYMMDD")));
        assert_eq!(from_date_time_string("20250731112200", Some("304")), Err(Mismatch("CCYYMMDDHHMMSSZZZ")));
        assert_eq!(from_date_time_string("20250731", Some("999")), Err(UnknownCode("999".into())));
        assert_eq!(from_date_time_string("20250731", Some("")), Err(UnknownCode(String::new())));
        assert_eq!(from_date_time_string("2025073é", Some("102")), Err(Mismatch("CCYYMMDD")));
    }
}

/// Formats milliseconds since the Unix epoch as an ISO 8601 UTC date-time (`2026-03-02T09:30:00Z`).
pub fn format_unix_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn formatting_round_trips_with_parsing() {
        for ms in [0i64, 1_772_443_800_000, 951_782_400_000, 4_102_444_799_000] {
            let s = format_unix_ms(ms);
            assert_eq!(parse(&s), Some(ms / 1000), "{s}");
        }
        assert_eq!(format_unix_ms(1_772_443_800_000), "2026-03-02T09:30:00Z");
    }
}
