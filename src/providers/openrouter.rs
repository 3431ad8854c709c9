//! OpenRouter (`POST {base}/chat/completions`): OpenAI's request format, with its own
//! errors, which can also arrive inside an HTTP 200 reply once a model has started.

use super::openai::{chat_body, ChatCompletion};
use super::wire::{self, ApiKey, WireError};
use super::{
    Completion, Prepared, Provider, ProviderError, Settings, Turn, OPENROUTER_API_KEY,
    OPENROUTER_BASE_URL,
};
use crate::json::{FromJson, Json};
use crate::port::HttpResponse;

const NAME: &str = "OpenRouter";
/// The app name OpenRouter shows for these requests (`X-Title`).
pub const APP_TITLE: &str = "Theater chat";

/// The key is never shown by `{:?}` (see [`ApiKey`]).
#[derive(Debug)]
pub struct OpenRouter {
    endpoint: String,
    api_key: ApiKey,
    /// The app's URL, sent as `HTTP-Referer` when known.
    referer: Option<String>,
}

impl OpenRouter {
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, ProviderError> {
        let base = wire::base_url(base_url, NAME, OPENROUTER_BASE_URL)?;
        let api_key = ApiKey::new(api_key);
        if api_key.is_empty() {
            return Err(ProviderError::NotConfigured {
                provider: NAME.to_string(),
                hint: format!("set {OPENROUTER_API_KEY} in the environment of theater-server"),
            });
        }
        Ok(Self {
            endpoint: format!("{base}/chat/completions"),
            api_key,
            referer: None,
        })
    }

    /// Names the app's URL to OpenRouter (`HTTP-Referer`).
    pub fn with_referer(mut self, url: &str) -> Self {
        let url = url.trim();
        self.referer =
            (!url.is_empty() && !url.contains(char::is_control)).then(|| url.to_string());
        self
    }

    /// An OpenRouter error object, by its `code` (the HTTP status it stands for).
    fn error(&self, fallback: u16, error: &WireError, retry_after: Option<u64>) -> ProviderError {
        let status = error
            .code_status()
            .filter(|code| (400..600).contains(code))
            .unwrap_or(fallback);
        let message = self.api_key.scrub(&error.message);
        match status {
            401 => ProviderError::Auth { status, message },
            402 => ProviderError::Rejected {
                status,
                message: format!(
                    "the OpenRouter account or key is out of credits; add credits and try again ({message})"
                ),
            },
            403 if is_moderation(error) => ProviderError::Blocked {
                reason: self.api_key.scrub(&moderation_reason(error)),
            },
            403 => ProviderError::Auth { status, message },
            404 => wire::not_found(status, message),
            408 => ProviderError::Unreachable {
                detail: format!("the request timed out ({message})"),
            },
            429 => ProviderError::RateLimited {
                retry_after,
                message,
            },
            503 => ProviderError::Overloaded {
                status,
                message,
                retry_after,
            },
            400..=499 if wire::mentions_context_limit(&error.message) => {
                ProviderError::ContextTooLong { message }
            }
            // A model id OpenRouter does not know (the catalog takes any id).
            400 if error
                .message
                .to_ascii_lowercase()
                .contains("not a valid model") =>
            {
                ProviderError::ModelNotFound { message }
            }
            400..=499 => ProviderError::Rejected { status, message },
            _ => ProviderError::Upstream { status, message },
        }
    }
}

/// A 403 from a moderation or guardrail flag (`metadata.reasons`) rather than from a
/// key without permission.
fn is_moderation(error: &WireError) -> bool {
    let flagged = error
        .metadata
        .as_ref()
        .is_some_and(|m| m.get("reasons").is_some() || m.get("flagged_input").is_some());
    let message = error.message.to_ascii_lowercase();
    flagged || message.contains("moderation") || message.contains("flagged")
}

/// The message and the moderation reasons, without the flagged input itself.
fn moderation_reason(error: &WireError) -> String {
    let reasons: Vec<&str> = error
        .metadata
        .as_ref()
        .and_then(|m| m.get("reasons"))
        .and_then(Json::as_array)
        .map(|reasons| reasons.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    match (error.message.trim(), reasons.is_empty()) {
        (message, true) => message.to_string(),
        ("", false) => reasons.join(", "),
        (message, false) => format!("{message}: {}", reasons.join(", ")),
    }
}

impl Provider for OpenRouter {
    fn prepare(
        &self,
        model: &str,
        settings: &Settings,
        turns: &[Turn],
    ) -> Result<Prepared, ProviderError> {
        let mut headers = vec![
            (
                "Authorization".to_string(),
                format!("Bearer {}", self.api_key.expose()),
            ),
            ("X-Title".to_string(), APP_TITLE.to_string()),
        ];
        if let Some(referer) = &self.referer {
            headers.push(("HTTP-Referer".to_string(), referer.clone()));
        }
        Ok(Prepared::Send(wire::post_json(
            self.endpoint.clone(),
            headers,
            &chat_body(model, settings, turns),
        )))
    }

    fn parse(&self, response: &HttpResponse) -> Result<Completion, ProviderError> {
        let status = response.status;
        let retry_after = wire::retry_after(response);
        if !(200..300).contains(&status) {
            let error = WireError::read(&response.body);
            // The body's code wins, but a reply without one keeps its HTTP status.
            return Err(self.error(status, &error, retry_after));
        }
        let mut completion = ChatCompletion::from_bytes(&response.body)
            .map_err(|error| self.api_key.malformed(&error))?;
        // An error after the model started: the reply is still a 200.
        let failed = completion.error.take().or_else(|| {
            completion
                .choices
                .first_mut()
                .and_then(|choice| choice.error.take())
        });
        if let Some(error) = failed {
            return Err(self.error(502, &error, retry_after));
        }
        completion.into_completion()
    }
}

#[cfg(test)]
#[path = "openrouter_tests.rs"]
mod tests;
