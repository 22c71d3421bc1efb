//! Counted slots per key — connections per client address, live streams per user. A slot is
//! given back when its guard drops, however its holder ends (an error, a dropped connection).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

pub struct Slots<K: Eq + Hash + Clone> {
    held: Mutex<HashMap<K, usize>>,
    max: usize,
}

/// One slot of `key`, held until dropped.
pub struct Slot<K: Eq + Hash + Clone> {
    slots: Arc<Slots<K>>,
    key: K,
}

impl<K: Eq + Hash + Clone> Slots<K> {
    /// At most `max` slots per key.
    pub fn new(max: usize) -> Arc<Slots<K>> {
        Arc::new(Slots {
            held: Mutex::default(),
            max,
        })
    }

    /// A slot for `key`, unless it holds `max` already.
    pub fn take(self: &Arc<Self>, key: K) -> Option<Slot<K>> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let n = held.entry(key.clone()).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            slots: Arc::clone(self),
            key,
        })
    }

    /// Slots held, over all keys.
    pub fn total(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }

    /// Keys holding at least one slot.
    pub fn holders(&self) -> usize {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl<K: Eq + Hash + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_holds_a_bounded_number_of_slots() {
        let slots = Slots::new(3);
        let held: Vec<Slot<&str>> = (0..3).map(|_| slots.take("a").expect("slot")).collect();
        assert!(slots.take("a").is_none(), "over the limit");
        assert!(slots.take("b").is_some(), "another key is not affected");
        drop(held);
        assert!(slots.take("a").is_some(), "slots come back");
        assert_eq!(slots.holders(), 0, "nothing is left behind");
    }
}
