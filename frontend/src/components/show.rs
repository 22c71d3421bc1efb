//! `Show`: the children while a condition holds, else the fallback — like Leptos's own, which
//! it shadows, but not generic: Leptos's `Show<W, C>` compiles its memo, its children's
//! conversion and its either-view once per use; this one exists once in the wasm.

use leptos::prelude::*;

/// Shows `children` while `when` is true, else `fallback` (nothing by default). The condition
/// is memoised: the children are rebuilt only when it changes, not whenever what it reads does.
#[component]
pub fn Show(
    children: ChildrenFn,
    #[prop(into)] when: Signal<bool>,
    #[prop(optional, into)] fallback: ViewFn,
) -> impl IntoView {
    let on = Memo::new(move |_| when.get());
    move || {
        if on.get() { children() } else { fallback.run() }
    }
}
