//! Wire examples from OpenRouter's API reference and its errors page.

use super::*;
use crate::chats::{Role, Usage};
use serde_json::{json, Value};

const KEY: &str = "test-openrouter-key-0123456789";

fn provider() -> OpenRouter {
    OpenRouter::new("http://127.0.0.1:9/api/v1/", KEY).unwrap()
}

fn response(status: u16, body: &str) -> HttpResponse {
    crate::providers::tests::reply(status, Some("3"), body)
}

fn error_body(code: u16, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

fn prepare(provider: &OpenRouter, settings: &Settings) -> (crate::port::HttpRequest, Value) {
    let turns = [Turn {
        role: Role::User,
        content: "Hi".into(),
    }];
    let Prepared::Send(request) = provider
        .prepare("anthropic/claude-sonnet-4.5", settings, &turns)
        .unwrap()
    else {
        panic!("an HTTP provider sends a request");
    };
    let body = serde_json::from_slice(&request.body).unwrap();
    (request, body)
}

#[test]
fn builds_an_openai_style_request_with_the_app_headers() {
    let (request, body) = prepare(&provider(), &Settings::default());
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, "http://127.0.0.1:9/api/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.header("x-title"), Some("Theater chat"));
    assert_eq!(request.header("http-referer"), None);
    assert_eq!(
        body,
        json!({
            "model": "anthropic/claude-sonnet-4.5",
            "messages": [{"role": "user", "content": "Hi"}]
        })
    );
    let settings = Settings {
        system: Some("Be brief.".into()),
        temperature: Some(crate::decimal::dec("0.7")),
        max_tokens: Some(64),
    };
    let with_referer = provider().with_referer("https://chat.example.org/");
    let (request, body) = prepare(&with_referer, &settings);
    assert_eq!(
        request.header("http-referer"),
        Some("https://chat.example.org/")
    );
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(
        (body["temperature"].clone(), body["max_tokens"].clone()),
        (json!(0.7), json!(64))
    );
    let (request, _) = prepare(&provider().with_referer("x\r\nEvil: 1"), &settings);
    assert_eq!(request.header("http-referer"), None);
}

#[test]
fn parses_a_completion_with_usage() {
    let body = r#"{"id":"gen-1","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5",
        "object":"chat.completion","created":1,
        "choices":[{"logprobs":null,"finish_reason":"stop","native_finish_reason":"end_turn","index":0,
            "message":{"role":"assistant","content":"Hello!","refusal":null,"reasoning":null}}],
        "usage":{"prompt_tokens":8,"completion_tokens":3,"total_tokens":11}}"#;
    let completion = provider().parse(&response(200, body)).unwrap();
    assert_eq!(completion.content, "Hello!");
    assert_eq!(completion.model, "anthropic/claude-sonnet-4.5");
    assert_eq!(
        completion.usage,
        Some(Usage {
            input_tokens: 8,
            output_tokens: 3,
            cost: None
        })
    );
}

#[test]
fn maps_every_documented_error_code() {
    let parse = |status: u16, code: u16, message: &str| {
        provider()
            .parse(&response(status, &error_body(code, message)))
            .unwrap_err()
    };
    assert!(matches!(
        parse(401, 401, "No auth credentials found"),
        ProviderError::Auth { status: 401, .. }
    ));
    let credits = parse(402, 402, "Insufficient credits");
    assert!(
        matches!(credits, ProviderError::Rejected { status: 402, .. }),
        "{credits}"
    );
    assert!(credits.to_string().contains("out of credits"), "{credits}");
    assert!(matches!(
        parse(408, 408, "Request timed out"),
        ProviderError::Unreachable { .. }
    ));
    assert_eq!(
        parse(429, 429, "Rate limit exceeded"),
        ProviderError::RateLimited {
            retry_after: Some(3),
            message: "Rate limit exceeded".into()
        }
    );
    assert!(matches!(
        parse(502, 502, "Provider returned error"),
        ProviderError::Upstream { status: 502, .. }
    ));
    assert!(matches!(
        parse(
            503,
            503,
            "No endpoints found that can handle the requested parameters."
        ),
        ProviderError::Overloaded {
            status: 503,
            retry_after: Some(3),
            ..
        }
    ));
    assert!(matches!(
        parse(400, 400, "openai/gpt-9 is not a valid model ID"),
        ProviderError::ModelNotFound { .. }
    ));
    assert!(matches!(
        parse(404, 404, "No endpoints found for model openai/gpt-9."),
        ProviderError::ModelNotFound { .. }
    ));
    assert!(matches!(
        parse(
            400,
            400,
            "This endpoint's maximum context length is 200000 tokens. However, you requested about 250000 tokens."
        ),
        ProviderError::ContextTooLong { .. }
    ));
    // No JSON: the HTTP status decides.
    assert!(matches!(
        provider().parse(&response(500, "Internal Server Error")),
        Err(ProviderError::Upstream { status: 500, .. })
    ));
}

#[test]
fn a_moderation_flag_is_blocked_and_a_forbidden_key_is_auth() {
    let flagged = json!({"error": {"code": 403, "message": "Input flagged by moderation",
        "metadata": {"reasons": ["harassment", "violence"], "flagged_input": "the user's words...",
            "provider_name": "OpenAI", "model_slug": "openai/gpt-4o"}}})
    .to_string();
    let error = provider().parse(&response(403, &flagged)).unwrap_err();
    assert_eq!(
        error,
        ProviderError::Blocked {
            reason: "Input flagged by moderation: harassment, violence".into()
        }
    );
    assert!(!error.to_string().contains("the user's words"));
    let forbidden = error_body(403, "Key is disabled");
    assert!(matches!(
        provider().parse(&response(403, &forbidden)),
        Err(ProviderError::Auth { status: 403, .. })
    ));
}

#[test]
fn errors_inside_a_200_reply_are_errors() {
    let top = error_body(502, "Provider returned error");
    assert!(matches!(
        provider().parse(&response(200, &top)),
        Err(ProviderError::Upstream { status: 502, .. })
    ));
    let in_choice = r#"{"id":"gen-2","model":"google/gemini-2.5-pro","choices":[{"finish_reason":"error",
        "native_finish_reason":"error","index":0,"message":{"role":"assistant","content":""},
        "error":{"code":429,"message":"Rate limit exceeded upstream","metadata":{"provider_name":"Google"}}}]}"#;
    assert!(matches!(
        provider().parse(&response(200, in_choice)),
        Err(ProviderError::RateLimited { .. })
    ));
    let no_code =
        r#"{"choices":[{"message":{"content":null},"error":{"message":"stream interrupted"}}]}"#;
    assert!(matches!(
        provider().parse(&response(200, no_code)),
        Err(ProviderError::Upstream { status: 502, .. })
    ));
    let filtered = r#"{"choices":[{"message":{"content":""},"finish_reason":"content_filter"}]}"#;
    assert!(matches!(
        provider().parse(&response(200, filtered)),
        Err(ProviderError::Blocked { .. })
    ));
}

#[test]
fn never_passes_the_key_on() {
    let echoed = error_body(401, &format!("Invalid key {KEY}"));
    let error = provider().parse(&response(401, &echoed)).unwrap_err();
    assert!(!error.to_string().contains(KEY), "{error}");
    let inside = json!({"error": {"code": 400, "message": format!("bad {KEY}")}}).to_string();
    let error = provider().parse(&response(200, &inside)).unwrap_err();
    assert!(!error.to_string().contains(KEY), "{error}");
    let malformed = format!(r#"{{"model":["{KEY}"]}}"#);
    let error = provider().parse(&response(200, &malformed)).unwrap_err();
    assert!(!error.to_string().contains(KEY), "{error}");
    assert!(!format!("{:?}", provider()).contains(KEY));
}

#[test]
fn rejects_malformed_and_empty_replies() {
    assert!(matches!(
        provider().parse(&response(200, "<html>")),
        Err(ProviderError::Malformed { .. })
    ));
    assert_eq!(
        provider().parse(&response(200, r#"{"choices":[]}"#)),
        Err(ProviderError::Empty)
    );
    assert_eq!(
        provider().parse(&response(
            200,
            r#"{"choices":[{"message":{"content":"  "}}]}"#
        )),
        Err(ProviderError::Empty)
    );
}

#[test]
fn needs_a_key_and_an_http_base_url() {
    let error = OpenRouter::new("https://openrouter.ai/api/v1", "").unwrap_err();
    assert!(error.to_string().contains("OPENROUTER_API_KEY"), "{error}");
    let error = OpenRouter::new("openrouter.ai", KEY).unwrap_err();
    assert!(error.to_string().contains("OPENROUTER_BASE_URL"), "{error}");
}
