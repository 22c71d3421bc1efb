//! One async action at a time per button or form: the shared guard behind every submit.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

/// Runs `work` in the background unless the action guarded by `busy` is already running;
/// `busy` is true while it runs (buttons show it and disable themselves). A second click or
/// submit meanwhile is ignored.
pub fn spawn_busy(busy: RwSignal<bool>, work: impl Future<Output = ()> + 'static) {
    if busy.get_untracked() {
        return;
    }
    busy.set(true);
    spawn_local(async move {
        work.await;
        // The page may be gone by now.
        let _ = busy.try_set(false);
    });
}
