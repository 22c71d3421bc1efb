//! Response headers that keep the UI from being framed, sniffed or fed foreign scripts, and the
//! deadline of ordinary requests.

use super::error::ApiError;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use std::time::Duration;

/// Longest an ordinary request may take, body included (uploads have their own rules; live
/// streams answer at once and then stream).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest a request body may pause between two pieces.
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The Content-Security-Policy: only our own files run, plus the one inline start-up script
/// Trunk writes into `index.html`, allowed by its hash; WebAssembly may be compiled; nothing
/// may frame the UI.
pub fn content_security_policy(index_html: &str) -> String {
    let scripts: Vec<String> = inline_scripts(index_html)
        .iter()
        .map(|s| {
            use base64::Engine;
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
            )
        })
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        scripts.join(" ")
    )
}

/// The bodies of `<script>` elements without a `src`, as a browser hashes them.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let tag = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            out.push(&after[body_start..body_start + close]);
        }
        rest = &after[body_start + close..];
    }
    out
}

static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let index = super::ui::index_html().unwrap_or_default();
    HeaderValue::from_str(&content_security_policy(&index)).unwrap_or(HeaderValue::from_static(
        "default-src 'self'; frame-ancestors 'none'",
    ))
});

/// Adds the security headers to every response that does not set them itself.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CSP.clone()),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    for (name, value) in set {
        h.entry(name).or_insert(value);
    }
    resp
}

/// Ends a request that takes longer than [`REQUEST_TIMEOUT`] with a 503 in our error format.
pub async fn deadline(req: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout(format!(
            "the request took longer than {} s and was stopped",
            REQUEST_TIMEOUT.as_secs()
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_inline_start_up_script() {
        let html = "<head><script type=\"module\">\nimport init from '/a.js';\n</script>\
                    <script src=\"/b.js\"></script></head>";
        let csp = content_security_policy(html);
        use base64::Engine;
        let want = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"\nimport init from '/a.js';\n"));
        assert!(csp.contains(&format!("'sha256-{want}'")), "{csp}");
        assert_eq!(csp.matches("'sha256-").count(), 1, "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
