//! Wire examples from the Messages API reference and its errors page.

use super::*;
use crate::providers::tests::turn;
use serde_json::{json, Value};

const KEY: &str = "test-anthropic-key-0123456789";

fn provider() -> Anthropic {
    Anthropic::new("http://127.0.0.1:9/", KEY, 4096).unwrap()
}

fn response(status: u16, body: &str) -> HttpResponse {
    crate::providers::tests::reply(status, Some("12"), body)
}

fn error_body(kind: &str, message: &str) -> String {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011"})
        .to_string()
}

fn prepare(settings: &Settings, turns: &[Turn]) -> (crate::port::HttpRequest, Value) {
    let Prepared::Send(request) = provider()
        .prepare("claude-sonnet-4-5", settings, turns)
        .unwrap()
    else {
        panic!("an HTTP provider sends a request");
    };
    let body = serde_json::from_slice(&request.body).unwrap();
    (request, body)
}

#[test]
fn builds_the_request_with_the_key_in_its_header() {
    let (request, body) = prepare(&Settings::default(), &[turn(Role::User, "Hello")]);
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, "http://127.0.0.1:9/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "messages": [{"role": "user", "content": "Hello"}]
        })
    );
}

#[test]
fn sends_the_settings_at_the_top_level() {
    let settings = Settings {
        system: Some("You are terse.".into()),
        temperature: Some(crate::decimal::dec("1.0")),
        max_tokens: Some(512),
    };
    let (_, body) = prepare(&settings, &[turn(Role::User, "Hi")]);
    assert_eq!(body["system"], "You are terse.");
    assert_eq!(body["temperature"], 1.0);
    assert_eq!(body["max_tokens"], 512);
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn sends_alternating_turns_starting_with_the_user() {
    let turns = [
        turn(Role::Assistant, "Welcome!"),
        turn(Role::User, "one"),
        turn(Role::User, "two"),
        turn(Role::Assistant, "three"),
        turn(Role::Assistant, "four"),
        turn(Role::User, "five"),
    ];
    let (_, body) = prepare(&Settings::default(), &turns);
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "one\n\ntwo"},
            {"role": "assistant", "content": "three\n\nfour"},
            {"role": "user", "content": "five"}
        ])
    );
}

#[test]
fn parses_a_message_joining_its_text_blocks() {
    let body = r#"{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant",
        "model":"claude-sonnet-4-5-20250929",
        "content":[
            {"type":"thinking","thinking":"Let me think.","signature":"abc"},
            {"type":"text","text":"Hello! "},
            {"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}},
            {"type":"text","text":"How can I help?"}
        ],
        "stop_reason":"end_turn","stop_sequence":null,
        "usage":{"input_tokens":12,"output_tokens":6,"cache_read_input_tokens":0}}"#;
    let completion = provider().parse(&response(200, body)).unwrap();
    assert_eq!(completion.content, "Hello! How can I help?");
    assert_eq!(completion.model, "claude-sonnet-4-5-20250929");
    assert_eq!(
        completion.usage,
        Some(Usage {
            input_tokens: 12,
            output_tokens: 6,
            cost: None
        })
    );
}

#[test]
fn a_reply_cut_by_max_tokens_or_without_usage_is_still_an_answer() {
    let body = r#"{"type":"message","role":"assistant","model":"claude-haiku-4-5",
        "content":[{"type":"text","text":"The first part"}],"stop_reason":"max_tokens"}"#;
    let completion = provider().parse(&response(200, body)).unwrap();
    assert_eq!(completion.content, "The first part");
    assert_eq!(completion.usage, None);
}

#[test]
fn a_refusal_is_blocked() {
    let body = r#"{"type":"message","role":"assistant","model":"claude-sonnet-4-5",
        "content":[],"stop_reason":"refusal","usage":{"input_tokens":10,"output_tokens":0}}"#;
    let error = provider().parse(&response(200, body)).unwrap_err();
    assert!(matches!(error, ProviderError::Blocked { .. }), "{error}");
}

#[test]
fn maps_every_documented_error_type() {
    let cases = [
        (400, "invalid_request_error", "messages: field required"),
        (401, "authentication_error", "invalid x-api-key"),
        (
            403,
            "permission_error",
            "Your API key does not have permission",
        ),
        (404, "not_found_error", "model: claude-9"),
        (
            413,
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        (
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your rate limit",
        ),
        (500, "api_error", "Internal server error"),
        (529, "overloaded_error", "Overloaded"),
        (402, "billing_error", "Your credit balance is too low"),
    ];
    let errors: Vec<ProviderError> = cases
        .iter()
        .map(|(status, kind, message)| {
            provider()
                .parse(&response(*status, &error_body(kind, message)))
                .unwrap_err()
        })
        .collect();
    assert!(matches!(
        errors[0],
        ProviderError::Rejected { status: 400, .. }
    ));
    assert!(matches!(errors[1], ProviderError::Auth { status: 401, .. }));
    assert!(matches!(errors[2], ProviderError::Auth { status: 403, .. }));
    assert_eq!(
        errors[3],
        ProviderError::ModelNotFound {
            message: "model: claude-9".into()
        }
    );
    assert!(matches!(errors[4], ProviderError::ContextTooLong { .. }));
    assert_eq!(
        errors[5],
        ProviderError::RateLimited {
            retry_after: Some(12),
            message: "Number of request tokens has exceeded your rate limit".into()
        }
    );
    assert!(matches!(
        errors[6],
        ProviderError::Upstream { status: 500, .. }
    ));
    assert_eq!(
        errors[7],
        ProviderError::Overloaded {
            status: 529,
            message: "Overloaded".into(),
            retry_after: Some(12)
        }
    );
    assert!(matches!(
        errors[8],
        ProviderError::Rejected { status: 402, .. }
    ));
}

#[test]
fn a_prompt_too_long_is_told_apart_from_other_bad_requests() {
    let long = error_body(
        "invalid_request_error",
        "prompt is too long: 209353 tokens > 199999 maximum",
    );
    assert!(matches!(
        provider().parse(&response(400, &long)),
        Err(ProviderError::ContextTooLong { .. })
    ));
    let output = error_body(
        "invalid_request_error",
        "max_tokens: 10000 > 4096, which is the maximum allowed number of output tokens",
    );
    assert!(matches!(
        provider().parse(&response(400, &output)),
        Err(ProviderError::Rejected { status: 400, .. })
    ));
    // Cloudflare's own 413 page is no JSON.
    assert!(matches!(
        provider().parse(&response(413, "<html>413 Request Entity Too Large</html>")),
        Err(ProviderError::ContextTooLong { .. })
    ));
}

#[test]
fn never_passes_the_key_on() {
    let body = error_body("authentication_error", &format!("invalid x-api-key {KEY}"));
    let error = provider().parse(&response(401, &body)).unwrap_err();
    assert!(!error.to_string().contains(KEY), "{error}");
    let malformed = format!(r#"{{"content":"{KEY}"}}"#);
    let error = provider().parse(&response(200, &malformed)).unwrap_err();
    assert!(matches!(error, ProviderError::Malformed { .. }));
    assert!(!error.to_string().contains(KEY), "{error}");
    assert!(!format!("{:?}", provider()).contains(KEY));
}

#[test]
fn rejects_malformed_and_empty_replies() {
    assert!(matches!(
        provider().parse(&response(200, "")),
        Err(ProviderError::Malformed { .. })
    ));
    assert_eq!(
        provider().parse(&response(200, "{}")),
        Err(ProviderError::Empty)
    );
    assert_eq!(
        provider().parse(&response(
            200,
            r#"{"content":[{"type":"text","text":"  "}],"stop_reason":"end_turn"}"#
        )),
        Err(ProviderError::Empty)
    );
    assert_eq!(
        provider().parse(&response(
            200,
            r#"{"content":[{"type":"tool_use","id":"t","name":"n","input":{}}]}"#
        )),
        Err(ProviderError::Empty)
    );
}

#[test]
fn needs_a_key_and_an_http_base_url() {
    let error = Anthropic::new("https://api.anthropic.com", " ", 4096).unwrap_err();
    assert!(error.to_string().contains("ANTHROPIC_API_KEY"), "{error}");
    let error = Anthropic::new("api.anthropic.com", KEY, 4096).unwrap_err();
    assert!(error.to_string().contains("ANTHROPIC_BASE_URL"), "{error}");
}
