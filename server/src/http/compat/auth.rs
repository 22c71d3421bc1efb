//! Who calls `/api/v1/`: VR's client sends HTTP Basic on every request. The password is either
//! the user's (checked as a sign-in: throttled per name and address, argon2 in the shared
//! slots; then remembered briefly, see [`Verified`]) or one of the user's API tokens. A bearer token works as on the native API. Cookies
//! are not read here, and no `WWW-Authenticate` challenge is sent, so a browser never keeps
//! Basic credentials that another site could make it send; changes must also be JSON, which a
//! cross-site form cannot send.

use crate::auth;
use crate::clock::now_ms;
use crate::http::error::ApiError;
use crate::http::extract::ClientAddr;
use crate::http::principal::{self, Principal};
use crate::http::session::check_credentials;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use vr_app::Role;

/// `(username, password)` of a Basic `Authorization` header.
fn basic(headers: &HeaderMap) -> Option<Result<(String, String), ApiError>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let bad = || ApiError::Unauthenticated("malformed Basic credentials".into());
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| {
                text.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            })
            .ok_or_else(bad),
    )
}

async fn resolve(
    state: &AppState,
    from: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    let Some(creds) = basic(headers) else {
        if headers.contains_key(header::AUTHORIZATION) {
            return principal::resolve(state, headers).await;
        }
        return Err(ApiError::Unauthenticated(
            "send HTTP Basic credentials (a username and its password or API token)".into(),
        ));
    };
    let (username, password) = creds?;
    // An API token as the password: it must be one of this user's.
    let token_hash = auth::secret_hash(&password);
    let token = state
        .store
        .token_principal(token_hash.clone(), now_ms())
        .await?;
    if let Some(t) = token.filter(|t| t.username == username) {
        return Ok(Principal {
            user_id: t.user_id,
            username: t.username,
            role: t.role,
            session: None,
            token_hash: Some(token_hash),
        });
    }
    let key = VERIFIED.key(&username, &password);
    if let Some(user) = VERIFIED.check(state, &key, &username).await {
        return Ok(principal_of(user));
    }
    let user = check_credentials(state, from, &username, &password).await?;
    // What the check just accepted, so the next request of this script skips argon2.
    if let Ok(Some((u, hash))) = state.store.user_credentials(username.clone()).await
        && u.id == user.id
    {
        VERIFIED.remember(key, u.id, hash);
    }
    Ok(principal_of(user))
}

fn principal_of(user: vr_app::api::User) -> Principal {
    Principal {
        user_id: user.id,
        username: user.username,
        role: user.role,
        session: None,
        token_hash: None,
    }
}

/// Basic credentials argon2 accepted lately. VR's client sends the password on every request
/// (52 requests for `vr.cli swarm '.*' -` over 52 swarms); checking each with argon2 took 2.5 s.
/// An entry is keyed by a salted SHA-256 of name and password (the password itself is never
/// kept), lives five minutes, and counts only while the user's stored password hash is still
/// the one it was accepted against and the user is enabled: a password change or a disabled
/// account ends it at once.
struct Verified {
    salt: [u8; 32],
    entries: Mutex<HashMap<String, (i64, String, Instant)>>,
}

const VERIFIED_FOR: Duration = Duration::from_secs(300);
const VERIFIED_MAX: usize = 1024;

static VERIFIED: LazyLock<Verified> = LazyLock::new(|| Verified {
    salt: rand::random(),
    entries: Mutex::default(),
});

impl Verified {
    fn key(&self, username: &str, password: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(username.as_bytes());
        h.update([0]);
        h.update(password.as_bytes());
        hex::encode(h.finalize())
    }

    /// The user `key` stands for, if it was accepted lately against their current password.
    async fn check(
        &self,
        state: &AppState,
        key: &str,
        username: &str,
    ) -> Option<vr_app::api::User> {
        let (id, hash) = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            match entries.get(key) {
                Some((id, hash, at)) if at.elapsed() < VERIFIED_FOR => (*id, hash.clone()),
                Some(_) => {
                    entries.remove(key);
                    return None;
                }
                None => return None,
            }
        };
        match state.store.user_credentials(username.to_string()).await {
            Ok(Some((user, current))) if user.id == id && current == hash && !user.disabled => {
                Some(user)
            }
            _ => {
                self.entries
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(key);
                None
            }
        }
    }

    fn remember(&self, key: String, user_id: i64, hash: String) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= VERIFIED_MAX {
            entries.retain(|_, (_, _, at)| at.elapsed() < VERIFIED_FOR);
            if entries.len() >= VERIFIED_MAX {
                entries.clear();
            }
        }
        entries.insert(key, (user_id, hash, Instant::now()));
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"))
}

/// Middleware for every `/api/v1/` route.
pub async fn authenticate(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let principal = resolve(&state, from, req.headers()).await?;
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        principal.require(Role::Deployer)?;
        if !is_json(req.headers()) {
            return Err(ApiError::Rejected {
                status: axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                message: "send changes with Content-Type: application/json".into(),
            });
        }
    }
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}
