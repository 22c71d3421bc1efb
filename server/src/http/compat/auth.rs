//! Who calls `/api/v1/`: VR's client sends HTTP Basic on every request. The password is either
//! the user's (checked as a sign-in: throttled per name and address, argon2 in the shared
//! slots) or one of the user's API tokens. A bearer token works as on the native API. Cookies
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
    let user = check_credentials(state, from, &username, &password).await?;
    Ok(Principal {
        user_id: user.id,
        username: user.username,
        role: user.role,
        session: None,
        token_hash: None,
    })
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
