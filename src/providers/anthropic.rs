//! The Anthropic Messages API (`POST {base}/v1/messages`).

use super::wire::{self, ApiKey, WireError};
use super::{
    Completion, Prepared, Provider, ProviderError, Settings, Turn, ANTHROPIC_API_KEY,
    ANTHROPIC_BASE_URL,
};
use crate::chats::{Role, Usage};
use crate::json::{object, Fields, FromJson, Json, JsonError, Object};
use crate::port::HttpResponse;

const NAME: &str = "Anthropic";
/// The API version this wire format is written against.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The key is never shown by `{:?}` (see [`ApiKey`]).
#[derive(Debug)]
pub struct Anthropic {
    endpoint: String,
    api_key: ApiKey,
    /// Sent when a chat sets no `max_tokens`: the API requires one.
    default_max_tokens: u32,
}

impl Anthropic {
    pub fn new(
        base_url: &str,
        api_key: &str,
        default_max_tokens: u32,
    ) -> Result<Self, ProviderError> {
        let base = wire::base_url(base_url, NAME, ANTHROPIC_BASE_URL)?;
        let api_key = ApiKey::new(api_key);
        if api_key.is_empty() {
            return Err(ProviderError::NotConfigured {
                provider: NAME.to_string(),
                hint: format!("set {ANTHROPIC_API_KEY} in the environment of theater-server"),
            });
        }
        Ok(Self {
            endpoint: format!("{base}/v1/messages"),
            api_key,
            default_max_tokens: default_max_tokens.max(1),
        })
    }
}

struct Message {
    model: Option<String>,
    content: Vec<Block>,
    stop_reason: Option<String>,
    usage: Option<WireUsage>,
}

/// A content block: `text`, or one this chat does not show (`thinking`, `tool_use`...).
struct Block {
    kind: String,
    text: Option<String>,
}

struct WireUsage {
    input_tokens: u64,
    output_tokens: u64,
}

impl FromJson for Message {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a message")?;
        Ok(Self {
            model: f.take("model")?,
            content: f.take_or_default("content")?,
            stop_reason: f.take("stop_reason")?,
            usage: f.take("usage")?,
        })
    }
}

impl FromJson for Block {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a content block")?;
        Ok(Self {
            kind: f.take_or_default("type")?,
            text: f.take("text")?,
        })
    }
}

impl FromJson for WireUsage {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "token counts")?;
        Ok(Self {
            input_tokens: f.take_or_default("input_tokens")?,
            output_tokens: f.take_or_default("output_tokens")?,
        })
    }
}

impl Anthropic {
    fn error(&self, response: &HttpResponse) -> ProviderError {
        let status = response.status;
        let error = WireError::read(&response.body);
        let message = self.api_key.scrub(&error.message);
        let retry_after = wire::retry_after(response);
        match (error.kind().unwrap_or_default(), status) {
            ("authentication_error" | "permission_error", _) | (_, 401 | 403) => {
                ProviderError::Auth { status, message }
            }
            ("not_found_error", _) | (_, 404) => wire::not_found(status, message),
            ("rate_limit_error", _) | (_, 429) => ProviderError::RateLimited {
                retry_after,
                message,
            },
            ("overloaded_error", _) | (_, 529) => ProviderError::Overloaded {
                status,
                message,
                retry_after,
            },
            ("request_too_large", _) | (_, 413) => ProviderError::ContextTooLong { message },
            (_, 400..=499) if wire::mentions_context_limit(&error.message) => {
                ProviderError::ContextTooLong { message }
            }
            (_, 400..=499) => ProviderError::Rejected { status, message },
            _ => ProviderError::Upstream { status, message },
        }
    }
}

impl Provider for Anthropic {
    fn prepare(
        &self,
        model: &str,
        settings: &Settings,
        turns: &[Turn],
    ) -> Result<Prepared, ProviderError> {
        let messages: Vec<Json> = wire::alternating(turns)
            .into_iter()
            .map(|(role, content)| {
                let role = match role {
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                object! { "role": role, "content": content }
            })
            .collect();
        let body = Object::new()
            .with("model", model)
            .with(
                "max_tokens",
                &settings.max_tokens.unwrap_or(self.default_max_tokens),
            )
            .some("system", &settings.system_prompt())
            .some("temperature", &settings.temperature)
            .with("messages", &messages)
            .build();
        let headers = vec![
            ("x-api-key".to_string(), self.api_key.expose().to_string()),
            (
                "anthropic-version".to_string(),
                ANTHROPIC_VERSION.to_string(),
            ),
        ];
        Ok(Prepared::Send(wire::post_json(
            self.endpoint.clone(),
            headers,
            &body,
        )))
    }

    fn parse(&self, response: &HttpResponse) -> Result<Completion, ProviderError> {
        if !(200..300).contains(&response.status) {
            return Err(self.error(response));
        }
        let message =
            Message::from_bytes(&response.body).map_err(|error| self.api_key.malformed(&error))?;
        if message.stop_reason.as_deref() == Some("refusal") {
            return Err(ProviderError::Blocked {
                reason: "Claude declined to answer".to_string(),
            });
        }
        let content: String = message
            .content
            .into_iter()
            .filter(|block| block.kind == "text")
            .filter_map(|block| block.text)
            .collect();
        if content.trim().is_empty() {
            return Err(ProviderError::Empty);
        }
        Ok(Completion {
            content,
            model: message.model.unwrap_or_default(),
            usage: message.usage.map(|u| Usage {
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
                cost: None,
            }),
        })
    }
}

#[cfg(test)]
#[path = "anthropic_tests.rs"]
mod tests;
