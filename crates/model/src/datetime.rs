//! ISO 8601 dates and date-times as records carry them, parsed without allocation.
//!
//! Accepted: `YYYY-MM-DD`, and `YYYY-MM-DDThh:mm[:ss[.fraction]]` followed by `Z` or `±hh:mm`.
//! A date-time without a zone is refused: border data crosses time zones.

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
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an ISO 8601 date or zoned date-time; `None` when it is not one.
pub fn parse(s: &str) -> Option<UnixSeconds> {
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
        return Some(day);
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
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let oh = digits(b, i + 1, 2)?;
            let om = digits(b, i + 4, 2)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            if sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    Some(day + i64::from(h * 3600 + mi * 60 + sec) - offset)
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
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-03-02T09:30:00",
            "2026-03-02 09:30Z",
            "02/03/2026",
            "2026-03-02T25:00Z",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}

/// Formats milliseconds since the Unix epoch as an ISO 8601 UTC date-time (`2026-03-02T09:30:00Z`).
pub fn format_unix_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
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
