//! A small typed client for the API, used by the client commands.

use super::ClientArgs;
use super::credentials;
use anyhow::{Context, anyhow};
use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use vr_app::ErrorBody;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8000";
/// Longest wait for the next bytes of an answer, unless `--timeout` says otherwise.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Client {
    pub url: String,
    token: Option<String>,
    http: reqwest::Client,
    read_timeout: std::time::Duration,
}

impl Client {
    /// Flags and `VR_URL`/`VR_TOKEN` beat what `vr login` saved. The saved token is only sent
    /// to the server it was issued by, never to another URL.
    pub fn from_args(args: &ClientArgs) -> anyhow::Result<Client> {
        let saved = credentials::load()?;
        let url = args
            .url
            .clone()
            .or_else(|| saved.as_ref().map(|s| s.url.clone()))
            .unwrap_or_else(|| DEFAULT_URL.to_string());
        let url = url.trim_end_matches('/').to_string();
        let token = args
            .token
            .clone()
            .or_else(|| saved.filter(|s| s.url == url).map(|s| s.token));
        Client::with_timeout(&url, token, args.timeout_duration())
    }

    pub fn new(url: &str, token: Option<String>) -> anyhow::Result<Client> {
        Client::with_timeout(url, token, READ_TIMEOUT)
    }

    pub fn with_timeout(
        url: &str,
        token: Option<String>,
        read_timeout: std::time::Duration,
    ) -> anyhow::Result<Client> {
        let url = url.trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(anyhow!(
                "server URL {url:?} must start with http:// or https://"
            ));
        }
        // A server that accepts but never answers must not hang the CLI: every read has a
        // deadline (live streams get a heartbeat every 10 s, well within it).
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .read_timeout(read_timeout)
            .https_only(url.starts_with("https://"))
            .build()
            .context("building the HTTP client")?;
        Ok(Client {
            url,
            token,
            http,
            read_timeout,
        })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.url));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub fn require_token(&self) -> anyhow::Result<()> {
        if self.token.is_none() {
            return Err(anyhow!(
                "not signed in: run `vr login --url {}` or set VR_TOKEN",
                self.url
            ));
        }
        Ok(())
    }

    async fn send(&self, req: RequestBuilder) -> anyhow::Result<Response> {
        let resp = req.send().await.map_err(|e| {
            let why = if e.is_timeout() {
                format!(
                    "the vr server at {} did not answer within {} s",
                    self.url,
                    self.read_timeout.as_secs()
                )
            } else {
                format!("cannot reach the vr server at {}", self.url)
            };
            anyhow::Error::new(e).context(why)
        })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => match body.error.field {
                Some(field) => anyhow!("{} (field {field}; HTTP {status})", body.error.message),
                None => anyhow!("{} (HTTP {status})", body.error.message),
            },
            Err(_) => anyhow!("server answered HTTP {status}: {}", text.trim()),
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let resp = self.send(self.request(Method::GET, path)).await?;
        resp.json().await.context("decoding the server's answer")
    }

    pub async fn get_query<T: DeserializeOwned, Q: Serialize>(
        &self,
        path: &str,
        query: &Q,
    ) -> anyhow::Result<T> {
        let resp = self
            .send(self.request(Method::GET, path).query(query))
            .await?;
        resp.json().await.context("decoding the server's answer")
    }

    pub async fn post<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.send_json(Method::POST, path, body).await
    }

    pub async fn patch<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.send_json(Method::PATCH, path, body).await
    }

    /// Replaces a whole record.
    pub async fn put<T: DeserializeOwned, B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        self.send_json(Method::PUT, path, body).await
    }

    async fn send_json<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let resp = self.send(self.request(method, path).json(body)).await?;
        resp.json().await.context("decoding the server's answer")
    }

    /// A POST whose body is streamed from `file` (uploads), with query parameters.
    pub async fn post_stream<T: DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
        file: tokio::fs::File,
    ) -> anyhow::Result<T> {
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let resp = self
            .send(
                self.request(Method::POST, path)
                    .query(query)
                    .header(reqwest::header::CONTENT_TYPE, "application/gzip")
                    .body(body),
            )
            .await?;
        resp.json().await.context("decoding the server's answer")
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<()> {
        self.send(self.request(Method::DELETE, path)).await?;
        Ok(())
    }

    /// A streaming GET (for server-sent events); no overall timeout.
    pub async fn stream(&self, path: &str) -> anyhow::Result<Response> {
        self.send(self.request(Method::GET, path)).await
    }

    /// [`Client::stream`] with a query.
    pub async fn stream_query<Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> anyhow::Result<Response> {
        self.send(self.request(Method::GET, path).query(query))
            .await
    }
}

/// Hands the `data` of each server-sent event to `each` until it says stop (`Ok(false)`);
/// `Ok(true)` from here means the server ended the stream.
pub async fn each_event(
    resp: Response,
    mut each: impl FnMut(&str) -> anyhow::Result<bool>,
) -> anyhow::Result<bool> {
    use futures_util::StreamExt;
    let mut body = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = body.next().await {
        buf.extend_from_slice(&chunk.context("the live stream broke")?);
        // SSE: messages end with a blank line; `data:` lines carry the JSON. Cut on bytes, so
        // a character split across two reads is whole when decoded.
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let message: Vec<u8> = buf.drain(..end + 2).collect();
            let message = String::from_utf8_lossy(&message);
            let data: String = message
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if !data.is_empty() && !each(&data)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// A client for a command that needs to be signed in.
pub fn client(args: &ClientArgs) -> anyhow::Result<Client> {
    let c = Client::from_args(args)?;
    c.require_token()?;
    Ok(c)
}

/// `--json` output: pretty JSON on stdout.
pub fn print_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).context("encoding JSON")?
    );
    Ok(())
}
