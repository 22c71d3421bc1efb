//! `LogViewer`: a scrolling monospace view of log lines that can follow the tail.

use leptos::html::Pre;
use leptos::prelude::*;

/// How close to the bottom (in pixels) still counts as "at the end".
const BOTTOM_SLACK: i32 = 24;

/// Shows `lines`; while "Follow" is on it keeps the newest line in view. Scrolling up turns
/// following off, scrolling back to the end turns it on again.
#[component]
pub fn LogViewer(
    #[prop(into)] lines: Signal<Vec<String>>,
    /// Heading above the log.
    #[prop(optional)]
    title: Option<&'static str>,
    /// Text shown while there are no lines.
    #[prop(default = "No output yet.")]
    empty: &'static str,
    /// DOM id of the text container (for browser tests).
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView {
    let follow = RwSignal::new(true);
    let pre = NodeRef::<Pre>::new();

    let scroll_to_end = move || {
        if let Some(el) = pre.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };
    // After the lines change (the DOM is already updated when effects run), keep the tail in view.
    crate::effects::effect(move || {
        lines.track();
        if follow.get() {
            request_animation_frame(scroll_to_end);
        }
    });

    let on_scroll = move |_| {
        if let Some(el) = pre.get_untracked() {
            let at_end = el.scroll_height() - el.scroll_top() - el.client_height() <= BOTTOM_SLACK;
            if at_end != follow.get_untracked() {
                follow.set(at_end);
            }
        }
    };

    view! {
        <div class="log-viewer" data-test="log-viewer">
            <div class="log-toolbar">
                <span class="log-title">{title}</span>
                <span class="muted">{move || format!("{} lines", lines.read().len())}</span>
                <label class="log-follow">
                    <input
                        type="checkbox"
                        prop:checked=move || follow.get()
                        on:change=crate::ev::change(move |ev| follow.set(event_target_checked(&ev)))
                    />
                    "Follow"
                </label>
            </div>
            <pre class="log" id=id node_ref=pre on:scroll=on_scroll tabindex="0">
                {move || {
                    let text = lines.read().join("\n");
                    if text.is_empty() { empty.to_string() } else { text }
                }}
            </pre>
        </div>
    }
}
