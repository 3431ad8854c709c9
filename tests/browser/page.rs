//! The page itself: the access token, dark mode, a phone and 200% zoom, and coming back
//! after the actor was away.

use crate::common::browser::{Browser, MESSAGES};
use crate::common::{self, free_port, package_manifest, Client, Theater};
use serde_json::json;
use std::time::Duration;

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_protected_chat_asks_for_its_token_and_shows_nothing_without_it() {
    const TOKEN: &str = "browser-access-token-0123456789";
    let manifest = package_manifest();
    let mut theater = Theater::start(&[("CHAT_ACCESS_TOKEN", TOKEN)]);
    let port = free_port();
    theater.start_actor(
        &manifest,
        &json!({ "port": port, "store_id": "browser-guarded", "require_token": true }),
    );
    let client = Client::new(port);
    client.wait_ready(&theater);
    let bearer = format!("Bearer {TOKEN}");
    let authorized = [("Authorization", bearer.as_str())];
    let made = client.raw(
        "POST",
        "/api/chats",
        Some(r#"{"title":"Secret plans"}"#),
        &[("Content-Type", "application/json"), authorized[0]],
    );
    assert_eq!(made.status, 201, "{}", made.text);

    // Without the token: nothing readable, nothing writable.
    for (method, path, body) in [
        ("GET", "/api/chats", None),
        ("GET", "/api/chat?id=c1", None),
        ("GET", "/api/messages?chat=c1", None),
        ("POST", "/api/chats", Some("{}")),
        ("POST", "/api/messages?chat=c1", Some(r#"{"content":"x"}"#)),
        ("DELETE", "/api/chat?id=c1", None),
        ("GET", "/api/ws-ticket", None),
    ] {
        let reply = client.raw(method, path, body, &[("Content-Type", "application/json")]);
        assert_eq!(reply.status, 401, "{method} {path}: {}", reply.text);
        assert!(!reply.text.contains("Secret plans"));
    }
    let listed = client.raw("GET", "/api/chats", None, &authorized);
    assert_eq!(listed.json()["chats"].as_array().unwrap().len(), 1);

    // The page asks once, then works, live updates included (a ticketed socket).
    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for(
        "the token prompt",
        "return !document.getElementById('login').hidden;",
    );
    browser.screenshot("token-prompt");
    assert_eq!(
        browser.eval("return document.querySelectorAll('[data-testid=chat-item]').length;"),
        json!(0)
    );
    browser.type_into("[data-testid=login-token]", "not the token\u{E007}");
    browser.wait_for(
        "the refusal",
        "return document.getElementById('login-error').textContent.length > 0;",
    );
    browser.eval("document.querySelector('[data-testid=login-token]').value = '';");
    browser.type_into("[data-testid=login-token]", &format!("{TOKEN}\u{E007}"));
    browser.wait_for(
        "the chat list",
        "return Array.from(document.querySelectorAll('[data-testid=chat-title]')).some(t => t.textContent === 'Secret plans');",
    );
    browser.wait_for(
        "live updates",
        "return document.getElementById('conn-status').dataset.state === 'live';",
    );
    let created = client.raw(
        "POST",
        "/api/chats",
        Some(r#"{"title":"Made elsewhere"}"#),
        &[("Content-Type", "application/json"), authorized[0]],
    );
    assert_eq!(created.status, 201);
    browser.wait_for(
        "the socket to announce a chat made elsewhere",
        "return Array.from(document.querySelectorAll('[data-testid=chat-title]')).some(t => t.textContent === 'Made elsewhere');",
    );
    browser.screenshot("token-unlocked");
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn the_page_follows_dark_mode_and_stays_usable_at_200_percent_zoom() {
    const KEY: &str = "sk-browser-themes-key-0123456789";
    let (_fake, theater, client, port) = common::serve_with_fake_openai(KEY, "browser-themes");
    // A chat worth a screenshot: a Markdown reply (`fake-echo` answers with the
    // question), and a question with two versions.
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Rust iterators", "provider": "openai", "model": "fake-echo" })),
    );
    let id = chat["id"].as_str().unwrap().to_string();
    let say = |text: &str| {
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={id}"),
            Some(json!({ "content": text })),
        )
    };
    let answered = |before: usize| {
        common::wait_until(
            "the reply",
            Duration::from_secs(30),
            || {
                client.expect(200, "GET", &format!("/api/chat?id={id}"), None)["message_count"]
                    .as_u64()
                    > Some(before as u64)
            },
            || theater.server_log(),
        );
    };
    let asked = say("How do I sum the squares of the even numbers?");
    client.expect(202, "POST", &format!("/api/reply?chat={id}"), None);
    answered(1);
    say("**Sum of even squares:**\n\n```rust\nlet total: u64 = (1..=10).filter(|n| n % 2 == 0).map(|n| n * n).sum();\n```\n\n| n | n² |\n|---|---|\n| 2 | 4 |\n| 4 | 16 |\n\n- lazy: nothing runs until `sum`\n- no allocation");
    client.expect(202, "POST", &format!("/api/reply?chat={id}"), None);
    answered(3);
    client.expect(
        201,
        "POST",
        &format!("/api/edit?chat={id}"),
        Some(json!({ "message": asked["message"]["id"], "content": "How do I sum squares of even numbers in Rust?" })),
    );
    client.expect(
        200,
        "POST",
        &format!("/api/branch?chat={id}"),
        Some(json!({ "message": asked["message"]["id"] })),
    );
    let browser = Browser::start();
    let background = "return getComputedStyle(document.body).backgroundColor;";
    browser.color_scheme("light");
    browser.goto(&format!("http://127.0.0.1:{port}/#{id}"));
    browser.wait_for(
        "the chat",
        "return document.querySelectorAll('[data-testid=message]').length === 4 \
         && !!document.querySelector('.md table');",
    );
    let light = browser.eval(background);
    browser.screenshot("theme-light");
    browser.color_scheme("dark");
    let dark = browser.wait_for(
        "the dark theme",
        &format!(
            "const b = getComputedStyle(document.body).backgroundColor; \
             return b !== {light} && b;"
        ),
    );
    assert_ne!(light, dark);
    browser.screenshot("theme-dark");

    // 200% zoom of a 1200×900 window: nothing wider than the window, and the
    // composer, Send and the model picker are on screen.
    browser.color_scheme("light");
    browser.zoom(1200, 900, 200);
    let layout = browser.wait_for(
        "the zoomed layout",
        "const r = (s) => document.querySelector(s).getBoundingClientRect(); \
         const inside = (s) => { const b = r(s); return b.width > 0 && b.left >= 0 && b.right <= innerWidth + 1 && b.bottom <= innerHeight + 1; }; \
         return innerWidth < 700 && r('#sidebar').right <= 0 && { doc: document.documentElement.scrollWidth, win: innerWidth, \
           composer: inside('[data-testid=composer]'), send: inside('[data-testid=send]'), \
           picker: inside('[data-testid=model-select]') };",
    );
    assert!(
        layout["doc"].as_f64() <= layout["win"].as_f64(),
        "wider than the window: {layout}"
    );
    assert_eq!(
        (&layout["composer"], &layout["send"], &layout["picker"]),
        (&json!(true), &json!(true), &json!(true)),
        "{layout}"
    );
    browser.screenshot("zoom-200");
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn the_page_comes_back_as_soon_as_the_actor_does() {
    let manifest = package_manifest();
    let mut theater = Theater::start(&[]);
    let port = free_port();
    let init = json!({ "port": port, "store_id": "browser-back" });
    theater.start_actor(&manifest, &init);
    let client = Client::new(port);
    client.wait_ready(&theater);

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    let live = "return document.getElementById('conn-status').dataset.state === 'live';";
    browser.wait_for("live updates", live);

    // The server goes away: the page says so and waits longer between attempts.
    theater.kill_server();
    browser.wait_for(
        "the page to wait 8 s between attempts",
        "return document.getElementById('conn-status').textContent.includes('retrying in 8s');",
    );
    browser.type_into("[data-testid=composer]", "Sent while it was down\u{E007}");
    let error = browser.wait_for(
        "the cannot-reach notice",
        "const e = document.querySelector('[data-testid=error]'); return e && e.textContent;",
    );
    assert!(
        error
            .as_str()
            .unwrap()
            .contains("Cannot reach the chat actor"),
        "{error}"
    );

    // It is back: the user sends again, and the page is live at once, not when its
    // next attempt is due, with the stale notice gone.
    theater.start_server();
    theater.start_actor(&manifest, &init);
    client.wait_ready(&theater);
    browser.click("[data-testid=send]");
    let sent = std::time::Instant::now();
    browser.wait_for(
        "the reply",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 1;",
    );
    browser.wait_for("live updates again", live);
    assert!(
        sent.elapsed() < Duration::from_secs(4),
        "live updates came back {:?} after the send",
        sent.elapsed()
    );
    let notice = browser.eval("return document.querySelector('[data-testid=error]') === null;");
    assert_eq!(notice, json!(true), "the cannot-reach notice stayed");
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown[0], json!(["user", "Sent while it was down"]));
}
