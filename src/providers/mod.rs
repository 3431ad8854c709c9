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
    fn prepare(&self, model: &str, turns: &[Turn]) -> Result<Prepared, ProviderError>;
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
    turns: &[Turn],
) -> Result<Completion, ProviderError> {
    match provider.prepare(model, turns)? {
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
        let error = complete(&host, provider.as_ref(), "gpt-4o-mini", &turns).unwrap_err();
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
