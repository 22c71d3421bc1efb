//! The API's routes, registered through [`Api`], which records each one's method, path,
//! summary and who may call it next to the handler, and reads its request and answer types
//! from the handler's signature ([`describe`]). [`document`] turns the record into the OpenAPI
//! 3.1 document served at `/api/openapi.json`; a test checks the record against the router.

pub mod describe;
mod document;

pub use document::{document, sample_path};

use crate::state::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use describe::{Describe, Output, Parts, schema_of};
use schemars::JsonSchema;

/// How a route's caller is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Open,
    /// The session cookie (changes also carry the CSRF header) or an API token as bearer.
    SignedIn,
    /// VR's client: HTTP Basic (a password or an API token), or a bearer token.
    Basic,
}

/// One documented operation.
#[derive(Debug, Clone)]
pub struct Op {
    pub method: Method,
    pub path: String,
    pub summary: &'static str,
    pub access: Access,
    pub parts: Parts,
    /// The success status when the handler's type does not tell it.
    pub status: Option<u16>,
    /// The content type of an answer the handler builds itself.
    pub content: Option<&'static str>,
}

/// A router being built, with the record of what it routes.
pub struct Api {
    router: Router<AppState>,
    ops: Vec<Op>,
    access: Access,
}

impl Api {
    pub fn new(access: Access) -> Api {
        Api {
            router: Router::new(),
            ops: Vec::new(),
            access,
        }
    }

    /// Routes `method path` to `handler`, with `wrap` applied to its method router.
    pub fn route_with<H, T, M>(
        mut self,
        method: Method,
        path: &str,
        summary: &'static str,
        handler: H,
        wrap: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>,
    ) -> Api
    where
        H: Handler<T, AppState> + Describe<M>,
        T: 'static,
    {
        let parts = <H as Describe<M>>::parts();
        let mr = match method {
            Method::GET => get(handler),
            Method::POST => post(handler),
            Method::PUT => put(handler),
            Method::PATCH => patch(handler),
            Method::DELETE => delete(handler),
            // Only the methods above are routed; anything else is a mistake in this file.
            _ => unreachable!("unrouted method {method}"),
        };
        self.router = self.router.route(path, wrap(mr));
        self.ops.push(Op {
            method,
            path: path.to_string(),
            summary,
            access: self.access,
            parts,
            status: None,
            content: None,
        });
        self
    }

    pub fn route<H, T, M>(self, method: Method, path: &str, summary: &'static str, h: H) -> Api
    where
        H: Handler<T, AppState> + Describe<M>,
        T: 'static,
    {
        self.route_with(method, path, summary, h, |mr| mr)
    }

    pub fn get<H, T, M>(self, path: &str, summary: &'static str, h: H) -> Api
    where
        H: Handler<T, AppState> + Describe<M>,
        T: 'static,
    {
        self.route(Method::GET, path, summary, h)
    }

    pub fn post<H, T, M>(self, path: &str, summary: &'static str, h: H) -> Api
    where
        H: Handler<T, AppState> + Describe<M>,
        T: 'static,
    {
        self.route(Method::POST, path, summary, h)
    }

    pub fn put<H, T, M>(self, path: &str, summary: &'static str, h: H) -> Api
    where
        H: Handler<T, AppState> + Describe<M>,
        T: 'static,
    {
        self.route(Method::PUT, path, summary, h)
    }

    pub fn patch<H, T, M>(self, path: &str, summary: &'static str, h: H) -> Api
    where
        H: Handler<T, AppState> + Describe<M>,
        T: 'static,
    {
        self.route(Method::PATCH, path, summary, h)
    }

    pub fn delete<H, T, M>(self, path: &str, summary: &'static str, h: H) -> Api
    where
        H: Handler<T, AppState> + Describe<M>,
        T: 'static,
    {
        self.route(Method::DELETE, path, summary, h)
    }

    fn last(&mut self) -> &mut Op {
        // Called right after a route was added.
        let n = self.ops.len();
        &mut self.ops[n - 1]
    }

    /// The last route answers `T` as JSON with `status` (for handlers that build their answer).
    pub fn returns<T: JsonSchema>(mut self, status: u16) -> Api {
        let op = self.last();
        op.parts.output = Output::Json {
            schema: schema_of::<T>,
            created: false,
        };
        op.status = Some(status);
        self
    }

    /// The last route's answer is of `content_type` (a download, a page).
    pub fn content(mut self, content_type: &'static str) -> Api {
        self.last().content = Some(content_type);
        self
    }

    /// The last route's success status, where its type does not say.
    pub fn status(mut self, status: u16) -> Api {
        self.last().status = Some(status);
        self
    }

    /// `other`'s routes and record added to these.
    pub fn merge(mut self, other: Api) -> Api {
        self.router = self.router.merge(other.router);
        self.ops.extend(other.ops);
        self
    }

    /// Applies `f` to the router built so far (an authentication layer).
    pub fn map_router(mut self, f: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Api {
        self.router = f(self.router);
        self
    }

    pub fn finish(self) -> (Router<AppState>, Vec<Op>) {
        (self.router, self.ops)
    }
}
