//! Slows down password guessing without letting anyone lock a user out. Failures are counted
//! per (username, client address): after a few, that pair must wait, doubling each time, while
//! the same user signing in from another address is not slowed at all. Failures are also
//! counted per address across all usernames, so one address cannot spray guesses over many
//! names, and per username across all addresses, which only slows each attempt a little (never
//! refuses it): guessing from many addresses stays slow, the user still gets in. IPv6 clients
//! count by their /64, which one machine can fill with addresses. Kept in memory: a restart
//! forgets it, which is fine for a brake that works on the scale of minutes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Failures of one (username, address) pair before it must wait.
const FREE_FAILURES: u32 = 5;
/// Failures from one address, over all usernames, before it must wait.
const FREE_ADDRESS_FAILURES: u32 = 30;
const FIRST_LOCK_MS: i64 = 30_000;
const MAX_LOCK_MS: i64 = 15 * 60_000;
/// A key that has not failed for this long starts from scratch.
const FORGET_AFTER_MS: i64 = 60 * 60_000;
/// Bound on remembered keys, so guessing random names cannot grow memory without end.
const MAX_ENTRIES: usize = 10_000;
/// Failures of one username, over all addresses, before its attempts are slowed.
const FREE_USER_FAILURES: u32 = 20;
/// Added per failure beyond those, up to the cap.
const USER_DELAY_STEP_MS: i64 = 250;
const MAX_USER_DELAY_MS: i64 = 5_000;

/// The unit an address is counted in: itself for IPv4, its /64 for IPv6.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: i64,
    locked_until: i64,
}

/// How an attempt was counted, for the activity log (which records the first failure of a run
/// and the start of a lock, not every guess).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Failures of this (username, address) pair so far, this attempt included.
    pub failures: u32,
    /// Set when this attempt, should it fail, starts a wait of this many ms.
    pub locks_for_ms: Option<i64>,
    /// How long to wait before checking the password: many failures of this username from
    /// anywhere slow every attempt on it down.
    pub delay_ms: i64,
}

#[derive(Default)]
struct Tables {
    pairs: HashMap<(String, IpAddr), Entry>,
    addresses: HashMap<IpAddr, Entry>,
    users: HashMap<String, Entry>,
}

#[derive(Default)]
pub struct LoginThrottle {
    tables: Mutex<Tables>,
}

/// Counts one failure on `e`; returns the lock it starts, if any.
fn count(e: &mut Entry, now: i64, free: u32) -> Option<i64> {
    if now - e.last_failure > FORGET_AFTER_MS {
        e.failures = 0;
    }
    e.failures += 1;
    e.last_failure = now;
    if e.failures >= free {
        let doublings = (e.failures - free).min(10);
        let wait = (FIRST_LOCK_MS << doublings).min(MAX_LOCK_MS);
        e.locked_until = now + wait;
        return Some(wait);
    }
    None
}

fn prune<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Entry>, now: i64) {
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, e| now - e.last_failure < FORGET_AFTER_MS || e.locked_until > now);
    }
}

const FRESH: Entry = Entry {
    failures: 0,
    last_failure: 0,
    locked_until: 0,
};

impl LoginThrottle {
    /// Starts a sign-in attempt for `username` from `address`: `Err(ms)` while the pair or the
    /// address must wait. Otherwise the attempt counts as a failure until [`Self::succeeded`]
    /// says it was not, so parallel guesses are counted before any of them finishes.
    pub fn attempt(&self, username: &str, address: IpAddr, now: i64) -> Result<Counted, i64> {
        let address = address_key(address);
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let key = (username.to_string(), address);
        let waits = [
            t.pairs.get(&key).map(|e| e.locked_until - now),
            t.addresses.get(&address).map(|e| e.locked_until - now),
        ];
        if let Some(wait) = waits.into_iter().flatten().filter(|w| *w > 0).max() {
            return Err(wait);
        }
        prune(&mut t.pairs, now);
        prune(&mut t.addresses, now);
        prune(&mut t.users, now);
        let pair = t.pairs.entry(key).or_insert(FRESH);
        let locks_for_ms = count(pair, now, FREE_FAILURES);
        let failures = pair.failures;
        let by_address = t.addresses.entry(address).or_insert(FRESH);
        let address_lock = count(by_address, now, FREE_ADDRESS_FAILURES);
        let user = t.users.entry(username.to_string()).or_insert(FRESH);
        // Never a lock: only the delay below.
        let _ = count(user, now, u32::MAX);
        let delay_ms = (i64::from(user.failures.saturating_sub(FREE_USER_FAILURES + 1))
            * USER_DELAY_STEP_MS)
            .min(MAX_USER_DELAY_MS);
        Ok(Counted {
            failures,
            locks_for_ms: locks_for_ms.or(address_lock),
            delay_ms,
        })
    }

    /// The attempt was right: the pair starts from scratch, and its failure no longer counts
    /// against the address.
    pub fn succeeded(&self, username: &str, address: IpAddr) {
        let address = address_key(address);
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        t.pairs.remove(&(username.to_string(), address));
        t.users.remove(username);
        if let Some(e) = t.addresses.get_mut(&address) {
            e.failures = e.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        [10, 0, 0, last].into()
    }

    #[test]
    fn a_pair_locks_after_free_failures_and_doubles() {
        let t = LoginThrottle::default();
        for i in 0..4 {
            assert_eq!(
                t.attempt("a", ip(1), i).map(|c| c.locks_for_ms),
                Ok(None),
                "attempt {i} is free"
            );
        }
        assert_eq!(
            t.attempt("a", ip(1), 4).map(|c| c.locks_for_ms),
            Ok(Some(FIRST_LOCK_MS))
        );
        assert_eq!(t.attempt("a", ip(1), 10), Err(FIRST_LOCK_MS - 6));
        let later = 4 + FIRST_LOCK_MS;
        assert!(t.attempt("a", ip(1), later).is_ok());
        assert_eq!(t.attempt("a", ip(1), later), Err(2 * FIRST_LOCK_MS));
        t.succeeded("a", ip(1));
        assert!(t.attempt("a", ip(1), later + 1).is_ok());
    }

    #[test]
    fn a_locked_pair_does_not_lock_the_user_out_elsewhere() {
        let t = LoginThrottle::default();
        for _ in 0..10 {
            let _ = t.attempt("victim", ip(66), 0);
        }
        assert!(t.attempt("victim", ip(66), 1).is_err(), "the guesser waits");
        assert_eq!(
            t.attempt("victim", ip(7), 1).map(|c| c.failures),
            Ok(1),
            "the user from their own address does not"
        );
    }

    #[test]
    fn one_address_cannot_spray_many_names() {
        let t = LoginThrottle::default();
        let mut refused = false;
        for n in 0..(FREE_ADDRESS_FAILURES + 1) {
            if t.attempt(&format!("user{n}"), ip(9), 0).is_err() {
                refused = true;
            }
        }
        assert!(refused, "the address is slowed down");
        assert!(
            t.attempt("user0", ip(10), 0).is_ok(),
            "other addresses are not"
        );
    }

    #[test]
    fn guesses_from_many_addresses_slow_down_but_never_lock_the_user() {
        let t = LoginThrottle::default();
        let mut last = Counted {
            failures: 0,
            locks_for_ms: None,
            delay_ms: 0,
        };
        for n in 0..60u8 {
            last = t.attempt("victim", ip(n), 0).expect("never refused");
        }
        assert_eq!(last.delay_ms, MAX_USER_DELAY_MS);
        let first: Counted = LoginThrottle::default().attempt("x", ip(1), 0).expect("ok");
        assert_eq!(first.delay_ms, 0);
        t.succeeded("victim", ip(200));
        assert_eq!(t.attempt("victim", ip(201), 0).map(|c| c.delay_ms), Ok(0));
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let t = LoginThrottle::default();
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("v6");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("v6");
        assert_eq!(address_key(a), address_key(b));
        for _ in 0..5 {
            let _ = t.attempt("u", a, 0);
        }
        assert!(
            t.attempt("u", b, 1).is_err(),
            "another address of the same /64 waits too"
        );
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("mapped");
        assert_eq!(address_key(mapped), ip(1));
    }

    #[test]
    fn parallel_attempts_count_before_they_finish() {
        let t = LoginThrottle::default();
        for _ in 0..5 {
            assert!(t.attempt("a", ip(1), 0).is_ok());
        }
        assert!(t.attempt("a", ip(1), 0).is_err());
    }

    #[test]
    fn lock_is_capped() {
        let t = LoginThrottle::default();
        let mut now = 0;
        for _ in 0..40 {
            if let Err(wait) = t.attempt("a", ip(1), now) {
                now += wait;
            }
        }
        assert!(t.attempt("a", ip(1), now).is_ok());
        assert_eq!(t.attempt("a", ip(1), now), Err(MAX_LOCK_MS));
    }
}
