//! OpenAI-compatible chat completions (`POST {base}/chat/completions`), the wire format
//! shared by OpenAI, OpenRouter, vLLM, Ollama and others.

use super::wire::{self, ApiKey, WireError};
use super::{Completion, Prepared, Provider, ProviderError, Settings, Turn, OPENAI_BASE_URL};
use crate::chats::{Role, Usage};
use crate::json::{object, Fields, FromJson, Json, JsonError, Object};
use crate::port::HttpResponse;

const NAME: &str = "OpenAI-compatible";

/// The key is never shown by `{:?}` (see [`ApiKey`]).
#[derive(Debug)]
pub struct OpenAi {
    endpoint: String,
    api_key: ApiKey,
}

impl OpenAi {
    /// `api_key` may be empty only for a server on this machine (`localhost`,
    /// 127.0.0.0/8, `[::1]`), which is then sent no `Authorization` header.
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, ProviderError> {
        let base = wire::base_url(base_url, NAME, OPENAI_BASE_URL)?;
        let api_key = ApiKey::new(api_key);
        if api_key.is_empty() && !wire::is_loopback(&base) {
            return Err(ProviderError::NotConfigured {
                provider: NAME.to_string(),
                hint: format!(
                    "set {} in the environment of theater-server",
                    super::OPENAI_API_KEY
                ),
            });
        }
        Ok(Self {
            endpoint: format!("{base}/chat/completions"),
            api_key,
        })
    }
}

/// The body of a chat completion request; OpenRouter sends the same.
pub(super) fn chat_body(model: &str, settings: &Settings, turns: &[Turn]) -> Json {
    let system = settings
        .system_prompt()
        .map(|system| object! { "role": "system", "content": system });
    let messages: Vec<Json> = system
        .into_iter()
        .chain(turns.iter().map(|turn| {
            let role = match turn.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            object! { "role": role, "content": turn.content }
        }))
        .collect();
    Object::new()
        .with("model", model)
        .with("messages", &messages)
        .some("temperature", &settings.temperature)
        .some("max_tokens", &settings.max_tokens)
        .build()
}

/// A chat completion reply; OpenRouter adds the `error` fields.
pub(super) struct ChatCompletion {
    model: Option<String>,
    pub(super) choices: Vec<Choice>,
    usage: Option<WireUsage>,
    pub(super) error: Option<WireError>,
}

pub(super) struct Choice {
    message: Option<ChoiceMessage>,
    finish_reason: Option<String>,
    pub(super) error: Option<WireError>,
}

struct ChoiceMessage {
    content: Option<String>,
}

struct WireUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl FromJson for ChatCompletion {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a chat completion")?;
        Ok(Self {
            model: f.take("model")?,
            choices: f.take_or_default("choices")?,
            usage: f.take("usage")?,
            error: f.take("error")?,
        })
    }
}

impl FromJson for Choice {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a choice")?;
        Ok(Self {
            message: f.take("message")?,
            finish_reason: f.take("finish_reason")?,
            error: f.take("error")?,
        })
    }
}

impl FromJson for ChoiceMessage {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a message")?;
        Ok(Self {
            content: f.take("content")?,
        })
    }
}

impl FromJson for WireUsage {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "token counts")?;
        Ok(Self {
            prompt_tokens: f.take_or_default("prompt_tokens")?,
            completion_tokens: f.take_or_default("completion_tokens")?,
        })
    }
}

impl ChatCompletion {
    /// The first choice's text; none, with the content filter as the reason, is Blocked.
    pub(super) fn into_completion(self) -> Result<Completion, ProviderError> {
        let choice = self
            .choices
            .into_iter()
            .next()
            .ok_or(ProviderError::Empty)?;
        let content = choice
            .message
            .and_then(|message| message.content)
            .filter(|content| !content.trim().is_empty());
        match content {
            Some(content) => Ok(Completion {
                content,
                model: self.model.unwrap_or_default(),
                usage: self.usage.map(|u| Usage {
                    input_tokens: u.prompt_tokens,
                    output_tokens: u.completion_tokens,
                    cost: None,
                }),
            }),
            None if choice.finish_reason.as_deref() == Some("content_filter") => {
                Err(ProviderError::Blocked {
                    reason: "its content filter stopped the reply".to_string(),
                })
            }
            None => Err(ProviderError::Empty),
        }
    }
}

impl OpenAi {
    fn error(&self, response: &HttpResponse) -> ProviderError {
        let status = response.status;
        let error = WireError::read(&response.body);
        let code = error.code_text().unwrap_or_default();
        let message = self.api_key.scrub(&error.message);
        match status {
            401 | 403 => ProviderError::Auth { status, message },
            404 => wire::not_found(status, message),
            // Out of credit: waiting does not help.
            429 if code == "insufficient_quota" => ProviderError::Rejected { status, message },
            429 => ProviderError::RateLimited {
                retry_after: wire::retry_after(response),
                message,
            },
            503 | 529 => ProviderError::Overloaded {
                status,
                message,
                retry_after: wire::retry_after(response),
            },
            400..=499
                if code == "context_length_exceeded"
                    || wire::mentions_context_limit(&error.message) =>
            {
                ProviderError::ContextTooLong { message }
            }
            400..=499 if code == "content_filter" || code == "content_policy_violation" => {
                ProviderError::Blocked { reason: message }
            }
            400..=499 => ProviderError::Rejected { status, message },
            _ => ProviderError::Upstream { status, message },
        }
    }
}

impl Provider for OpenAi {
    fn prepare(
        &self,
        model: &str,
        settings: &Settings,
        turns: &[Turn],
    ) -> Result<Prepared, ProviderError> {
        let mut headers = Vec::new();
        if !self.api_key.is_empty() {
            headers.push((
                "Authorization".to_string(),
                format!("Bearer {}", self.api_key.expose()),
            ));
        }
        let body = chat_body(model, settings, turns);
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
        // The error may quote the offending value, which can be an echoed key.
        let completion = ChatCompletion::from_bytes(&response.body)
            .map_err(|error| self.api_key.malformed(&error))?;
        completion.into_completion()
    }
}

#[cfg(test)]
#[path = "openai_tests.rs"]
mod tests;
