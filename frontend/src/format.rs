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
