//! Stable sorting through one shared, non-generic index sort.
//!
//! The standard library's sort is copied (several KB of wasm) for every element type and
//! comparator it is used with, and the UI sorts a dozen kinds of rows. Sorting positions with a
//! `dyn` comparator keeps a single copy; moving the elements into place is small per type.

use std::cmp::Ordering;

/// The positions `0..len` in the stable order `cmp` gives them.
fn sorted_positions(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..len).collect();
    positions.sort_by(|a, b| cmp(*a, *b));
    positions
}

/// Sorts `items` by `cmp`, keeping the order of equal items (like `slice::sort_by`).
pub fn sort_by<T>(items: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let positions = sorted_positions(items.len(), &|a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(positions.into_iter().filter_map(|p| slots[p].take()));
}

/// Sorts `items` by the key `key` gives each, keeping the order of equal keys.
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `items` in their natural order.
pub fn sort<T: Ord>(items: &mut Vec<T>) {
    sort_by(items, T::cmp);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_like_the_standard_stable_sort(pairs in proptest::collection::vec((0u8..5, 0u16..1000), 0..60)) {
            let mut ours = pairs.clone();
            sort_by_key(&mut ours, |p| p.0);
            let mut std_sorted = pairs;
            std_sorted.sort_by_key(|p| p.0);
            prop_assert_eq!(ours, std_sorted);
        }
    }

    #[test]
    fn natural_order_and_reversed_comparator() {
        let mut words = vec!["pear".to_string(), "apple".into(), "fig".into()];
        sort(&mut words);
        assert_eq!(words, ["apple", "fig", "pear"]);
        sort_by(&mut words, |a, b| b.cmp(a));
        assert_eq!(words, ["pear", "fig", "apple"]);
    }
}
