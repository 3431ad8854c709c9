//! The Anthropic, Gemini and OpenRouter providers on the real Theater 0.2.1, against
//! fakes that check requests and answer in each API's own shapes
//! (tests/common/fake_providers.rs): a reply with its token counts, the request each
//! API got, each API's errors ending as the specific failure the page explains, and no
//! key anywhere a user or an admin could read it.
//!
//! Needs `theater`/`theater-server` on PATH and the package from scripts/build-component:
//! run through scripts/test, or `cargo test --test providers -- --ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::fake_http::FakeServer;
use common::fake_providers::{self, ANTHROPIC_USAGE, GEMINI_USAGE, OPENROUTER_USAGE};
use common::{all_chats, free_port, package_manifest, Client, Reply, Theater};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::time::{Duration, Instant};

// Keys that look like no real key, so a leak is a finding and never a secret.
const ANTHROPIC_KEY: &str = "test-anthropic-key-0123456789";
const GEMINI_KEY: &str = "test-gemini-key-0123456789";
const OPENROUTER_KEY: &str = "test-openrouter-key-0123456789";
/// A key the fakes can be told to expect instead, making the server's key a wrong one.
const ROTATED_KEY: &str = "test-rotated-key-9876543210";
const LIMIT: Duration = Duration::from_secs(30);

/// One theater-server with all three providers configured, their fakes, and the chat
/// actor (its event chain saved to disk when it stops). Every response body the actor
/// sends is kept for the key-leak check.
struct Rig {
    theater: Theater,
    actor: String,
    client: Client,
    anthropic: FakeServer,
    gemini: FakeServer,
    openrouter: FakeServer,
    seen: RefCell<String>,
}

impl Rig {
    fn start() -> Self {
        Self::start_with(fake_providers::base_url)
    }

    /// With each provider's base URL made by `base_url(provider, its fake)`.
    fn start_with(base_url: fn(&str, &FakeServer) -> String) -> Self {
        let manifest = package_manifest();
        let anthropic = fake_providers::anthropic(ANTHROPIC_KEY);
        let gemini = fake_providers::gemini(GEMINI_KEY);
        let openrouter = fake_providers::openrouter(OPENROUTER_KEY);
        let urls = [
            base_url("anthropic", &anthropic),
            base_url("gemini", &gemini),
            base_url("openrouter", &openrouter),
        ];
        let mut theater = Theater::start(&[
            ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
            ("ANTHROPIC_BASE_URL", &urls[0]),
            ("GEMINI_API_KEY", GEMINI_KEY),
            ("GEMINI_BASE_URL", &urls[1]),
            ("OPENROUTER_API_KEY", OPENROUTER_KEY),
            ("OPENROUTER_BASE_URL", &urls[2]),
        ]);
        let saved = theater.home.join("providers-actor.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let text = text.replacen("\n[[handlers]]", "\nsave_chain = true\n\n[[handlers]]", 1);
        assert!(text.contains("save_chain = true"));
        std::fs::write(&saved, text).unwrap();
        let port = free_port();
        let actor = theater.start_actor(&saved, &json!({ "port": port, "store_id": "providers" }));
        let client = Client::new(port);
        client.wait_ready(&theater);
        Self {
            theater,
            actor,
            client,
            anthropic,
            gemini,
            openrouter,
            seen: RefCell::new(String::new()),
        }
    }

    /// Calls the actor, expects `status`, returns the JSON body.
    fn call(&self, status: u16, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = self.client.call(method, path, body);
        self.seen.borrow_mut().push_str(&reply.text);
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text);
        if reply.text.is_empty() {
            Value::Null
        } else {
            reply.json()
        }
    }

    fn chat(&self, provider: &str, model: &str) -> String {
        let chat = self.call(
            201,
            "POST",
            "/api/chats",
            Some(json!({ "provider": provider, "model": model })),
        );
        assert_eq!(
            (chat["provider"].as_str(), chat["model"].as_str()),
            (Some(provider), Some(model)),
            "{chat}"
        );
        chat["id"].as_str().unwrap().to_string()
    }

    fn say(&self, chat: &str, text: &str) {
        self.call(
            201,
            "POST",
            &format!("/api/messages?chat={chat}"),
            Some(json!({ "content": text })),
        );
    }

    fn set_model(&self, chat: &str, model: &str) {
        self.call(
            200,
            "PATCH",
            &format!("/api/chat?id={chat}"),
            Some(json!({ "model": model })),
        );
    }

    /// `POST /api/reply` (202, running), then polls the generation until it has ended.
    fn reply(&self, chat: &str) -> Value {
        let accepted = self.call(202, "POST", &format!("/api/reply?chat={chat}"), None);
        assert_eq!(accepted["generation"]["status"], "running", "{accepted}");
        let id = accepted["generation"]["id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + LIMIT;
        loop {
            let generation = self.call(200, "GET", &format!("/api/generation?id={id}"), None)
                ["generation"]
                .clone();
            if generation["status"] != "running" {
                return generation;
            }
            assert!(
                Instant::now() < deadline,
                "generation {id} still running after {LIMIT:?}: {generation}\nserver log:\n{}",
                self.theater.server_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// How many requests the Anthropic, Gemini and OpenRouter fakes got.
    fn calls(&self) -> [usize; 3] {
        [&self.anthropic, &self.gemini, &self.openrouter].map(|fake| fake.requests().len())
    }

    fn messages(&self, chat: &str) -> Vec<Value> {
        let page = self.call(
            200,
            "GET",
            &format!("/api/messages?chat={chat}&limit=200"),
            None,
        );
        page["messages"].as_array().unwrap().clone()
    }

    /// Answers `chat` with `model`, which makes the fake fail: the generation ends
    /// `failed` with `code`, and the chat still ends with the user's `last` message.
    fn fails_with(&self, chat: &str, model: &str, code: &str, last: &str) -> Value {
        self.set_model(chat, model);
        let before = self.messages(chat).len();
        let failed = self.reply(chat);
        assert_eq!(
            (failed["status"].as_str(), failed["code"].as_str()),
            (Some("failed"), Some(code)),
            "model {model}: {failed}"
        );
        assert!(
            failed["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{failed}"
        );
        let messages = self.messages(chat);
        assert_eq!(messages.len(), before, "model {model}: {messages:?}");
        let kept = messages.last().unwrap();
        assert_eq!(
            (kept["role"].as_str(), kept["content"].as_str()),
            (Some("user"), Some(last)),
            "model {model}: the user's message is kept"
        );
        failed
    }

    /// No key in any response the actor sent, its page, its event chain, the server's
    /// log, or any file under THEATER_HOME (the chain is saved when the actor stops).
    fn assert_no_key_leaks(mut self) {
        for path in ["/", "/app.js", "/style.css"] {
            let page = self.client.page_file(path);
            assert_eq!(page.status, 200, "GET {path}");
            self.seen.borrow_mut().push_str(&page.text);
        }
        for path in ["/api/health", "/api/providers"] {
            self.call(200, "GET", path, None);
        }
        let chats = all_chats(&self.client);
        assert!(!chats.is_empty());
        for chat in &chats {
            let id = chat["id"].as_str().unwrap();
            self.messages(id);
            self.call(200, "GET", &format!("/api/chat?id={id}"), None);
            self.call(200, "GET", &format!("/api/generation?chat={id}"), None);
        }
        let events = self.theater.cli(&["events", &self.actor, "-f", "json"]);
        assert!(events.status.success(), "theater events failed");
        let chain = String::from_utf8_lossy(&events.stdout).into_owned();
        assert!(chain.len() > 1000, "no event chain: {chain}");
        let actor = self.actor.clone();
        self.theater.stop_actor(&actor);
        assert!(
            std::fs::read_dir(self.theater.home.join("events"))
                .is_ok_and(|mut d| d.next().is_some()),
            "the chain was not saved"
        );
        let disk = String::from_utf8_lossy(&self.theater.everything_on_disk()).into_owned();
        let places = [
            ("a response of the actor", self.seen.borrow().clone()),
            ("theater events", chain),
            ("the theater-server log", self.theater.server_log()),
            ("a file under THEATER_HOME", disk),
        ];
        for key in [ANTHROPIC_KEY, GEMINI_KEY, OPENROUTER_KEY] {
            for (place, text) in &places {
                assert!(!text.contains(key), "the key {key} is in {place}");
            }
        }
    }
}

fn usage((input, output): (u64, u64)) -> Value {
    json!({ "input_tokens": input, "output_tokens": output })
}

/// What `tokens` cost at `prices` (US dollars per million input and output tokens).
fn cost((input, output): (u64, u64), (input_price, output_price): (f64, f64)) -> f64 {
    (input as f64 * input_price + output as f64 * output_price) / 1e6
}

fn assert_dollars(shown: &Value, expected: f64) {
    let shown = shown.as_f64().unwrap_or_else(|| panic!("no cost: {shown}"));
    assert!((shown - expected).abs() < 1e-12, "{shown} != {expected}");
}

/// The reply the chat shows, with who wrote it, its tokens and what they cost at the
/// catalog's `prices`.
fn assert_reply(
    message: &Value,
    (provider, model): (&str, &str),
    text: &str,
    tokens: (u64, u64),
    prices: (f64, f64),
) {
    assert_eq!(message["role"], "assistant", "{message}");
    assert_eq!(message["content"], text, "{message}");
    assert_eq!(
        (message["provider"].as_str(), message["model"].as_str()),
        (Some(provider), Some(model)),
        "{message}"
    );
    let mut shown = message["usage"].clone();
    assert_dollars(&shown["cost_usd"], cost(tokens, prices));
    shown.as_object_mut().unwrap().remove("cost_usd");
    assert_eq!(shown, usage(tokens), "{message}");
}

impl Rig {
    /// Asks for a reply and checks it came: done, the chat's `count`th message, with
    /// its text, who wrote it, its tokens and their cost (`(tokens, prices)`).
    fn answers(
        &self,
        chat: &str,
        count: usize,
        who: (&str, &str),
        text: &str,
        (tokens, prices): ((u64, u64), (f64, f64)),
    ) -> (Value, Vec<Value>) {
        let done = self.reply(chat);
        assert_eq!(done["status"], "done", "{done}");
        let messages = self.messages(chat);
        assert_eq!(
            messages.len(),
            count,
            "no reply stored by a failure: {messages:?}"
        );
        assert_reply(&messages[count - 1], who, text, tokens, prices);
        (done, messages)
    }

    /// Gives the chat a system prompt, temperature and reply length.
    fn set_settings(&self, chat: &str, temperature: f64) {
        let view = self.call(
            200,
            "PATCH",
            &format!("/api/chat?id={chat}"),
            Some(json!({ "system": SYSTEM, "temperature": temperature, "max_tokens": 256 })),
        );
        assert_eq!(
            view["settings"],
            json!({ "system": SYSTEM, "temperature": temperature, "max_tokens": 256 })
        );
    }

    /// The chat's totals: both replies' tokens and cost.
    fn assert_chat_spent(&self, chat: &str, tokens: (u64, u64), prices: (f64, f64)) {
        let view = self.call(200, "GET", &format!("/api/chat?id={chat}"), None);
        let spent = &view["usage"];
        assert_eq!(
            (
                spent["input_tokens"].as_u64(),
                spent["output_tokens"].as_u64()
            ),
            (Some(tokens.0 * 2), Some(tokens.1 * 2)),
            "{view}"
        );
        assert_dollars(&spent["cost_usd"], 2.0 * cost(tokens, prices));
        assert!(spent.get("unpriced_replies").is_none(), "{view}");
    }
}

const SYSTEM: &str = "Answer in one sentence.";
// The catalog's prices (assets/models.toml), US dollars per million tokens.
const SONNET: (f64, f64) = (3.0, 15.0);
const FLASH: (f64, f64) = (0.30, 2.50);

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn anthropic_answers_and_fails_the_way_the_messages_api_does() {
    let rig = Rig::start();
    let chat = rig.chat("anthropic", "claude-sonnet-4-5");
    rig.say(&chat, "Hello Claude");
    let (done, messages) = rig.answers(
        &chat,
        2,
        ("anthropic", "claude-sonnet-4-5"),
        "Fake Anthropic reply to: Hello Claude",
        (ANTHROPIC_USAGE, SONNET),
    );
    assert_eq!(done["message"], messages[1]["id"], "{done}");

    let sent = rig.anthropic.requests();
    assert_eq!(sent.len(), 1, "one request per reply: {sent:?}");
    let request = &sent[0];
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(request.header("x-api-key"), Some(ANTHROPIC_KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        request.header("authorization"),
        None,
        "the key goes in x-api-key only"
    );
    assert!(request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json")));
    assert_eq!(request.body["model"], "claude-sonnet-4-5");
    assert!(
        request.body["max_tokens"].as_u64().is_some_and(|n| n >= 1),
        "Anthropic requires max_tokens: {}",
        request.body
    );
    assert!(
        request.body.get("system").is_none(),
        "no system prompt was set: {}",
        request.body
    );
    assert_eq!(
        request.body["messages"],
        json!([{ "role": "user", "content": "Hello Claude" }])
    );

    // Each error of the API ends as the failure the page explains; the message stays.
    let question = "And a second question";
    rig.say(&chat, question);
    for (model, code) in [
        ("fake-529", "provider_overloaded"),
        ("fake-429", "provider_rate_limited"),
        ("fake-404", "provider_model_not_found"),
        ("fake-too-long", "provider_context_too_long"),
    ] {
        let failed = rig.fails_with(&chat, model, code, question);
        assert_eq!(rig.anthropic.last().body["model"], model);
        if model == "fake-429" {
            assert_eq!(
                failed["retry_after"], 7,
                "Retry-After is passed on: {failed}"
            );
        }
    }
    // A key the API does not take.
    rig.anthropic.expect_key(ROTATED_KEY);
    rig.fails_with(&chat, "claude-sonnet-4-5", "provider_auth", question);
    assert_eq!(
        rig.anthropic.last().header("x-api-key"),
        Some(ANTHROPIC_KEY)
    );
    rig.anthropic.expect_key(ANTHROPIC_KEY);

    // The next reply works, with the chat's settings, and the whole conversation was
    // sent, alternating.
    rig.set_settings(&chat, 0.3);
    rig.answers(
        &chat,
        4,
        ("anthropic", "claude-sonnet-4-5"),
        &format!("Fake Anthropic reply to: {question}"),
        (ANTHROPIC_USAGE, SONNET),
    );
    let sent = rig.anthropic.last().body;
    assert_eq!(
        (&sent["system"], &sent["temperature"], &sent["max_tokens"]),
        (&json!(SYSTEM), &json!(0.3), &json!(256)),
        "the settings, top-level: {sent}"
    );
    rig.assert_chat_spent(&chat, ANTHROPIC_USAGE, SONNET);
    assert_eq!(
        rig.anthropic.last().body["messages"],
        json!([
            { "role": "user", "content": "Hello Claude" },
            { "role": "assistant", "content": "Fake Anthropic reply to: Hello Claude" },
            { "role": "user", "content": question },
        ])
    );
    assert_eq!(
        rig.calls(),
        [7, 0, 0],
        "each reply is one request, to Anthropic"
    );
    rig.assert_no_key_leaks();
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn gemini_answers_and_fails_the_way_generate_content_does() {
    let rig = Rig::start();
    let chat = rig.chat("gemini", "gemini-2.5-flash");
    rig.say(&chat, "Hello Gemini");
    rig.answers(
        &chat,
        2,
        ("gemini", "gemini-2.5-flash"),
        "Fake Gemini reply to: Hello Gemini",
        (GEMINI_USAGE, FLASH),
    );

    let sent = rig.gemini.requests();
    assert_eq!(sent.len(), 1, "one request per reply: {sent:?}");
    let request = &sent[0];
    assert_eq!(
        (request.method.as_str(), request.path()),
        ("POST", "/v1beta/models/gemini-2.5-flash:generateContent")
    );
    assert_eq!(request.header("x-goog-api-key"), Some(GEMINI_KEY));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.body,
        json!({ "contents": [{ "role": "user", "parts": [{ "text": "Hello Gemini" }] }] }),
        "no systemInstruction or generationConfig when the chat sets none"
    );

    let question = "Are you still there?";
    rig.say(&chat, question);
    for (model, code) in [
        ("fake-503", "provider_overloaded"),
        ("fake-429", "provider_rate_limited"),
        ("fake-404", "provider_model_not_found"),
        ("fake-too-long", "provider_context_too_long"),
        ("fake-blocked", "provider_blocked"),
        ("fake-blocked-reply", "provider_blocked"),
    ] {
        let failed = rig.fails_with(&chat, model, code, question);
        assert_eq!(
            rig.gemini.last().path(),
            format!("/v1beta/models/{model}:generateContent")
        );
        match model {
            // RetryInfo's "37.2s", rounded up.
            "fake-429" => assert_eq!(failed["retry_after"], 38, "{failed}"),
            "fake-blocked" | "fake-blocked-reply" => assert!(
                failed["message"].as_str().unwrap().contains("SAFETY"),
                "the reason is shown: {failed}"
            ),
            _ => {}
        }
    }
    rig.gemini.expect_key(ROTATED_KEY);
    rig.fails_with(&chat, "gemini-2.5-flash", "provider_auth", question);
    rig.gemini.expect_key(GEMINI_KEY);

    rig.set_settings(&chat, 1.5);
    rig.answers(
        &chat,
        4,
        ("gemini", "gemini-2.5-flash"),
        &format!("Fake Gemini reply to: {question}"),
        (GEMINI_USAGE, FLASH),
    );
    let sent = rig.gemini.last().body;
    assert_eq!(
        sent["systemInstruction"],
        json!({ "parts": [{ "text": SYSTEM }] }),
        "{sent}"
    );
    assert_eq!(
        (
            &sent["generationConfig"]["temperature"],
            &sent["generationConfig"]["maxOutputTokens"]
        ),
        (&json!(1.5), &json!(256)),
        "{sent}"
    );
    rig.assert_chat_spent(&chat, GEMINI_USAGE, FLASH);
    assert_eq!(
        rig.gemini.last().body["contents"],
        json!([
            { "role": "user", "parts": [{ "text": "Hello Gemini" }] },
            { "role": "model", "parts": [{ "text": "Fake Gemini reply to: Hello Gemini" }] },
            { "role": "user", "parts": [{ "text": question }] },
        ])
    );
    assert_eq!(
        rig.calls(),
        [0, 9, 0],
        "each reply is one request, to Gemini"
    );
    let sent = rig.gemini.requests();
    for request in &sent {
        assert!(
            !request.target.contains("key="),
            "the key was sent in the URL: {}",
            request.target
        );
        assert_eq!(request.header("x-goog-api-key"), Some(GEMINI_KEY));
    }
    rig.assert_no_key_leaks();
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn openrouter_answers_and_fails_the_way_its_api_does() {
    let rig = Rig::start();
    let model = "anthropic/claude-sonnet-4.5";
    let chat = rig.chat("openrouter", model);
    rig.say(&chat, "Hello OpenRouter");
    rig.answers(
        &chat,
        2,
        ("openrouter", model),
        "Fake OpenRouter reply to: Hello OpenRouter",
        (OPENROUTER_USAGE, SONNET),
    );

    let sent = rig.openrouter.requests();
    assert_eq!(sent.len(), 1, "one request per reply: {sent:?}");
    let request = &sent[0];
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("POST", "/api/v1/chat/completions")
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {OPENROUTER_KEY}").as_str())
    );
    assert_eq!(request.body["model"], model);
    assert_eq!(
        request.body["messages"],
        json!([{ "role": "user", "content": "Hello OpenRouter" }]),
        "no system message when the chat sets none"
    );

    let question = "One more thing";
    rig.say(&chat, question);
    for (magic, code, shown) in [
        (
            "fake-error-in-200",
            "provider_failed",
            "upstream provider error",
        ),
        (
            "fake-choice-error",
            "provider_failed",
            "Provider returned error",
        ),
        ("fake-402", "provider_rejected", "credits"),
        ("fake-429", "provider_rate_limited", "Rate limit exceeded"),
        ("fake-moderation", "provider_blocked", "violence"),
    ] {
        let failed = rig.fails_with(&chat, magic, code, question);
        assert_eq!(rig.openrouter.last().body["model"], magic);
        assert!(
            failed["message"].as_str().unwrap().contains(shown),
            "the page shows what went wrong ({shown:?}): {failed}"
        );
        if magic == "fake-429" {
            assert_eq!(failed["retry_after"], 11, "{failed}");
        }
    }
    // OpenRouter's answer to a model id it does not know (the catalogue takes any).
    rig.set_model(&chat, "fake-invalid-model");
    let failed = rig.reply(&chat);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["code"] == "provider_model_not_found"
            && failed["message"]
                .as_str()
                .unwrap()
                .contains("fake-invalid-model is not a valid model ID"),
        "{failed}"
    );
    rig.openrouter.expect_key(ROTATED_KEY);
    rig.fails_with(&chat, model, "provider_auth", question);
    rig.openrouter.expect_key(OPENROUTER_KEY);

    rig.set_settings(&chat, 0.7);
    rig.answers(
        &chat,
        4,
        ("openrouter", model),
        &format!("Fake OpenRouter reply to: {question}"),
        (OPENROUTER_USAGE, SONNET),
    );
    rig.assert_chat_spent(&chat, OPENROUTER_USAGE, SONNET);
    let sent = rig.openrouter.last().body;
    assert_eq!(
        (&sent["temperature"], &sent["max_tokens"]),
        (&json!(0.7), &json!(256)),
        "{sent}"
    );
    assert_eq!(
        rig.openrouter.last().body["messages"],
        json!([
            { "role": "system", "content": SYSTEM },
            { "role": "user", "content": "Hello OpenRouter" },
            { "role": "assistant", "content": "Fake OpenRouter reply to: Hello OpenRouter" },
            { "role": "user", "content": question },
        ])
    );
    assert_eq!(
        rig.calls(),
        [0, 0, 9],
        "each reply is one request, to OpenRouter"
    );
    rig.assert_no_key_leaks();
}

/// A base URL as the APIs' own documentation writes the endpoint, with the version
/// in it (or OpenRouter's without its `/api/v1`), is an easy mistake: each provider
/// answers 404 for the wrong path, and the page must say the request was rejected
/// (404), not blame the model or the key.
#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn a_base_url_with_the_wrong_path_is_reported_as_a_rejected_request() {
    let rig = Rig::start_with(|provider, fake| match provider {
        "anthropic" => format!("{}/v1", fake.origin()),
        "gemini" => format!("{}/v1beta", fake.origin()),
        _ => fake.origin(),
    });
    let mut outcomes = Vec::new();
    for (provider, model, fake, path) in [
        (
            "anthropic",
            "claude-sonnet-4-5",
            &rig.anthropic,
            "/v1/v1/messages",
        ),
        (
            "gemini",
            "gemini-2.5-flash",
            &rig.gemini,
            "/v1beta/v1beta/models/gemini-2.5-flash:generateContent",
        ),
        (
            "openrouter",
            "openai/gpt-4o-mini",
            &rig.openrouter,
            "/chat/completions",
        ),
    ] {
        let chat = rig.chat(provider, model);
        rig.say(&chat, "Anyone there?");
        let failed = rig.reply(&chat);
        assert_eq!(fake.last().path(), path, "{provider}");
        let messages = rig.messages(&chat);
        assert_eq!(messages.len(), 1, "{provider}: the message is kept, alone");
        outcomes.push((
            provider,
            failed["status"].as_str().map(str::to_string),
            failed["code"].as_str().map(str::to_string),
            failed["message"]
                .as_str()
                .is_some_and(|m| m.contains("404")),
        ));
    }
    let rejected = |provider| {
        (
            provider,
            Some("failed".to_string()),
            Some("provider_rejected".to_string()),
            true,
        )
    };
    assert_eq!(
        outcomes,
        ["anthropic", "gemini", "openrouter"].map(rejected),
        "(provider, status, code, message names the 404)"
    );
    rig.assert_no_key_leaks();
}

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

    let doubled = "/v1beta/v1beta/models/gemini-2.5-flash:generateContent";
    let page = post(&gemini, doubled, &auth, json!({}));
    check(&page, 404, "was not found on this server");
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(
        !page.text[..300].contains("model"),
        "as on Google's page, the path comes after a long head"
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
