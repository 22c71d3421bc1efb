//! `LiveData<T>`: the one way a view shows server data that changes — a list (builds,
//! deploys, releases, events…), one record (a build's or deploy's page) or the fleet snapshot.
//!
//! It fetches when the live channel is open (the first open, or at once if it already is, and
//! again after every reconnect: messages may have been missed), merges each live message with
//! the view's merge function, and replays the messages merged while a fetch was in flight on its
//! answer (`vr_app::live::Replay`), so a list read a moment earlier cannot undo them. A merge may
//! ask for a refetch instead. If the channel cannot open, the data is fetched anyway after
//! [`NO_CHANNEL_FETCH`].

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::live::{Merge, Replay};

use crate::api::ApiError;
use crate::live::use_live;

/// How long a view waits for the live channel before fetching without it.
pub const NO_CHANNEL_FETCH: Duration = Duration::from_secs(3);

type Fetch<T> = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>>>;
type MergeFn<T> = Rc<dyn Fn(&mut T, &LiveMessage) -> Merge>;

/// Handle on one view's live data; cheap to copy.
pub struct LiveData<T: Send + Sync + 'static> {
    value: RwSignal<T>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    replay: StoredValue<Replay<LiveMessage>>,
    fetch: StoredValue<Fetch<T>, LocalStorage>,
    merge: StoredValue<MergeFn<T>, LocalStorage>,
}

impl<T: Send + Sync + 'static> Clone for LiveData<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for LiveData<T> {}

impl<T: Clone + Send + Sync + 'static> LiveData<T> {
    /// Starts with `initial` (shown as "loading"), fetches with `fetch` and merges live
    /// messages with `merge`, for as long as the calling component lives.
    pub fn follow<F>(
        initial: T,
        fetch: impl Fn() -> F + 'static,
        merge: impl Fn(&mut T, &LiveMessage) -> Merge + 'static,
    ) -> LiveData<T>
    where
        F: Future<Output = Result<T, ApiError>> + 'static,
    {
        let live = use_live();
        let fetch: Fetch<T> = Rc::new(move || Box::pin(fetch()));
        let data = LiveData {
            value: RwSignal::new(initial),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            replay: StoredValue::new(Replay::default()),
            fetch: StoredValue::new_local(fetch),
            merge: StoredValue::new_local(Rc::new(merge) as MergeFn<T>),
        };
        live.subscribe(move |message| data.apply(message));
        // A plain effect, not a watch: the channel may open before a watch's first run, and
        // that open would go unseen. `fetched_for` is the open count last fetched for.
        let fetched_for = StoredValue::new(0u32);
        Effect::new(move || {
            let opens = live.opens();
            if opens > 0 && fetched_for.try_get_value() != Some(opens) {
                fetched_for.set_value(opens);
                data.reload();
            }
        });
        if let Ok(handle) = set_timeout_with_handle(
            move || {
                if data.loaded.try_get_untracked() == Some(false)
                    && data.replay.try_with_value(|r| !r.fetching()) == Some(true)
                {
                    data.reload();
                }
            },
            NO_CHANNEL_FETCH,
        ) {
            on_cleanup(move || handle.clear());
        }
        data
    }

    fn apply(&self, message: &LiveMessage) {
        let Some(merge) = self.merge.try_get_value() else {
            return;
        };
        let mut outcome = Merge::Ignored;
        self.value.maybe_update(|v| {
            outcome = merge(v, message);
            outcome == Merge::Applied
        });
        match outcome {
            Merge::Applied => self.replay.update_value(|r| r.merged(message.clone())),
            Merge::Refetch => self.reload(),
            Merge::Ignored => {}
        }
    }

    /// Fetches again; what it answers replaces the data.
    pub fn reload(&self) {
        let data = *self;
        let Some(fetch) = self.fetch.try_get_value() else {
            return;
        };
        let Some(generation) = self.replay.try_update_value(|r| r.begin()) else {
            return;
        };
        let answer = fetch();
        spawn_local(async move {
            let result = answer.await;
            let Some(replay) = data
                .replay
                .try_update_value(|r| r.finish(generation))
                .flatten()
            else {
                return;
            };
            match result {
                Ok(mut value) => {
                    if let Some(merge) = data.merge.try_get_value() {
                        for message in &replay {
                            merge(&mut value, message);
                        }
                    }
                    let _ = data.value.try_set(value);
                    let _ = data.loaded.try_set(true);
                    let _ = data.error.try_set(None);
                }
                Err(e) => {
                    let _ = data.error.try_set(Some(e));
                }
            }
        });
    }

    /// Shows `initial` as loading and fetches again (the view's filter changed).
    pub fn restart(&self, initial: T) {
        self.value.set(initial);
        self.loaded.set(false);
        self.reload();
    }

    /// The data (tracked).
    pub fn get(&self) -> T {
        self.value.get()
    }

    /// Reads the data (tracked).
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.value.with(f)
    }

    /// Reads the data without tracking (event handlers).
    pub fn with_untracked<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.value.with_untracked(f)
    }

    /// Changes the data at once with the server's answer to a change made on this page.
    pub fn update(&self, f: impl FnOnce(&mut T)) {
        self.value.update(f);
    }

    /// The data's own signal, for a child that edits the record shown and writes back the
    /// server's answers (like [`LiveData::update`]).
    pub fn rw(&self) -> RwSignal<T> {
        self.value
    }

    /// The data as a signal.
    pub fn signal(&self) -> Signal<T> {
        self.value.into()
    }

    /// True once the first answer arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.loaded.get()
    }

    /// Why the last fetch failed, if it did (tracked).
    pub fn error(&self) -> Option<ApiError> {
        self.error.get()
    }

    /// [`LiveData::error`]'s message (tracked).
    pub fn error_text(&self) -> Option<String> {
        self.error.with(|e| e.as_ref().map(|e| e.message.clone()))
    }
}
