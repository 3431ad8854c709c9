//! Reads a [`ProviderError`] from its JSON (`{"kind": "auth", "status": 401, ...}`) in
//! one pass. The reader serde derives for an internally tagged enum first copies the
//! whole object into a buffer of its own (serde's private `Content`), and that
//! machinery, instantiated for each variant, cost the chat component 58 KB with
//! `generation::Outcome`'s, which is read the same way.
//! The JSON is unchanged: writing still uses the derived `Serialize`.

use super::ProviderError;
use serde::Deserialize;

/// Every field any variant has; `kind` says which ones must be there.
#[derive(Deserialize)]
pub(super) struct ErrorFields {
    kind: String,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
}

fn need<T>(value: Option<T>, kind: &str, field: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("a {kind:?} error needs its {field:?}"))
}

impl TryFrom<ErrorFields> for ProviderError {
    type Error = String;

    fn try_from(fields: ErrorFields) -> Result<Self, String> {
        let ErrorFields {
            kind,
            provider,
            hint,
            detail,
            status,
            message,
            retry_after,
            reason,
        } = fields;
        let k = kind.as_str();
        Ok(match k {
            "not_configured" => Self::NotConfigured {
                provider: need(provider, k, "provider")?,
                hint: need(hint, k, "hint")?,
            },
            "unreachable" => Self::Unreachable {
                detail: need(detail, k, "detail")?,
            },
            "auth" => Self::Auth {
                status: need(status, k, "status")?,
                message: need(message, k, "message")?,
            },
            "rate_limited" => Self::RateLimited {
                retry_after,
                message: need(message, k, "message")?,
            },
            "rejected" => Self::Rejected {
                status: need(status, k, "status")?,
                message: need(message, k, "message")?,
            },
            "upstream" => Self::Upstream {
                status: need(status, k, "status")?,
                message: need(message, k, "message")?,
            },
            "malformed" => Self::Malformed {
                detail: need(detail, k, "detail")?,
            },
            "empty" => Self::Empty,
            "overloaded" => Self::Overloaded {
                status: need(status, k, "status")?,
                message: need(message, k, "message")?,
                retry_after,
            },
            "model_not_found" => Self::ModelNotFound {
                message: need(message, k, "message")?,
            },
            "context_too_long" => Self::ContextTooLong {
                message: need(message, k, "message")?,
            },
            "blocked" => Self::Blocked {
                reason: need(reason, k, "reason")?,
            },
            _ => return Err(format!("unknown kind of provider error {k:?}")),
        })
    }
}
