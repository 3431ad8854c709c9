//! Replies written by worker actors on the real Theater 0.2.1: the chat actor stays
//! live while a provider holds its answer, Stop, the deadline, provider failures,
//! two chats generating at once, and a server restart with nothing stuck or lost.
//!
//! Needs `theater`/`theater-server` on PATH and the package from scripts/build-component:
//! run through scripts/test, or `cargo test --test workers -- --ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::fake_openai::FakeOpenAi;
use common::{free_port, package_manifest, wait_until, Client, Theater};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const KEY: &str = "sk-workers-test-key-0123456789abcdef";
/// The deadline the actor is given for the OpenAI-compatible provider.
const TIMEOUT_S: u64 = 4;

fn chat(client: &Client, model: &str) -> String {
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "provider": "openai", "model": model })),
    );
    chat["id"].as_str().unwrap().to_string()
}

fn say(client: &Client, chat: &str, text: &str) {
    client.expect(
        201,
        "POST",
        &format!("/api/messages?chat={chat}"),
        Some(json!({ "content": text })),
    );
}

/// `POST /api/reply`: 202 with a running generation; returns its id.
fn start(client: &Client, chat: &str) -> String {
    let accepted = client.expect(202, "POST", &format!("/api/reply?chat={chat}"), None);
    assert_eq!(accepted["generation"]["status"], "running", "{accepted}");
    accepted["generation"]["id"].as_str().unwrap().to_string()
}

fn status(client: &Client, id: &str) -> Value {
    client.expect(200, "GET", &format!("/api/generation?id={id}"), None)["generation"].clone()
}

/// Polls until the generation has ended (the page does the same without a socket).
fn ended(client: &Client, id: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let generation = status(client, id);
        if generation["status"] != "running" {
            return generation;
        }
        assert!(
            Instant::now() < deadline,
            "generation {id} still running: {generation}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn contents(client: &Client, chat: &str) -> Vec<(String, String)> {
    let page = client.expect(
        200,
        "GET",
        &format!("/api/messages?chat={chat}&limit=200"),
        None,
    );
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn wait_held(fake: &FakeOpenAi, n: usize, theater: &Theater) {
    wait_until(
        &format!("{n} request(s) never reached the provider; server log:"),
        Duration::from_secs(30),
        || fake.holding() >= n,
        || theater.server_log(),
    );
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn replies_run_in_workers_and_never_freeze_the_chat() {
    let manifest = package_manifest();
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let mut theater = Theater::start(&[("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", &base_url)]);
    let port = free_port();
    let init = json!({ "port": port, "store_id": "workers", "timeouts": { "openai": TIMEOUT_S } });
    let actor = theater.start_actor(&manifest, &init);
    let client = Client::new(port);
    client.wait_ready(&theater);

    // 1. While the provider holds a reply, everything else answers.
    let slow = chat(&client, "fake-hold");
    say(&client, &slow, "Take your time");
    let first = start(&client, &slow);
    wait_held(&fake, 1, &theater);
    let other = client.expect(201, "POST", "/api/chats", Some(json!({ "title": "Other" })));
    let other = other["id"].as_str().unwrap().to_string();
    say(&client, &other, "Meanwhile");
    assert_eq!(client.call("GET", "/api/chats", None).status, 200);
    assert_eq!(contents(&client, &other).len(), 1);
    let demo = client.expect(202, "POST", &format!("/api/reply?chat={other}"), None);
    assert_eq!(
        demo["generation"]["status"], "done",
        "the demo model answers at once"
    );
    // Nothing moves the branch under a running reply.
    let busy = client.call("POST", &format!("/api/reply?chat={slow}"), None);
    assert_eq!(
        (busy.status, busy.json()["error"]["code"].clone()),
        (409, json!("generation_running"))
    );
    assert_eq!(
        client
            .call(
                "POST",
                &format!("/api/messages?chat={slow}"),
                Some(json!({ "content": "x" }))
            )
            .status,
        409
    );
    assert_eq!(
        fake.holding(),
        1,
        "all of that answered while the provider held its reply"
    );
    assert_eq!(status(&client, &first)["status"], "running");
    fake.release();
    let done = ended(&client, &first, Duration::from_secs(30));
    assert_eq!(done["status"], "done", "{done}");
    let shown = contents(&client, &slow);
    assert_eq!(shown.len(), 2);
    assert!(
        shown[1].1.starts_with("Fake reply #1 to: Take your time"),
        "{shown:?}"
    );

    // 2. Stop: ends it now; the user's message stays; the late answer is dropped.
    fake.hold();
    say(&client, &slow, "Never mind");
    let stopped_id = start(&client, &slow);
    wait_held(&fake, 1, &theater);
    let stopped = client.expect(200, "POST", &format!("/api/stop?chat={slow}"), None);
    assert_eq!(stopped["generation"]["status"], "stopped");
    assert_eq!(status(&client, &stopped_id)["status"], "stopped");
    fake.release();
    wait_until(
        "the detached worker's late answer was not dropped; log:",
        Duration::from_secs(30),
        || {
            theater
                .server_log()
                .contains(&format!("late answer for generation {stopped_id} dropped"))
        },
        || theater.server_log(),
    );
    assert_eq!(
        contents(&client, &slow).len(),
        3,
        "no half or late reply stored"
    );
    assert_eq!(contents(&client, &slow)[2].1, "Never mind");

    // 3. The deadline: a provider that never answers ends as timed out.
    fake.hold();
    let timed_id = start(&client, &slow);
    wait_held(&fake, 1, &theater);
    let timed = ended(&client, &timed_id, Duration::from_secs(TIMEOUT_S + 10));
    assert_eq!(timed["status"], "timed_out", "{timed}");
    assert!(timed["message"]
        .as_str()
        .unwrap()
        .contains(&format!("{TIMEOUT_S} s")));
    fake.release();

    // 4. Provider failures end as specific errors, and the next generation works.
    for (model, code) in [
        ("fake-500", "provider_failed"),
        ("fake-drop", "provider_unreachable"),
        ("fake-429", "provider_rate_limited"),
    ] {
        client.expect(
            200,
            "PATCH",
            &format!("/api/chat?id={slow}"),
            Some(json!({ "model": model })),
        );
        let id = start(&client, &slow);
        let failed = ended(&client, &id, Duration::from_secs(30));
        assert_eq!(
            (failed["status"].as_str(), failed["code"].as_str()),
            (Some("failed"), Some(code)),
            "{failed}"
        );
        assert!(!failed.to_string().contains(KEY));
    }
    client.expect(
        200,
        "PATCH",
        &format!("/api/chat?id={slow}"),
        Some(json!({ "model": "gpt-4o-mini" })),
    );
    let id = start(&client, &slow);
    assert_eq!(
        ended(&client, &id, Duration::from_secs(30))["status"],
        "done"
    );

    // 5. Two chats generate at once.
    fake.hold();
    let a = chat(&client, "fake-hold");
    let b = chat(&client, "fake-hold");
    say(&client, &a, "first at once");
    say(&client, &b, "second at once");
    let (ga, gb) = (start(&client, &a), start(&client, &b));
    wait_held(&fake, 2, &theater);
    fake.release();
    assert_eq!(
        ended(&client, &ga, Duration::from_secs(30))["status"],
        "done"
    );
    assert_eq!(
        ended(&client, &gb, Duration::from_secs(30))["status"],
        "done"
    );
    assert_eq!(contents(&client, &a).len(), 2);
    assert_eq!(contents(&client, &b).len(), 2);

    // The chat actor made no HTTP call and recorded no key: the workers did the calls.
    let events = theater.cli(&["events", &actor, "-f", "json"]);
    let chain = String::from_utf8_lossy(&events.stdout);
    assert!(events.status.success() && chain.len() > 1000);
    // (The worker manifest it spawned names the http-client handler; a call would be
    // recorded as a send-http event.)
    assert!(
        !chain.contains("send-http"),
        "the chat actor called a provider itself"
    );
    assert!(
        !chain.contains(KEY),
        "the API key is in the chat actor's event chain"
    );

    // 6. A server restart: every stored message is there, nothing is stuck.
    fake.hold();
    say(&client, &b, "left hanging");
    let hanging = start(&client, &b);
    wait_held(&fake, 1, &theater);
    let before: Vec<_> = [&slow, &other, &a, &b]
        .iter()
        .map(|c| contents(&client, c))
        .collect();
    theater.kill_server();
    theater.start_server();
    theater.start_actor(&manifest, &init);
    client.wait_ready(&theater);
    let after: Vec<_> = [&slow, &other, &a, &b]
        .iter()
        .map(|c| contents(&client, c))
        .collect();
    assert_eq!(after, before);
    assert_eq!(
        client
            .call("GET", &format!("/api/generation?id={hanging}"), None)
            .status,
        404
    );
    assert_eq!(
        client.expect(200, "GET", &format!("/api/generation?chat={b}"), None)["generation"],
        Value::Null
    );
    fake.release();
    let again = start(&client, &b);
    assert_eq!(
        ended(&client, &again, Duration::from_secs(30))["status"],
        "done"
    );

    let disk = theater.everything_on_disk();
    assert!(
        !disk.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
        "the key was written under THEATER_HOME"
    );
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn a_saved_event_chain_never_holds_the_key() {
    // The server's key is wrong, and the provider echoes it back in its 401, as
    // OpenAI-compatible servers do; the chat actor saves its event chain to disk.
    const SERVER_KEY: &str = "sk-server-side-secret-0123456789abcdef";
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let mut theater = Theater::start(&[
        ("OPENAI_API_KEY", SERVER_KEY),
        ("OPENAI_BASE_URL", &base_url),
    ]);
    let package = package_manifest();
    let saved = theater.home.join("saved-chain.toml");
    let manifest = std::fs::read_to_string(&package).unwrap();
    let manifest = manifest.replacen("\n[[handlers]]", "\nsave_chain = true\n\n[[handlers]]", 1);
    assert!(manifest.contains("save_chain = true"));
    std::fs::write(&saved, manifest).unwrap();
    let port = free_port();
    let actor = theater.start_actor(&saved, &json!({ "port": port, "store_id": "saved" }));
    let client = Client::new(port);
    client.wait_ready(&theater);

    let id = chat(&client, "gpt-4o-mini");
    say(&client, &id, "Who am I?");
    let generation = start(&client, &id);
    let failed = ended(&client, &generation, Duration::from_secs(30));
    assert_eq!(failed["code"], "provider_auth", "{failed}");
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.header("authorization") == Some(&format!("Bearer {SERVER_KEY}"))));
    let mut seen = failed.to_string();
    seen.push_str(
        &client
            .call("GET", &format!("/api/messages?chat={id}"), None)
            .text,
    );
    seen.push_str(&client.call("GET", "/api/providers", None).text);
    seen.push_str(
        &client
            .call("GET", &format!("/api/generation?chat={id}"), None)
            .text,
    );
    assert!(!seen.contains(SERVER_KEY), "a response holds the key");
    let events = theater.cli(&["events", &actor, "-f", "json"]);
    assert!(events.status.success());
    assert!(
        !String::from_utf8_lossy(&events.stdout).contains(SERVER_KEY),
        "theater events holds the key"
    );
    // 0.2.1 writes the chain when the actor stops.
    theater.stop_actor(&actor);
    let disk = theater.everything_on_disk();
    assert!(
        std::fs::read_dir(theater.home.join("events")).is_ok_and(|mut d| d.next().is_some()),
        "the chain was not saved"
    );
    assert!(
        !disk
            .windows(SERVER_KEY.len())
            .any(|w| w == SERVER_KEY.as_bytes()),
        "the key is in a file under THEATER_HOME (saved chain, store or log)"
    );
}
