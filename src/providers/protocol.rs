//! How what a worker sends the chat actor is written and read: a [`Completion`], or a
//! [`ProviderError`] tagged by `kind` (`{"kind": "auth", "status": 401, "message":
//! ...}`), and the [`Turn`]s of a job. The JSON is the one serde's derives wrote: an
//! error's optional fields are written, as null when absent.

use super::{Completion, ProviderError, Turn};
use crate::json::{Fields, FromJson, Json, JsonError, Object, ToJson};

impl ToJson for Turn {
    fn to_json(&self) -> Json {
        crate::json::object! { "role": self.role, "content": self.content }
    }
}

impl FromJson for Turn {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a turn")?;
        Ok(Self {
            role: f.take("role")?,
            content: f.take("content")?,
        })
    }
}

impl ToJson for Completion {
    fn to_json(&self) -> Json {
        crate::json::object! { "content": self.content, "model": self.model, "usage": self.usage }
    }
}

impl FromJson for Completion {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a completion")?;
        Ok(Self {
            content: f.take("content")?,
            model: f.take("model")?,
            usage: f.take("usage")?,
        })
    }
}

impl ToJson for ProviderError {
    fn to_json(&self) -> Json {
        let kind = |kind: &str| Object::new().with("kind", kind);
        match self {
            Self::NotConfigured { provider, hint } => kind("not_configured")
                .with("provider", provider)
                .with("hint", hint),
            Self::Unreachable { detail } => kind("unreachable").with("detail", detail),
            Self::Auth { status, message } => {
                kind("auth").with("status", status).with("message", message)
            }
            Self::RateLimited {
                retry_after,
                message,
            } => kind("rate_limited")
                .with("retry_after", retry_after)
                .with("message", message),
            Self::Rejected { status, message } => kind("rejected")
                .with("status", status)
                .with("message", message),
            Self::Upstream { status, message } => kind("upstream")
                .with("status", status)
                .with("message", message),
            Self::Malformed { detail } => kind("malformed").with("detail", detail),
            Self::Empty => kind("empty"),
            Self::Overloaded {
                status,
                message,
                retry_after,
            } => kind("overloaded")
                .with("status", status)
                .with("message", message)
                .with("retry_after", retry_after),
            Self::ModelNotFound { message } => kind("model_not_found").with("message", message),
            Self::ContextTooLong { message } => kind("context_too_long").with("message", message),
            Self::Blocked { reason } => kind("blocked").with("reason", reason),
        }
        .build()
    }
}

impl FromJson for ProviderError {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a provider error")?;
        let kind: String = f.take("kind")?;
        Ok(match kind.as_str() {
            "not_configured" => Self::NotConfigured {
                provider: f.take("provider")?,
                hint: f.take("hint")?,
            },
            "unreachable" => Self::Unreachable {
                detail: f.take("detail")?,
            },
            "auth" => Self::Auth {
                status: f.take("status")?,
                message: f.take("message")?,
            },
            "rate_limited" => Self::RateLimited {
                retry_after: f.take("retry_after")?,
                message: f.take("message")?,
            },
            "rejected" => Self::Rejected {
                status: f.take("status")?,
                message: f.take("message")?,
            },
            "upstream" => Self::Upstream {
                status: f.take("status")?,
                message: f.take("message")?,
            },
            "malformed" => Self::Malformed {
                detail: f.take("detail")?,
            },
            "empty" => Self::Empty,
            "overloaded" => Self::Overloaded {
                status: f.take("status")?,
                message: f.take("message")?,
                retry_after: f.take("retry_after")?,
            },
            "model_not_found" => Self::ModelNotFound {
                message: f.take("message")?,
            },
            "context_too_long" => Self::ContextTooLong {
                message: f.take("message")?,
            },
            "blocked" => Self::Blocked {
                reason: f.take("reason")?,
            },
            _ => {
                return Err(JsonError::new(format!(
                    "unknown kind of provider error {}",
                    crate::json::quoted(&kind)
                )))
            }
        })
    }
}
