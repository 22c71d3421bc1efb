//! Client-side routing: the current location as signals, History API navigation, and
//! same-origin link clicks handled without a page load.
//!
//! The route table is `vr_app::page` (pure, tested natively); this module only connects it to
//! the browser. It replaces `leptos_router`, whose generic route tree cost about 20 KB of
//! gzipped wasm for 25 flat paths (BENCHMARKS.md).

use leptos::prelude::*;
use vr_app::page::{Page, is_ui_href, match_path};
use vr_app::query::parse_query;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// The browser's current path and query, as the UI last saw them.
#[derive(Debug, Clone, Copy)]
pub struct Location {
    /// The path, e.g. `/apps/shop`.
    pub pathname: ReadSignal<String>,
    /// The query with its `?`, or empty.
    pub search: ReadSignal<String>,
    set_pathname: WriteSignal<String>,
    set_search: WriteSignal<String>,
}

/// The page the current path names, and its parameter.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub page: Memo<Page>,
    /// The `:id` or `:name` of a record's page, decoded.
    pub param: Memo<Option<String>>,
}

/// How [`use_navigate`]'s function moves: a new history entry (or a replaced one), scrolled to
/// the top (or left where it is, for a filter change).
#[derive(Debug, Clone, Copy)]
pub struct NavigateOptions {
    pub replace: bool,
    pub scroll: bool,
}

impl Default for NavigateOptions {
    fn default() -> Self {
        NavigateOptions {
            replace: false,
            scroll: true,
        }
    }
}

/// A URL query's decoded pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

fn browser_location() -> (String, String) {
    let location = web_sys::window().map(|w| w.location());
    let read = |f: fn(&web_sys::Location) -> Result<String, wasm_bindgen::JsValue>| {
        location
            .as_ref()
            .and_then(|l| f(l).ok())
            .unwrap_or_default()
    };
    (
        read(web_sys::Location::pathname),
        read(web_sys::Location::search),
    )
}

impl Location {
    /// Takes the browser's location (after Back/Forward or a `pushState`), notifying only
    /// what changed.
    fn sync(self) {
        let (path, search) = browser_location();
        if self.search.get_untracked() != search {
            self.set_search.set(search);
        }
        if self.pathname.get_untracked() != path {
            self.set_pathname.set(path);
        }
    }

    fn navigate(self, href: &str, options: NavigateOptions) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if !is_ui_href(href) {
            let _ = window.location().set_href(href);
            return;
        }
        // Going where the page already is adds no history entry (a second click, a redirect).
        let here = format!(
            "{}{}",
            self.pathname.get_untracked(),
            self.search.get_untracked()
        );
        let replace = options.replace || href == here;
        if let Ok(history) = window.history() {
            let state = wasm_bindgen::JsValue::NULL;
            let _ = if replace {
                history.replace_state_with_url(&state, "", Some(href))
            } else {
                history.push_state_with_url(&state, "", Some(href))
            };
        }
        self.sync();
        if options.scroll {
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
    }
}

/// Starts routing for the app's lifetime: the location signals, the route memo, Back/Forward,
/// and link clicks. Call once, in the root component.
pub fn start() -> Route {
    let (path, search) = browser_location();
    let (pathname, set_pathname) = signal(path);
    let (search, set_search) = signal(search);
    let location = Location {
        pathname,
        search,
        set_pathname,
        set_search,
    };
    let matched = Memo::new(move |_| match_path(&pathname.get()));
    let route = Route {
        page: Memo::new(move |_| matched.with(|m| m.page)),
        param: Memo::new(move |_| matched.with(|m| m.param.clone())),
    };
    provide_context(location);
    provide_context(route);
    listen(location);
    route
}

/// Back/Forward, and clicks on same-origin links (the app lives as long as the page, so the
/// listeners are never removed).
fn listen(location: Location) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_pop = Closure::<dyn Fn()>::new(move || location.sync());
    let _ = window.add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
    on_pop.forget();

    let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
        if let Some(href) = followed_link(&ev) {
            ev.prevent_default();
            location.navigate(&href, NavigateOptions::default());
        }
    });
    if let Some(doc) = window.document() {
        let _ = doc.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    }
    on_click.forget();
}

/// The href of the link a plain left click follows, when the UI should handle it itself: not
/// with a modifier (new tab), not already handled, not to another window, file or site.
fn followed_link(ev: &web_sys::MouseEvent) -> Option<String> {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.meta_key()
        || ev.ctrl_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return None;
    }
    let target: web_sys::Element = ev.target()?.dyn_into().ok()?;
    let anchor = target.closest("a[href]").ok()??;
    let opens_elsewhere = anchor
        .get_attribute("target")
        .is_some_and(|t| !t.is_empty() && t != "_self");
    if opens_elsewhere
        || anchor.has_attribute("download")
        || anchor
            .get_attribute("rel")
            .is_some_and(|r| r.contains("external"))
    {
        return None;
    }
    anchor.get_attribute("href").filter(|h| is_ui_href(h))
}

/// The current location (reactive).
pub fn use_location() -> Location {
    expect_context::<Location>()
}

/// The current page and its parameter.
pub fn use_route() -> Route {
    expect_context::<Route>()
}

/// The current query's decoded pairs (reactive).
pub fn use_query_map() -> Memo<Query> {
    let search = use_location().search;
    Memo::new(move |_| Query(search.with(|s| parse_query(s))))
}

/// A function that goes to a path of the UI (`/apps?x=1`) without reloading the page.
pub fn use_navigate() -> impl Fn(&str, NavigateOptions) + Clone + 'static {
    let location = use_location();
    move |href: &str, options: NavigateOptions| location.navigate(href, options)
}
