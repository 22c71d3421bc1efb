//! `collect_any`: views collected as `Vec<AnyView>`.
//!
//! Leptos's `collect_view` makes a `Vec<V>` per view type `V`, and each compiles its own list
//! rendering (build, and rebuild that grows, shrinks and updates the list). Collected as
//! `AnyView`s, the list code exists once; each item type keeps only its own small adapter.

use leptos::prelude::*;

pub trait CollectAny {
    fn collect_any(self) -> Vec<AnyView>;
}

impl<It, V> CollectAny for It
where
    It: IntoIterator<Item = V>,
    V: IntoAny,
{
    fn collect_any(self) -> Vec<AnyView> {
        self.into_iter().map(IntoAny::into_any).collect()
    }
}
