//! Typed client for the vr HTTP API, over the DTOs of `vr_app::api`.
//!
//! Every call goes to the same origin with the session cookie. State-changing calls carry the
//! session's CSRF token in [`CSRF_HEADER`]. A non-2xx answer is decoded from the server's
//! [`ErrorBody`] into an [`ApiError`]; a 401 on any call other than sign-in or setup also runs the
//! hook installed with [`set_unauthenticated_hook`], so an expired session sends the user back to
//! the sign-in page wherever it is noticed.

pub mod balancer;
pub mod build;
pub mod deploy;
pub mod fleet;
pub mod release;
pub mod swarm;

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use vr_app::ErrorBody;
use vr_app::api::{
    ApiToken, AuthSession, CSRF_HEADER, ChangePassword, CreatedToken, Event, EventQuery,
    LoginRequest, Me, NewToken, NewUser, SetupRequest, SetupStatus, SshKey, User, UserPatch,
    VersionInfo, paths,
};
use vr_app::json::FromJson;
use vr_app::query::query_string;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why an API call failed, in a form the UI can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status; 0 when the server could not be reached at all.
    pub status: u16,
    /// The server's machine-readable code, or `network` / `decode` for client-side failures.
    pub code: String,
    /// One sentence for a person.
    pub message: String,
    /// The request field at fault, when the server named one.
    pub field: Option<String>,
}

impl ApiError {
    fn client(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: 0,
            code: code.to_string(),
            message: message.into(),
            field: None,
        }
    }

    fn network() -> Self {
        Self::client(
            "network",
            "Cannot reach the vr server. Check the connection and try again.",
        )
    }

    /// The session is missing or expired.
    pub fn is_unauthenticated(&self) -> bool {
        self.status == 401
    }

    /// The signed-in user's role does not allow the call.
    pub fn is_forbidden(&self) -> bool {
        self.status == 403
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

thread_local! {
    static CSRF_TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
    static ON_UNAUTHENTICATED: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Remembers the CSRF token of the current session (from [`Me::csrf_token`]); `None` on sign-out.
pub fn set_csrf_token(token: Option<String>) {
    CSRF_TOKEN.with(|t| *t.borrow_mut() = token);
}

/// Installs what to do when a call answers 401 (the session ended).
pub fn set_unauthenticated_hook(hook: impl Fn() + 'static) {
    ON_UNAUTHENTICATED.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
}

fn run_unauthenticated_hook() {
    ON_UNAUTHENTICATED.with(|h| {
        if let Some(hook) = h.borrow().as_ref() {
            hook();
        }
    });
}

/// Percent-encodes one query-string or path component.
pub fn encode(component: &str) -> String {
    String::from(js_sys::encode_uri_component(component))
}

/// The query string (with its leading `?`) of a listing of one app's records (none or empty:
/// every app's) capped at `limit`; empty when nothing is set.
fn app_listing_query(app: Option<&str>, limit: Option<u32>) -> String {
    let limit = limit.map(|l| l.to_string()).unwrap_or_default();
    query_string([("app", app.unwrap_or_default()), ("limit", limit.as_str())])
}

/// An answer on its way: boxed, so the generic calls below hold a pointer to one shared
/// request future instead of each embedding (and compiling) its own copy.
type Answer = Pin<Box<dyn Future<Output = Result<(u16, String), ApiError>>>>;

fn request(method: &'static str, path: &str, body: Option<String>) -> Answer {
    let path = path.to_string();
    Box::pin(async move { send_with_status(method, &path, body).await })
}

async fn send(method: &'static str, path: &str, body: Option<String>) -> Result<String, ApiError> {
    request(method, path, body).await.map(|(_, text)| text)
}

/// Like [`send`], with the success status too (some answers differ only by it: 201 vs 200).
async fn send_with_status(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, String), ApiError> {
    let window = web_sys::window().ok_or_else(ApiError::network)?;
    let headers = web_sys::Headers::new().map_err(|_| ApiError::network())?;
    let _ = headers.set("accept", "application/json");
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = &body {
        let _ = headers.set("content-type", "application/json");
        init.set_body(&JsValue::from_str(body));
    }
    if method != "GET"
        && let Some(token) = CSRF_TOKEN.with(|t| t.borrow().clone())
    {
        let _ = headers.set(CSRF_HEADER, &token);
    }
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(path, &init)
        .map_err(|_| ApiError::client("request", format!("Invalid request to {path}")))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| ApiError::network())?
        .dyn_into()
        .map_err(|_| ApiError::network())?;
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if response.ok() {
        return Ok((status, text));
    }
    let error = match vr_app::json::decode::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status,
            code: body.error.code,
            message: body.error.message,
            field: body.error.field,
        },
        Err(_) => ApiError {
            status,
            code: "http".to_string(),
            message: format!("The server answered {status} {}.", response.status_text()),
            field: None,
        },
    };
    if error.is_unauthenticated() && path != paths::LOGIN && path != paths::SETUP {
        run_unauthenticated_hook();
    }
    Err(error)
}

fn decode<T: FromJson>(text: &str) -> Result<T, ApiError> {
    vr_app::json::decode(text).map_err(not_understood)
}

#[inline(never)]
fn not_understood(e: vr_app::json::DecodeError) -> ApiError {
    ApiError::client(
        "decode",
        format!("The server sent an answer this page does not understand ({e})."),
    )
}

fn to_json<B: Serialize>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(not_encoded)
}

#[inline(never)]
fn not_encoded(e: serde_json::Error) -> ApiError {
    ApiError::client("encode", format!("Cannot encode the request ({e})."))
}

/// `GET path`, decoding the JSON answer.
pub async fn get<T: FromJson>(path: &str) -> Result<T, ApiError> {
    decode(&send("GET", path, None).await?)
}

/// `POST path` with a JSON body, decoding the JSON answer.
pub async fn post<B: Serialize, T: FromJson>(path: &str, body: &B) -> Result<T, ApiError> {
    decode(&send("POST", path, Some(to_json(body)?)).await?)
}

/// `POST path` with a JSON body, decoding the JSON answer and returning its status with it.
pub async fn post_with_status<B: Serialize, T: FromJson>(
    path: &str,
    body: &B,
) -> Result<(u16, T), ApiError> {
    let (status, text) = request("POST", path, Some(to_json(body)?)).await?;
    Ok((status, decode(&text)?))
}

/// `PATCH path` with a JSON body.
pub async fn patch<B: Serialize, T: FromJson>(path: &str, body: &B) -> Result<T, ApiError> {
    decode(&send("PATCH", path, Some(to_json(body)?)).await?)
}

/// `PUT path` with a JSON body (the whole record), decoding the JSON answer.
pub async fn put<B: Serialize, T: FromJson>(path: &str, body: &B) -> Result<T, ApiError> {
    decode(&send("PUT", path, Some(to_json(body)?)).await?)
}

/// `POST path` without a body, decoding the JSON answer.
pub async fn post_empty_json<T: FromJson>(path: &str) -> Result<T, ApiError> {
    decode(&send("POST", path, None).await?)
}

/// `POST path` with a JSON body, ignoring whatever the answer carries (usually a 204).
pub async fn post_unit<B: Serialize>(path: &str, body: &B) -> Result<(), ApiError> {
    send("POST", path, Some(to_json(body)?)).await.map(|_| ())
}

/// `DELETE path`, ignoring whatever the answer carries (usually a 204).
pub async fn delete(path: &str) -> Result<(), ApiError> {
    send("DELETE", path, None).await.map(|_| ())
}

// ---- Endpoints -------------------------------------------------------------------------------

pub async fn version() -> Result<VersionInfo, ApiError> {
    get(paths::VERSION).await
}

pub async fn setup_status() -> Result<SetupStatus, ApiError> {
    get(paths::SETUP).await
}

pub async fn setup(req: &SetupRequest) -> Result<Me, ApiError> {
    post(paths::SETUP, req).await
}

pub async fn login(req: &LoginRequest) -> Result<Me, ApiError> {
    post(paths::LOGIN, req).await
}

pub async fn logout() -> Result<(), ApiError> {
    send("POST", paths::LOGOUT, None).await.map(|_| ())
}

/// `GET /api/auth/session`.
pub async fn auth_session() -> Result<AuthSession, ApiError> {
    get(paths::SESSION).await
}

pub async fn me() -> Result<Me, ApiError> {
    get(paths::ME).await
}

pub async fn change_password(req: &ChangePassword) -> Result<(), ApiError> {
    post_unit(paths::PASSWORD, req).await
}

pub async fn tokens() -> Result<Vec<ApiToken>, ApiError> {
    get(paths::TOKENS).await
}

pub async fn create_token(req: &NewToken) -> Result<CreatedToken, ApiError> {
    post(paths::TOKENS, req).await
}

pub async fn revoke_token(id: i64) -> Result<(), ApiError> {
    delete(&format!("{}/{id}", paths::TOKENS)).await
}

pub async fn users() -> Result<Vec<User>, ApiError> {
    get(paths::USERS).await
}

pub async fn create_user(req: &NewUser) -> Result<User, ApiError> {
    post(paths::USERS, req).await
}

pub async fn update_user(id: i64, patch_body: &UserPatch) -> Result<User, ApiError> {
    patch(&format!("{}/{id}", paths::USERS), patch_body).await
}

pub async fn delete_user(id: i64) -> Result<(), ApiError> {
    delete(&format!("{}/{id}", paths::USERS)).await
}

pub async fn ssh_key() -> Result<SshKey, ApiError> {
    get(paths::SSH_KEY).await
}

/// The query string (with its leading `?`) for an [`EventQuery`]; empty when no filter is set.
pub fn event_query_string(q: &EventQuery) -> String {
    let number = |n: Option<String>| n.unwrap_or_default();
    let (before, limit) = (
        number(q.before.map(|b| b.to_string())),
        number(q.limit.map(|l| l.to_string())),
    );
    query_string([
        ("before", before.as_str()),
        ("limit", limit.as_str()),
        ("actor", q.actor.as_deref().unwrap_or_default()),
        ("action", q.action.as_deref().unwrap_or_default()),
        ("q", q.q.as_deref().unwrap_or_default()),
    ])
}

/// Activity-log lines matching `q`, newest first.
pub async fn events(q: &EventQuery) -> Result<Vec<Event>, ApiError> {
    get(&format!("{}{}", paths::EVENTS, event_query_string(q))).await
}
