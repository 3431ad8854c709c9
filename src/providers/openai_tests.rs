//! Wire examples from the OpenAI chat completions reference and its error codes.

use super::*;
use crate::providers::tests::turn;
use serde_json::{json, Value};

const KEY: &str = "sk-test-0123456789";

fn provider() -> OpenAi {
    OpenAi::new("http://127.0.0.1:9/v1/", KEY).unwrap()
}

fn response(status: u16, body: &str) -> HttpResponse {
    crate::providers::tests::reply(status, Some("7"), body)
}

fn request(provider: &OpenAi, settings: &Settings) -> (crate::port::HttpRequest, Value) {
    let turns = [
        turn(Role::User, "one"),
        turn(Role::Assistant, "two"),
        turn(Role::User, "three"),
    ];
    let Prepared::Send(request) = provider.prepare("gpt-4o-mini", settings, &turns).unwrap() else {
        panic!("an HTTP provider sends a request");
    };
    let body = serde_json::from_slice(&request.body).unwrap();
    (request, body)
}

#[test]
fn a_malformed_reply_that_echoes_the_key_does_not_pass_it_on() {
    // Found by the provider_reply fuzz target: serde quotes the offending value.
    let body = format!(r#"{{"choices":"us{KEY}age"}}"#);
    let error = provider().parse(&response(200, &body)).unwrap_err();
    assert!(matches!(error, ProviderError::Malformed { .. }));
    assert!(!error.to_string().contains(KEY), "{error}");
}

#[test]
fn builds_the_wire_request_in_order_with_bearer_auth() {
    let (request, body) = request(&provider(), &Settings::default());
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, "http://127.0.0.1:9/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk-test-0123456789")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": "three"}
        ])
    );
    // Unset settings are left to the provider.
    let fields: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(fields, ["messages", "model"]);
}

#[test]
fn sends_the_settings_with_the_system_prompt_first() {
    let settings = Settings {
        system: Some("Answer in French.".into()),
        temperature: Some(crate::decimal::dec("0.2")),
        max_tokens: Some(300),
    };
    let (_, body) = request(&provider(), &settings);
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "Answer in French."})
    );
    assert_eq!(body["messages"][1]["content"], "one");
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["max_tokens"], 300);
    let blank = Settings {
        system: Some("  ".into()),
        ..Settings::default()
    };
    let (_, body) = request(&provider(), &blank);
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
}

#[test]
fn a_key_is_optional_only_for_a_server_on_this_machine() {
    for local in [
        "http://localhost:11434/v1",
        "http://127.0.0.1:8000/v1",
        "http://127.1.2.3/v1",
        "http://[::1]:8080/v1",
    ] {
        let provider = OpenAi::new(local, " ").unwrap();
        let (request, _) = request(&provider, &Settings::default());
        assert_eq!(request.header("authorization"), None, "{local}");
    }
    for remote in [
        "https://api.openai.com/v1",
        "http://localhost.example.com/v1",
        "http://127.0.0.1.example.com/v1",
        "http://user@10.0.0.1/v1",
    ] {
        let error = OpenAi::new(remote, "").unwrap_err();
        assert!(error.to_string().contains("OPENAI_API_KEY"), "{remote}");
    }
}

#[test]
fn parses_a_completion_with_usage() {
    let body = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18",
        "choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],
        "usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#;
    let completion = provider().parse(&response(200, body)).unwrap();
    assert_eq!(completion.content, "Hi!");
    assert_eq!(completion.model, "gpt-4o-mini-2024-07-18");
    assert_eq!(
        completion.usage,
        Some(Usage {
            input_tokens: 9,
            output_tokens: 2,
            cost: None
        })
    );
    // A local server that reports neither model nor usage.
    let bare = provider()
        .parse(&response(
            200,
            r#"{"choices":[{"message":{"content":"ok"}}]}"#,
        ))
        .unwrap();
    assert_eq!((bare.content.as_str(), bare.usage), ("ok", None));
}

#[test]
fn maps_error_replies_and_never_echoes_the_key() {
    let body = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {KEY}.","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
    );
    let error = provider().parse(&response(401, &body)).unwrap_err();
    assert!(matches!(error, ProviderError::Auth { status: 401, .. }));
    assert!(!error.to_string().contains(KEY), "{error}");
    assert!(error.to_string().contains("[redacted]"));

    let limited = provider()
        .parse(&response(
            429,
            r#"{"error":{"message":"Rate limit reached"}}"#,
        ))
        .unwrap_err();
    assert_eq!(
        limited,
        ProviderError::RateLimited {
            retry_after: Some(7),
            message: "Rate limit reached".into()
        }
    );
    let quota = provider()
        .parse(&response(
            429,
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        ))
        .unwrap_err();
    assert!(matches!(quota, ProviderError::Rejected { status: 429, .. }));
    let missing = provider()
        .parse(&response(
            404,
            r#"{"error":{"message":"The model `x` does not exist","code":"model_not_found"}}"#,
        ))
        .unwrap_err();
    assert!(matches!(missing, ProviderError::ModelNotFound { .. }));
    // A wrong base URL is not a missing model.
    let wrong_path = provider()
        .parse(&response(404, "404 page not found"))
        .unwrap_err();
    assert!(matches!(
        wrong_path,
        ProviderError::Rejected { status: 404, .. }
    ));
    let down = provider()
        .parse(&response(502, "<html>bad gateway</html>"))
        .unwrap_err();
    assert!(matches!(down, ProviderError::Upstream { status: 502, .. }));
    let busy = provider()
        .parse(&response(
            503,
            r#"{"error":{"message":"The engine is currently overloaded"}}"#,
        ))
        .unwrap_err();
    assert!(matches!(
        busy,
        ProviderError::Overloaded {
            status: 503,
            retry_after: Some(7),
            ..
        }
    ));
}

#[test]
fn maps_long_prompts_filters_and_local_servers_errors() {
    let long = provider()
        .parse(&response(
            400,
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
        ))
        .unwrap_err();
    assert!(
        matches!(long, ProviderError::ContextTooLong { .. }),
        "{long}"
    );
    let filtered = provider()
        .parse(&response(
            400,
            r#"{"error":{"message":"The response was filtered","code":"content_filter","status":400}}"#,
        ))
        .unwrap_err();
    assert!(
        matches!(filtered, ProviderError::Blocked { .. }),
        "{filtered}"
    );
    let stopped = provider()
        .parse(&response(
            200,
            r#"{"choices":[{"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]}"#,
        ))
        .unwrap_err();
    assert!(matches!(stopped, ProviderError::Blocked { .. }));
    // Ollama's error is a bare string.
    let ollama = provider()
        .parse(&response(
            404,
            r#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
        ))
        .unwrap_err();
    assert_eq!(
        ollama,
        ProviderError::ModelNotFound {
            message: "model \"llama9\" not found, try pulling it first".into()
        }
    );
    let invalid = provider()
        .parse(&response(
            400,
            r#"{"error":{"message":"Invalid value for 'temperature'","code":null}}"#,
        ))
        .unwrap_err();
    assert!(matches!(
        invalid,
        ProviderError::Rejected { status: 400, .. }
    ));
}

#[test]
fn rejects_malformed_and_empty_replies() {
    assert!(matches!(
        provider().parse(&response(200, "not json")),
        Err(ProviderError::Malformed { .. })
    ));
    assert_eq!(
        provider().parse(&response(200, "{}")),
        Err(ProviderError::Empty)
    );
    assert_eq!(
        provider().parse(&response(200, r#"{"choices":[]}"#)),
        Err(ProviderError::Empty)
    );
    assert_eq!(
        provider().parse(&response(
            200,
            r#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#
        )),
        Err(ProviderError::Empty)
    );
    assert_eq!(
        provider().parse(&response(
            200,
            r#"{"choices":[{"message":{"content":" \n"}}]}"#
        )),
        Err(ProviderError::Empty)
    );
}

#[test]
fn base_url_must_be_http() {
    assert!(OpenAi::new("ftp://x", KEY).is_err());
    assert!(OpenAi::new("api.openai.com", KEY).is_err());
    assert!(format!("{:?}", provider()).contains("[redacted]"));
    assert!(!format!("{:?}", provider()).contains(KEY));
}
