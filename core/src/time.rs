//! RFC 3339 / ISO 8601 timestamps without a date crate: the platform only
//! needs UTC instants in milliseconds since the Unix epoch.

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)` (also with a
/// space for `T`) into milliseconds since the epoch. A date alone means
/// midnight UTC; a date-time without an offset is taken as UTC.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 10 || !s.is_ascii() {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = num(&date[0..4])? as i64;
    let mo = num(&date[5..7])?;
    let d = num(&date[8..10])?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    if rest.is_empty() {
        return Some(ms);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    // Split the offset off the time.
    let (time, offset_ms) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0i64)
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (t, off) = rest.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (oh, om) = match off.len() {
            5 if off.as_bytes()[2] == b':' => (num(&off[0..2])?, num(&off[3..5])?),
            4 => (num(&off[0..2])?, num(&off[2..4])?),
            2 => (num(off)?, 0),
            _ => return None,
        };
        if oh > 23 || om > 59 {
            return None;
        }
        (t, sign * (oh as i64 * 3_600_000 + om as i64 * 60_000))
    } else {
        (rest, 0)
    };
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (time, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let (h, mi, sec) = match parts.as_slice() {
        [h, m] => (num(h)?, num(m)?, 0),
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        _ => return None,
    };
    if parts.iter().any(|p| p.len() != 2) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let frac_ms = match frac {
        Some(f) => {
            num(f)?;
            let mut digits: String = f.chars().take(3).collect();
            while digits.len() < 3 {
                digits.push('0');
            }
            num(&digits)? as i64
        }
        None => 0,
    };
    ms += h as i64 * 3_600_000 + mi as i64 * 60_000 + sec as i64 * 1000 + frac_ms;
    Some(ms - offset_ms)
}

/// `2025-01-01T10:30:00Z` (milliseconds only when non-zero).
pub fn format_rfc3339(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
    }
}

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2025-01-01T10:30:00Z",
            "2025-12-31T23:59:59Z",
            "2024-02-29T12:00:00.123Z",
            "2100-03-01T00:00:00Z",
        ] {
            assert_eq!(format_rfc3339(parse_rfc3339(s).unwrap()), s);
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2025-01-01T10:30:00Z"),
            Some(1_735_727_400_000)
        );
        assert_eq!(
            parse_rfc3339("2025-01-01T12:30:00+02:00"),
            parse_rfc3339("2025-01-01T10:30:00Z")
        );
        assert_eq!(
            parse_rfc3339("2025-01-01"),
            parse_rfc3339("2025-01-01T00:00:00Z")
        );
        assert_eq!(
            parse_rfc3339("2025-01-01T10:30"),
            parse_rfc3339("2025-01-01T10:30:00Z")
        );
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1000));
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "tomorrow",
            "2025-13-01",
            "2025-02-30T00:00:00Z",
            "2023-02-29",
            "2025-01-01T25:00:00Z",
            "2025-01-01T10:30:00+25:00",
            "2025-01-01X10:30:00Z",
            "2025-1-01",
            "2025-01-01T10:3:00Z",
            "２０２５-01-01",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }
}
