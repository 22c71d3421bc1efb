//! Free loopback ports and condition waits with deadlines.
//!
//! Every wait in the test suite goes through [`wait_until`] (or its async twin) so a test never
//! sleeps for a fixed time hoping something happened: it polls a condition, returns as soon as it
//! holds, and gives up at a deadline with a message that says what never happened.

use std::collections::HashSet;
use std::future::Future;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// First poll interval; doubled up to [`MAX_POLL`] so quick conditions are seen within
/// milliseconds while slow ones do not burn the two shared cores.
const FIRST_POLL: Duration = Duration::from_millis(2);
const MAX_POLL: Duration = Duration::from_millis(50);

/// `n` consecutive loopback ports, free now and below the kernel's ephemeral range
/// (32768–60999 here), for procs a test deploys. Ports from [`free_port`] are ephemeral: a
/// request loop's short connections (each with an ephemeral local port, on both sides of a
/// balancer) can sit on one between a deploy's port check and its proc's `bind`. Each call
/// hands out a new range; processes start apart (by pid) so two test binaries rarely meet.
pub fn proc_port_range(n: u16) -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const END: u32 = 32_000;
    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    let next = NEXT.get_or_init(|| AtomicU32::new(FIRST + (std::process::id() % 12) * 1000));
    let n32 = u32::from(n);
    for _ in 0..(END - FIRST) / n32.max(1) {
        let mut base = next.fetch_add(n32, Ordering::Relaxed);
        if base + n32 > END {
            // Wrap around: ranges handed out long ago are free again once their test ended.
            next.store(FIRST + n32, Ordering::Relaxed);
            base = FIRST;
        }
        let (lo, hi) = (
            u16::try_from(base).unwrap_or(u16::MAX),
            u16::try_from(base + n32).unwrap_or(u16::MAX),
        );
        if (lo..hi).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return lo;
        }
    }
    panic!("no {n} free consecutive ports between {FIRST} and {END}");
}

/// A TCP port on 127.0.0.1 that was free a moment ago and that this process has not handed out
/// before.
///
/// The kernel may give the same ephemeral port to two `bind(:0)` calls once the first socket is
/// closed, so ports handed out are remembered and never repeated within one test process. Another
/// process can still take the port between this call and its use; callers that bind it later
/// (sshd, the vr server) detect that and retry with a new port.
pub fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(|| Mutex::new(HashSet::new()));
    loop {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 to find a free port");
        let port = listener
            .local_addr()
            .expect("local address of a bound listener")
            .port();
        drop(listener);
        if given.lock().expect("free port registry lock").insert(port) {
            return port;
        }
    }
}

/// Polls `cond` until it returns true or `timeout` has passed. Returns whether it held.
///
/// The condition is always evaluated at least once, and once more at the deadline, so a zero or
/// tiny timeout still means "check now".
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_POLL;
    loop {
        if cond() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// Like [`wait_until`] but panics with `what` when the deadline passes: for conditions a test
/// cannot continue without.
#[track_caller]
pub fn wait_for(what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
    assert!(
        wait_until(timeout, cond),
        "timed out after {timeout:?} waiting for {what}"
    );
}

/// Async twin of [`wait_until`] for `#[tokio::test]`s: the runtime keeps running other tasks
/// (such as an in-process server) between polls.
pub async fn wait_until_async<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    let mut pause = FIRST_POLL;
    loop {
        if cond().await {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// Async twin of [`wait_for`].
#[track_caller]
pub fn wait_for_async<'a, F, Fut>(
    what: &'a str,
    timeout: Duration,
    cond: F,
) -> impl Future<Output = ()> + 'a
where
    F: FnMut() -> Fut + 'a,
    Fut: Future<Output = bool> + 'a,
{
    // `#[track_caller]` does not reach into an async body, so capture the caller here.
    let caller = std::panic::Location::caller();
    async move {
        assert!(
            wait_until_async(timeout, cond).await,
            "timed out after {timeout:?} waiting for {what} (at {caller})"
        );
    }
}

/// True when a TCP connection to `addr` is accepted within `timeout`.
pub fn tcp_connects(addr: SocketAddr, timeout: Duration) -> bool {
    TcpStream::connect_timeout(&addr, timeout).is_ok()
}
