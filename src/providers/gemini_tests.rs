//! Wire examples from the Gemini API reference (generateContent) and its
//! troubleshooting page.

use super::*;
use crate::providers::tests::turn;
use serde_json::{json, Value};

const KEY: &str = "test-gemini-key-0123456789abcdef";

fn provider() -> Gemini {
    Gemini::new("http://127.0.0.1:9/", KEY).unwrap()
}

fn response(status: u16, body: &str) -> HttpResponse {
    crate::providers::tests::reply(status, None, body)
}

fn error_body(code: u16, status: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message, "status": status}}).to_string()
}

fn prepare(model: &str, settings: &Settings, turns: &[Turn]) -> (crate::port::HttpRequest, Value) {
    let Prepared::Send(request) = provider().prepare(model, settings, turns).unwrap() else {
        panic!("an HTTP provider sends a request");
    };
    let body = serde_json::from_slice(&request.body).unwrap();
    (request, body)
}

#[test]
fn builds_the_request_with_the_key_only_in_a_header() {
    let (request, body) = prepare(
        "gemini-2.5-flash",
        &Settings::default(),
        &[turn(Role::User, "Hello")],
    );
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.uri,
        "http://127.0.0.1:9/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert!(!request.uri.contains(KEY) && !request.uri.contains("key="));
    assert_eq!(request.header("x-goog-api-key"), Some(KEY));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        body,
        json!({"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]})
    );
    let (request, _) = prepare(
        "models/gemini-2.0-flash-001",
        &Settings::default(),
        &[turn(Role::User, "Hi")],
    );
    assert!(request
        .uri
        .ends_with("/v1beta/models/gemini-2.0-flash-001:generateContent"));
}

#[test]
fn refuses_model_ids_that_would_change_the_url() {
    for model in [
        "",
        "../../v1/files",
        "gemini?key=x",
        "a b",
        "gemini#x",
        "models/",
        "é",
    ] {
        let error = provider()
            .prepare(model, &Settings::default(), &[turn(Role::User, "Hi")])
            .unwrap_err();
        assert!(
            matches!(error, ProviderError::ModelNotFound { .. }),
            "{model}"
        );
    }
}

#[test]
fn sends_the_settings_as_system_instruction_and_generation_config() {
    let settings = Settings {
        system: Some("You are a cat.".into()),
        temperature: Some(crate::decimal::dec("0.0")),
        max_tokens: Some(100),
    };
    let (_, body) = prepare("gemini-2.5-pro", &settings, &[turn(Role::User, "Hi")]);
    assert_eq!(
        body["systemInstruction"],
        json!({"parts": [{"text": "You are a cat."}]})
    );
    assert_eq!(
        body["generationConfig"],
        json!({"temperature": 0.0, "maxOutputTokens": 100})
    );
    let only_tokens = Settings {
        max_tokens: Some(7),
        ..Settings::default()
    };
    let (_, body) = prepare("gemini-2.5-pro", &only_tokens, &[turn(Role::User, "Hi")]);
    assert_eq!(body["generationConfig"], json!({"maxOutputTokens": 7}));
    assert!(body.get("systemInstruction").is_none());
}

#[test]
fn maps_roles_and_merges_consecutive_turns() {
    let turns = [
        turn(Role::Assistant, "Welcome!"),
        turn(Role::User, "one"),
        turn(Role::Assistant, "two"),
        turn(Role::User, "three"),
        turn(Role::User, "four"),
    ];
    let (_, body) = prepare("gemini-2.5-flash", &Settings::default(), &turns);
    assert_eq!(
        body["contents"],
        json!([
            {"role": "user", "parts": [{"text": "one"}]},
            {"role": "model", "parts": [{"text": "two"}]},
            {"role": "user", "parts": [{"text": "three\n\nfour"}]}
        ])
    );
}

#[test]
fn parses_a_reply_joining_its_parts() {
    let body = r#"{"candidates":[{"content":{"parts":[
            {"text":"Thinking about cats","thought":true},
            {"text":"Hello"},{"text":", world"}],"role":"model"},
        "finishReason":"STOP","index":0,
        "safetyRatings":[{"category":"HARM_CATEGORY_HARASSMENT","probability":"NEGLIGIBLE"}]}],
        "usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3,"totalTokenCount":7},
        "modelVersion":"gemini-2.5-flash","responseId":"abc"}"#;
    let completion = provider().parse(&response(200, body)).unwrap();
    assert_eq!(completion.content, "Hello, world");
    assert_eq!(completion.model, "gemini-2.5-flash");
    assert_eq!(
        completion.usage,
        Some(Usage {
            input_tokens: 4,
            output_tokens: 3,
            cost: None
        })
    );
    // MAX_TOKENS still answers; no usage and no model version are fine.
    let cut = r#"{"candidates":[{"content":{"parts":[{"text":"Once upon"}]},"finishReason":"MAX_TOKENS"}]}"#;
    let completion = provider().parse(&response(200, cut)).unwrap();
    assert_eq!(
        (
            completion.content.as_str(),
            completion.usage,
            completion.model.as_str()
        ),
        ("Once upon", None, "")
    );
}

#[test]
fn a_blocked_prompt_or_reply_is_blocked() {
    let prompt = r#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},
        "usageMetadata":{"promptTokenCount":12559,"totalTokenCount":12559},
        "modelVersion":"gemini-1.5-flash-002"}"#;
    assert_eq!(
        provider().parse(&response(200, prompt)),
        Err(ProviderError::Blocked {
            reason: "PROHIBITED_CONTENT".into()
        })
    );
    let reply = r#"{"candidates":[{"finishReason":"SAFETY","index":0,
        "safetyRatings":[{"category":"HARM_CATEGORY_DANGEROUS_CONTENT","probability":"HIGH","blocked":true}]}]}"#;
    assert_eq!(
        provider().parse(&response(200, reply)),
        Err(ProviderError::Blocked {
            reason: "SAFETY".into()
        })
    );
    let listed = r#"{"candidates":[{"content":{"parts":[]},"finishReason":"BLOCKLIST"}]}"#;
    assert!(matches!(
        provider().parse(&response(200, listed)),
        Err(ProviderError::Blocked { .. })
    ));
}

#[test]
fn maps_every_documented_error_status() {
    let invalid_key = r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.",
        "status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",
        "reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#;
    assert!(matches!(
        provider().parse(&response(400, invalid_key)),
        Err(ProviderError::Auth { status: 400, .. })
    ));
    let denied = error_body(
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers",
    );
    assert!(matches!(
        provider().parse(&response(403, &denied)),
        Err(ProviderError::Auth { status: 403, .. })
    ));
    let missing = error_body(
        404,
        "NOT_FOUND",
        "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.",
    );
    assert!(matches!(
        provider().parse(&response(404, &missing)),
        Err(ProviderError::ModelNotFound { .. })
    ));
    // A 404 page that is not Google's error object quotes the URL, which names a model:
    // it is a wrong address, not a missing model.
    let page = "<html><title>Error 404 (Not Found)</title><p>The requested URL /v1/v1beta/models/gemini-2.5-flash:generateContent was not found.</p></html>";
    match provider().parse(&response(404, page)) {
        Err(ProviderError::Rejected {
            status: 404,
            message,
        }) => {
            assert!(message.contains("GEMINI_BASE_URL"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let exhausted = r#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED",
        "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"36.5s"}]}}"#;
    assert_eq!(
        provider().parse(&response(429, exhausted)),
        Err(ProviderError::RateLimited {
            retry_after: Some(37),
            message: "You exceeded your current quota.".into()
        })
    );
    let unavailable = error_body(
        503,
        "UNAVAILABLE",
        "The model is overloaded. Please try again later.",
    );
    assert!(matches!(
        provider().parse(&response(503, &unavailable)),
        Err(ProviderError::Overloaded {
            status: 503,
            retry_after: None,
            ..
        })
    ));
    let long = error_body(
        400,
        "INVALID_ARGUMENT",
        "The input token count (1290000) exceeds the maximum number of tokens allowed (1048576).",
    );
    assert!(matches!(
        provider().parse(&response(400, &long)),
        Err(ProviderError::ContextTooLong { .. })
    ));
    let output = error_body(
        400,
        "INVALID_ARGUMENT",
        "Unable to submit request because it has a maxOutputTokens value of 900000 but the supported range is from 1 (inclusive) to 65537 (exclusive).",
    );
    let region = error_body(
        400,
        "FAILED_PRECONDITION",
        "User location is not supported for the API use without a billing account linked.",
    );
    for body in [output, region] {
        assert!(matches!(
            provider().parse(&response(400, &body)),
            Err(ProviderError::Rejected { status: 400, .. })
        ));
    }
    let internal = error_body(500, "INTERNAL", "An internal error has occurred.");
    assert!(matches!(
        provider().parse(&response(500, &internal)),
        Err(ProviderError::Upstream { status: 500, .. })
    ));
}

#[test]
fn never_passes_the_key_on() {
    let echoed = error_body(
        400,
        "INVALID_ARGUMENT",
        &format!("API key not valid: {KEY}"),
    );
    let error = provider().parse(&response(400, &echoed)).unwrap_err();
    assert!(matches!(error, ProviderError::Auth { .. }));
    assert!(!error.to_string().contains(KEY), "{error}");
    let malformed = format!(r#"{{"candidates":"{KEY}"}}"#);
    let error = provider().parse(&response(200, &malformed)).unwrap_err();
    assert!(!error.to_string().contains(KEY), "{error}");
    assert!(!format!("{:?}", provider()).contains(KEY));
}

#[test]
fn rejects_malformed_and_empty_replies() {
    assert!(matches!(
        provider().parse(&response(200, "[1,2")),
        Err(ProviderError::Malformed { .. })
    ));
    for empty in [
        "{}",
        r#"{"candidates":[]}"#,
        r#"{"candidates":[{"finishReason":"STOP"}]}"#,
        r#"{"candidates":[{"content":{"parts":[{"text":" "}]},"finishReason":"STOP"}]}"#,
        r#"{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}}]}"#,
    ] {
        assert_eq!(
            provider().parse(&response(200, empty)),
            Err(ProviderError::Empty),
            "{empty}"
        );
    }
}

#[test]
fn needs_a_key_and_an_http_base_url() {
    let error = Gemini::new("https://generativelanguage.googleapis.com", "").unwrap_err();
    assert!(error.to_string().contains("GEMINI_API_KEY"), "{error}");
    let error = Gemini::new("generativelanguage.googleapis.com", KEY).unwrap_err();
    assert!(error.to_string().contains("GEMINI_BASE_URL"), "{error}");
}
