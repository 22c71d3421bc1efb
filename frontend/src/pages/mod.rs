//! One module per screen.

pub mod activity;
pub mod apps;
pub mod auth_frame;
pub mod buildpacks;
pub mod builds;
pub mod dashboard;
pub mod deploys;
pub mod hosts;
pub mod ingredients;
pub mod login;
pub mod not_built;
pub mod not_found;
pub mod releases;
pub mod settings;
pub mod setup;
pub mod squads;
pub mod users;

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
