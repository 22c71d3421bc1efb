//! The signed-in frame: top bar (product, live status, user, sign out), left navigation, and the
//! current page. Visitors without a session are sent to `/login` (or `/setup` on a new server).

mod not_built;
mod not_found;

pub use not_built::NotBuilt;
pub use not_found::NotFound;

use crate::components::CollectAny;
use crate::components::Show;
use crate::router::NavigateOptions;
use crate::router::{use_location, use_navigate};
use leptos::prelude::*;
use vr_app::page::link_is_current;

use crate::api;
use crate::app::CurrentPage;
use crate::busy::spawn_busy;
use crate::clock::Clock;
use crate::components::use_toasts;
use crate::fleet::FleetStore;
use crate::live::{Live, LiveIndicator};
use crate::session::{AuthState, is_return_path, use_session};

/// Navigation entries: path and label. The Users entry is added for admins only.
const NAV: [(&str, &str); 15] = [
    ("/", "Dashboard"),
    ("/swarms", "Swarms"),
    ("/apps", "Apps"),
    ("/buildpacks", "Buildpacks"),
    ("/stacks", "Stacks"),
    ("/builds", "Builds"),
    ("/releases", "Releases"),
    ("/deploy", "Deploy"),
    ("/hosts", "Hosts"),
    ("/squads", "Squads"),
    ("/balancers", "Balancers"),
    ("/orphans", "Orphans"),
    ("/ingredients", "Ingredients"),
    ("/activity", "Activity"),
    ("/settings", "Settings"),
];

/// Layout route for every signed-in page.
#[component]
pub fn Shell() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let navigate = use_navigate();

    // Send visitors without a session away; remember where they wanted to go.
    crate::effects::effect(move || {
        let replace = NavigateOptions {
            replace: true,
            ..Default::default()
        };
        match session.state() {
            AuthState::SignedOut {
                setup_needed: true, ..
            } => navigate("/setup", replace),
            AuthState::SignedOut { keep_place, .. } => {
                let path = location.pathname.get_untracked();
                let target = if keep_place && is_return_path(&path) {
                    format!("/login?next={}", api::encode(&path))
                } else {
                    "/login".to_string()
                };
                navigate(&target, replace);
            }
            AuthState::Checking | AuthState::SignedIn(_) => {}
        }
    });

    let signed_in = Memo::new(move |_| session.signed_in());
    view! {
        <Show
            when=move || signed_in.get()
            fallback=|| view! { <div class="boot" aria-busy="true">"Loading…"</div> }
        >
            <SignedInFrame />
        </Show>
    }
}

/// The frame itself; mounted only while signed in, and owns the live channel, the fleet
/// snapshot every fleet page shares, and the clock that keeps ages current.
#[component]
fn SignedInFrame() -> impl IntoView {
    Live::start();
    FleetStore::start();
    Clock::start();
    // The navigation folds away on narrow screens; the top bar's Menu button opens it, and
    // going to another page closes it.
    let nav_open = RwSignal::new(false);
    let location = use_location();
    crate::effects::on_change(
        move || location.pathname.get(),
        move || nav_open.set(false),
        false,
    );
    view! {
        <div class="app">
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <TopBar nav_open=nav_open />
            <div class="layout" class:nav-open=move || nav_open.get()>
                <Nav />
                <main class="content" id="main" tabindex="-1">
                    <CurrentPage />
                </main>
            </div>
        </div>
    }
}

#[component]
fn TopBar(nav_open: RwSignal<bool>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let logout = move |_| {
        spawn_busy(busy, async move {
            match api::logout().await {
                // The shell sees the signed-out state and shows the sign-in page.
                Ok(()) => session.sign_out(),
                Err(e) if e.is_unauthenticated() => session.sign_out(),
                // The session cookie is HttpOnly: only the server can end it, so stay signed in.
                Err(e) => toasts.error(format!("Could not sign out: {e}")),
            }
        });
    };
    view! {
        <header class="topbar">
            <div class="topbar-left">
                <button
                    type="button"
                    id="nav-toggle"
                    class="btn btn-small nav-toggle"
                    aria-controls="sidenav"
                    aria-expanded=move || if nav_open.get() { "true" } else { "false" }
                    on:click=crate::ev::click(move |_| nav_open.update(|o| *o = !*o))
                >
                    "Menu"
                </button>
                <a href="/" class="brand">
                    "vr"
                </a>
            </div>
            <div class="topbar-right">
                <LiveIndicator />
                <span id="current-user" class="current-user" title="Signed in as">
                    <span class="current-username">{move || session.username()}</span>
                    <span class="role-tag">
                        {move || session.role().map(|r| r.as_str()).unwrap_or_default()}
                    </span>
                </span>
                <button
                    id="logout"
                    type="button"
                    class="btn btn-small"
                    disabled=move || busy.get()
                    on:click=crate::ev::click(logout)
                >
                    "Sign out"
                </button>
            </div>
        </header>
    }
}

#[component]
fn Nav() -> impl IntoView {
    let session = use_session();
    let links = NAV
        .iter()
        .map(|&(href, label)| {
            view! {
                <li>
                    <NavLink href=href label=label />
                </li>
            }
        })
        .collect_any();
    view! {
        <nav class="sidenav" id="sidenav" aria-label="Main">
            <ul>
                {links}
                <Show when=move || session.is_admin()>
                    <li>
                        <NavLink href="/users" label="Users" />
                    </li>
                    <li>
                        <NavLink href="/webhooks" label="Webhooks" />
                    </li>
                </Show>
            </ul>
        </nav>
    }
}

/// A navigation entry, marked `aria-current="page"` while its area is shown.
#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    let path = use_location().pathname;
    let current = move || path.with(|p| link_is_current(href, p)).then_some("page");
    view! {
        <a href=href aria-current=current>
            {label}
        </a>
    }
}
