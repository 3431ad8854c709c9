//! The Gemini API (`POST {base}/v1beta/models/{model}:generateContent`). The key goes
//! in the `x-goog-api-key` header only, never in the URL, which Theater may log.

use super::wire::{self, ApiKey, WireError};
use super::{
    excerpt, Completion, Prepared, Provider, ProviderError, Settings, Turn, GEMINI_API_KEY,
    GEMINI_BASE_URL,
};
use crate::chats::{Role, Usage};
use crate::json::{object, Fields, FromJson, Json, JsonError, Object};
use crate::port::HttpResponse;

const NAME: &str = "Gemini";
/// Finish reasons meaning the reply was withheld by a filter.
const BLOCKING_FINISH: &[&str] = &[
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "RECITATION",
    "IMAGE_SAFETY",
];

/// The key is never shown by `{:?}` (see [`ApiKey`]).
#[derive(Debug)]
pub struct Gemini {
    base: String,
    api_key: ApiKey,
}

impl Gemini {
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, ProviderError> {
        let base = wire::base_url(base_url, NAME, GEMINI_BASE_URL)?;
        let api_key = ApiKey::new(api_key);
        if api_key.is_empty() {
            return Err(ProviderError::NotConfigured {
                provider: NAME.to_string(),
                hint: format!("set {GEMINI_API_KEY} in the environment of theater-server"),
            });
        }
        Ok(Self { base, api_key })
    }
}

/// A model id safe to put in the URL path as is (`models/` prefix allowed).
fn model_path(model: &str) -> Result<&str, ProviderError> {
    let id = model.trim().strip_prefix("models/").unwrap_or(model.trim());
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if id.is_empty() || !id.chars().all(safe) {
        return Err(ProviderError::ModelNotFound {
            message: format!(
                "{} is not a Gemini model id, which has only letters, digits, '.', '_' and '-'",
                crate::json::quoted(&excerpt(model, 80))
            ),
        });
    }
    Ok(id)
}

struct Response {
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    model_version: Option<String>,
}

struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

struct Content {
    parts: Vec<Part>,
}

struct Part {
    text: Option<String>,
    /// A thought summary, not part of the answer.
    thought: bool,
}

struct PromptFeedback {
    block_reason: Option<String>,
    block_reason_message: Option<String>,
}

struct UsageMetadata {
    prompt_token_count: u64,
    candidates_token_count: u64,
}

impl FromJson for Response {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a response")?;
        Ok(Self {
            candidates: f.take_or_default("candidates")?,
            prompt_feedback: f.take("promptFeedback")?,
            usage_metadata: f.take("usageMetadata")?,
            model_version: f.take("modelVersion")?,
        })
    }
}

impl FromJson for Candidate {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a candidate")?;
        Ok(Self {
            content: f.take("content")?,
            finish_reason: f.take("finishReason")?,
        })
    }
}

impl FromJson for Content {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a content")?;
        Ok(Self {
            parts: f.take_or_default("parts")?,
        })
    }
}

impl FromJson for Part {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a part")?;
        Ok(Self {
            text: f.take("text")?,
            thought: f.take_or_default("thought")?,
        })
    }
}

impl FromJson for PromptFeedback {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "prompt feedback")?;
        Ok(Self {
            block_reason: f.take("blockReason")?,
            block_reason_message: f.take("blockReasonMessage")?,
        })
    }
}

impl FromJson for UsageMetadata {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "usage metadata")?;
        Ok(Self {
            prompt_token_count: f.take_or_default("promptTokenCount")?,
            candidates_token_count: f.take_or_default("candidatesTokenCount")?,
        })
    }
}

/// Google's `RetryInfo` detail (`"retryDelay": "37s"`), in whole seconds.
fn retry_delay(details: Option<&Json>) -> Option<u64> {
    details?.as_array()?.iter().find_map(|detail| {
        let delay = detail.get("retryDelay")?.as_str()?.strip_suffix('s')?;
        crate::decimal::Decimal::parse(delay).map(crate::decimal::Decimal::ceil)
    })
}

/// Whether a detail names this `ErrorInfo` reason.
fn has_reason(details: Option<&Json>, reason: &str) -> bool {
    details.and_then(Json::as_array).is_some_and(|details| {
        details
            .iter()
            .any(|d| d.get("reason").and_then(Json::as_str) == Some(reason))
    })
}

impl Gemini {
    fn error(&self, response: &HttpResponse) -> ProviderError {
        let status = response.status;
        let error = WireError::read(&response.body);
        let message = self.api_key.scrub(&error.message);
        let lower = error.message.to_ascii_lowercase();
        let details = error.details.as_ref();
        let retry_after = || wire::retry_after(response).or_else(|| retry_delay(details));
        let bad_key = has_reason(details, "API_KEY_INVALID") || lower.contains("api key");
        match (error.status().unwrap_or_default(), status) {
            ("UNAUTHENTICATED" | "PERMISSION_DENIED", _) | (_, 401 | 403) => {
                ProviderError::Auth { status, message }
            }
            ("INVALID_ARGUMENT", _) | (_, 400) if bad_key => {
                ProviderError::Auth { status, message }
            }
            ("NOT_FOUND", _) => wire::not_found(status, message),
            // Not Google's error object: nothing at that address, e.g. a base URL with
            // a path of its own. Every Gemini URL names a model, so a page quoting it
            // must not read as a missing model.
            (_, 404) => ProviderError::Rejected {
                status,
                message: format!(
                    "nothing answers at this address; check {}: {message}",
                    super::GEMINI_BASE_URL
                ),
            },
            ("RESOURCE_EXHAUSTED", _) | (_, 429) => ProviderError::RateLimited {
                retry_after: retry_after(),
                message,
            },
            ("UNAVAILABLE", _) | (_, 503) => ProviderError::Overloaded {
                status,
                message,
                retry_after: retry_after(),
            },
            (_, 400..=499)
                if (lower.contains("token")
                    && lower.contains("exceed")
                    && !lower.contains("output"))
                    || wire::mentions_context_limit(&error.message) =>
            {
                ProviderError::ContextTooLong { message }
            }
            (_, 400..=499) => ProviderError::Rejected { status, message },
            _ => ProviderError::Upstream { status, message },
        }
    }
}

impl Provider for Gemini {
    fn prepare(
        &self,
        model: &str,
        settings: &Settings,
        turns: &[Turn],
    ) -> Result<Prepared, ProviderError> {
        let model = model_path(model)?;
        let contents: Vec<Json> = wire::alternating(turns)
            .into_iter()
            .map(|(role, text)| {
                let role = match role {
                    Role::User => "user",
                    Role::Assistant => "model",
                };
                object! { "role": role, "parts": [object! { "text": text }] }
            })
            .collect();
        let system = settings
            .system_prompt()
            .map(|system| object! { "parts": [object! { "text": system }] });
        let config = Object::new()
            .some("temperature", &settings.temperature)
            .some("maxOutputTokens", &settings.max_tokens)
            .build();
        let body = Object::new()
            .with("contents", &contents)
            .some("systemInstruction", &system)
            .unless(
                config == Json::Object(Vec::new()),
                "generationConfig",
                &config,
            )
            .build();
        let headers = vec![(
            "x-goog-api-key".to_string(),
            self.api_key.expose().to_string(),
        )];
        Ok(Prepared::Send(wire::post_json(
            format!("{}/v1beta/models/{model}:generateContent", self.base),
            headers,
            &body,
        )))
    }

    fn parse(&self, response: &HttpResponse) -> Result<Completion, ProviderError> {
        if !(200..300).contains(&response.status) {
            return Err(self.error(response));
        }
        let reply =
            Response::from_bytes(&response.body).map_err(|error| self.api_key.malformed(&error))?;
        let blocked = reply
            .prompt_feedback
            .and_then(|feedback| feedback.block_reason_message.or(feedback.block_reason));
        let Some(candidate) = reply.candidates.into_iter().next() else {
            return Err(match blocked {
                Some(reason) => ProviderError::Blocked {
                    reason: self.api_key.scrub(&reason),
                },
                None => ProviderError::Empty,
            });
        };
        let content: String = candidate
            .content
            .map(|content| content.parts)
            .unwrap_or_default()
            .into_iter()
            .filter(|part| !part.thought)
            .filter_map(|part| part.text)
            .collect();
        if content.trim().is_empty() {
            return Err(match candidate.finish_reason {
                Some(reason) if BLOCKING_FINISH.contains(&reason.as_str()) => {
                    ProviderError::Blocked {
                        reason: self.api_key.scrub(&reason),
                    }
                }
                _ => ProviderError::Empty,
            });
        }
        Ok(Completion {
            content,
            model: reply.model_version.unwrap_or_default(),
            usage: reply.usage_metadata.map(|u| Usage {
                input_tokens: u.prompt_token_count,
                output_tokens: u.candidates_token_count,
                cost: None,
            }),
        })
    }
}

#[cfg(test)]
#[path = "gemini_tests.rs"]
mod tests;
