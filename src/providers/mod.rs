//! LLM providers behind one interface.
//!
//! A provider turns a conversation into either a finished [`Completion`] (the offline
//! demo model) or an HTTP request, and parses the HTTP response. Both halves are pure,
//! so they are tested natively and can later run in a worker actor unchanged.

mod demo;
mod openai;

pub use demo::Demo;
pub use openai::OpenAi;

use crate::chats::{Role, Usage};
use crate::port::{Env, HttpRequest, HttpResponse, Outbound};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One turn of the conversation sent to a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    pub content: String,
}

/// Per-chat generation settings, passed to every provider. `None` leaves the choice to
/// the provider.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

pub const MAX_TEMPERATURE: f64 = 2.0;
pub const MAX_OUTPUT_TOKENS: u32 = 200_000;
pub const MAX_SYSTEM_CHARS: usize = 20_000;

impl Settings {
    /// Checks the ranges every provider accepts; the error says the allowed range.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(temperature) = self.temperature {
            if !temperature.is_finite() || !(0.0..=MAX_TEMPERATURE).contains(&temperature) {
                return Err(format!(
                    "temperature must be a number from 0 to {MAX_TEMPERATURE}"
                ));
            }
        }
        if let Some(max_tokens) = self.max_tokens {
            if !(1..=MAX_OUTPUT_TOKENS).contains(&max_tokens) {
                return Err(format!(
                    "max_tokens must be a whole number from 1 to {MAX_OUTPUT_TOKENS}"
                ));
            }
        }
        if let Some(system) = &self.system {
            if system.chars().count() > MAX_SYSTEM_CHARS {
                return Err(format!(
                    "the system prompt must be at most {MAX_SYSTEM_CHARS} characters"
                ));
            }
        }
        Ok(())
    }

    /// The system prompt, unless it is blank.
    pub(crate) fn system_prompt(&self) -> Option<&str> {
        self.system
            .as_deref()
            .filter(|text| !text.trim().is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub content: String,
    /// The model that answered, as the provider names it.
    pub model: String,
    pub usage: Option<Usage>,
}

/// What a provider needs done to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    Answered(Completion),
    Send(HttpRequest),
}

pub trait Provider {
    fn prepare(
        &self,
        model: &str,
        settings: &Settings,
        turns: &[Turn],
    ) -> Result<Prepared, ProviderError>;
    fn parse(&self, response: &HttpResponse) -> Result<Completion, ProviderError>;
}

/// What went wrong, specific enough for the page to say what to do. Workers send it to
/// the chat actor as JSON, already scrubbed of keys.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderError {
    #[error("the {provider} provider is not configured: {hint}")]
    NotConfigured { provider: String, hint: String },
    #[error("could not reach the provider: {detail}")]
    Unreachable { detail: String },
    #[error("the provider rejected the API key ({status}): {message}")]
    Auth { status: u16, message: String },
    #[error("the provider is rate limiting requests: {message}")]
    RateLimited {
        retry_after: Option<u64>,
        message: String,
    },
    #[error("the provider rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the provider failed ({status}): {message}")]
    Upstream { status: u16, message: String },
    #[error("the provider sent a reply that could not be read: {detail}")]
    Malformed { detail: String },
    #[error("the provider returned an empty reply")]
    Empty,
}

/// Environment variables of the OpenAI-compatible provider (see the manifest's
/// environment handler, which must allow them).
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Every variable a worker may read: the worker manifest's environment allowlist.
pub const ENV_VARS: &[&str] = &[OPENAI_API_KEY, OPENAI_BASE_URL];

/// Providers that answer inside the chat actor, with no HTTP call and no worker.
pub fn answers_offline(provider: &str) -> bool {
    provider == "demo"
}

/// Builds the provider a chat names, reading its credentials from the environment at
/// call time so no key is ever kept in actor state.
pub fn resolve<E: Env>(host: &E, provider: &str) -> Result<Box<dyn Provider>, ProviderError> {
    match provider {
        "demo" => Ok(Box::new(Demo)),
        "openai" => {
            let api_key = host
                .env_var(OPENAI_API_KEY)
                .filter(|key| !key.trim().is_empty())
                .ok_or_else(|| ProviderError::NotConfigured {
                    provider: "OpenAI-compatible".to_string(),
                    hint: format!("set {OPENAI_API_KEY} in the environment of theater-server"),
                })?;
            let base_url = host
                .env_var(OPENAI_BASE_URL)
                .filter(|url| !url.trim().is_empty())
                .unwrap_or_else(|| OPENAI_DEFAULT_BASE_URL.to_string());
            Ok(Box::new(OpenAi::new(&base_url, api_key.trim())?))
        }
        other => Err(ProviderError::NotConfigured {
            provider: other.to_string(),
            hint: "this provider is not built into the actor".to_string(),
        }),
    }
}

/// Whether a provider can answer now, and if not, why.
pub fn availability<E: Env>(host: &E, provider: &str) -> Result<(), String> {
    resolve(host, provider)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Runs one completion through the host.
pub fn complete<O: Outbound>(
    host: &O,
    provider: &dyn Provider,
    model: &str,
    settings: &Settings,
    turns: &[Turn],
) -> Result<Completion, ProviderError> {
    match provider.prepare(model, settings, turns)? {
        Prepared::Answered(completion) => Ok(completion),
        Prepared::Send(request) => {
            let response =
                host.http_send(&request)
                    .map_err(|error| ProviderError::Unreachable {
                        detail: error.message,
                    })?;
            provider.parse(&response)
        }
    }
}

/// Shortens text from a provider for an error message, on a character boundary.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(max_chars) {
        None => trimmed.to_string(),
        Some((cut, _)) => format!("{}…", trimmed.get(..cut).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::fake::FakeHost;

    #[test]
    fn openai_needs_a_key_and_says_which_variable() {
        let host = FakeHost::new();
        let error = resolve(&host, "openai").err().unwrap();
        assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
        host.set_env(OPENAI_API_KEY, "  ");
        assert!(resolve(&host, "openai").is_err());
        host.set_env(OPENAI_API_KEY, "sk-test");
        assert!(resolve(&host, "openai").is_ok());
        assert!(resolve(&host, "demo").is_ok());
        assert!(availability(&host, "elsewhere").is_err());
    }

    #[test]
    fn settings_are_checked_against_their_ranges() {
        assert_eq!(Settings::default().validate(), Ok(()));
        let full = Settings {
            system: Some("x".repeat(MAX_SYSTEM_CHARS)),
            temperature: Some(2.0),
            max_tokens: Some(MAX_OUTPUT_TOKENS),
        };
        assert_eq!(full.validate(), Ok(()));
        for temperature in [-0.1, 2.01, f64::NAN, f64::INFINITY] {
            let error = Settings {
                temperature: Some(temperature),
                ..Settings::default()
            }
            .validate()
            .unwrap_err();
            assert!(error.contains("from 0 to 2"), "{error}");
        }
        for max_tokens in [0, MAX_OUTPUT_TOKENS + 1] {
            let error = Settings {
                max_tokens: Some(max_tokens),
                ..Settings::default()
            }
            .validate()
            .unwrap_err();
            assert!(error.contains("from 1 to 200000"), "{error}");
        }
        let error = Settings {
            system: Some("é".repeat(MAX_SYSTEM_CHARS + 1)),
            ..Settings::default()
        }
        .validate()
        .unwrap_err();
        assert!(error.contains("20000 characters"), "{error}");
    }

    #[test]
    fn settings_serialize_only_what_is_set() {
        assert_eq!(serde_json::to_string(&Settings::default()).unwrap(), "{}");
        let settings: Settings = serde_json::from_str(r#"{"temperature":0.5}"#).unwrap();
        assert_eq!(settings.temperature, Some(0.5));
        assert_eq!((settings.system, settings.max_tokens), (None, None));
    }

    #[test]
    fn transport_failures_become_unreachable() {
        let host = FakeHost::new();
        host.set_env(OPENAI_API_KEY, "sk-test");
        host.reply_with(Err(crate::port::HostError::new(
            "send-http",
            "connection refused",
        )));
        let provider = resolve(&host, "openai").unwrap();
        let turns = [Turn {
            role: Role::User,
            content: "hi".into(),
        }];
        let error = complete(
            &host,
            provider.as_ref(),
            "gpt-4o-mini",
            &Settings::default(),
            &turns,
        )
        .unwrap_err();
        assert_eq!(
            error,
            ProviderError::Unreachable {
                detail: "connection refused".into()
            }
        );
    }

    #[test]
    fn excerpts_cut_on_characters() {
        assert_eq!(excerpt("  héllo  ", 10), "héllo");
        assert_eq!(excerpt("ééééé", 2), "éé…");
    }
}
