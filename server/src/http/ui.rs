//! The web UI, embedded in the binary at build time from `frontend/dist` (built by Trunk).
//! Unknown paths outside `/api/` get `index.html` so client-side routes work on reload.

use super::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../frontend/dist"]
#[allow_missing = true]
struct Assets;

const NOT_BUILT: &str = "<!doctype html><title>vr</title><p>The web UI was not built into this \
binary. Build it with <code>scripts/build-ui.sh</code> and rebuild vr; the API under /api/ works.</p>";

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return ApiError::NotFound(format!("API route {}", uri.path())).into_response();
    }
    if let Some(resp) = asset(path, &headers) {
        return resp;
    }
    // A missing file (it has an extension) is a real 404; anything else is a client route.
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    asset("index.html", &headers).unwrap_or_else(|| {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response()
    })
}

fn asset(path: &str, headers: &HeaderMap) -> Option<Response> {
    let path = if path.is_empty() { "index.html" } else { path };
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    // Trunk puts a content hash in every file name but index.html: those never change.
    let cache = if path == "index.html" {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    };
    let mut builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, cache);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .ok();
    }
    let mime = HeaderValue::from_str(file.metadata.mimetype())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    builder = builder.header(header::CONTENT_TYPE, mime);
    builder.body(Body::from(file.data.into_owned())).ok()
}

/// The embedded `index.html`, if the UI was built in.
pub fn index_html() -> Option<String> {
    Assets::get("index.html").map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// True when the UI was embedded (false in a build made before `frontend/dist` existed).
pub fn embedded() -> bool {
    Assets::get("index.html").is_some()
}
