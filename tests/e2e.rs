//! The packaged actor on a real Theater 0.2.1 server, over HTTP and WebSocket on
//! 127.0.0.1: chats, the demo model, the OpenAI-compatible provider against a fake,
//! rename and delete, then an actor restart and a server restart with nothing lost.
//!
//! Needs `theater`/`theater-server` on PATH and the package from scripts/build-component:
//! run through scripts/test, or `cargo test --test e2e -- --ignored`.

// Test code: a failed expectation should stop the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::fake_openai::FakeOpenAi;
use common::{free_port, package_manifest, Client, Theater};
use serde_json::{json, Value};
use std::time::Duration;

const KEY: &str = "sk-e2e-test-key-0123456789abcdef";

/// Everything a user could see: each chat with every message of its branch.
fn snapshot(client: &Client) -> Value {
    let chats = client.expect(200, "GET", "/api/chats", None)["chats"].clone();
    let mut all = Vec::new();
    for chat in chats.as_array().unwrap() {
        let id = chat["id"].as_str().unwrap();
        let page = client.expect(
            200,
            "GET",
            &format!("/api/messages?chat={id}&limit=200"),
            None,
        );
        all.push(json!({ "chat": chat, "messages": page["messages"] }));
    }
    Value::Array(all)
}

fn say(client: &Client, chat: &str, text: &str) -> Value {
    client.expect(
        201,
        "POST",
        &format!("/api/messages?chat={chat}"),
        Some(json!({ "content": text })),
    )
}

/// Asks for a reply (202) and waits for its generation to end; returns the generation.
fn generate(client: &Client, chat: &str) -> Value {
    let accepted = client.expect(
        202,
        "POST",
        &format!("/api/reply?chat={chat}"),
        Some(json!({})),
    );
    let id = accepted["generation"]["id"].as_str().unwrap().to_string();
    let mut generation = accepted["generation"].clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while generation["status"] == "running" {
        assert!(
            std::time::Instant::now() < deadline,
            "generation {id} never ended"
        );
        std::thread::sleep(Duration::from_millis(50));
        generation = client.expect(200, "GET", &format!("/api/generation?id={id}"), None)
            ["generation"]
            .clone();
    }
    generation
}

/// A reply that must succeed: `{message, chat}` as stored.
fn reply(client: &Client, chat: &str) -> Value {
    let generation = generate(client, chat);
    assert_eq!(generation["status"], "done", "{generation}");
    let page = client.expect(
        200,
        "GET",
        &format!("/api/messages?chat={chat}&limit=1"),
        None,
    );
    let message = page["messages"][0].clone();
    assert_eq!(message["id"], generation["message"]);
    let chat = client.expect(200, "GET", &format!("/api/chat?id={chat}"), None);
    json!({ "message": message, "chat": chat })
}

fn websocket(
    port: u16,
) -> tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>> {
    let (mut socket, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}/ws")).unwrap();
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_mut() {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
    }
    socket
}

fn next_text(
    socket: &mut tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>,
) -> Value {
    loop {
        match socket.read().expect("no WebSocket frame in time") {
            tungstenite::Message::Text(text) => {
                return serde_json::from_str(text.as_str()).unwrap()
            }
            tungstenite::Message::Close(_) => panic!("socket closed"),
            _ => continue,
        }
    }
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn chats_work_and_survive_restarts_on_real_theater() {
    let manifest = package_manifest();
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let mut theater = Theater::start(&[("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", &base_url)]);
    let port = free_port();
    let init = json!({ "port": port, "store_id": "e2e-chat" });
    let actor = theater.start_actor(&manifest, &init);
    let client = Client::new(port);
    client.wait_ready(&theater);

    // The page and its assets, with the security headers a browser enforces.
    let page = client.call("GET", "/", None);
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("<script src=\"/app.js\""),
        "{}",
        page.text
    );
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    let script = client.page_file("/app.js");
    assert_eq!(script.status, 200);
    assert_eq!(script.header("content-encoding"), Some("gzip"));
    assert!(
        script.text.contains("/api/health") && script.text.contains("function init()"),
        "app.js unzips to the script"
    );
    // A revisit costs a 304 with no body.
    let tag = script.header("etag").expect("an ETag").to_string();
    let revisit = [("Accept-Encoding", "gzip"), ("If-None-Match", tag.as_str())];
    let again = client.raw("GET", "/app.js", None, &revisit);
    assert_eq!((again.status, again.text.as_str()), (304, ""));
    // A client without gzip gets the file itself; the gzipped copy the package holds
    // is far smaller. Both come from the package's assets/web, read through Theater's
    // filesystem handler.
    let plain = client.call("GET", "/app.js", None);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.text, script.text, "the same script, plain");
    // (Not markdown-it's 126 KB: its reads would take the event chain read below into
    // the sizes where Theater 0.2.1's `theater events` never answers, a frame its own
    // codec cannot send; see the README, "Limits of Theater 0.2.1".)
    for path in ["/", "/app.js", "/style.css"] {
        let gzipped = client.raw("GET", path, None, &[("Accept-Encoding", "gzip")]);
        let plain = client.call("GET", path, None);
        assert_eq!((gzipped.status, plain.status), (200, 200), "{path}");
        assert_eq!(gzipped.header("content-encoding"), Some("gzip"), "{path}");
        assert!(
            gzipped.sent_bytes * 2 < plain.sent_bytes,
            "{path}: {} bytes gzipped, {} plain",
            gzipped.sent_bytes,
            plain.sent_bytes
        );
    }

    let providers = client.expect(200, "GET", "/api/providers", None);
    let openai = providers["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "openai")
        .unwrap();
    assert_eq!(openai["available"], true, "{providers}");

    // A page listening on the socket hears about every change.
    let mut socket = websocket(port);
    socket
        .send(tungstenite::Message::Text(r#"{"type":"ping"}"#.into()))
        .unwrap();
    assert_eq!(next_text(&mut socket), json!({ "type": "pong" }));

    // Chat 1: the offline demo model.
    let demo = client.expect(201, "POST", "/api/chats", Some(json!({})));
    let demo_id = demo["id"].as_str().unwrap().to_string();
    assert_eq!(
        next_text(&mut socket),
        json!({ "type": "changed", "chat": demo_id })
    );
    say(&client, &demo_id, "Hello demo, how are you?");
    let answer = reply(&client, &demo_id);
    assert_eq!(answer["message"]["role"], "assistant");
    let text = answer["message"]["content"].as_str().unwrap();
    assert!(
        text.contains("\"Hello demo, how are you?\" (5 words)"),
        "{text}"
    );
    assert_eq!(answer["chat"]["title"], "Hello demo, how are you?");

    // Chat 2: the OpenAI-compatible provider, against the fake on 127.0.0.1.
    let remote = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "provider": "openai", "model": "gpt-4o-mini" })),
    );
    let remote_id = remote["id"].as_str().unwrap().to_string();
    let first = say(&client, &remote_id, "First question");
    let answer = reply(&client, &remote_id);
    assert_eq!(
        answer["message"]["content"],
        "Fake reply #1 to: First question"
    );
    assert_eq!(answer["message"]["parent"], first["message"]["id"]);
    say(&client, &remote_id, "Second question");
    let answer = reply(&client, &remote_id);
    assert_eq!(
        answer["message"]["content"],
        "Fake reply #2 to: Second question"
    );
    // gpt-4o-mini at the catalog's $0.15 and $0.60 per million tokens.
    assert_eq!(
        answer["message"]["usage"],
        json!({ "input_tokens": 11, "output_tokens": 7, "cost_usd": 5.85e-6 })
    );

    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent[1].header("content-type"), Some("application/json"));
    assert_eq!(sent[1].body["model"], "gpt-4o-mini");
    assert_eq!(
        sent[1].body["messages"],
        json!([
            { "role": "user", "content": "First question" },
            { "role": "assistant", "content": "Fake reply #1 to: First question" },
            { "role": "user", "content": "Second question" }
        ])
    );

    // Provider faults come back as clear errors and lose nothing.
    client.expect(
        200,
        "PATCH",
        &format!("/api/chat?id={remote_id}"),
        Some(json!({ "model": "fake-429" })),
    );
    say(&client, &remote_id, "Are you overloaded?");
    let limited = generate(&client, &remote_id);
    assert_eq!(limited["status"], "failed", "{limited}");
    assert_eq!(limited["code"], "provider_rate_limited");
    assert_eq!(limited["retry_after"], 12);
    assert!(limited["message"].as_str().unwrap().contains("Rate limit"));
    client.expect(
        200,
        "PATCH",
        &format!("/api/chat?id={remote_id}"),
        Some(json!({ "model": "fake-500" })),
    );
    let failed = generate(&client, &remote_id);
    assert_eq!(failed["code"], "provider_failed", "{failed}");
    client.expect(
        200,
        "PATCH",
        &format!("/api/chat?id={remote_id}"),
        Some(json!({ "model": "gpt-4o-mini" })),
    );
    let retried = reply(&client, &remote_id);
    assert_eq!(
        retried["message"]["content"],
        "Fake reply #5 to: Are you overloaded?"
    );
    assert_eq!(retried["chat"]["message_count"], 6);

    // Bad input is refused with a 4xx and the actor keeps serving.
    let bad = client.raw(
        "POST",
        &format!("/api/messages?chat={remote_id}"),
        Some("{not json"),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(client.call("GET", "/api/chat?id=c999", None).status, 404);
    let foreign = client.raw("GET", "/api/chats", None, &[("Host", "attacker.example")]);
    assert_eq!(foreign.status, 403);
    // A method a path does not take gets a JSON 405 with Allow; an unknown path gets
    // the runtime's own empty 404 (0.2.1 has no fallback route).
    for method in ["PUT", "FOO"] {
        let refused = client.raw(method, "/api/chats", None, &[]);
        assert_eq!(refused.status, 405, "{method}: {}", refused.text);
        assert_eq!(refused.header("allow"), Some("GET, POST, HEAD"));
        assert_eq!(refused.json()["error"]["code"], "method_not_allowed");
    }
    let head = client.raw("HEAD", "/", None, &[]);
    assert_eq!((head.status, head.text.as_str()), (200, ""));
    let unknown = client.raw("GET", "/api/nope", None, &[]);
    assert_eq!((unknown.status, unknown.text.as_str()), (404, ""));
    let suffixed = format!("127.0.0.1:{port}.evil.com");
    let tricked = client.raw("GET", "/api/chats", None, &[("Host", &suffixed)]);
    assert_eq!(tricked.status, 403, "{}", tricked.text);

    // Rename and delete.
    let renamed = client.expect(
        200,
        "PATCH",
        &format!("/api/chat?id={demo_id}"),
        Some(json!({ "title": "Demo <b>chat</b>" })),
    );
    assert_eq!(renamed["title"], "Demo <b>chat</b>");
    let doomed = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Delete me" })),
    );
    let doomed_id = doomed["id"].as_str().unwrap().to_string();
    assert_eq!(
        client
            .call("DELETE", &format!("/api/chat?id={doomed_id}"), None)
            .status,
        204
    );
    assert_eq!(
        client
            .call("GET", &format!("/api/chat?id={doomed_id}"), None)
            .status,
        404
    );

    // The event chain records every call into the actor and its host calls.
    let events = theater.cli(&["events", &actor, "-f", "json"]);
    assert!(
        events.status.success(),
        "{}",
        String::from_utf8_lossy(&events.stderr)
    );
    assert!(events.stdout.len() > 1000, "the event chain looks empty");
    let chain = String::from_utf8_lossy(&events.stdout);
    assert!(!chain.contains(KEY), "the API key is in the event chain");

    let before = snapshot(&client);
    assert_eq!(before.as_array().unwrap().len(), 2);
    drop(socket);

    // Restart the actor: everything is still there.
    theater.stop_actor(&actor);
    let actor = theater.start_actor(&manifest, &init);
    client.wait_ready(&theater);
    assert_eq!(
        snapshot(&client),
        before,
        "chats changed across an actor restart"
    );

    // Kill the whole server and start a fresh one on the same THEATER_HOME.
    let _ = actor;
    theater.kill_server();
    theater.start_server();
    theater.start_actor(&manifest, &init);
    client.wait_ready(&theater);
    assert_eq!(
        snapshot(&client),
        before,
        "chats changed across a server restart"
    );

    // Ids are never reused, even for the deleted chat.
    let next = client.expect(201, "POST", "/api/chats", Some(json!({})));
    assert_ne!(next["id"], doomed_id.as_str());
    assert_eq!(next["id"], "c4");

    // The key never reached the store, the event chain or the logs.
    let disk = theater.everything_on_disk();
    let leaked = disk.windows(KEY.len()).any(|w| w == KEY.as_bytes());
    assert!(!leaked, "the API key was written under THEATER_HOME");
}
