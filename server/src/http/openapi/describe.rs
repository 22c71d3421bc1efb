//! What a handler's signature says about its request and answer: a JSON body (`ApiJson<T>`),
//! a query (`ApiQuery<T>`), path parameters (`ApiPath<T>`), a raw body, and what it returns.
//! Read from the handler's type when the route is registered, so the document cannot drift
//! from the code.

use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, ClientAddr};
use crate::http::principal::Principal;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::response::sse::Sse;
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Makes a type's schema in a generator (a reference for named types).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub fn schema_of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

#[derive(Debug, Clone, Copy)]
pub enum Body {
    Json(SchemaFn),
    /// Raw bytes (an upload).
    Bytes,
}

#[derive(Debug, Clone, Copy, Default)]
pub enum Output {
    /// JSON with this schema; `created`: the handler chooses its 2xx status (201, 202).
    Json { schema: SchemaFn, created: bool },
    /// A status and no body (204).
    NoContent,
    /// Server-sent events.
    EventStream,
    /// A response the handler builds itself; the route names its content.
    #[default]
    Opaque,
}

/// A handler's request and answer as its signature gives them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts {
    pub body: Option<Body>,
    pub query: Option<SchemaFn>,
    pub path: Option<SchemaFn>,
    pub output: Output,
}

/// An extractor's part in the request.
pub trait DescribeArg {
    fn describe(_parts: &mut Parts) {}
}

impl<T: JsonSchema> DescribeArg for ApiJson<T> {
    fn describe(parts: &mut Parts) {
        parts.body = Some(Body::Json(schema_of::<T>));
    }
}

impl<T: JsonSchema> DescribeArg for ApiQuery<T> {
    fn describe(parts: &mut Parts) {
        parts.query = Some(schema_of::<T>);
    }
}

impl<T: JsonSchema> DescribeArg for ApiPath<T> {
    fn describe(parts: &mut Parts) {
        parts.path = Some(schema_of::<T>);
    }
}

impl DescribeArg for axum::body::Body {
    fn describe(parts: &mut Parts) {
        parts.body = Some(Body::Bytes);
    }
}

impl DescribeArg for State<AppState> {}
impl DescribeArg for Principal {}
impl DescribeArg for ClientAddr {}
impl DescribeArg for HeaderMap {}
impl DescribeArg for Uri {}

/// What a handler's success looks like.
pub trait DescribeOk {
    fn output() -> Output;
}

impl<T: JsonSchema> DescribeOk for Json<T> {
    fn output() -> Output {
        Output::Json {
            schema: schema_of::<T>,
            created: false,
        }
    }
}

impl<T: JsonSchema> DescribeOk for (StatusCode, Json<T>) {
    fn output() -> Output {
        Output::Json {
            schema: schema_of::<T>,
            created: true,
        }
    }
}

impl DescribeOk for StatusCode {
    fn output() -> Output {
        Output::NoContent
    }
}

impl DescribeOk for Response {
    fn output() -> Output {
        Output::Opaque
    }
}

impl<S> DescribeOk for Sse<S> {
    fn output() -> Output {
        Output::EventStream
    }
}

/// A handler's return type.
pub trait DescribeOutput {
    fn output() -> Output;
}

impl<T: DescribeOk> DescribeOutput for Result<T, ApiError> {
    fn output() -> Output {
        T::output()
    }
}

impl<T: JsonSchema> DescribeOutput for Json<T> {
    fn output() -> Output {
        <Json<T> as DescribeOk>::output()
    }
}

impl DescribeOutput for Response {
    fn output() -> Output {
        Output::Opaque
    }
}

/// A handler function, described by its argument and return types (`M` is the tuple of its
/// argument types, which tells the impls apart, as axum's `Handler` does).
pub trait Describe<M> {
    fn parts() -> Parts;
}

macro_rules! describe_fn {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)*> Describe<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: std::future::Future,
            Fut::Output: DescribeOutput,
            $($arg: DescribeArg,)*
        {
            fn parts() -> Parts {
                #[allow(unused_mut)]
                let mut parts = Parts::default();
                $(<$arg as DescribeArg>::describe(&mut parts);)*
                parts.output = <Fut::Output as DescribeOutput>::output();
                parts
            }
        }
    };
}

describe_fn!();
describe_fn!(A);
describe_fn!(A, B);
describe_fn!(A, B, C);
describe_fn!(A, B, C, D);
describe_fn!(A, B, C, D, E);
describe_fn!(A, B, C, D, E, G);
describe_fn!(A, B, C, D, E, G, H);
