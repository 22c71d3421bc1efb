//! The API's one error type, turned into a status and `{ "error": { code, message, field } }`
//! in one place. Causes of 5xx are logged and never sent to the client.

use crate::store::StoreError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vr_app::ErrorBody;
use vr_app::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Csrf(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// A body, query or path axum could not accept, with the status it chose (400, 413, 415, 422).
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
    /// Like [`ApiError::Rejected`], naming the field at fault.
    #[error("{message}")]
    RejectedField {
        status: StatusCode,
        field: String,
        message: String,
    },
    #[error("{0}")]
    TooManyRequests(String),
    /// The server is too busy for this now (e.g. too many sign-ins waiting).
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// A host failed while doing what was asked (its exact error).
    #[error("{0}")]
    Remote(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Csrf(_) => (StatusCode::FORBIDDEN, "csrf"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Rejected { status, .. } | ApiError::RejectedField { status, .. } => {
                (*status, "invalid")
            }
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::Remote(_) => (StatusCode::BAD_GATEWAY, "host_error"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let (message, field) = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ("internal error; see the server log".to_string(), None)
            }
            ApiError::Invalid { field, .. } | ApiError::Conflict { field, .. } => {
                (self.to_string(), field.clone())
            }
            ApiError::RejectedField { field, .. } => (self.to_string(), Some(field.clone())),
            _ => (self.to_string(), None),
        };
        (
            status,
            Json(ErrorBody::new(code, message, field.as_deref())),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => ApiError::NotFound(what),
            StoreError::Conflict { field, message } => ApiError::Conflict {
                field: field.map(str::to_string),
                message,
            },
            StoreError::Invalid(i) => i.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<crate::fleet::ActionError> for ApiError {
    fn from(e: crate::fleet::ActionError) -> Self {
        use crate::fleet::ActionError;
        match e {
            ActionError::Store(s) => s.into(),
            ActionError::HostUnavailable(message) => ApiError::Conflict {
                field: None,
                message,
            },
            ActionError::Remote(r) => ApiError::Remote(r.to_string()),
        }
    }
}

impl From<crate::jobs::pools::PoolError> for ApiError {
    fn from(e: crate::jobs::pools::PoolError) -> Self {
        match e {
            crate::jobs::pools::PoolError::Store(e) => e.into(),
        }
    }
}

impl From<crate::jobs::JobError> for ApiError {
    fn from(e: crate::jobs::JobError) -> Self {
        use crate::jobs::JobError;
        match e {
            JobError::Store(s) => s.into(),
            JobError::Refused(message) => ApiError::Conflict {
                field: None,
                message,
            },
            JobError::Invalid(message) => ApiError::Invalid {
                field: None,
                message,
            },
            JobError::Field { field, message } => ApiError::Invalid {
                field: Some(field.to_string()),
                message,
            },
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::Invalid {
            field: Some(e.field.to_string()),
            message: e.message,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The largest JSON body accepted (axum's default limit).
pub const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;

/// A serde message such as `port: invalid type: string "x", expected u16 at line 1 column 9`
/// or ``unknown field `descripton`, expected one of …``: the field it names, and the message
/// without the position (which is about the JSON text, not the field).
fn serde_field(text: &str) -> (Option<String>, String) {
    let text = text.trim();
    let text = text
        .rsplit_once(" at line ")
        .filter(|(_, pos)| pos.contains(" column "))
        .map_or(text, |(msg, _)| msg);
    let quoted = |marker: &str| {
        text.split_once(marker)
            .and_then(|(_, rest)| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(f) = quoted("unknown field `").or_else(|| quoted("missing field `")) {
        let message = if text.contains("unknown field") {
            format!("unknown field {f:?}: it is not part of this request (misspelt?)")
        } else {
            format!("{f} is required")
        };
        return (Some(f), message);
    }
    if let Some((path, rest)) = text.split_once(": ")
        && !path.is_empty()
        && path != "."
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'))
    {
        return (Some(path.to_string()), format!("{path}: {rest}"));
    }
    (None, text.to_string())
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let text = r.body_text();
        match r {
            JsonRejection::JsonDataError(_) => {
                let detail = text
                    .split_once("target type: ")
                    .map_or(text.as_str(), |(_, d)| d);
                match serde_field(detail) {
                    (Some(field), message) => ApiError::RejectedField {
                        status,
                        field,
                        message,
                    },
                    (None, message) => ApiError::Rejected { status, message },
                }
            }
            JsonRejection::JsonSyntaxError(_) => ApiError::Rejected {
                status,
                message: format!(
                    "the body is not valid JSON: {}",
                    text.split_once("as JSON: ")
                        .map_or(text.as_str(), |(_, d)| d)
                ),
            },
            JsonRejection::MissingJsonContentType(_) => ApiError::Rejected {
                status,
                message: "send the body as JSON, with Content-Type: application/json".into(),
            },
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => ApiError::Rejected {
                status,
                message: format!(
                    "the request body is larger than the limit of {} MiB",
                    MAX_JSON_BYTES / (1024 * 1024)
                ),
            },
            _ => ApiError::Rejected {
                status,
                message: "the request body could not be read".into(),
            },
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let text = r.body_text();
        let detail = text
            .split_once("query string: ")
            .map_or(text.as_str(), |(_, d)| d);
        match serde_field(detail) {
            (Some(field), message) => ApiError::RejectedField {
                status: StatusCode::BAD_REQUEST,
                field,
                message,
            },
            (None, message) => ApiError::Rejected {
                status: StatusCode::BAD_REQUEST,
                message: format!("bad query: {message}"),
            },
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        let text = r.body_text();
        // axum says "Cannot parse `abc` to a `i64`": name the kind, not the Rust type.
        let message = match text.split_once("Cannot parse `") {
            Some((_, rest)) => {
                let value = rest.split('`').next().unwrap_or_default();
                if text.contains("i64") || text.contains("u32") || text.contains("u16") {
                    format!("{value:?} in the path is not a number")
                } else {
                    format!("{value:?} in the path is not valid here")
                }
            }
            None => "the path is not valid here".to_string(),
        };
        ApiError::Rejected {
            status: StatusCode::BAD_REQUEST,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::serde_field;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            serde_field(
                "unknown field `descripton`, expected `name` or `description` at line 1 column 14"
            ),
            (
                Some("descripton".into()),
                "unknown field \"descripton\": it is not part of this request (misspelt?)".into()
            )
        );
        assert_eq!(
            serde_field("missing field `address` at line 1 column 2")
                .0
                .as_deref(),
            Some("address")
        );
        let (f, m) =
            serde_field("port: invalid type: string \"x\", expected u16 at line 1 column 9");
        assert_eq!(f.as_deref(), Some("port"));
        assert!(!m.contains("line 1"), "{m}");
        assert_eq!(serde_field("expected value").0, None);
    }
}
