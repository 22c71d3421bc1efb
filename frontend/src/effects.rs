//! Effects, each made through one boxed shape so Leptos's effect machinery exists once in the
//! wasm rather than once per closure (BENCHMARKS "UI size budget").

use leptos::prelude::*;

/// Runs `f` now and again whenever a signal it read changes (Leptos's `Effect::new`), for as
/// long as the calling view lives. Boxed, so the effect's machinery exists once in the wasm
/// rather than once per effect.
pub fn effect(f: impl FnMut() + 'static) {
    effect_boxed(Box::new(f));
}

fn effect_boxed(f: Box<dyn FnMut()>) {
    Effect::new(f);
}

/// Runs `handler` each time what `deps` reads changes (and at once when `immediate`), not
/// tracking what `handler` reads: Leptos's `Effect::watch` for handlers that need no values.
/// Boxed, like [`effect`], so its machinery exists once.
pub fn on_change<T>(
    mut deps: impl FnMut() -> T + 'static,
    handler: impl FnMut() + 'static,
    immediate: bool,
) {
    on_change_boxed(
        Box::new(move || {
            deps();
        }),
        Box::new(handler),
        immediate,
    );
}

fn on_change_boxed(deps: Box<dyn FnMut()>, mut handler: Box<dyn FnMut()>, immediate: bool) {
    Effect::watch(deps, move |_, _, _| handler(), immediate);
}
