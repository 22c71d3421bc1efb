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
    /// Starts a sign-in attempt for `username`: `Err(ms)` while it is locked (how long until it
    /// may try again). Otherwise the attempt counts as a failure until [`Self::succeeded`] says
    /// it was not, so parallel guesses are counted before any of them finishes.
    pub fn attempt(&self, username: &str, now: i64) -> Result<(), i64> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = entries.get(username)
            && e.locked_until > now
        {
            return Err(e.locked_until - now);
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now - e.last_failure < FORGET_AFTER_MS || e.locked_until > now);
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
        Ok(())
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
        for i in 0..5 {
            assert!(t.attempt("a", i).is_ok(), "attempt {i} is free");
        }
        assert_eq!(t.attempt("a", 10), Err(FIRST_LOCK_MS - 6));
        assert!(t.attempt("b", 10).is_ok(), "other names are not affected");
        let later = 4 + FIRST_LOCK_MS;
        assert!(t.attempt("a", later).is_ok());
        assert_eq!(t.attempt("a", later), Err(2 * FIRST_LOCK_MS));
        t.succeeded("a");
        assert!(t.attempt("a", later + 1).is_ok());
    }

    #[test]
    fn parallel_attempts_count_before_they_finish() {
        let t = LoginThrottle::default();
        // Five guesses in flight at once, none finished yet: the sixth is refused.
        for _ in 0..5 {
            assert!(t.attempt("a", 0).is_ok());
        }
        assert!(t.attempt("a", 0).is_err());
    }

    #[test]
    fn lock_is_capped() {
        let t = LoginThrottle::default();
        let mut now = 0;
        for _ in 0..40 {
            if let Err(wait) = t.attempt("a", now) {
                now += wait;
            }
        }
        assert_eq!(t.attempt("a", now), Ok(()));
        assert_eq!(t.attempt("a", now), Err(MAX_LOCK_MS));
    }
}
