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
    #[error("{0}")]
    TooManyRequests(String),
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
            ApiError::Rejected { status, .. } => (*status, "invalid"),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
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

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::Rejected {
            status: r.status(),
            message: r.body_text(),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
