//! Who is calling: resolved once per request by [`authenticate`] from a bearer token or the
//! session cookie, then enforced: an unauthenticated call gets 401, a cookie-authenticated
//! change without the CSRF header gets 403, and a viewer's change gets 403 unless it is one
//! of the few self-service routes.

use super::error::ApiError;
use crate::auth;
use crate::clock::now_ms;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use vr_app::Role;
use vr_app::api::{CSRF_HEADER, SESSION_COOKIE, paths};

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    /// The session's CSRF token and cookie hash; `None` when authenticated by API token.
    pub session: Option<SessionInfo>,
    /// SHA-256 of the API token used, when authenticated by one.
    pub token_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub token_hash: String,
    pub csrf_token: String,
}

impl Principal {
    /// Whether the credential behind this principal is still valid (not signed out, revoked,
    /// expired, or its user disabled or deleted).
    pub async fn still_valid(&self, state: &AppState) -> bool {
        let now = now_ms();
        let found = match (&self.session, &self.token_hash) {
            (Some(s), _) => state
                .store
                .session_principal(s.token_hash.clone(), now)
                .await
                .map(|p| p.is_some()),
            (None, Some(h)) => state
                .store
                .token_principal(h.clone(), now)
                .await
                .map(|p| p.is_some()),
            (None, None) => Ok(false),
        };
        // A database hiccup is not a revocation.
        found.unwrap_or(true)
    }

    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role.allows(role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {role} role; {} is {}",
                self.username, self.role
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthenticated("sign in first".into()))
    }
}

pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Changes any signed-in user may make, whatever the role: their own session, password and tokens.
pub(crate) fn is_self_service(method: &Method, path: &str) -> bool {
    path == paths::LOGOUT
        || path == paths::PASSWORD
        || (path == paths::TOKENS && method == Method::POST)
        || (path.starts_with("/api/tokens/") && method == Method::DELETE)
}

/// Changes only an admin may make (the handlers check again): users, and trusting a changed
/// host key. Named here so a viewer is told the role they really lack.
pub(crate) fn is_admin_only(method: &Method, path: &str) -> bool {
    (path == paths::USERS && method == Method::POST)
        || (path.starts_with("/api/users/") && matches!(*method, Method::PATCH | Method::DELETE))
        || (path.starts_with("/api/hosts/") && path.ends_with("/trust-key"))
        // A balancer's commands run on its hosts: only admins set them.
        || (path == vr_app::balancer::paths::BALANCERS && method == Method::POST)
        || (path.starts_with("/api/balancers/")
            && path.matches('/').count() == 3
            && matches!(*method, Method::PUT | Method::DELETE))
        // Webhooks send the fleet's news out, and their URLs are often credentials: reads too
        // (those are checked in the handlers, as the middleware checks only changes).
        || path == vr_app::notify::paths::WEBHOOKS
        || path.starts_with("/api/webhooks/")
}

pub async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let now = now_ms();
    if let Some(secret) = bearer(headers) {
        let token_hash = auth::secret_hash(secret);
        let p = state
            .store
            .token_principal(token_hash.clone(), now)
            .await?
            .ok_or_else(|| ApiError::Unauthenticated("unknown or revoked API token".into()))?;
        return Ok(Principal {
            user_id: p.user_id,
            username: p.username,
            role: p.role,
            session: None,
            token_hash: Some(token_hash),
        });
    }
    if let Some(cookie) = cookie_value(headers, SESSION_COOKIE) {
        let token_hash = auth::secret_hash(cookie);
        if let Some(p) = state
            .store
            .session_principal(token_hash.clone(), now)
            .await?
        {
            return Ok(Principal {
                user_id: p.user_id,
                username: p.username,
                role: p.role,
                session: Some(SessionInfo {
                    token_hash,
                    csrf_token: p.csrf_token,
                }),
                token_hash: None,
            });
        }
        return Err(ApiError::Unauthenticated(
            "your session has ended; sign in again".into(),
        ));
    }
    Err(ApiError::Unauthenticated("sign in first".into()))
}

/// Middleware for every protected route.
pub async fn authenticate(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let principal = resolve(&state, req.headers()).await?;
    let method = req.method().clone();
    if !is_safe(&method) {
        if let Some(session) = &principal.session {
            let sent = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !auth::constant_time_eq(sent, &session.csrf_token) {
                return Err(ApiError::Csrf(format!(
                    "missing or wrong {CSRF_HEADER} header; reload the page"
                )));
            }
        }
        let path = req.uri().path();
        if is_admin_only(&method, path) {
            principal.require(Role::Admin)?;
        } else if !is_self_service(&method, path) {
            principal.require(Role::Deployer)?;
        }
    }
    req.extensions_mut().insert(principal);
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookie_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; vr_session=abc; b=2".parse().expect("header"),
        );
        assert_eq!(cookie_value(&h, "vr_session"), Some("abc"));
        assert_eq!(cookie_value(&h, "vr"), None);
    }

    #[test]
    fn self_service_routes() {
        assert!(is_self_service(&Method::POST, "/api/auth/logout"));
        assert!(is_self_service(&Method::DELETE, "/api/tokens/4"));
        assert!(!is_self_service(&Method::POST, "/api/users"));
        assert!(!is_self_service(&Method::DELETE, "/api/users/4"));
        assert!(is_admin_only(&Method::POST, "/api/users"));
        assert!(is_admin_only(&Method::DELETE, "/api/users/4"));
        assert!(is_admin_only(&Method::POST, "/api/hosts/h1/trust-key"));
        assert!(!is_admin_only(&Method::PATCH, "/api/hosts/h1"));
    }
}
