//! `Age`: how long ago a moment was ("5m ago"), kept current by the shared clock, with the exact
//! UTC time as its tooltip — the one way tables show a time.

use leptos::prelude::*;
use vr_app::time::{format_age, format_utc};

use crate::clock::use_clock;

#[component]
pub fn Age(
    /// Unix milliseconds.
    at: i64,
    /// Tooltip; the UTC time when not given.
    #[prop(optional, into)]
    title: Option<String>,
) -> impl IntoView {
    let clock = use_clock();
    view! {
        <span title=title.unwrap_or_else(|| format_utc(at))>
            {move || format_age(clock.now(), at)}
        </span>
    }
}
