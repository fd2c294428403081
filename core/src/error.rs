//! The one API error type. Every failure a client can see is one of these;
//! the worker maps it to an HTTP response in exactly one place.

use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    /// Bad input: names the offending field.
    Validation {
        field: String,
        message: String,
    },
    InvalidUrl {
        field: String,
        message: String,
    },
    /// A URL of the link is on a host the operator blocked: names the field.
    DestinationBlocked {
        field: String,
        message: String,
    },
    SlugReserved(String),
    SlugExists(String),
    LimitReached(String),
    DomainNotVerified(String),
    Conflict(String),
    RateLimited {
        retry_after_secs: u64,
    },
    PayloadTooLarge(String),
    MethodNotAllowed,
    /// The Content-Type the endpoint takes (`application/json`, `text/csv`).
    UnsupportedMediaType(&'static str),
    /// Details are logged by the caller, never sent.
    Internal,
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn invalid_url(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidUrl {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::Validation { .. }
            | ApiError::InvalidUrl { .. }
            | ApiError::DestinationBlocked { .. } => 400,
            ApiError::SlugReserved(_) | ApiError::SlugExists(_) | ApiError::Conflict(_) => 409,
            ApiError::LimitReached(_) => 403,
            ApiError::DomainNotVerified(_) => 400,
            ApiError::RateLimited { .. } => 429,
            ApiError::PayloadTooLarge(_) => 413,
            ApiError::MethodNotAllowed => 405,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Internal => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Validation { .. } => "VALIDATION_ERROR",
            ApiError::InvalidUrl { .. } => "INVALID_URL",
            ApiError::DestinationBlocked { .. } => "DESTINATION_BLOCKED",
            ApiError::SlugReserved(_) => "SLUG_RESERVED",
            ApiError::SlugExists(_) => "SLUG_EXISTS",
            ApiError::LimitReached(_) => "LIMIT_REACHED",
            ApiError::DomainNotVerified(_) => "DOMAIN_NOT_VERIFIED",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::Internal => "INTERNAL",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::SlugReserved(m)
            | ApiError::SlugExists(m)
            | ApiError::LimitReached(m)
            | ApiError::DomainNotVerified(m)
            | ApiError::Conflict(m)
            | ApiError::PayloadTooLarge(m) => m.clone(),
            ApiError::Validation { field, message }
            | ApiError::InvalidUrl { field, message }
            | ApiError::DestinationBlocked { field, message } => format!("{field}: {message}"),
            ApiError::RateLimited { retry_after_secs } => {
                format!("Too many requests; retry in {retry_after_secs} s")
            }
            ApiError::MethodNotAllowed => "Method not allowed".into(),
            ApiError::UnsupportedMediaType(t) => format!("Content-Type must be {t}"),
            ApiError::Internal => "Internal error".into(),
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Validation { field, .. }
            | ApiError::InvalidUrl { field, .. }
            | ApiError::DestinationBlocked { field, .. } => Some(field),
            _ => None,
        }
    }

    /// `{"success": false, "error": {"code", "message", "field"?}}`
    pub fn envelope(&self) -> Value {
        let mut error = json!({"code": self.code(), "message": self.message()});
        if let Some(f) = self.field() {
            error["field"] = Value::String(f.to_string());
        }
        json!({"success": false, "error": error})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_names_the_field() {
        let e = ApiError::validation("slug", "too long");
        assert_eq!(e.status(), 400);
        let v = e.envelope();
        assert_eq!(v["success"], false);
        assert_eq!(v["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(v["error"]["field"], "slug");
        assert!(v["error"]["message"].as_str().unwrap().contains("slug"));
    }

    #[test]
    fn internal_leaks_nothing() {
        let v = ApiError::Internal.envelope();
        assert_eq!(v["error"]["message"], "Internal error");
        assert!(v["error"].get("field").is_none());
    }
}
