//! Per-chat settings, usage and cost, context trimming and the catalog overlay, as a
//! page or curl sees them over the fake host.

use crate::actor;
use crate::port::fake::FakeHost;
use crate::providers::{OPENAI_API_KEY, OPENAI_BASE_URL};
use crate::test_support::Harness;
use serde_json::{json, Value};

fn patch(h: &mut Harness, chat: &str, body: Value) -> (u16, Value) {
    h.call("PATCH", &format!("/api/chat?id={chat}"), Some(body))
}

fn get_chat(h: &mut Harness, chat: &str) -> Value {
    let (status, view) = h.call("GET", &format!("/api/chat?id={chat}"), None);
    assert_eq!(status, 200, "{view}");
    view
}

fn last_message(h: &mut Harness, chat: &str) -> Value {
    let (status, page) = h.call("GET", &format!("/api/messages?chat={chat}"), None);
    assert_eq!(status, 200, "{page}");
    page["messages"].as_array().unwrap().last().unwrap().clone()
}

fn error_message(reply: &(u16, Value)) -> String {
    assert_eq!(reply.0, 400, "{}", reply.1);
    reply.1["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn settings_are_stored_shown_and_cleared_per_chat() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    assert_eq!(get_chat(&mut h, &chat)["settings"], json!({}));
    let (status, view) = patch(
        &mut h,
        &chat,
        json!({ "system": "Answer in French.", "temperature": 0.4, "max_tokens": 500 }),
    );
    assert_eq!(status, 200, "{view}");
    let expected = json!({ "system": "Answer in French.", "temperature": 0.4, "max_tokens": 500 });
    assert_eq!(view["settings"], expected);
    assert_eq!(get_chat(&mut h, &chat)["settings"], expected);
    // Other chats are untouched; null clears one setting and keeps the rest.
    let other = h.new_chat();
    assert_eq!(get_chat(&mut h, &other)["settings"], json!({}));
    let (_, view) = patch(&mut h, &chat, json!({ "temperature": null }));
    assert_eq!(
        view["settings"],
        json!({ "system": "Answer in French.", "max_tokens": 500 })
    );
    // A new chat can start with settings.
    let (status, created) = h.call(
        "POST",
        "/api/chats",
        Some(json!({ "system": "Be brief.", "temperature": 1.0 })),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["settings"],
        json!({ "system": "Be brief.", "temperature": 1.0 })
    );
}

#[test]
fn out_of_range_settings_get_a_400_that_says_the_range_and_change_nothing() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    patch(
        &mut h,
        &chat,
        json!({ "provider": "openai", "model": "gpt-4o-mini" }),
    );
    let before = get_chat(&mut h, &chat);
    let temperature = error_message(&patch(&mut h, &chat, json!({ "temperature": 2.5 })));
    assert!(temperature.contains("from 0 to 2"), "{temperature}");
    let negative = error_message(&patch(&mut h, &chat, json!({ "temperature": -0.1 })));
    assert!(negative.contains("from 0 to 2"), "{negative}");
    let text = error_message(&patch(&mut h, &chat, json!({ "temperature": "hot" })));
    assert!(text.contains("must be a number"), "{text}");
    let zero = error_message(&patch(&mut h, &chat, json!({ "max_tokens": 0 })));
    assert!(zero.contains("from 1 to"), "{zero}");
    // gpt-4o-mini writes at most 16,384 tokens (the catalog says).
    let long = error_message(&patch(&mut h, &chat, json!({ "max_tokens": 20000 })));
    assert!(long.contains("from 1 to 16384 for gpt-4o-mini"), "{long}");
    let fraction = error_message(&patch(&mut h, &chat, json!({ "max_tokens": 1.5 })));
    assert!(fraction.contains("whole number"), "{fraction}");
    let system = error_message(&patch(
        &mut h,
        &chat,
        json!({ "system": "x".repeat(20_001) }),
    ));
    assert!(system.contains("at most 20000 characters"), "{system}");
    assert_eq!(get_chat(&mut h, &chat), before);

    // Anthropic takes temperatures up to 1: switching with 1.5 set is refused whole.
    patch(&mut h, &chat, json!({ "temperature": 1.5 }));
    let switch = error_message(&patch(
        &mut h,
        &chat,
        json!({ "provider": "anthropic", "model": "claude-sonnet-4-5" }),
    ));
    assert!(switch.contains("from 0 to 1 for Anthropic"), "{switch}");
    assert_eq!(get_chat(&mut h, &chat)["provider"], "openai");
    let (status, _) = patch(
        &mut h,
        &chat,
        json!({ "provider": "anthropic", "model": "claude-sonnet-4-5", "temperature": 0.7 }),
    );
    assert_eq!(status, 200);
}

#[test]
fn a_chats_settings_reach_the_worker_with_its_job() {
    let mut h = Harness::with_worker();
    h.host.set_env(OPENAI_API_KEY, "sk-test-settings");
    h.host.set_env(OPENAI_BASE_URL, "http://127.0.0.1:9999/v1");
    let chat = h.new_chat();
    patch(
        &mut h,
        &chat,
        json!({ "provider": "openai", "model": "gpt-4o", "system": "Be terse.", "temperature": 0.2, "max_tokens": 64 }),
    );
    h.say(&chat, "hello");
    let (status, _) = h.call("POST", &format!("/api/reply?chat={chat}"), None);
    assert_eq!(status, 202);
    let (_, job) = h.host.spawned.borrow()[0].clone();
    let job: Value = serde_json::from_slice(&job).unwrap();
    assert_eq!(
        job["settings"],
        json!({ "system": "Be terse.", "temperature": 0.2, "max_tokens": 64 })
    );
}

#[test]
fn each_reply_carries_its_tokens_and_cost_and_the_chat_adds_them_up() {
    let mut h = Harness::with_worker();
    h.host.set_env(OPENAI_API_KEY, "sk-test-cost");
    h.host.set_env(OPENAI_BASE_URL, "http://127.0.0.1:9999/v1");
    let chat = h.new_chat();
    patch(
        &mut h,
        &chat,
        json!({ "provider": "openai", "model": "gpt-4o" }),
    );
    for _ in 0..2 {
        h.say(&chat, "price this");
        assert_eq!(
            h.call("POST", &format!("/api/reply?chat={chat}"), None).0,
            202
        );
        // gpt-4o: $2.50 per million in, $10 per million out.
        h.provider_answers(
            200,
            r#"{"choices":[{"message":{"content":"ok"}}],"usage":{"prompt_tokens":1000,"completion_tokens":200}}"#,
        );
        h.run_worker();
    }
    let reply = last_message(&mut h, &chat);
    assert_eq!(
        reply["usage"],
        json!({ "input_tokens": 1000, "output_tokens": 200, "cost_usd": 0.0045 })
    );
    assert_eq!(
        get_chat(&mut h, &chat)["usage"],
        json!({ "input_tokens": 2000, "output_tokens": 400, "cost_usd": 0.009 })
    );

    // A model with no known price: tokens, no cost, and the total says so.
    patch(&mut h, &chat, json!({ "model": "my-local-llama" }));
    h.say(&chat, "and this?");
    assert_eq!(
        h.call("POST", &format!("/api/reply?chat={chat}"), None).0,
        202
    );
    h.provider_answers(
        200,
        r#"{"choices":[{"message":{"content":"free"}}],"usage":{"prompt_tokens":30,"completion_tokens":5}}"#,
    );
    h.run_worker();
    let reply = last_message(&mut h, &chat);
    assert_eq!(
        reply["usage"],
        json!({ "input_tokens": 30, "output_tokens": 5 })
    );
    assert_eq!(
        get_chat(&mut h, &chat)["usage"],
        json!({ "input_tokens": 2030, "output_tokens": 405, "cost_usd": 0.009, "unpriced_replies": 1 })
    );
    assert!(!h
        .call("GET", &format!("/api/chat?id={chat}"), None)
        .1
        .to_string()
        .contains("NaN"));
}

#[test]
fn a_long_conversation_is_trimmed_from_the_oldest_turns_and_the_reply_says_so() {
    // The demo model reads 8,192 tokens and keeps 1,024 for its reply.
    let mut h = Harness::new();
    let chat = h.new_chat();
    let long = "word ".repeat(2_400); // 12,000 bytes: about 4,000 tokens
    for _ in 0..3 {
        h.say(&chat, &long);
        assert_eq!(
            h.call("POST", &format!("/api/reply?chat={chat}"), None).0,
            202
        );
    }
    let reply = last_message(&mut h, &chat);
    // Only the last message fits next to the demo's reply: the 4 before it (two
    // questions, two replies) were left out, and the model saw one message.
    assert_eq!(reply["omitted"], 4, "{reply}");
    assert!(reply["content"]
        .as_str()
        .unwrap()
        .contains("It sees 1 message of yours"));
    let (_, page) = h.call("GET", &format!("/api/messages?chat={chat}&limit=200"), None);
    assert_eq!(page["messages"].as_array().unwrap().len(), 6);
    let first_reply = &page["messages"][1];
    assert_eq!(first_reply["role"], "assistant");
    assert!(first_reply.get("omitted").is_none(), "{first_reply}");

    // A message longer than the whole window is refused before any model sees it, and
    // is kept.
    h.say(&chat, &"x".repeat(30_000));
    let (status, error) = h.call("POST", &format!("/api/reply?chat={chat}"), None);
    assert_eq!(status, 413, "{error}");
    assert_eq!(error["error"]["code"], "context_too_long");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tokens"));
    assert_eq!(last_message(&mut h, &chat)["role"], "user");
}

#[test]
fn the_catalog_overlay_adds_models_changes_prices_and_is_checked_at_start() {
    let overlay = r#"
[[providers]]
id = "openai"
models = [
  { id = "llama3.1:8b", name = "Llama 3.1 8B (Ollama)", context_window = 8192, input_price = 0.0, output_price = 0.0 },
]
"#;
    let init = json!({ "store_id": "t", "catalog": overlay }).to_string();
    let mut h = Harness::with_init(&init);
    let (status, providers) = h.call("GET", "/api/providers", None);
    assert_eq!(status, 200);
    let openai = providers["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "openai")
        .unwrap();
    let llama = openai["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "llama3.1:8b")
        .unwrap();
    assert_eq!(llama["context_window"], 8192);
    assert_eq!(llama["input_price"], 0.0);
    // The overlay is in the store, not in the state every call records.
    assert!(!String::from_utf8_lossy(&h.state.encode()).contains("llama3.1"));
    // The state survives the runtime's encode/decode with the overlay still in force.
    h.state = crate::state::ActorState::decode(Some(&h.state.encode())).unwrap();
    let (status, _) = h.call(
        "POST",
        "/api/chats",
        Some(json!({ "provider": "openai", "model": "llama3.1:8b", "max_tokens": 100 })),
    );
    assert_eq!(status, 201);

    let bad = json!({ "store_id": "t", "catalog": "[[providers]]\nid = \"openai\"\nmodels = [\n  { id = \"x\" },\n]\n" })
        .to_string();
    let error = actor::init(&FakeHost::new(), Some(bad.as_bytes()), "a")
        .unwrap_err()
        .to_string();
    assert!(error.contains("\"catalog\""), "{error}");
    assert!(error.contains("line 4"), "{error}");
    assert!(error.contains("name"), "{error}");
}

#[test]
fn providers_list_windows_prices_and_temperature_ranges_without_keys() {
    let mut h = Harness::new();
    h.host
        .set_env("ANTHROPIC_API_KEY", "test-anthropic-key-never-shown");
    let (_, providers) = h.call("GET", "/api/providers", None);
    let anthropic = providers["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "anthropic")
        .unwrap()
        .clone();
    assert_eq!(anthropic["available"], true);
    assert_eq!(anthropic["max_temperature"], 1.0);
    assert_eq!(anthropic["models"][0]["context_window"], 200000);
    assert_eq!(anthropic["models"][0]["input_price"], 3.0);
    let gemini = providers["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "gemini")
        .unwrap()
        .clone();
    assert_eq!(gemini["available"], false);
    assert!(gemini["unavailable_reason"]
        .as_str()
        .unwrap()
        .contains("GEMINI_API_KEY"));
    assert!(!providers
        .to_string()
        .contains("test-anthropic-key-never-shown"));
    assert!(!providers.to_string().contains("null"));
}

#[test]
fn a_catalog_overlay_a_kill_tore_does_not_outlive_the_next_start() {
    let overlay =
        "[[providers]]\nid = \"openai\"\nmodels = [\n  { id = \"local\", name = \"Local\" },\n]\n";
    let init = json!({ "store_id": "t", "catalog": overlay }).to_string();
    let h = Harness::with_init(&init);
    // The server is killed while the overlay's object is still being written.
    let hash = h.state.catalog.clone().unwrap();
    if let Some(bytes) = h
        .host
        .content
        .borrow_mut()
        .get_mut("t")
        .unwrap()
        .get_mut(&hash)
    {
        bytes.truncate(bytes.len() / 2);
    }
    let mut h = h;
    h.restart();
    assert_ne!(
        h.state.catalog,
        Some(hash),
        "the next start stores new bytes"
    );
    let (status, providers) = h.call("GET", "/api/providers", None);
    assert_eq!(status, 200, "{providers}");
    assert!(providers.to_string().contains("\"local\""), "{providers}");
}
