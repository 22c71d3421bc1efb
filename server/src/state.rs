//! Shared state of the running server, handed to every HTTP handler and background task.

use crate::auth;
use crate::keys::SshIdentity;
use crate::store::{Store, StoreError};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};
use vr_app::api::{Event, LiveMessage, Outcome};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub live: broadcast::Sender<LiveMessage>,
    pub ssh: Arc<SshIdentity>,
    pub setup: Arc<SetupGate>,
    pub login_throttle: Arc<crate::throttle::LoginThrottle>,
    pub fleet: Arc<crate::fleet::FleetService>,
    pub notifier: Arc<crate::notify::Notifier>,
    pub builds: Arc<crate::jobs::Builds>,
    pub deploys: Arc<crate::jobs::Deploys>,
    pub dispatches: Arc<crate::jobs::Dispatches>,
    pub pools: Arc<crate::jobs::Pools>,
    pub cookie_secure: bool,
    /// Reverse proxies whose X-Forwarded-For names the client.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    pub session_hours: u32,
    /// Live streams open per user.
    pub streams: Arc<crate::slots::Slots<i64>>,
    /// HTTP request counts and latencies for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Flips to true when the server begins to shut down, so long-lived streams end.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    /// Writes an activity-log line and pushes it to live clients. A failure to record is
    /// logged, never fatal to the action it describes.
    pub async fn record(
        &self,
        actor: &str,
        action: &str,
        object: &str,
        outcome: Outcome,
        detail: &str,
    ) -> Option<Event> {
        crate::events::record_event(
            &self.store,
            &self.live,
            actor,
            action,
            object,
            outcome,
            detail,
        )
        .await
    }

    pub async fn setup_needed(&self) -> Result<bool, StoreError> {
        Ok(self.store.count_users().await? == 0)
    }
}

/// Most live streams one user may hold open: a browser tab holds one.
pub const MAX_STREAMS_PER_USER: usize = 16;

/// The one-time setup token printed at first start. Only its hash is kept in memory.
#[derive(Default)]
pub struct SetupGate {
    token_hash: Mutex<Option<String>>,
}

impl SetupGate {
    /// Makes a new token and returns it (to print); replaces any earlier one.
    pub fn issue(&self) -> String {
        let token = auth::random_secret();
        *self.token_hash.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(auth::secret_hash(&token));
        token
    }

    pub fn check(&self, token: &str) -> bool {
        let guard = self.token_hash.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_deref()
            .is_some_and(|h| auth::constant_time_eq(h, &auth::secret_hash(token)))
    }

    pub fn consume(&self) {
        *self.token_hash.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
