//! Sign-in, sign-out, first-run setup, password change and token sign-in for the CLI.

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ClientAddr};
use super::principal::Principal;
use crate::auth;
use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::NewUserRecord;
use crate::throttle::Counted;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;
use vr_app::api::{
    AuthSession, ChangePassword, CreatedToken, LoginRequest, Me, Outcome, SESSION_COOKIE,
    SetupRequest, SetupStatus, TokenLoginRequest, User,
};
use vr_app::{Role, validate};

/// At most this many argon2 computations at once: each takes tens of milliseconds and 19 MiB by
/// design, so a flood of sign-ins must queue rather than exhaust memory and blocking threads.
static ARGON2_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(4));
/// At most this many wait for a slot; more are refused at once (503), so a flood costs the
/// flooder and not everyone's response time.
const ARGON2_QUEUE: usize = 32;
static ARGON2_WAITING: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` (an argon2 computation) on the blocking pool, within the global slot limit.
async fn with_argon2<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    if ARGON2_WAITING.fetch_add(1, Ordering::AcqRel) >= ARGON2_QUEUE {
        ARGON2_WAITING.fetch_sub(1, Ordering::AcqRel);
        return Err(ApiError::Busy(
            "too many sign-ins at once; try again in a moment".into(),
        ));
    }
    let slot = ARGON2_SLOTS.acquire().await;
    ARGON2_WAITING.fetch_sub(1, Ordering::AcqRel);
    let _slot = slot.map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub async fn hash_password(password: String) -> ApiResult<String> {
    with_argon2(move || auth::hash_password(&password))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

async fn verify_password(password: String, hash: String) -> ApiResult<bool> {
    with_argon2(move || auth::verify_password(&password, &hash)).await
}

fn too_many(wait_ms: i64) -> ApiError {
    ApiError::TooManyRequests(format!(
        "too many failed sign-ins from this address; try again in {} s",
        (wait_ms + 999) / 1000
    ))
}

/// Records a failed sign-in, but not every one: the first of a run and the one that starts a
/// wait, with counts, so guessing cannot fill the activity log.
async fn record_failure(
    state: &AppState,
    action: &str,
    actor: &str,
    object: &str,
    from: std::net::IpAddr,
    counted: Counted,
    why: &str,
) {
    let detail = match counted.locks_for_ms {
        Some(wait) => format!(
            "{} failed sign-ins in a row from {from}: {why}; that address waits {} s",
            counted.failures,
            wait / 1000
        ),
        None if counted.failures == 1 => format!("from {from}: {why}"),
        None => return,
    };
    state
        .record(actor, action, object, Outcome::Failed, &detail)
        .await;
}

/// The enabled user with these credentials, or a 401 that does not say which part was wrong.
/// Failures are counted per (username, address) and recorded, aggregated.
pub(super) async fn check_credentials(
    state: &AppState,
    from: std::net::IpAddr,
    username: &str,
    password: &str,
) -> ApiResult<User> {
    let wrong = || ApiError::Unauthenticated("wrong username or password".into());
    if validate::username("username", username).is_err() {
        // Not a name anyone could have: spend the same time, but neither remember nor log the
        // text (it may be a password typed into the wrong box, or junk meant to fill memory).
        let counted = state
            .login_throttle
            .attempt("\0malformed", from, now_ms())
            .map_err(too_many)?;
        verify_password(password.to_string(), auth::dummy_hash().to_string()).await?;
        record_failure(
            state,
            "user.login",
            "anonymous",
            "login",
            from,
            counted,
            "malformed username",
        )
        .await;
        return Err(wrong());
    }
    let counted = state
        .login_throttle
        .attempt(username, from, now_ms())
        .map_err(too_many)?;
    if counted.delay_ms > 0 {
        // Many failures for this name from everywhere: every attempt on it is slower.
        tokio::time::sleep(std::time::Duration::from_millis(
            u64::try_from(counted.delay_ms).unwrap_or(0),
        ))
        .await;
    }
    let found = state.store.user_credentials(username.to_string()).await?;
    let hash = found
        .as_ref()
        .map_or_else(|| auth::dummy_hash().to_string(), |(_, h)| h.clone());
    let ok = verify_password(password.to_string(), hash).await?;
    match found {
        Some((user, _)) if ok && !user.disabled => {
            state.login_throttle.succeeded(username, from);
            Ok(user)
        }
        _ => {
            record_failure(
                state,
                "user.login",
                username,
                &format!("user:{username}"),
                from,
                counted,
                "wrong username or password, or account disabled",
            )
            .await;
            Err(wrong())
        }
    }
}

fn session_cookie(state: &AppState, value: &str, max_age_secs: i64) -> String {
    let secure = if state.cookie_secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

/// Creates a session and returns the response that sets its cookie.
async fn start_session(state: &AppState, user: User) -> ApiResult<Response> {
    let secret = auth::random_secret();
    let csrf = auth::random_secret();
    let now = now_ms();
    let ttl_secs = i64::from(state.session_hours) * 3600;
    state
        .store
        .create_session(
            auth::secret_hash(&secret),
            user.id,
            csrf.clone(),
            now,
            now + ttl_secs * 1000,
        )
        .await?;
    // Read before recording, so the UI can say when the *previous* sign-in was.
    let user = state.store.get_user(user.id).await?;
    state.store.record_login(user.id, now).await?;
    let me = Me {
        user,
        csrf_token: Some(csrf),
    };
    Ok((
        [(header::SET_COOKIE, session_cookie(state, &secret, ttl_secs))],
        Json(me),
    )
        .into_response())
}

/// Who is signed in, without a 401 when nobody is (the UI asks on every page load).
pub async fn session(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<AuthSession>> {
    let me = match super::principal::resolve(&state, &headers).await {
        Ok(p) => Some(me_of(&state, p).await?),
        Err(ApiError::Unauthenticated(_)) => None,
        Err(e) => return Err(e),
    };
    let setup_needed = me.is_none() && state.setup_needed().await?;
    Ok(Json(AuthSession { me, setup_needed }))
}

pub async fn setup_status(State(state): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    Ok(Json(SetupStatus {
        needed: state.setup_needed().await?,
    }))
}

pub async fn setup(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    ApiJson(req): ApiJson<SetupRequest>,
) -> ApiResult<Response> {
    if !state.setup_needed().await? {
        return Err(ApiError::Conflict {
            field: None,
            message: "setup is already done; sign in instead".into(),
        });
    }
    // Guessing the token is slowed and logged like guessing a password.
    let counted = state
        .login_throttle
        .attempt("\0setup", from, now_ms())
        .map_err(too_many)?;
    if !state.setup.check(req.token.trim()) {
        record_failure(
            &state,
            "setup.admin_create",
            "anonymous",
            "setup",
            from,
            counted,
            "wrong setup token",
        )
        .await;
        return Err(ApiError::Forbidden(
            "wrong setup token: use the link printed in the server log".into(),
        ));
    }
    validate::username("username", &req.username)?;
    validate::password("password", &req.password)?;
    let user = state
        .store
        .create_first_user(NewUserRecord {
            username: req.username.clone(),
            password_hash: hash_password(req.password).await?,
            role: Role::Admin,
            now: now_ms(),
        })
        .await?;
    state.setup.consume();
    state
        .record(
            &user.username,
            "setup.admin_create",
            &format!("user:{}", user.username),
            Outcome::Ok,
            "first admin created from the setup page",
        )
        .await;
    start_session(&state, user).await
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let user = check_credentials(&state, from, &req.username, &req.password).await?;
    state
        .record(
            &user.username,
            "user.login",
            &format!("user:{}", user.username),
            Outcome::Ok,
            "",
        )
        .await;
    start_session(&state, user).await
}

pub async fn logout(State(state): State<AppState>, p: Principal) -> ApiResult<Response> {
    if let Some(session) = &p.session {
        state
            .store
            .delete_session(session.token_hash.clone())
            .await?;
    }
    state
        .record(
            &p.username,
            "user.logout",
            &format!("user:{}", p.username),
            Outcome::Ok,
            "",
        )
        .await;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
    )
        .into_response())
}

/// Who `p` is, with the CSRF token of its session (none for token auth).
async fn me_of(state: &AppState, p: Principal) -> ApiResult<Me> {
    Ok(Me {
        user: state.store.get_user(p.user_id).await?,
        csrf_token: p.session.map(|s| s.csrf_token),
    })
}

pub async fn me(State(state): State<AppState>, p: Principal) -> ApiResult<Json<Me>> {
    Ok(Json(me_of(&state, p).await?))
}

pub async fn change_password(
    State(state): State<AppState>,
    p: Principal,
    ClientAddr(from): ClientAddr,
    ApiJson(req): ApiJson<ChangePassword>,
) -> ApiResult<StatusCode> {
    state
        .login_throttle
        .attempt(&p.username, from, now_ms())
        .map_err(too_many)?;
    let hash = state.store.password_hash(p.user_id).await?;
    if !verify_password(req.current_password, hash).await? {
        return Err(ApiError::invalid(
            "current_password",
            "the current password is wrong",
        ));
    }
    state.login_throttle.succeeded(&p.username, from);
    validate::password("new_password", &req.new_password)?;
    let new_hash = hash_password(req.new_password).await?;
    let revoked = state
        .store
        .set_own_password(
            p.user_id,
            new_hash,
            p.session.as_ref().map(|s| s.token_hash.clone()),
            req.revoke_tokens,
        )
        .await?;
    state
        .record(
            &p.username,
            "user.password",
            &format!("user:{}", p.username),
            Outcome::Ok,
            &if req.revoke_tokens {
                format!(
                    "changed own password; other sessions ended, {revoked} API token(s) revoked"
                )
            } else {
                "changed own password; other sessions ended".to_string()
            },
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Username + password → a new API token (what `vr login` uses).
pub async fn token_login(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    ApiJson(req): ApiJson<TokenLoginRequest>,
) -> ApiResult<Json<CreatedToken>> {
    validate::label("name", &req.name)?;
    let user = check_credentials(&state, from, &req.username, &req.password).await?;
    let created = super::tokens::issue(
        &state,
        user.id,
        &user.username,
        req.name.trim(),
        req.expires_in_days,
    )
    .await?;
    Ok(Json(created))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flood of sign-ins: four compute, 32 wait, the rest are told to come back at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_sign_ins_is_refused_quickly_beyond_the_queue() {
        let hash = auth::hash_password("some-password-1").expect("hash");
        let mut tasks = Vec::new();
        for _ in 0..60 {
            let h = hash.clone();
            tasks.push(tokio::spawn(async move {
                verify_password("wrong-password".into(), h).await
            }));
        }
        let mut busy = 0;
        let mut done = 0;
        for t in tasks {
            match t.await.expect("join") {
                Ok(_) => done += 1,
                Err(ApiError::Busy(_)) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(busy > 0, "nobody was refused");
        assert!(done >= 4 + ARGON2_QUEUE - 4, "{done} computed");
        assert_eq!(busy + done, 60);
    }
}
