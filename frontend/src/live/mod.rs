//! The live-update channel: one `EventSource` on `/api/stream` for the whole signed-in app.
//!
//! [`Live::start`] opens it (the signed-in shell does this) and provides a [`Live`] handle as
//! context; it closes when that shell unmounts. Pages either read [`Live::last`], or register a
//! callback with [`Live::subscribe`] that sees every message, in order. When the stream errors or
//! goes quiet (no heartbeat for [`QUIET_LIMIT`]), it is closed and reopened with exponential
//! backoff; before reopening, `GET /api/auth/me` checks that the session is still valid, so an
//! expired session leads to the sign-in page instead of endless retries. [`Live::opens`] counts
//! successful (re)connections, so a page can reload what it may have missed while offline.
//! Views do not use it directly: they hold their data in a [`LiveData`].

use crate::components::CollectVec;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::api::{LiveMessage, paths};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::api;

mod data;

pub use data::LiveData;

/// First retry delay; doubles on each failure up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// The server sends a heartbeat about every 10 s; this long without any message means dead.
pub const QUIET_LIMIT: Duration = Duration::from_secs(35);
const WATCHDOG_EVERY: Duration = Duration::from_secs(5);

/// State of the channel, for the indicator in the top bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Live,
    Offline,
    /// The page is hidden (a background tab) and has let go of its stream.
    Paused,
}

/// Handle on the live channel; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    status: RwSignal<LiveStatus>,
    last: RwSignal<Option<LiveMessage>>,
    opens: RwSignal<u32>,
}

type Listener = Rc<dyn Fn(&LiveMessage)>;

struct Handlers {
    _open: Closure<dyn FnMut(web_sys::Event)>,
    _message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _error: Closure<dyn FnMut(web_sys::Event)>,
}

/// The one channel of this page. Browser objects are not `Send`, so they live here rather than in
/// reactive state.
struct Channel {
    /// Bumped on every (re)open and on stop; callbacks of an older attempt do nothing.
    attempt: u64,
    source: Option<web_sys::EventSource>,
    /// Kept until the next open or stop: a closure must not be dropped while it runs.
    handlers: Option<Handlers>,
    retry: Option<TimeoutHandle>,
    watchdog: Option<IntervalHandle>,
    backoff: Duration,
    last_seen_ms: f64,
}

thread_local! {
    static CHANNEL: RefCell<Channel> = const {
        RefCell::new(Channel {
            attempt: 0,
            source: None,
            handlers: None,
            retry: None,
            watchdog: None,
            backoff: BACKOFF_MIN,
            last_seen_ms: 0.0,
        })
    };
    static LISTENERS: RefCell<Vec<(u64, Listener)>> = const { RefCell::new(Vec::new()) };
    static NEXT_LISTENER: Cell<u64> = const { Cell::new(1) };
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn is_current(attempt: u64) -> bool {
    CHANNEL.with(|c| c.borrow().attempt == attempt)
}

impl Live {
    /// Opens the channel, provides the handle as context, and closes it when the current owner
    /// (the signed-in shell) is cleaned up.
    pub fn start() -> Live {
        let live = Live {
            status: RwSignal::new(LiveStatus::Connecting),
            last: RwSignal::new(None),
            opens: RwSignal::new(0),
        };
        provide_context(live);
        stop();
        let watchdog = set_interval_with_handle(move || watchdog_tick(live), WATCHDOG_EVERY).ok();
        CHANNEL.with(|c| c.borrow_mut().watchdog = watchdog);
        if page_hidden() {
            pause(live);
        } else {
            open(live);
        }
        // A hidden page (a background tab) lets go of its stream too, and reconnects when shown,
        // its views refetching what they missed: the six connections are shared by all tabs.
        let on_visibility = Closure::<dyn FnMut()>::new(move || {
            let paused = live.status.try_get_untracked() == Some(LiveStatus::Paused);
            if page_hidden() {
                pause(live);
            } else if paused {
                open(live);
            }
        });
        let doc = web_sys::window().and_then(|w| w.document());
        if let Some(doc) = &doc {
            let _ = doc.add_event_listener_with_callback(
                "visibilitychange",
                on_visibility.as_ref().unchecked_ref(),
            );
        }
        let on_visibility = StoredValue::new_local(Some(on_visibility));
        // A page being left (or frozen in the back/forward cache) lets go of its stream: a
        // browser gives each server only six HTTP/1.1 connections, and streams held by pages
        // left behind would use them up. A page shown again reconnects through the retry.
        let hide = window_event_listener(leptos::ev::pagehide, move |_| {
            let attempt = CHANNEL.with(|c| c.borrow().attempt);
            fail(live, attempt);
        });
        on_cleanup(move || {
            hide.remove();
            if let (Some(doc), Some(Some(listener))) =
                (&doc, on_visibility.try_update_value(Option::take))
            {
                let _ = doc.remove_event_listener_with_callback(
                    "visibilitychange",
                    listener.as_ref().unchecked_ref(),
                );
            }
            stop();
        });
        live
    }

    /// Connection state (tracked).
    pub fn status(&self) -> LiveStatus {
        self.status.get()
    }

    /// The latest message other than a heartbeat (tracked).
    pub fn last(&self) -> ReadSignal<Option<LiveMessage>> {
        self.last.read_only()
    }

    /// How many times the channel has opened (tracked): a change after the first means the page
    /// may have missed messages while offline.
    pub fn opens(&self) -> u32 {
        self.opens.get()
    }

    /// [`Live::opens`] without tracking.
    pub fn opens_untracked(&self) -> u32 {
        self.opens.get_untracked()
    }

    /// Calls `listener` with every message (heartbeats included) until the current owner is
    /// cleaned up, i.e. for as long as the calling component is mounted.
    pub fn subscribe(&self, listener: impl Fn(&LiveMessage) + 'static) {
        let id = NEXT_LISTENER.with(|n| {
            let id = n.get();
            n.set(id + 1);
            id
        });
        LISTENERS.with(|l| l.borrow_mut().push((id, Rc::new(listener))));
        on_cleanup(move || LISTENERS.with(|l| l.borrow_mut().retain(|(i, _)| *i != id)));
    }
}

/// The live channel of the signed-in shell.
pub fn use_live() -> Live {
    expect_context::<Live>()
}

fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// Closes the stream of a hidden page and cancels a pending retry; [`open`] resumes.
fn pause(live: Live) {
    let retry = CHANNEL.with(|c| {
        let mut c = c.borrow_mut();
        // Callbacks of the stream being closed are ignored from now on.
        c.attempt += 1;
        if let Some(source) = c.source.take() {
            source.close();
        }
        c.backoff = BACKOFF_MIN;
        c.retry.take()
    });
    if let Some(r) = retry {
        r.clear();
    }
    let _ = live.status.try_set(LiveStatus::Paused);
}

/// Closes the channel and cancels every timer.
fn stop() {
    let (retry, watchdog) = CHANNEL.with(|c| {
        let mut c = c.borrow_mut();
        c.attempt += 1;
        if let Some(source) = c.source.take() {
            source.close();
        }
        c.handlers = None;
        c.backoff = BACKOFF_MIN;
        (c.retry.take(), c.watchdog.take())
    });
    if let Some(r) = retry {
        r.clear();
    }
    if let Some(w) = watchdog {
        w.clear();
    }
}

fn open(live: Live) {
    let attempt = CHANNEL.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(source) = c.source.take() {
            source.close();
        }
        c.handlers = None;
        c.attempt += 1;
        c.attempt
    });
    let _ = live.status.try_set(LiveStatus::Connecting);
    let Ok(source) = web_sys::EventSource::new(paths::STREAM) else {
        fail(live, attempt);
        return;
    };

    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if !is_current(attempt) {
            return;
        }
        CHANNEL.with(|c| {
            let mut c = c.borrow_mut();
            c.backoff = BACKOFF_MIN;
            c.last_seen_ms = now_ms();
        });
        let _ = live.status.try_set(LiveStatus::Live);
        let _ = live.opens.try_update(|n| *n += 1);
    });
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if !is_current(attempt) {
                return;
            }
            CHANNEL.with(|c| c.borrow_mut().last_seen_ms = now_ms());
            let Some(text) = ev.data().as_string() else {
                return;
            };
            match LiveMessage::from_json(&text) {
                Ok(message) => deliver(live, &message),
                // A message kind added by a newer server: ignore it rather than break the page.
                Err(e) => leptos::logging::warn!("vr: ignoring live message ({e}): {text}"),
            }
        });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
        if is_current(attempt) {
            fail(live, attempt);
        }
    });
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    CHANNEL.with(|c| {
        let mut c = c.borrow_mut();
        c.source = Some(source);
        c.handlers = Some(Handlers {
            _open: on_open,
            _message: on_message,
            _error: on_error,
        });
    });
}

/// Closes the stream and schedules a retry after the current backoff.
fn fail(live: Live, attempt: u64) {
    let delay = CHANNEL.with(|c| {
        let mut c = c.borrow_mut();
        // Close, but keep the handlers: this may run inside one of them.
        if let Some(source) = c.source.take() {
            source.close();
        }
        let delay = c.backoff;
        c.backoff = (delay * 2).min(BACKOFF_MAX);
        delay
    });
    let _ = live.status.try_set(LiveStatus::Offline);
    let handle = set_timeout_with_handle(move || retry(live, attempt), delay).ok();
    CHANNEL.with(|c| {
        if let Some(old) = std::mem::replace(&mut c.borrow_mut().retry, handle) {
            old.clear();
        }
    });
}

/// Checks the session, then reopens; a 401 lets the session hook sign the user out instead.
fn retry(live: Live, attempt: u64) {
    if !is_current(attempt) {
        return;
    }
    let _ = live.status.try_set(LiveStatus::Connecting);
    spawn_local(async move {
        match api::me().await {
            Ok(_) if is_current(attempt) => open(live),
            Ok(_) => {}
            Err(e) if e.is_unauthenticated() => {}
            Err(_) if is_current(attempt) => fail(live, attempt),
            Err(_) => {}
        }
    });
}

/// Treats a channel that has been quiet for too long as dead.
fn watchdog_tick(live: Live) {
    if live.status.try_get_untracked() != Some(LiveStatus::Live) {
        return;
    }
    let (attempt, quiet_ms) = CHANNEL.with(|c| {
        let c = c.borrow();
        (c.attempt, now_ms() - c.last_seen_ms)
    });
    if quiet_ms > QUIET_LIMIT.as_millis() as f64 {
        fail(live, attempt);
    }
}

fn deliver(live: Live, message: &LiveMessage) {
    if !matches!(message, LiveMessage::Heartbeat { .. }) {
        let _ = live.last.try_set(Some(message.clone()));
    }
    // Copy the list first: a listener may subscribe or unsubscribe while it runs.
    let listeners: Vec<Listener> =
        LISTENERS.with(|l| l.borrow().iter().map(|(_, f)| Rc::clone(f)).collect_vec());
    for listener in listeners {
        listener(message);
    }
}

/// The green "live" / grey "offline" dot in the top bar.
#[component]
pub fn LiveIndicator() -> impl IntoView {
    let live = use_live();
    let state = move || match live.status() {
        LiveStatus::Live => ("live-status is-live", "live", "Live updates are on"),
        LiveStatus::Connecting => (
            "live-status is-connecting",
            "connecting",
            "Connecting to the live update stream",
        ),
        LiveStatus::Offline => (
            "live-status is-offline",
            "offline",
            "Live updates are off; retrying",
        ),
        LiveStatus::Paused => (
            "live-status is-offline",
            "paused",
            "Live updates pause while this tab is hidden",
        ),
    };
    view! {
        <span id="live-status" class=move || state().0 title=move || state().2 role="status">
            <span class="live-dot" aria-hidden="true"></span>
            <span class="live-text">{move || state().1}</span>
        </span>
    }
}
