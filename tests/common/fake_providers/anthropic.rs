//! The fake Anthropic Messages API: `POST /v1/messages`.

use super::{fields, Answer, Recorded, ANTHROPIC_USAGE};
use serde_json::{json, Value};

/// The Messages API's top-level fields; any other is "Extra inputs are not permitted".
const FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "stream",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
];

fn error(status: u16, kind: &str, message: &str) -> Answer {
    Answer::json(
        status,
        json!({
            "type": "error",
            "error": { "type": kind, "message": message },
            "request_id": "req_fake0123456789"
        }),
    )
}

fn invalid(message: &str) -> Answer {
    error(400, "invalid_request_error", message)
}

pub(super) fn answer(request: &Recorded, key: &str) -> Answer {
    if request.method != "POST" || request.path() != "/v1/messages" {
        return error(404, "not_found_error", "Not Found");
    }
    match request.header("x-api-key") {
        None => return error(401, "authentication_error", "x-api-key header is required"),
        Some(got) if got != key => return error(401, "authentication_error", "invalid x-api-key"),
        Some(_) => {}
    }
    if request.header("anthropic-version").is_none() {
        return invalid("anthropic-version: header is required");
    }
    let body = &request.body;
    if !body.is_object() {
        return invalid("There was an error parsing the body of your request");
    }
    if let Some(extra) = fields(body).into_iter().find(|f| !FIELDS.contains(f)) {
        return invalid(&format!("{extra}: Extra inputs are not permitted"));
    }
    for required in ["model", "max_tokens", "messages"] {
        if body.get(required).is_none() {
            return invalid(&format!("{required}: Field required"));
        }
    }
    if body["max_tokens"].as_u64().is_none_or(|n| n < 1) {
        return invalid("max_tokens: Input should be a valid integer of at least 1");
    }
    if !(body["system"].is_null() || body["system"].is_string() || body["system"].is_array()) {
        return invalid("system: Input should be a valid string");
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    if messages.is_empty() {
        return invalid("messages: at least one message is required");
    }
    for (i, message) in messages.iter().enumerate() {
        match message["role"].as_str() {
            Some("user" | "assistant") => {}
            Some("system") => {
                return invalid(
                    "messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.",
                )
            }
            _ => {
                return invalid(&format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant'"
                ))
            }
        }
        let empty = match &message["content"] {
            Value::String(text) => text.trim().is_empty(),
            Value::Array(blocks) => blocks.is_empty(),
            _ => true,
        };
        if empty {
            return invalid(&format!(
                "messages.{i}: all messages must have non-empty content"
            ));
        }
    }
    let model = body["model"].as_str().unwrap_or_default();
    match model {
        "fake-529" => error(529, "overloaded_error", "Overloaded"),
        "fake-429" => error(
            429,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization of 50 requests per minute.",
        )
        .with_header("retry-after", "7"),
        "fake-404" => error(404, "not_found_error", &format!("model: {model}")),
        "fake-too-long" => invalid("prompt is too long: 212345 tokens > 200000 maximum"),
        _ => {
            let (input, output) = ANTHROPIC_USAGE;
            Answer::json(
                200,
                json!({
                    "id": "msg_01FakeFakeFakeFakeFake",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{
                        "type": "text",
                        "text": format!("Fake Anthropic reply to: {}", request.last_text("messages", "user"))
                    }],
                    "stop_reason": "end_turn",
                    "stop_sequence": null,
                    "usage": {
                        "input_tokens": input,
                        "output_tokens": output,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0
                    }
                }),
            )
        }
    }
}
