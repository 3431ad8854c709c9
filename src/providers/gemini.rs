//! The Gemini API (`POST {base}/v1beta/models/{model}:generateContent`). The key goes
//! in the `x-goog-api-key` header only, never in the URL, which Theater may log.

use super::wire::{self, ApiKey, WireError};
use super::{
    excerpt, Completion, Prepared, Provider, ProviderError, Settings, Turn, GEMINI_API_KEY,
    GEMINI_BASE_URL,
};
use crate::chats::{Role, Usage};
use crate::port::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Map, Value};

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
                "{:?} is not a Gemini model id, which has only letters, digits, '.', '_' and '-'",
                excerpt(model, 80)
            ),
        });
    }
    Ok(id)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    model_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
    /// A thought summary, not part of the answer.
    #[serde(default)]
    thought: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
    #[serde(default)]
    block_reason_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
}

/// Google's `RetryInfo` detail (`"retryDelay": "37s"`), in whole seconds.
fn retry_delay(details: Option<&Value>) -> Option<u64> {
    details?.as_array()?.iter().find_map(|detail| {
        let delay = detail.get("retryDelay")?.as_str()?.strip_suffix('s')?;
        let seconds: f64 = delay.parse().ok()?;
        (seconds.is_finite() && seconds >= 0.0).then(|| seconds.ceil() as u64)
    })
}

/// Whether a detail names this `ErrorInfo` reason.
fn has_reason(details: Option<&Value>, reason: &str) -> bool {
    details.and_then(Value::as_array).is_some_and(|details| {
        details
            .iter()
            .any(|d| d.get("reason").and_then(Value::as_str) == Some(reason))
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
        let contents: Vec<Value> = wire::alternating(turns)
            .into_iter()
            .map(|(role, text)| {
                let role = match role {
                    Role::User => "user",
                    Role::Assistant => "model",
                };
                json!({ "role": role, "parts": [{ "text": text }] })
            })
            .collect();
        let mut body = Map::new();
        body.insert("contents".into(), Value::Array(contents));
        if let Some(system) = settings.system_prompt() {
            body.insert(
                "systemInstruction".into(),
                json!({ "parts": [{ "text": system }] }),
            );
        }
        let mut config = Map::new();
        if let Some(temperature) = settings.temperature {
            config.insert("temperature".into(), json!(temperature));
        }
        if let Some(max_tokens) = settings.max_tokens {
            config.insert("maxOutputTokens".into(), json!(max_tokens));
        }
        if !config.is_empty() {
            body.insert("generationConfig".into(), Value::Object(config));
        }
        let headers = vec![(
            "x-goog-api-key".to_string(),
            self.api_key.expose().to_string(),
        )];
        Ok(Prepared::Send(wire::post_json(
            format!("{}/v1beta/models/{model}:generateContent", self.base),
            headers,
            &Value::Object(body),
        )))
    }

    fn parse(&self, response: &HttpResponse) -> Result<Completion, ProviderError> {
        if !(200..300).contains(&response.status) {
            return Err(self.error(response));
        }
        let reply: Response = serde_json::from_slice(&response.body)
            .map_err(|error| self.api_key.malformed(&error))?;
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
