//! Formatting of Unix-millisecond timestamps without a date library (pure arithmetic).

/// `YYYY-MM-DD HH:MM:SSZ` in UTC.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// "5s ago", "3m ago", "2h ago", "4d ago" — for ages in tables.
pub fn format_age(now_ms: i64, then_ms: i64) -> String {
    let s = (now_ms - then_ms).max(0) / 1000;
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// A length of time that is still growing, coarsely (it is redrawn every second): `42s`,
/// `5m`, `3h 12m`, `2d 4h`.
pub fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// How long something that has ended took, never rounded down to a whole unit: `850 ms`,
/// `1.96 s`, `42.3 s`, `1m 12s`, `2h 5m`.
pub fn took(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..=999 => format!("{ms} ms"),
        1000..=9_999 => format!("{}.{:02} s", ms / 1000, (ms % 1000) / 10),
        10_000..=59_999 => format!("{}.{} s", ms / 1000, (ms % 1000) / 100),
        60_000..=3_599_999 => format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000),
        _ => format!("{}h {}m", ms / 3_600_000, (ms % 3_600_000) / 60_000),
    }
}

/// From `start` to `end` when it ended ([`took`]), or to `now` while it runs ([`span`]).
pub fn run_length(start: i64, end: Option<i64>, now: i64) -> String {
    match end {
        Some(end) => took(end - start),
        None => span(now - start),
    }
}

/// A size in bytes, in binary units with one decimal (integer arithmetic, so the WASM UI
/// carries no float formatting): `512 B`, `1.5 KiB`, `12.3 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut unit = 1;
    let mut scale: u128 = 1024;
    while unit + 1 < UNITS.len() && u128::from(n) >= scale * 1024 {
        scale *= 1024;
        unit += 1;
    }
    // Tenths, rounded half up.
    let tenths = (u128::from(n) * 10 + scale / 2) / scale;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_not_rounded_down() {
        assert_eq!(took(0), "0 ms");
        assert_eq!(took(850), "850 ms");
        assert_eq!(took(1_960), "1.96 s");
        assert_eq!(took(1_005), "1.00 s");
        assert_eq!(took(42_370), "42.3 s");
        assert_eq!(took(72_000), "1m 12s");
        assert_eq!(took(7_500_000), "2h 5m");
        assert_eq!(took(-5), "0 ms");
        assert_eq!(span(59_999), "59s");
        assert_eq!(span(125_000), "2m 5s");
        assert_eq!(run_length(1_000, Some(2_960), 99_000), "1.96 s");
        assert_eq!(run_length(1_000, None, 13_500), "12s");
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(1024 * 1024 - 1), "1024.0 KiB");
        assert_eq!(bytes(12_900_000), "12.3 MiB");
        assert_eq!(bytes(1 << 30), "1.0 GiB");
        assert_eq!(bytes(u64::MAX), "16777216.0 TiB");
    }

    #[test]
    fn known_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00Z");
        assert_eq!(format_utc(1_795_557_571_000), "2026-11-24 21:59:31Z");
        assert_eq!(format_utc(-1000), "1969-12-31 23:59:59Z");
    }

    #[test]
    fn ages() {
        assert_eq!(format_age(10_000, 5_000), "5s ago");
        assert_eq!(format_age(7_200_000, 0), "2h ago");
        assert_eq!(format_age(0, 10), "0s ago");
    }
}
