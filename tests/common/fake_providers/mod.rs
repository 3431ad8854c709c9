//! Fake Anthropic, Gemini and OpenRouter servers on 127.0.0.1 (see `fake_http`), each
//! checking a request the way its real API does and answering in its real success and
//! error shapes. A success echoes the last user turn: "Fake <Provider> reply to: TEXT".
//!
//! Model names that make a fake fail (anything else answers):
//! - Anthropic: `fake-529` overloaded, `fake-429` rate limited (`retry-after: 7`),
//!   `fake-404` unknown model, `fake-too-long` prompt too long.
//! - Gemini: `fake-503` UNAVAILABLE, `fake-429` RESOURCE_EXHAUSTED (`retryDelay`
//!   37.2 s), `fake-404` NOT_FOUND, `fake-too-long` token count exceeded,
//!   `fake-blocked` prompt blocked (no candidates), `fake-blocked-reply` a candidate
//!   stopped by SAFETY with no text.
//! - OpenRouter: `fake-error-in-200` an error object in an HTTP 200, `fake-choice-error`
//!   the error inside the choice, `fake-402` out of credits, `fake-429` rate limited
//!   (`retry-after: 11`), `fake-moderation` a 403 moderation flag, `fake-invalid-model`
//!   the 400 for an unknown model id.

mod anthropic;
mod gemini;
mod openrouter;

use super::fake_http::{Answer, FakeServer, Recorded};
use serde_json::Value;

/// Tokens each fake reports for every successful reply: (input, output).
pub const ANTHROPIC_USAGE: (u64, u64) = (23, 9);
pub const GEMINI_USAGE: (u64, u64) = (31, 13);
pub const OPENROUTER_USAGE: (u64, u64) = (17, 5);

pub fn anthropic(key: &str) -> FakeServer {
    FakeServer::start(key, anthropic::answer)
}

pub fn gemini(key: &str) -> FakeServer {
    FakeServer::start(key, gemini::answer)
}

pub fn openrouter(key: &str) -> FakeServer {
    FakeServer::start(key, openrouter::answer)
}

/// What ANTHROPIC_BASE_URL, GEMINI_BASE_URL and OPENROUTER_BASE_URL replace:
/// `https://api.anthropic.com`, `https://generativelanguage.googleapis.com` and
/// `https://openrouter.ai/api/v1`.
pub fn base_url(provider: &str, fake: &FakeServer) -> String {
    match provider {
        "openrouter" => format!("{}/api/v1", fake.origin()),
        _ => fake.origin(),
    }
}

/// A JSON object's field names.
fn fields(body: &Value) -> Vec<&str> {
    body.as_object()
        .map(|map| map.keys().map(String::as_str).collect())
        .unwrap_or_default()
}
