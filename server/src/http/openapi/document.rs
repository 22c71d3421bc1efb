//! The OpenAPI 3.1 document of the recorded routes: paths with their parameters, bodies and
//! answers (JSON Schema 2020-12 from the `app` types: what the server sends, and what it
//! accepts, which may differ where fields have defaults), the error shape, the authentication
//! schemes, and the role each operation needs (`x-vr-role`, from the same rules the middleware
//! enforces).

use super::describe::{Body, Output};
use super::{Access, Op};
use crate::http::principal;
use axum::http::Method;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const SCHEMAS: &str = "/components/schemas";
const REF_PREFIX: &str = "#/components/schemas/";

fn generator(deserialize: bool) -> SchemaGenerator {
    let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = SCHEMAS.into());
    if deserialize {
        settings.for_deserialize().into_generator()
    } else {
        settings.for_serialize().into_generator()
    }
}

/// The role an operation needs, as `principal::authenticate` and the compat layer decide it.
fn role(op: &Op) -> &'static str {
    let sample = sample_path(&op.path);
    match op.access {
        Access::Open => "none",
        _ if matches!(op.method, Method::GET | Method::HEAD) => "viewer",
        Access::Basic => "deployer",
        Access::SignedIn if principal::is_admin_only(&op.method, &sample) => "admin",
        Access::SignedIn if principal::is_self_service(&op.method, &sample) => "any",
        Access::SignedIn => "deployer",
    }
}

/// `path` with each `{param}` given a value.
pub fn sample_path(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push('1');
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

fn path_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

fn operation_id(op: &Op) -> String {
    let path: String = op
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{}{}", op.method.as_str().to_ascii_lowercase(), path)
}

/// The schema `r` stands for when it is a reference into `defs`.
fn resolved<'a>(r: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    r.get("$ref")
        .and_then(Value::as_str)
        .and_then(|s| s.strip_prefix(REF_PREFIX))
        .and_then(|name| defs.get(name))
        .unwrap_or(r)
}

fn parameters(op: &Op, de: &mut SchemaGenerator) -> Vec<Value> {
    let mut out = Vec::new();
    let names = path_params(&op.path);
    let path_schema = op.parts.path.map(|f| f(de).to_value());
    for (i, name) in names.iter().enumerate() {
        let schema = match &path_schema {
            Some(s) => match s.get("prefixItems").and_then(Value::as_array) {
                Some(items) => items.get(i).cloned().unwrap_or(json!({"type": "string"})),
                None => s.clone(),
            },
            None => json!({"type": "string"}),
        };
        out.push(json!({"name": name, "in": "path", "required": true, "schema": schema}));
    }
    if let Some(q) = op.parts.query {
        let schema = q(de).to_value();
        let object = resolved(&schema, de.definitions());
        match object.get("properties").and_then(Value::as_object) {
            Some(props) => {
                let required: Vec<&str> = object
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for (name, schema) in props {
                    out.push(json!({
                        "name": name,
                        "in": "query",
                        "required": required.contains(&name.as_str()),
                        "schema": schema,
                    }));
                }
            }
            // A free-form query (the VR compatibility lists' filters).
            None => out.push(json!({
                "name": "filters",
                "in": "query",
                "style": "form",
                "explode": true,
                "schema": object,
            })),
        }
    }
    out
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

fn responses(op: &Op, ser: &mut SchemaGenerator) -> Value {
    let mut out = Map::new();
    let created = if op.method == Method::POST { 201 } else { 200 };
    let (status, body) = match op.parts.output {
        Output::Json { schema, created: c } => {
            let status = op.status.unwrap_or(if c { created } else { 200 });
            (
                status,
                json!({"description": "OK", "content": json_content(schema(ser).to_value())}),
            )
        }
        Output::NoContent => (
            op.status.unwrap_or(204),
            json!({"description": "Done; no content"}),
        ),
        Output::EventStream => (
            200,
            json!({"description": "Server-sent events: one `LiveMessage` (JSON) per event",
                   "content": {"text/event-stream": {"schema": {"type": "string"}}}}),
        ),
        Output::Opaque => (
            op.status.unwrap_or(200),
            json!({"description": "OK",
                   "content": {op.content.unwrap_or("application/octet-stream"): {"schema": {}}}}),
        ),
    };
    out.insert(status.to_string(), body);
    out.insert(
        "default".into(),
        json!({"$ref": "#/components/responses/Error"}),
    );
    Value::Object(out)
}

fn security(access: Access) -> Value {
    match access {
        Access::Open => json!([]),
        Access::SignedIn => json!([{"session": []}, {"token": []}]),
        Access::Basic => json!([{"basic": []}, {"token": []}]),
    }
}

/// Replaces references to the renamed definitions, everywhere in `v`.
fn rename_refs(v: &mut Value, renamed: &BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(new) = r
                    .strip_prefix(REF_PREFIX)
                    .and_then(|name| renamed.get(name))
            {
                *r = format!("{REF_PREFIX}{new}");
            }
            m.values_mut().for_each(|x| rename_refs(x, renamed));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename_refs(x, renamed)),
        _ => {}
    }
}

/// The OpenAPI document of `ops`.
pub fn document(ops: &[Op], version: &str) -> Value {
    let mut ser = generator(false);
    let mut de = generator(true);
    let error = ser.subschema_for::<vr_app::ErrorBody>().to_value();
    // Request parts (bodies, queries, paths) in `de`, answers in `ser`, kept apart until the
    // definitions are merged below.
    let mut requests: Vec<(String, String, Value)> = Vec::new();
    let mut answers: Vec<Value> = Vec::new();
    for op in ops {
        let mut o = Map::new();
        o.insert("operationId".into(), operation_id(op).into());
        o.insert("summary".into(), op.summary.into());
        let tag = op.path.split('/').nth(2).unwrap_or("api");
        o.insert("tags".into(), json!([tag]));
        o.insert("parameters".into(), parameters(op, &mut de).into());
        match op.parts.body {
            Some(Body::Json(f)) => {
                o.insert(
                    "requestBody".into(),
                    json!({"required": true, "content": json_content(f(&mut de).to_value())}),
                );
            }
            Some(Body::Bytes) => {
                o.insert(
                    "requestBody".into(),
                    json!({"required": true, "content": {"application/gzip": {
                        "schema": {"type": "string", "contentMediaType": "application/gzip"}}}}),
                );
            }
            None => {}
        }
        o.insert("security".into(), security(op.access));
        o.insert("x-vr-role".into(), role(op).into());
        answers.push(responses(op, &mut ser));
        requests.push((
            op.path.clone(),
            op.method.as_str().to_ascii_lowercase(),
            Value::Object(o),
        ));
    }
    let mut schemas = ser.take_definitions(true);
    let de_defs = de.take_definitions(true);
    // A type read and written differently (defaults make fields optional on input) is
    // documented twice: `Name` as sent, `NameInput` as accepted.
    let mut renamed = BTreeMap::new();
    for (name, schema) in &de_defs {
        if schemas.get(name).is_some_and(|s| s != schema) {
            renamed.insert(name.clone(), format!("{name}Input"));
        }
    }
    for (name, mut schema) in de_defs {
        rename_refs(&mut schema, &renamed);
        let key = renamed.get(&name).cloned().unwrap_or(name);
        schemas.insert(key, schema);
    }
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for ((path, method, mut o), answer) in requests.into_iter().zip(answers) {
        rename_refs(&mut o, &renamed);
        if let Value::Object(m) = &mut o {
            m.insert("responses".into(), answer);
        }
        paths.entry(path).or_default().insert(method, o);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "vr",
            "version": version,
            "description": "vr's HTTP API. Errors are `{\"error\": {\"code\", \"message\", \"field\"}}` \
                with the status that fits. `x-vr-role` on each operation names the least role it \
                needs (`none`: open; `any`: any signed-in user). A change authenticated by the \
                session cookie must carry the `x-vr-csrf` header. `/api/v1/` is Velociraptor's \
                API for its client and scripts.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Error": {
                    "description": "The request failed; the body says why",
                    "content": json_content(error),
                }
            },
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": vr_app::api::SESSION_COOKIE},
                "token": {"type": "http", "scheme": "bearer", "description": "An API token (`vr login`, Settings → Tokens)"},
                "basic": {"type": "http", "scheme": "basic", "description": "A username and its password or one of its API tokens"},
            },
        },
    })
}
