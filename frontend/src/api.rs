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
use std::task::{Context, Poll};

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

/// Why an API call failed, in a form the UI can show. Boxed: a `Result<_, ApiError>` passes
/// through every call, fetch and submit, and one pointer is much less wasm to move around than
/// the whole record (the same change on `JsonError` took 9.9 KB gzipped off the bundle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(Box<Failure>);

/// What an [`ApiError`] says (its fields are read through it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status; 0 when the server could not be reached at all.
    pub status: u16,
    /// The server's machine-readable code, or `network` / `decode` for client-side failures.
    pub code: String,
    /// One sentence for a person.
    pub message: String,
    /// The request field at fault, when the server named one.
    pub field: Option<String>,
}

impl std::ops::Deref for ApiError {
    type Target = Failure;

    fn deref(&self) -> &Failure {
        &self.0
    }
}

impl ApiError {
    pub fn new(failure: Failure) -> Self {
        ApiError(Box::new(failure))
    }

    /// The sentence for a person, taken out.
    pub fn into_message(self) -> String {
        self.0.message
    }

    #[inline(never)]
    fn client(code: &str, message: impl Into<String>) -> Self {
        ApiError::new(Failure {
            status: 0,
            code: code.to_string(),
            message: message.into(),
            field: None,
        })
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

/// Sends one request; the success status comes with the text (some answers differ only by it:
/// 201 vs 200).
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
        Ok(body) => ApiError::new(Failure {
            status,
            code: body.error.code,
            message: body.error.message,
            field: body.error.field,
        }),
        Err(_) => ApiError::new(Failure {
            status,
            code: "http".to_string(),
            message: format!("The server answered {status} {}.", response.status_text()),
            field: None,
        }),
    };
    if error.is_unauthenticated() && path != paths::LOGIN && path != paths::SETUP {
        run_unauthenticated_hook();
    }
    Err(error)
}

/// Decodes an answer: the parse and the error mapping shared, only `from_json` per type.
fn decode<T: FromJson>(text: &str) -> Result<T, ApiError> {
    match vr_app::json::parse(text) {
        Ok(value) => T::from_json(value).map_err(shape_not_understood),
        Err(e) => Err(not_understood(e)),
    }
}

#[inline(never)]
fn shape_not_understood(e: vr_app::json::JsonError) -> ApiError {
    not_understood(vr_app::json::DecodeError::Shape(e))
}

#[inline(never)]
fn not_understood(e: vr_app::json::DecodeError) -> ApiError {
    ApiError::client(
        "decode",
        format!("The server sent an answer this page does not understand ({e})."),
    )
}

/// An answer on its way, made into a `T` by `finish` when it arrives. A plain future rather
/// than an `async fn` per endpoint: each of those was a state machine of its own in the wasm,
/// where this is one small `poll` per answer type.
#[must_use = "a reply does nothing unless awaited"]
pub struct Reply<T> {
    answer: Answer,
    finish: fn(u16, String) -> Result<T, ApiError>,
}

impl<T> Future for Reply<T> {
    type Output = Result<T, ApiError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let finish = self.finish;
        self.answer
            .as_mut()
            .poll(cx)
            .map(|answer| answer.and_then(|(status, text)| finish(status, text)))
    }
}

fn json<T: FromJson>(_status: u16, text: String) -> Result<T, ApiError> {
    decode(&text)
}

fn unit(_status: u16, _text: String) -> Result<(), ApiError> {
    Ok(())
}

fn json_with_status<T: FromJson>(status: u16, text: String) -> Result<(u16, T), ApiError> {
    Ok((status, decode(&text)?))
}

/// `method path` with `body` encoded as JSON (an encoding error is the answer).
fn with_body<B: Serialize>(method: &'static str, path: &str, body: &B) -> Answer {
    match serde_json::to_string(body) {
        Ok(text) => request(method, path, Some(text)),
        Err(e) => not_encoded(e),
    }
}

#[inline(never)]
fn not_encoded(e: serde_json::Error) -> Answer {
    let error = ApiError::client("encode", format!("Cannot encode the request ({e})."));
    Box::pin(std::future::ready(Err(error)))
}

/// `GET path`, decoding the JSON answer.
pub fn get<T: FromJson>(path: &str) -> Reply<T> {
    Reply {
        answer: request("GET", path, None),
        finish: json,
    }
}

/// `POST path` with a JSON body, decoding the JSON answer.
pub fn post<B: Serialize, T: FromJson>(path: &str, body: &B) -> Reply<T> {
    Reply {
        answer: with_body("POST", path, body),
        finish: json,
    }
}

/// `POST path` with a JSON body, decoding the JSON answer and returning its status with it.
pub fn post_with_status<B: Serialize, T: FromJson>(path: &str, body: &B) -> Reply<(u16, T)> {
    Reply {
        answer: with_body("POST", path, body),
        finish: json_with_status,
    }
}

/// `PATCH path` with a JSON body.
pub fn patch<B: Serialize, T: FromJson>(path: &str, body: &B) -> Reply<T> {
    Reply {
        answer: with_body("PATCH", path, body),
        finish: json,
    }
}

/// `PUT path` with a JSON body (the whole record), decoding the JSON answer.
pub fn put<B: Serialize, T: FromJson>(path: &str, body: &B) -> Reply<T> {
    Reply {
        answer: with_body("PUT", path, body),
        finish: json,
    }
}

/// `POST path` without a body, decoding the JSON answer.
pub fn post_empty_json<T: FromJson>(path: &str) -> Reply<T> {
    Reply {
        answer: request("POST", path, None),
        finish: json,
    }
}

/// `POST path` with a JSON body, ignoring whatever the answer carries (usually a 204).
pub fn post_unit<B: Serialize>(path: &str, body: &B) -> Reply<()> {
    Reply {
        answer: with_body("POST", path, body),
        finish: unit,
    }
}

/// `POST path` without a body, ignoring whatever the answer carries.
pub fn post_empty(path: &str) -> Reply<()> {
    Reply {
        answer: request("POST", path, None),
        finish: unit,
    }
}

/// `DELETE path`, ignoring whatever the answer carries (usually a 204).
pub fn delete(path: &str) -> Reply<()> {
    Reply {
        answer: request("DELETE", path, None),
        finish: unit,
    }
}

// ---- Endpoints -------------------------------------------------------------------------------

pub fn version() -> Reply<VersionInfo> {
    get(paths::VERSION)
}

pub fn setup_status() -> Reply<SetupStatus> {
    get(paths::SETUP)
}

pub fn setup(req: &SetupRequest) -> Reply<Me> {
    post(paths::SETUP, req)
}

pub fn login(req: &LoginRequest) -> Reply<Me> {
    post(paths::LOGIN, req)
}

pub fn logout() -> Reply<()> {
    post_empty(paths::LOGOUT)
}

/// `GET /api/auth/session`.
pub fn auth_session() -> Reply<AuthSession> {
    get(paths::SESSION)
}

pub fn me() -> Reply<Me> {
    get(paths::ME)
}

pub fn change_password(req: &ChangePassword) -> Reply<()> {
    post_unit(paths::PASSWORD, req)
}

pub fn tokens() -> Reply<Vec<ApiToken>> {
    get(paths::TOKENS)
}

pub fn create_token(req: &NewToken) -> Reply<CreatedToken> {
    post(paths::TOKENS, req)
}

pub fn revoke_token(id: i64) -> Reply<()> {
    delete(&format!("{}/{id}", paths::TOKENS))
}

pub fn users() -> Reply<Vec<User>> {
    get(paths::USERS)
}

pub fn create_user(req: &NewUser) -> Reply<User> {
    post(paths::USERS, req)
}

pub fn update_user(id: i64, patch_body: &UserPatch) -> Reply<User> {
    patch(&format!("{}/{id}", paths::USERS), patch_body)
}

pub fn delete_user(id: i64) -> Reply<()> {
    delete(&format!("{}/{id}", paths::USERS))
}

pub fn ssh_key() -> Reply<SshKey> {
    get(paths::SSH_KEY)
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
pub fn events(q: &EventQuery) -> Reply<Vec<Event>> {
    get(&format!("{}{}", paths::EVENTS, event_query_string(q)))
}
