//! `collect_any`: views collected as `Vec<AnyView>`; `collect_vec`: any items as a `Vec`.
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
        self.into_iter().map(IntoAny::into_any).collect_vec()
    }
}

/// `collect::<Vec<_>>()` as a plain loop: std's specialised collecting paths are a larger
/// copy of code per iterator type, and the UI collects from about a hundred kinds (−2.0 KB gz
/// measured; in `vr_app` the same change saved nothing).
pub trait CollectVec: Iterator + Sized {
    fn collect_vec(self) -> Vec<Self::Item> {
        let mut out = Vec::with_capacity(self.size_hint().0);
        for item in self {
            out.push(item);
        }
        out
    }
}

impl<I: Iterator> CollectVec for I {}
