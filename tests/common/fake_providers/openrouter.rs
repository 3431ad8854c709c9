//! The fake OpenRouter API: `POST /api/v1/chat/completions`, OpenAI's chat completions
//! with OpenRouter's errors.

use super::{Answer, Recorded, OPENROUTER_USAGE};
use serde_json::json;

fn error(status: u16, message: &str) -> Answer {
    Answer::json(
        status,
        json!({ "error": { "code": status, "message": message } }),
    )
}

pub(super) fn answer(request: &Recorded, key: &str) -> Answer {
    if request.method != "POST" || request.path() != "/api/v1/chat/completions" {
        return error(404, "Not Found");
    }
    match request.header("authorization") {
        None => return error(401, "No auth credentials found"),
        Some(got) if got != format!("Bearer {key}") => return error(401, "User not found."),
        Some(_) => {}
    }
    let body = &request.body;
    let Some(model) = body["model"].as_str() else {
        return error(400, "Input required: specify \"model\"");
    };
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    if messages.is_empty() {
        return error(400, "Input required: specify \"messages\"");
    }
    let roles_ok = messages.iter().all(|m| {
        matches!(
            m["role"].as_str(),
            Some("system" | "developer" | "user" | "assistant" | "tool")
        ) && (m["content"].is_string() || m["content"].is_array())
    });
    if !roles_ok {
        return error(400, "Invalid messages: each needs a known role and content");
    }
    match model {
        "fake-error-in-200" => Answer::json(
            200,
            json!({ "error": { "code": 502, "message": "upstream provider error" } }),
        ),
        "fake-choice-error" => Answer::json(
            200,
            json!({
                "id": "gen-fake-choice-error",
                "model": model,
                "object": "chat.completion",
                "choices": [{
                    "index": 0,
                    "finish_reason": "error",
                    "message": { "role": "assistant", "content": "" },
                    "error": { "code": 502, "message": "Provider returned error" }
                }]
            }),
        ),
        "fake-402" => error(
            402,
            "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
        ),
        "fake-429" => {
            error(429, "Rate limit exceeded: limit_rpm/fake-429").with_header("retry-after", "11")
        }
        "fake-moderation" => Answer::json(
            403,
            json!({ "error": {
                "code": 403,
                "message": "fake-moderation requires moderation on OpenRouter. Your input was flagged for \"violence\".",
                "metadata": {
                    "reasons": ["violence"],
                    "flagged_input": "...",
                    "provider_name": "FakeProvider",
                    "model_slug": model
                }
            } }),
        ),
        "fake-invalid-model" => error(400, &format!("{model} is not a valid model ID")),
        _ => {
            let (input, output) = OPENROUTER_USAGE;
            let text = format!(
                "Fake OpenRouter reply to: {}",
                request.last_text("messages", "user")
            );
            Answer::json(
                200,
                json!({
                    "id": "gen-fake-0123456789",
                    "provider": "FakeProvider",
                    "model": model,
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "choices": [{
                        "index": 0,
                        "logprobs": null,
                        "finish_reason": "stop",
                        "native_finish_reason": "stop",
                        "message": { "role": "assistant", "content": text, "refusal": null }
                    }],
                    "usage": {
                        "prompt_tokens": input,
                        "completion_tokens": output,
                        "total_tokens": input + output
                    }
                }),
            )
        }
    }
}
