//! Serving connections with limits, so no client can tie up the server by connecting and
//! sending nothing: request headers must arrive within [`HEADER_TIMEOUT`], at most
//! [`MAX_CONNECTIONS`] connections are served at once (more wait to be accepted) and one
//! client address holds at most [`MAX_CONNECTIONS_PER_ADDRESS`] of them (more are closed at
//! once), so one noisy client cannot lock out the others. Bodies and whole requests have their
//! own timeouts in the router (see [`super::router`]).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 1024;
/// Connections one client address may hold; a browser opens six or so.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 64;
/// Time a client has to send a request's headers (also how long an idle keep-alive
/// connection stays open).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Counts connections per client address; a slot is given back when its guard drops.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = t.entry(ip).or_default();
        if *n >= MAX_CONNECTIONS_PER_ADDRESS {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            table: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = t.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                t.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file handles and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(address_slot) = per_address.take(peer.ip()) else {
            tracing::debug!(peer = %peer, "too many connections from one address; closing");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
            drop(address_slot);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("some connections were still open at shutdown");
        }
    }
}

/// Lets the server open as many files as the system allows it: the soft limit (often 1024) is
/// below the connections it may serve.
pub fn raise_file_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        tracing::warn!(error = %e, soft, hard, "could not raise the open-files limit");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_holds_a_bounded_number_of_slots() {
        let t = Arc::new(PerAddress::default());
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let held: Vec<AddressSlot> = (0..MAX_CONNECTIONS_PER_ADDRESS)
            .map(|_| t.take(a).expect("slot"))
            .collect();
        assert!(t.take(a).is_none(), "over the limit");
        assert!(t.take(b).is_some(), "another address is not affected");
        drop(held);
        assert!(t.take(a).is_some(), "slots come back");
        assert!(t.0.lock().map(|m| m.len() <= 1).unwrap_or(false));
    }
}
