//! What the current route names: its `:id`, and page state kept in its query ([`UrlParam`]).

use crate::router::{NavigateOptions, use_location, use_navigate, use_query_map, use_route};
use leptos::prelude::*;
use vr_app::query::with_param;

/// The route's `:id` as a number (a leading `#` is allowed), or none when it is not one.
pub fn id_param() -> Memo<Option<i64>> {
    let param = use_route().param;
    Memo::new(move |_| {
        param.with(|p| {
            p.as_deref()
                .and_then(|s| s.trim_start_matches('#').parse::<i64>().ok())
        })
    })
}

/// The route's `:name` (empty when the page has none).
pub fn name_param() -> Memo<String> {
    let param = use_route().param;
    Memo::new(move |_| param.get().unwrap_or_default())
}

/// One query parameter of the current URL as page state: read it, and set it (keeping the
/// path and the other parameters), so filters and selections survive a reload and Back.
#[derive(Debug, Clone, Copy)]
pub struct UrlParam {
    /// The decoded value; `None` when absent or empty.
    pub value: Memo<Option<String>>,
    set: Callback<(Option<String>, bool)>,
}

impl UrlParam {
    /// Follows `?key=` of the current route.
    pub fn new(key: &'static str) -> Self {
        let query = use_query_map();
        let location = use_location();
        let navigate = use_navigate();
        let value = Memo::new(move |_| query.with(|q| q.get(key).filter(|v| !v.is_empty())));
        let set = Callback::new(move |(next, push): (Option<String>, bool)| {
            let pairs: Vec<(String, String)> = query.with_untracked(|q| q.pairs().to_vec());
            let path = location.pathname.get_untracked();
            let target = format!("{path}{}", with_param(&pairs, key, next.as_deref()));
            navigate(
                &target,
                NavigateOptions {
                    replace: !push,
                    scroll: false,
                },
            );
        });
        UrlParam { value, set }
    }

    /// Replaces the current history entry (typing into a filter).
    pub fn replace(self, value: Option<String>) {
        if self.value.get_untracked() != value.clone().filter(|v| !v.is_empty()) {
            self.set.run((value, false));
        }
    }

    /// Adds a history entry, so Back returns to the previous value (opening a proc).
    pub fn push(self, value: Option<String>) {
        if self.value.get_untracked() != value.clone().filter(|v| !v.is_empty()) {
            self.set.run((value, true));
        }
    }
}

/// Keeps the window's title `TEXT · vr` for as long as the calling page is shown (it follows
/// `text` when that is reactive, e.g. a page named after its object).
pub fn title(text: impl Fn() -> String + 'static) {
    follow_title(Box::new(text));
}

/// [`title`]'s effect, compiled once rather than once per page.
fn follow_title(text: Box<dyn Fn() -> String>) {
    crate::effects::effect(move || {
        let text = text();
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&format!("{text} · vr"));
        }
    });
}
