//! Formatting of times and other values for display.

use js_sys::Date;
use wasm_bindgen::JsValue;

/// A Unix-milliseconds time as local `YYYY-MM-DD HH:MM:SS`.
pub fn datetime(ms: i64) -> String {
    let d = Date::new(&JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

/// Like [`datetime`], or `never` when absent.
pub fn datetime_or_never(ms: Option<i64>) -> String {
    ms.map_or_else(|| "never".to_string(), datetime)
}

/// How long ago `ms` was, coarsely: `just now`, `5 min ago`, `3 h ago`, `2 d ago`.
pub fn ago(ms: i64) -> String {
    let seconds = ((Date::now() - ms as f64) / 1000.0).max(0.0) as i64;
    match seconds {
        0..=44 => "just now".to_string(),
        45..=3599 => format!("{} min ago", (seconds + 30) / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// A length of time, coarsely: `42s`, `5m`, `3h 12m`, `2d 4h`.
pub fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A size in bytes, in binary units: `512 B`, `1.5 KiB`, `12.3 MiB`, `1.0 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
