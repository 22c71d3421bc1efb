//! Background work: the one spawn every task goes through, the guard behind every submit, and
//! the one delete flow.

use leptos::prelude::*;
use std::future::Future;
use std::pin::Pin;

use crate::api::ApiError;
use crate::components::{FormErrors, Toasts};

/// Runs `work` in the background unless the action guarded by `busy` is already running;
/// `busy` is true while it runs (buttons show it and disable themselves). A second click or
/// submit meanwhile is ignored.
pub fn spawn_busy(busy: RwSignal<bool>, work: impl Future<Output = ()> + 'static) {
    guarded(busy, Box::pin(work));
}

fn guarded(busy: RwSignal<bool>, work: Pin<Box<dyn Future<Output = ()>>>) {
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

/// Runs `work` in the background. Every task of the UI starts here: boxed, so the executor's
/// spawning code exists once in the wasm rather than once per kind of task.
pub fn spawn_local(work: impl Future<Output = ()> + 'static) {
    spawn_boxed(Box::pin(work));
}

fn spawn_boxed(work: Pin<Box<dyn Future<Output = ()>>>) {
    leptos::task::spawn_local(work);
}

/// [`spawn_busy`] for a form's request: `done` gets the answer; an API error is shown in
/// `errors` (under its field, or in the form's banner).
pub fn spawn_submit<T: 'static>(
    busy: RwSignal<bool>,
    errors: FormErrors,
    request: impl Future<Output = Result<T, ApiError>> + 'static,
    done: impl FnOnce(T) + 'static,
) {
    submit_boxed(busy, errors, Box::pin(request), Box::new(done));
}

/// [`spawn_submit`] once per answer type rather than once per form.
fn submit_boxed<T: 'static>(
    busy: RwSignal<bool>,
    errors: FormErrors,
    request: Pin<Box<dyn Future<Output = Result<T, ApiError>>>>,
    done: Box<dyn FnOnce(T)>,
) {
    spawn_busy(busy, async move {
        match request.await {
            Ok(answer) => done(answer),
            Err(e) => errors.set_api(&e),
        }
    });
}

/// A deletion the user confirmed, as every page sends it: what it is, for the toasts, and
/// where the page keeps the error it shows (if it shows one).
pub struct Deletion {
    pub busy: RwSignal<bool>,
    pub toasts: Toasts,
    /// "App", "Host", … as the success toast starts.
    pub kind: &'static str,
    pub name: String,
    pub error: Option<RwSignal<Option<String>>>,
}

/// Sends `request` (unless this deletion is already running): the toast says "{kind} {name}
/// deleted." or "Could not delete {name}: why" (the error kept in `error` too); `deleted` runs
/// once the server deleted it, `settle` (closing the dialog) last either way.
pub fn spawn_delete(
    deletion: Deletion,
    request: impl Future<Output = Result<(), ApiError>> + 'static,
    deleted: impl FnOnce() + 'static,
    settle: impl FnOnce() + 'static,
) {
    run_delete(
        deletion,
        Box::pin(request),
        Box::new(deleted),
        Box::new(settle),
    );
}

fn run_delete(
    deletion: Deletion,
    request: Pin<Box<dyn Future<Output = Result<(), ApiError>>>>,
    deleted: Box<dyn FnOnce()>,
    settle: Box<dyn FnOnce()>,
) {
    let Deletion {
        busy,
        toasts,
        kind,
        name,
        error,
    } = deletion;
    if let Some(error) = error {
        error.set(None);
    }
    spawn_busy(busy, async move {
        match request.await {
            Ok(()) => {
                deleted();
                toasts.success(format!("{kind} {name} deleted."));
            }
            Err(e) => {
                toasts.error(format!("Could not delete {name}: {e}"));
                if let Some(error) = error {
                    let _ = error.try_set(Some(e.into_message()));
                }
            }
        }
        settle();
    });
}
