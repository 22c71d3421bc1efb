//! One async action at a time per button or form: the shared guard behind every submit.

use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

use crate::api::ApiError;
use crate::components::FormErrors;

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

/// [`spawn_busy`] for a form's request: `done` gets the answer; an API error is shown in
/// `errors` (under its field, or in the form's banner).
pub fn spawn_submit<T: 'static>(
    busy: RwSignal<bool>,
    errors: FormErrors,
    request: impl Future<Output = Result<T, ApiError>> + 'static,
    done: impl FnOnce(T) + 'static,
) {
    spawn_busy(busy, async move {
        match request.await {
            Ok(answer) => done(answer),
            Err(e) => errors.set_api(&e),
        }
    });
}
