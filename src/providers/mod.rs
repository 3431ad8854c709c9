//! LLM providers behind one interface.
//!
//! A provider turns a conversation into either a finished [`Completion`] (the offline
//! demo model) or an HTTP request, and parses the HTTP response. Both halves are pure,
//! so they are tested natively and can later run in a worker actor unchanged.

mod anthropic;
mod demo;
mod gemini;
mod openai;
mod openrouter;
mod protocol;
mod wire;

pub use anthropic::Anthropic;
pub use demo::Demo;
pub use gemini::Gemini;
pub use openai::OpenAi;
pub use openrouter::OpenRouter;

use crate::chats::{Role, Usage};
use crate::decimal::Decimal;
use crate::port::{Env, HttpRequest, HttpResponse, Outbound};
use thiserror::Error;

/// One turn of the conversation sent to a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: Role,
    pub content: String,
}

/// Per-chat generation settings, passed to every provider. `None` leaves the choice to
/// the provider.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    pub system: Option<String>,
    pub temperature: Option<Decimal>,
    pub max_tokens: Option<u32>,
}

impl crate::json::ToJson for Settings {
    fn to_json(&self) -> crate::json::Json {
        crate::json::Object::new()
            .some("system", &self.system)
            .some("temperature", &self.temperature)
            .some("max_tokens", &self.max_tokens)
            .build()
    }
}

impl crate::json::FromJson for Settings {
    fn from_json(value: crate::json::Json) -> Result<Self, crate::json::JsonError> {
        let mut f = crate::json::Fields::of(value, "settings")?;
        Ok(Self {
            system: f.take("system")?,
            temperature: f.take("temperature")?,
            max_tokens: f.take("max_tokens")?,
        })
    }
}

pub const MAX_TEMPERATURE: Decimal = Decimal::from_billionths(2_000_000_000);
pub const MAX_OUTPUT_TOKENS: u32 = 200_000;
pub const MAX_SYSTEM_CHARS: usize = 20_000;

impl Settings {
    /// Checks the ranges every provider accepts; the error says the allowed range.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(temperature) = self.temperature {
            if temperature > MAX_TEMPERATURE {
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

    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The system prompt, unless it is blank.
    pub(crate) fn system_prompt(&self) -> Option<&str> {
        self.system
            .as_deref()
            .filter(|text| !text.trim().is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq, Error)]
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
    #[error("the provider is overloaded right now ({status}): {message}; try again in a minute or choose another model")]
    Overloaded {
        status: u16,
        message: String,
        retry_after: Option<u64>,
    },
    #[error(
        "the provider does not offer this model ({message}); choose another model for this chat"
    )]
    ModelNotFound { message: String },
    #[error("the conversation is too long for this model ({message}); start a new chat, reply to an earlier message, or choose a model with a longer context")]
    ContextTooLong { message: String },
    #[error(
        "the provider refused to answer ({reason}); rephrase the message or choose another model"
    )]
    Blocked { reason: String },
}

/// Environment variables of the providers (see the manifests' environment handlers,
/// which must allow them).
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
pub const ANTHROPIC_DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The reply length asked of Anthropic (which requires one) when a chat sets none.
pub const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 4096;
pub const GEMINI_API_KEY: &str = "GEMINI_API_KEY";
pub const GEMINI_BASE_URL: &str = "GEMINI_BASE_URL";
pub const GEMINI_DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";
pub const OPENROUTER_API_KEY: &str = "OPENROUTER_API_KEY";
pub const OPENROUTER_BASE_URL: &str = "OPENROUTER_BASE_URL";
pub const OPENROUTER_DEFAULT_BASE_URL: &str = "https://openrouter.ai/api/v1";

/// Every variable a worker may read: the worker manifest's environment allowlist.
pub const ENV_VARS: &[&str] = &[
    OPENAI_API_KEY,
    OPENAI_BASE_URL,
    ANTHROPIC_API_KEY,
    ANTHROPIC_BASE_URL,
    GEMINI_API_KEY,
    GEMINI_BASE_URL,
    OPENROUTER_API_KEY,
    OPENROUTER_BASE_URL,
];

/// Every provider the actor speaks to: what a catalog may name.
pub const KNOWN: &[&str] = &["demo", "openai", "anthropic", "gemini", "openrouter"];

pub fn is_known(provider: &str) -> bool {
    KNOWN.contains(&provider)
}

/// Providers that answer inside the chat actor, with no HTTP call and no worker.
pub fn answers_offline(provider: &str) -> bool {
    provider == "demo"
}

/// How an HTTP provider is configured from the environment.
struct HttpSpec {
    id: &'static str,
    name: &'static str,
    key_var: &'static str,
    base_var: &'static str,
    default_base: &'static str,
    /// An OpenAI-compatible server on this machine (Ollama, vLLM) needs no key.
    key_optional_on_loopback: bool,
}

const HTTP_PROVIDERS: &[HttpSpec] = &[
    HttpSpec {
        id: "openai",
        name: "OpenAI-compatible",
        key_var: OPENAI_API_KEY,
        base_var: OPENAI_BASE_URL,
        default_base: OPENAI_DEFAULT_BASE_URL,
        key_optional_on_loopback: true,
    },
    HttpSpec {
        id: "anthropic",
        name: "Anthropic",
        key_var: ANTHROPIC_API_KEY,
        base_var: ANTHROPIC_BASE_URL,
        default_base: ANTHROPIC_DEFAULT_BASE_URL,
        key_optional_on_loopback: false,
    },
    HttpSpec {
        id: "gemini",
        name: "Gemini",
        key_var: GEMINI_API_KEY,
        base_var: GEMINI_BASE_URL,
        default_base: GEMINI_DEFAULT_BASE_URL,
        key_optional_on_loopback: false,
    },
    HttpSpec {
        id: "openrouter",
        name: "OpenRouter",
        key_var: OPENROUTER_API_KEY,
        base_var: OPENROUTER_BASE_URL,
        default_base: OPENROUTER_DEFAULT_BASE_URL,
        key_optional_on_loopback: false,
    },
];

/// Where an HTTP provider is and the key it takes (empty: none needed).
struct Endpoint {
    base_url: String,
    api_key: String,
}

/// Reads an HTTP provider's configuration, without building the provider: the chat
/// actor only asks whether one is configured, so none of their code is linked into it.
fn endpoint<E: Env>(host: &E, spec: &HttpSpec) -> Result<Endpoint, ProviderError> {
    let base_url = host
        .env_var(spec.base_var)
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| spec.default_base.to_string());
    let base_url = wire::base_url(&base_url, spec.name, spec.base_var)?;
    let api_key = host
        .env_var(spec.key_var)
        .map(|key| key.trim().to_string())
        .filter(|key| !key.is_empty());
    match api_key {
        Some(api_key) => Ok(Endpoint { base_url, api_key }),
        None if spec.key_optional_on_loopback && wire::is_loopback(&base_url) => Ok(Endpoint {
            base_url,
            api_key: String::new(),
        }),
        None => Err(ProviderError::NotConfigured {
            provider: spec.name.to_string(),
            hint: format!("set {} in the environment of theater-server", spec.key_var),
        }),
    }
}

fn spec(provider: &str) -> Result<&'static HttpSpec, ProviderError> {
    HTTP_PROVIDERS
        .iter()
        .find(|spec| spec.id == provider)
        .ok_or_else(|| ProviderError::NotConfigured {
            provider: provider.to_string(),
            hint: "this provider is not built into the actor".to_string(),
        })
}

/// Builds the provider a chat names, reading its credentials from the environment at
/// call time so no key is ever kept in actor state.
pub fn resolve<E: Env>(host: &E, provider: &str) -> Result<Box<dyn Provider>, ProviderError> {
    if answers_offline(provider) {
        return Ok(Box::new(Demo));
    }
    let Endpoint { base_url, api_key } = endpoint(host, spec(provider)?)?;
    Ok(match provider {
        "anthropic" => Box::new(Anthropic::new(
            &base_url,
            &api_key,
            ANTHROPIC_DEFAULT_MAX_TOKENS,
        )?),
        "gemini" => Box::new(Gemini::new(&base_url, &api_key)?),
        "openrouter" => Box::new(OpenRouter::new(&base_url, &api_key)?),
        // "openai", the only other entry of HTTP_PROVIDERS.
        _ => Box::new(OpenAi::new(&base_url, &api_key)?),
    })
}

/// Whether a provider can answer now, and if not, why. Reads the environment only.
pub fn availability<E: Env>(host: &E, provider: &str) -> Result<(), String> {
    if answers_offline(provider) {
        return Ok(());
    }
    spec(provider)
        .and_then(|spec| endpoint(host, spec))
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
mod tests;
