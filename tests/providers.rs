//! The Anthropic, Gemini and OpenRouter fakes (tests/common/fake_providers) refuse
//! what the real APIs refuse.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::fake_http::FakeServer;
use common::fake_providers::{self, ANTHROPIC_USAGE, OPENROUTER_USAGE};
use common::{Client, Reply};
use serde_json::{json, Value};

// Keys that look like no real key, so a leak is a finding and never a secret.
const ANTHROPIC_KEY: &str = "test-anthropic-key-0123456789";
const GEMINI_KEY: &str = "test-gemini-key-0123456789";
const OPENROUTER_KEY: &str = "test-openrouter-key-0123456789";

/// The fakes themselves, without Theater: they refuse what the real APIs refuse, so
/// the tests above prove the actor sends what each API takes.
#[test]
fn the_fakes_refuse_what_the_real_apis_refuse() {
    fn post(fake: &FakeServer, path: &str, headers: &[(&str, &str)], body: Value) -> Reply {
        let mut headers = headers.to_vec();
        headers.push(("content-type", "application/json"));
        Client::new(fake.port).raw("POST", path, Some(&body.to_string()), &headers)
    }
    fn check(reply: &Reply, status: u16, needle: &str) {
        assert_eq!(reply.status, status, "{}", reply.text);
        assert!(reply.text.contains(needle), "{needle:?} in {}", reply.text);
    }

    let anthropic = fake_providers::anthropic(ANTHROPIC_KEY);
    let good =
        json!({ "model": "m", "max_tokens": 5, "messages": [{ "role": "user", "content": "hi" }] });
    let auth = [
        ("x-api-key", ANTHROPIC_KEY),
        ("anthropic-version", "2023-06-01"),
    ];
    let reply = post(&anthropic, "/v1/messages", &auth, good.clone());
    check(&reply, 200, "Fake Anthropic reply to: hi");
    assert_eq!(reply.json()["usage"]["output_tokens"], ANTHROPIC_USAGE.1);
    check(
        &post(&anthropic, "/v1/messages", &auth[1..], good.clone()),
        401,
        "authentication_error",
    );
    let wrong = [("x-api-key", "nope"), auth[1]];
    check(
        &post(&anthropic, "/v1/messages", &wrong, good.clone()),
        401,
        "invalid x-api-key",
    );
    check(
        &post(&anthropic, "/v1/messages", &auth[..1], good.clone()),
        400,
        "anthropic-version",
    );
    let mut body = good.clone();
    body.as_object_mut().unwrap().remove("max_tokens");
    check(
        &post(&anthropic, "/v1/messages", &auth, body),
        400,
        "max_tokens: Field required",
    );
    let mut body = good.clone();
    body["messages"] =
        json!([{ "role": "system", "content": "be brief" }, { "role": "user", "content": "hi" }]);
    check(
        &post(&anthropic, "/v1/messages", &auth, body),
        400,
        "top-level `system`",
    );
    let mut body = good.clone();
    body["system"] = json!("be brief");
    check(&post(&anthropic, "/v1/messages", &auth, body), 200, "Fake");
    let mut body = good.clone();
    body["max_completion_tokens"] = json!(5);
    check(
        &post(&anthropic, "/v1/messages", &auth, body),
        400,
        "Extra inputs are not permitted",
    );
    let mut body = good.clone();
    body["model"] = json!("fake-429");
    let limited = post(&anthropic, "/v1/messages", &auth, body);
    check(&limited, 429, "rate_limit_error");
    assert_eq!(limited.header("retry-after"), Some("7"));
    check(
        &post(&anthropic, "/v1/complete", &auth, good),
        404,
        "not_found_error",
    );

    let gemini = fake_providers::gemini(GEMINI_KEY);
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    let good = json!({ "contents": [{ "role": "user", "parts": [{ "text": "hi" }] }] });
    let auth = [("x-goog-api-key", GEMINI_KEY)];
    check(
        &post(&gemini, path, &auth, good.clone()),
        200,
        "Fake Gemini reply to: hi",
    );
    let in_url = format!("{path}?key={GEMINI_KEY}");
    check(
        &post(&gemini, &in_url, &auth, good.clone()),
        400,
        "x-goog-api-key header",
    );
    assert!(gemini.last().target.contains("key="), "recorded as sent");
    check(
        &post(&gemini, path, &[], good.clone()),
        403,
        "PERMISSION_DENIED",
    );
    check(
        &post(&gemini, path, &[("x-goog-api-key", "nope")], good.clone()),
        400,
        "API_KEY_INVALID",
    );
    let mut body = good.clone();
    body["contents"][0]["role"] = json!("assistant");
    check(
        &post(&gemini, path, &auth, body),
        400,
        "valid role: user, model",
    );
    let mut body = good.clone();
    body["systemInstruction"] = json!({ "parts": [{ "text": "be brief" }] });
    body["generationConfig"] = json!({ "temperature": 0.5, "maxOutputTokens": 9 });
    check(&post(&gemini, path, &auth, body), 200, "Fake");
    let mut body = good.clone();
    body["messages"] = json!([]);
    check(
        &post(&gemini, path, &auth, body),
        400,
        "Unknown name \\\"messages\\\"",
    );
    check(
        &post(
            &gemini,
            "/v1beta/models/fake-blocked:generateContent",
            &auth,
            good,
        ),
        200,
        "\"blockReason\":\"SAFETY\"",
    );

    let openrouter = fake_providers::openrouter(OPENROUTER_KEY);
    let path = "/api/v1/chat/completions";
    let bearer = format!("Bearer {OPENROUTER_KEY}");
    let auth = [("authorization", bearer.as_str())];
    let good = json!({ "model": "m", "messages": [{ "role": "user", "content": "hi" }] });
    let reply = post(&openrouter, path, &auth, good.clone());
    check(&reply, 200, "Fake OpenRouter reply to: hi");
    assert_eq!(reply.json()["usage"]["prompt_tokens"], OPENROUTER_USAGE.0);
    check(
        &post(&openrouter, path, &[], good.clone()),
        401,
        "No auth credentials",
    );
    check(
        &post(
            &openrouter,
            path,
            &[("authorization", "Bearer nope")],
            good.clone(),
        ),
        401,
        "User not found",
    );
    check(
        &post(&openrouter, "/v1/chat/completions", &auth, good.clone()),
        404,
        "Not Found",
    );
    let mut body = good;
    body["model"] = json!("fake-error-in-200");
    check(
        &post(&openrouter, path, &auth, body),
        200,
        "upstream provider error",
    );
}
