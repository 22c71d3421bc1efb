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

type Fetch<T> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>>>;
type MergeFn<T> = Rc<dyn Fn(&mut T, &LiveMessage) -> Merge>;
/// A fetched answer, ready to take the replayed messages and become the shown data.
type Arrived = Box<dyn FnOnce(&[LiveMessage])>;
type Fetching = Pin<Box<dyn Future<Output = Result<Arrived, ApiError>>>>;

/// The typed half of a [`LiveData`]: its data, how it is fetched and how messages change it.
/// Everything else lives in the untyped [`Core`], so it is compiled once rather than once per
/// kind of data.
trait Source {
    /// Merges one live message into the shown data.
    fn merge(&self, message: &LiveMessage) -> Merge;
    /// Fetches the data afresh.
    fn fetch(&self) -> Fetching;
}

struct Typed<T: Send + Sync + 'static> {
    value: RwSignal<T>,
    fetch: Fetch<T>,
    merge: MergeFn<T>,
}

impl<T: Send + Sync + 'static> Source for Typed<T> {
    fn merge(&self, message: &LiveMessage) -> Merge {
        let mut outcome = Merge::Ignored;
        self.value.maybe_update(|v| {
            outcome = (self.merge)(v, message);
            outcome == Merge::Applied
        });
        outcome
    }

    fn fetch(&self) -> Fetching {
        let answer = (self.fetch)();
        let value = self.value;
        let merge = Rc::clone(&self.merge);
        Box::pin(async move {
            let mut fetched = answer.await?;
            Ok(Box::new(move |replay: &[LiveMessage]| {
                for message in replay {
                    merge(&mut fetched, message);
                }
                let _ = value.try_set(fetched);
            }) as Arrived)
        })
    }
}

/// The untyped state of a [`LiveData`]: loading, error, replay, and its [`Source`].
#[derive(Clone, Copy)]
struct Core {
    loaded: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    replay: StoredValue<Replay<LiveMessage>>,
    source: StoredValue<Rc<dyn Source>, LocalStorage>,
}

impl Core {
    /// Subscribes to the live channel and fetches whenever it (re)opens.
    fn start(source: Rc<dyn Source>) -> Core {
        let live = use_live();
        let core = Core {
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            replay: StoredValue::new(Replay::default()),
            source: StoredValue::new_local(source),
        };
        live.subscribe(move |message| core.apply(message));
        // A plain effect, not a watch: the channel may open before a watch's first run, and
        // that open would go unseen. `fetched_for` is the open count last fetched for.
        let fetched_for = StoredValue::new(0u32);
        crate::effects::effect(move || {
            let opens = live.opens();
            if opens > 0 && fetched_for.try_get_value() != Some(opens) {
                fetched_for.set_value(opens);
                core.reload();
            }
        });
        if let Ok(handle) = set_timeout_with_handle(
            move || {
                if core.loaded.try_get_untracked() == Some(false)
                    && core.replay.try_with_value(|r| !r.fetching()) == Some(true)
                {
                    core.reload();
                }
            },
            NO_CHANNEL_FETCH,
        ) {
            on_cleanup(move || handle.clear());
        }
        core
    }

    fn apply(&self, message: &LiveMessage) {
        let Some(source) = self.source.try_get_value() else {
            return;
        };
        match source.merge(message) {
            Merge::Applied => self.replay.update_value(|r| r.merged(message.clone())),
            Merge::Refetch => self.reload(),
            Merge::Ignored => {}
        }
    }

    fn reload(&self) {
        let core = *self;
        let Some(source) = self.source.try_get_value() else {
            return;
        };
        let Some(generation) = self.replay.try_update_value(|r| r.begin()) else {
            return;
        };
        let answer = source.fetch();
        spawn_local(async move {
            let result = answer.await;
            let Some(replay) = core
                .replay
                .try_update_value(|r| r.finish(generation))
                .flatten()
            else {
                return;
            };
            match result {
                Ok(arrived) => {
                    arrived(&replay);
                    let _ = core.loaded.try_set(true);
                    let _ = core.error.try_set(None);
                }
                Err(e) => {
                    let _ = core.error.try_set(Some(e));
                }
            }
        });
    }
}

/// Handle on one view's live data; cheap to copy.
pub struct LiveData<T: Send + Sync + 'static> {
    value: RwSignal<T>,
    core: Core,
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
        let value = RwSignal::new(initial);
        let source = Typed {
            value,
            fetch: Box::new(move || Box::pin(fetch())),
            merge: Rc::new(merge),
        };
        LiveData {
            value,
            core: Core::start(Rc::new(source)),
        }
    }

    /// Fetches again; what it answers replaces the data.
    pub fn reload(&self) {
        self.core.reload();
    }

    /// Shows `initial` as loading and fetches again (the view's filter changed).
    pub fn restart(&self, initial: T) {
        self.value.set(initial);
        self.core.loaded.set(false);
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
        self.core.loaded.get()
    }

    /// Why the last fetch failed, if it did (tracked).
    pub fn error(&self) -> Option<ApiError> {
        self.core.error.get()
    }

    /// [`LiveData::error`]'s message (tracked).
    pub fn error_text(&self) -> Option<String> {
        self.core
            .error
            .with(|e| e.as_ref().map(|e| e.message.clone()))
    }
}
