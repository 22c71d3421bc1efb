//! What the current route names.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The route's `:id` as a number (a leading `#` is allowed), or none when it is not one.
pub fn id_param() -> Memo<Option<i64>> {
    let params = use_params_map();
    Memo::new(move |_| {
        params.with(|p| {
            p.get("id")
                .and_then(|s| s.trim_start_matches('#').parse::<i64>().ok())
        })
    })
}
