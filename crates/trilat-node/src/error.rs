//! The one error type of every handler: JSON `{"error": {"code", "message"}}`
//! with a stable code; 4xx carry the reason, 500 carries none (it is logged).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use trilat_store::StoreError;

/// An error answered to an HTTP caller.
#[derive(Debug)]
pub struct AppError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `invalid_report`.
    pub code: &'static str,
    /// Human text; replaced by a generic message for 5xx.
    pub message: String,
}

impl AppError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
        }
    }
    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401: no or unknown credentials.
    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    /// 403: known caller, not allowed.
    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// 404: nothing the caller may see is here.
    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 500: an internal fault; the detail is logged, not answered.
    pub fn internal(detail: impl std::fmt::Display) -> AppError {
        tracing::error!(%detail, "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            detail.to_string(),
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for AppError {}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // Internal errors may carry store or engine details: those stay in the
        // log. "Unavailable" (engines starting) says what to do, so it is shown.
        let message =
            if self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE {
                "internal error; see the node's log".to_string()
            } else {
                self.message
            };
        let body = serde_json::json!({ "error": { "code": self.code, "message": message } });
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Refused(reason) => {
                AppError::new(StatusCode::CONFLICT, "refused", reason.to_string())
            }
            StoreError::BadCursor(reason) => AppError::bad_request("bad_cursor", reason),
            StoreError::Invalid(reason) => AppError::bad_request("invalid_request", reason),
            StoreError::Fenced(reason) => AppError::new(StatusCode::CONFLICT, "fenced", reason),
            e @ StoreError::LimitExceeded { .. } => {
                AppError::bad_request("limit_exceeded", e.to_string())
            }
            other => AppError::internal(other),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        let code = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "invalid_json",
        };
        AppError::new(rejection.status(), code, rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> AppError {
        AppError::bad_request("invalid_query", rejection.body_text())
    }
}

/// `Json` whose rejections answer in the node's error format.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct JsonBody<T>(pub T);

/// `Query` whose rejections answer in the node's error format.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct QueryParams<T>(pub T);
