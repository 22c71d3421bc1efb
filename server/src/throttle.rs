//! Slows down password guessing: after a few failed sign-ins for one username, further attempts
//! for it are refused for a while, doubling each time. Kept in memory: a restart forgets it,
//! which is fine for a brake that works on the scale of minutes.

use std::collections::HashMap;
use std::sync::Mutex;

const FREE_FAILURES: u32 = 5;
const FIRST_LOCK_MS: i64 = 30_000;
const MAX_LOCK_MS: i64 = 15 * 60_000;
/// A username that has not failed for this long starts from scratch.
const FORGET_AFTER_MS: i64 = 60 * 60_000;
/// Bound on remembered names, so guessing random names cannot grow memory without end.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: i64,
    locked_until: i64,
}

#[derive(Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginThrottle {
    /// `Err(ms)` while `username` is locked: how long until it may try again.
    pub fn check(&self, username: &str, now: i64) -> Result<(), i64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(username) {
            Some(e) if e.locked_until > now => Err(e.locked_until - now),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, username: &str, now: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now - e.last_failure < FORGET_AFTER_MS && e.locked_until > now);
        }
        let e = entries.entry(username.to_string()).or_insert(Entry {
            failures: 0,
            last_failure: now,
            locked_until: 0,
        });
        if now - e.last_failure > FORGET_AFTER_MS {
            e.failures = 0;
        }
        e.failures += 1;
        e.last_failure = now;
        if e.failures >= FREE_FAILURES {
            let doublings = (e.failures - FREE_FAILURES).min(10);
            e.locked_until = now + (FIRST_LOCK_MS << doublings).min(MAX_LOCK_MS);
        }
    }

    pub fn succeeded(&self, username: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_free_failures_and_doubles() {
        let t = LoginThrottle::default();
        for i in 0..4 {
            t.failed("a", i);
            assert!(t.check("a", i).is_ok());
        }
        t.failed("a", 10);
        assert_eq!(t.check("a", 10), Err(FIRST_LOCK_MS));
        assert!(t.check("b", 10).is_ok(), "other names are not affected");
        assert!(t.check("a", 10 + FIRST_LOCK_MS).is_ok());
        t.failed("a", 10 + FIRST_LOCK_MS);
        assert_eq!(t.check("a", 10 + FIRST_LOCK_MS), Err(2 * FIRST_LOCK_MS));
        t.succeeded("a");
        assert!(t.check("a", 11 + FIRST_LOCK_MS).is_ok());
    }

    #[test]
    fn lock_is_capped() {
        let t = LoginThrottle::default();
        for i in 0..40 {
            t.failed("a", i);
        }
        assert_eq!(t.check("a", 39), Err(MAX_LOCK_MS));
    }
}
