//! The web page in a real headless Chromium, driven over WebDriver (chromedriver),
//! against the packaged actor on a real Theater 0.2.1 server.
//!
//! Needs Debian's `chromium` and `chromium-driver`, Theater on PATH and the package:
//! run through scripts/test, or `cargo test --test browser -- --ignored`.

// Test code: a failed expectation should stop the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::browser::{Browser, MESSAGES};
use common::fake_openai::FakeOpenAi;
use common::{all_chats, free_port, package_manifest, wait_until, Client, Theater};
use serde_json::json;
use std::time::Duration;

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_user_chats_in_the_browser() {
    let manifest = package_manifest();
    let mut theater = Theater::start(&[]);
    let port = free_port();
    theater.start_actor(
        &manifest,
        &json!({ "port": port, "store_id": "browser-chat" }),
    );
    let client = Client::new(port);
    client.wait_ready(&theater);
    let url = format!("http://127.0.0.1:{port}/");

    let browser = Browser::start();
    browser.goto(&url);
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );

    // The page fits the window: nothing scrolls below the app.
    let overflow = browser.eval(
        "return [document.documentElement.scrollHeight, window.innerHeight, document.body.scrollHeight];",
    );
    assert!(
        overflow[0].as_i64() <= overflow[1].as_i64(),
        "the document is taller than the window: {overflow}"
    );

    // First message: the page creates a chat, the demo model answers.
    browser.type_into("[data-testid=composer]", "Hello from the browser");
    browser.click("[data-testid=send]");
    browser.wait_for(
        "the demo reply",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 1 \
         && !document.body.dataset.busy;",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown[0], json!(["user", "Hello from the browser"]));
    assert_eq!(shown[1][0], "assistant");
    assert!(shown[1][1]
        .as_str()
        .unwrap()
        .contains("\"Hello from the browser\" (4 words)"));
    browser.wait_for(
        "the auto title in the sidebar",
        "return Array.from(document.querySelectorAll('[data-testid=chat-title]'))\
         .some(t => t.textContent === 'Hello from the browser');",
    );
    browser.screenshot("conversation");

    // Hostile text renders as text: no element is created, no script runs.
    let hostile = "<img src=x onerror=\"document.body.dataset.pwned='1'\"><script>document.body.dataset.pwned='2'</script>";
    browser.type_into("[data-testid=composer]", &format!("{hostile}\u{E007}"));
    browser.wait_for(
        "the reply to the hostile message",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 2 \
         && !document.body.dataset.busy;",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown[2], json!(["user", hostile]));
    assert!(shown[3][1].as_str().unwrap().contains("<img src=x"));
    let injected = browser.eval(
        "return [document.body.dataset.pwned || null, \
         document.querySelectorAll('[data-testid=messages] img, [data-testid=messages] script').length];",
    );
    assert_eq!(injected, json!([null, 0]));

    // Rename in the sidebar.
    browser.click("[data-testid=chat-item] [data-testid=rename-chat]");
    browser.wait_for(
        "the rename box",
        "return !!document.querySelector('[data-testid=rename-input]');",
    );
    browser.eval("const i = document.querySelector('[data-testid=rename-input]'); i.value = '';");
    browser.type_into("[data-testid=rename-input]", "Renamed <i>chat</i>\u{E007}");
    browser.wait_for(
        "the new title",
        "return Array.from(document.querySelectorAll('[data-testid=chat-title]'))\
         .some(t => t.textContent === 'Renamed <i>chat</i>');",
    );

    // A reload shows the same chat, from the actor's store.
    browser.eval("location.reload();");
    browser.wait_for(
        "the page to reload",
        "return document.body.dataset.ready === '1';",
    );
    browser.wait_for(
        "the history after reload",
        "return document.querySelectorAll('[data-testid=message]').length === 4;",
    );
    let overflow =
        browser.eval("return [document.documentElement.scrollHeight, window.innerHeight];");
    assert!(
        overflow[0].as_i64() <= overflow[1].as_i64(),
        "with messages, the document is taller than the window: {overflow}"
    );
    let chats = client.expect(200, "GET", "/api/chats", None);
    assert_eq!(chats["chats"][0]["title"], "Renamed <i>chat</i>");
    let id = chats["chats"][0]["id"].as_str().unwrap().to_string();
    let chat = client.expect(200, "GET", &format!("/api/chat?id={id}"), None);
    assert_eq!(chat["message_count"], 4);

    // A message longer than the actor takes is refused at once, and the text stays.
    browser.eval(
        "const c = document.querySelector('[data-testid=composer]'); \
         c.value = 'long '.repeat(60000); c.dispatchEvent(new Event('input', {bubbles: true}));",
    );
    browser.click("[data-testid=send]");
    let error = browser.wait_for(
        "the too-long notice",
        "const e = document.querySelector('[data-testid=error]'); return e && e.textContent;",
    );
    assert!(
        error
            .as_str()
            .unwrap()
            .contains("too long to send: 293 KiB"),
        "{error}"
    );
    let kept =
        browser.eval("return document.querySelector('[data-testid=composer]').value.length;");
    assert_eq!(kept, json!(300000), "the text was not given back");
    let chat = client.expect(200, "GET", &format!("/api/chat?id={id}"), None);
    assert_eq!(chat["message_count"], 4);
    browser.eval(
        "const c = document.querySelector('[data-testid=composer]'); c.value = ''; \
         document.querySelector('[data-testid=error] button').click();",
    );

    // A provider that is not configured says so, and the user's message stays.
    browser.eval(
        "const s = document.querySelector('[data-testid=model-select]'); \
         const o = Array.from(s.options).find(o => o.value.startsWith('openai/')); \
         o.disabled = false; s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true}));",
    );
    browser.wait_for(
        "the model change to be saved",
        "return fetch('/api/chats').then(r => r.json()).then(j => j.chats[0].provider === 'openai');",
    );
    browser.type_into("[data-testid=composer]", "Anyone there?\u{E007}");
    let error = browser.wait_for(
        "the provider error",
        "const e = document.querySelector('[data-testid=error]'); return e && e.textContent;",
    );
    assert!(
        error.as_str().unwrap().contains("OPENAI_API_KEY"),
        "{error}"
    );
    assert!(browser.eval("return !!document.querySelector('[data-testid=retry]');") == json!(true));
    let shown = browser.eval(MESSAGES);
    assert_eq!(
        shown.as_array().unwrap().last().unwrap(),
        &json!(["user", "Anyone there?"])
    );
    browser.screenshot("provider-error");

    // On a 390 px phone the chat list is a drawer and the conversation has the screen.
    browser.resize(390, 844);
    browser.eval("location.reload();");
    browser.wait_for(
        "the page on a phone",
        "return document.body.dataset.ready === '1';",
    );
    let layout = browser.eval(
        "const s = document.getElementById('sidebar').getBoundingClientRect();          const m = document.querySelector('.main').getBoundingClientRect();          const p = document.querySelector('[data-testid=model-select]').getBoundingClientRect();          return { sidebar_right: s.right, main_width: m.width, window: window.innerWidth,                   height: document.documentElement.scrollHeight, inner_height: window.innerHeight,                   doc_width: document.documentElement.scrollWidth,                   picker_left: p.left, picker_right: p.right, picker_width: p.width };",
    );
    let culprits = browser.eval(
        "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().bottom > window.innerHeight + 1)\
         .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().top) + '-' + Math.round(e.getBoundingClientRect().bottom));",
    );
    assert!(
        layout["height"].as_f64() <= layout["inner_height"].as_f64(),
        "{layout} {culprits}"
    );
    assert!(layout["sidebar_right"].as_f64().unwrap() <= 0.0, "{layout}");
    assert!(
        layout["main_width"].as_f64() >= layout["window"].as_f64().map(|w| w - 1.0),
        "{layout}"
    );

    assert!(
        layout["doc_width"].as_f64() <= layout["window"].as_f64(),
        "{layout}"
    );
    assert!(layout["picker_left"].as_f64().unwrap() >= 0.0, "{layout}");
    assert!(
        layout["picker_right"].as_f64() <= layout["window"].as_f64(),
        "{layout}"
    );
    assert!(
        layout["picker_width"].as_f64().unwrap() >= 200.0,
        "{layout}"
    );
    browser.screenshot("phone");
    browser.click("[data-testid=chats-toggle]");
    browser.wait_for(
        "the drawer",
        "const s = document.getElementById('sidebar').getBoundingClientRect(); return s.left >= 0 && s.right > 200;",
    );
    browser.screenshot("phone-drawer");
    browser.click("[data-testid=chat-item] .chat-open");
    browser.wait_for(
        "the drawer to close on picking a chat",
        "return document.getElementById('app').dataset.drawer === 'closed'          && document.querySelectorAll('[data-testid=message]').length >= 4;",
    );
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_reply_in_progress_shows_and_can_be_stopped() {
    const KEY: &str = "sk-browser-test-key-0123456789";
    let manifest = package_manifest();
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let mut theater = Theater::start(&[("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", &base_url)]);
    let port = free_port();
    theater.start_actor(
        &manifest,
        &json!({ "port": port, "store_id": "browser-workers" }),
    );
    let client = Client::new(port);
    client.wait_ready(&theater);
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Held", "provider": "openai", "model": "fake-hold" })),
    );
    let id = chat["id"].as_str().unwrap();

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#{id}"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    browser.type_into("[data-testid=composer]", "Think hard\u{E007}");
    browser.wait_for(
        "the progress indicator with Stop",
        "return !!document.querySelector('[data-testid=thinking] [data-testid=stop]');",
    );
    wait_until(
        "the worker never reached the provider",
        Duration::from_secs(30),
        || fake.holding() == 1,
        || theater.server_log(),
    );
    // The page stays usable: the sidebar still lists and opens chats.
    assert!(
        browser.eval("return document.querySelectorAll('[data-testid=chat-item]').length;")
            == json!(1)
    );
    browser.screenshot("generating");
    browser.click("[data-testid=stop]");
    browser.wait_for(
        "the indicator to go",
        "return !document.querySelector('[data-testid=thinking]');",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown, json!([["user", "Think hard"]]));
    assert_eq!(
        client.expect(200, "GET", &format!("/api/generation?chat={id}"), None)["generation"]
            ["status"],
        "stopped"
    );
    // The question left without an answer says so, and offers to get one.
    browser.wait_for(
        "the unanswered question's notice",
        "const n = document.querySelector('[data-testid=unanswered]'); \
         return !!n && n.textContent.includes('No reply to this message yet');",
    );

    // Once the provider answers, the asked-for reply arrives by itself (socket or poll).
    fake.release();
    browser.click("[data-testid=ask-reply]");
    browser.wait_for(
        "the reply to the stopped question",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 1 \
           && !document.querySelector('[data-testid=unanswered]');",
    );
    let shown = browser.eval(MESSAGES);
    assert!(
        shown[1][1].as_str().unwrap().contains("Think hard"),
        "{shown}"
    );
    browser.type_into("[data-testid=composer]", "Now answer\u{E007}");
    browser.wait_for(
        "the reply",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 2;",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown[2], json!(["user", "Now answer"]));
    assert!(
        shown[3][1].as_str().unwrap().contains("Now answer"),
        "{shown}"
    );
    // The stopped generation's late answer was dropped, not shown.
    assert_eq!(shown.as_array().unwrap().len(), 4);
    assert_eq!(
        browser.eval("return !!document.querySelector('[data-testid=unanswered]');"),
        json!(false)
    );
}

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
fn settings_usage_and_trimmed_context_show_in_the_page() {
    let (_theater, client, port) =
        common::serve_package(&[], json!({ "store_id": "browser-settings" }));
    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );

    // A reply shows its tokens and cost (the demo model's price is zero), and the
    // chat its totals.
    browser.type_into("[data-testid=composer]", "Count my tokens\u{E007}");
    let usage = browser.wait_for(
        "the reply's usage",
        "const u = document.querySelector('[data-testid=message][data-role=assistant] [data-testid=message-usage]'); \
         return u && u.textContent;",
    );
    assert!(
        usage.as_str().unwrap().contains("3 in ·") && usage.as_str().unwrap().contains("$0.00"),
        "{usage}"
    );
    let total = browser.wait_for(
        "the chat's totals",
        "const u = document.querySelector('[data-testid=chat-usage]'); return !u.hidden && u.textContent;",
    );
    assert!(total.as_str().unwrap().contains("3 tokens in"), "{total}");

    // Settings: saved to the chat, kept across a reload, shown with the model's facts.
    browser.click("[data-testid=settings-toggle]");
    browser.wait_for(
        "the settings form",
        "return !document.querySelector('[data-testid=settings]').hidden;",
    );
    let facts =
        browser.eval("return document.querySelector('[data-testid=settings-model]').textContent;");
    assert!(
        facts.as_str().unwrap().contains("reads 8,192 tokens"),
        "{facts}"
    );
    browser.type_into("[data-testid=settings-system]", "Answer <b>briefly</b>.");
    browser.type_into("[data-testid=settings-temperature]", "0.25");
    browser.type_into("[data-testid=settings-max-tokens]", "300");
    browser.click("[data-testid=settings-save]");
    browser.wait_for(
        "the form to close once saved",
        "return document.querySelector('[data-testid=settings]').hidden;",
    );
    let id = all_chats(&client)[0]["id"].as_str().unwrap().to_string();
    let chat = client.expect(200, "GET", &format!("/api/chat?id={id}"), None);
    assert_eq!(
        chat["settings"],
        json!({ "system": "Answer <b>briefly</b>.", "temperature": 0.25, "max_tokens": 300 })
    );
    browser.eval("location.reload();");
    browser.wait_for(
        "the page to reload",
        "return document.body.dataset.ready === '1';",
    );
    browser.wait_for(
        "the chat to open",
        "return document.querySelectorAll('[data-testid=message]').length === 2;",
    );
    browser.click("[data-testid=settings-toggle]");
    let shown = browser.wait_for(
        "the saved settings in the form",
        "const v = (t) => document.querySelector(`[data-testid=${t}]`).value; \
         return v('settings-temperature') === '0.25' && [v('settings-system'), v('settings-max-tokens')];",
    );
    assert_eq!(shown, json!(["Answer <b>briefly</b>.", "300"]));
    // Out of range: the demo model writes at most 1,024 tokens; the browser or the
    // server refuses, and the chat keeps its settings.
    browser.eval("document.querySelector('[data-testid=settings-max-tokens]').value = '5000';");
    browser.click("[data-testid=settings-save]");
    let chat = client.expect(200, "GET", &format!("/api/chat?id={id}"), None);
    assert_eq!(chat["settings"]["max_tokens"], 300);
    browser.click("#settings-close");

    // A conversation longer than the demo model's window: the reply says what was
    // left out.
    let long = "word ".repeat(2_400);
    for _ in 0..2 {
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={id}"),
            Some(json!({ "content": long })),
        );
        client.expect(202, "POST", &format!("/api/reply?chat={id}"), None);
    }
    let omitted = browser.wait_for(
        "the note on the trimmed reply",
        "const o = document.querySelectorAll('[data-testid=omitted]'); return o.length && o[o.length - 1].textContent;",
    );
    assert!(
        omitted
            .as_str()
            .unwrap()
            .starts_with("4 earlier messages were not sent to the model"),
        "{omitted}"
    );
    browser.screenshot("settings-and-usage");
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
fn a_reply_renders_as_markdown_and_its_html_stays_text() {
    const KEY: &str = "sk-browser-markdown-key-0123456789";
    let (fake, theater, client, port) = common::serve_with_fake_openai(KEY, "browser-markdown");
    // `fake-echo` answers with the user's message verbatim: the test writes the reply.
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Markdown", "provider": "openai", "model": "fake-echo" })),
    );
    let id = chat["id"].as_str().unwrap().to_string();
    // An image on a server the test watches: the page must never fetch it.
    let pixel = format!("http://127.0.0.1:{}/pixel.png", fake.port);
    let long_line = format!("let long = \"{}\";", "x".repeat(400));
    let reply = format!(
        "Here is a list:\n\
         \n\
         - first item\n\
         - second item\n\
         \n\
         | Name | Value |\n\
         |------|------:|\n\
         | a    | 1     |\n\
         \n\
         ```rust\n\
         fn main() {{\n    println!(\"hi <b>\");\n}}\n\
         {long_line}\n\
         ```\n\
         \n\
         Hostile: <img src=x onerror=\"document.body.dataset.pwned='img'\"> and \
         <script>document.body.dataset.pwned='script'</script>\n\
         \n\
         [click me](javascript:document.body.dataset.pwned=1) and \
         <javascript:document.body.dataset.pwned=2> and [data](data:text/html,<b>x</b>)\n\
         \n\
         raw <b>html</b> and <a href=\"javascript:document.body.dataset.pwned='a'\">a link</a>\n\
         \n\
         ![tracker]({pixel})\n\
         \n\
         [safe](https://example.com/docs)\n"
    );
    client.expect(
        201,
        "POST",
        &format!("/api/messages?chat={id}"),
        Some(json!({ "content": reply })),
    );
    client.expect(202, "POST", &format!("/api/reply?chat={id}"), None);
    wait_until(
        "the fake model's reply",
        Duration::from_secs(30),
        || client.history(&id).len() == 2,
        || theater.server_log(),
    );

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#{id}"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    browser.wait_for(
        "the reply",
        "return !!document.querySelector('[data-testid=message][data-role=assistant] .md');",
    );
    assert_eq!(
        browser.eval(
            "return [typeof window.markdownit, typeof window.renderMarkdown, \
             !!document.querySelector('[data-testid=message][data-role=assistant] .md-plain')];"
        ),
        json!(["function", "function", false]),
        "markdown-it loaded under the page's CSP"
    );

    // What a user sees: a list, a table, a labelled code block with Copy.
    let seen = browser.eval(
        "const c = document.querySelector('[data-testid=message][data-role=assistant] [data-testid=message-content]'); \
         const code = c.querySelector('.md-code'); \
         return { \
           items: Array.from(c.querySelectorAll('ul > li')).map(li => li.textContent), \
           headers: Array.from(c.querySelectorAll('table thead th')).map(th => th.textContent), \
           cells: Array.from(c.querySelectorAll('table tbody td')).map(td => td.textContent), \
           right: c.querySelector('table tbody td:last-child').className, \
           lang: code && code.querySelector('[data-testid=code-lang]').textContent, \
           copy: code && code.querySelector('button[data-testid=copy-code]').textContent, \
           code: code && code.querySelector('pre > code').textContent, \
           text: c.textContent };",
    );
    assert_eq!(seen["items"], json!(["first item", "second item"]));
    assert_eq!(seen["headers"], json!(["Name", "Value"]));
    assert_eq!(seen["cells"], json!(["a", "1"]));
    assert_eq!(seen["right"], "md-align-right");
    assert_eq!(seen["lang"], "rust");
    assert_eq!(seen["copy"], "Copy");
    assert_eq!(
        seen["code"],
        format!("fn main() {{\n    println!(\"hi <b>\");\n}}\n{long_line}\n")
    );
    // The hostile parts are there, as the text the model wrote.
    let text = seen["text"].as_str().unwrap();
    for shown in [
        "<img src=x onerror=\"document.body.dataset.pwned='img'\">",
        "<script>document.body.dataset.pwned='script'</script>",
        "[click me](javascript:document.body.dataset.pwned=1)",
        "<javascript:document.body.dataset.pwned=2>",
        "[data](data:text/html,<b>x</b>)",
        "raw <b>html</b> and",
        "<a href=\"javascript:document.body.dataset.pwned='a'\">a link</a>",
    ] {
        assert!(
            text.contains(shown),
            "{shown:?} is not shown as text in {text:?}"
        );
    }
    // ... and none of it is an element, a script, a live link or a loaded image.
    let inert = browser.eval(
        "const m = document.querySelector('[data-testid=messages]'); \
         return { \
           pwned: document.body.dataset.pwned || null, \
           elements: m.querySelectorAll('img, script, iframe, object, embed, b, [style], [onerror]').length, \
           bad_links: document.querySelectorAll('a[href^=javascript i], a[href^=data i], a[href^=vbscript i]').length, \
           links: Array.from(m.querySelectorAll('a')).map(a => [a.getAttribute('href'), a.textContent, a.target, a.rel]), \
           images: performance.getEntriesByType('resource').filter(r => r.name.includes('pixel')).length };",
    );
    assert_eq!(inert["pwned"], json!(null), "{inert}");
    assert_eq!(inert["elements"], 0, "{inert}");
    assert_eq!(inert["bad_links"], 0, "{inert}");
    assert_eq!(inert["images"], 0, "{inert}");
    let rel = "noopener noreferrer nofollow";
    assert_eq!(
        inert["links"],
        json!([
            [pixel, "Image: tracker", "_blank", rel],
            ["https://example.com/docs", "safe", "_blank", rel]
        ])
    );
    assert!(
        fake.requests().iter().all(|r| !r.target.contains("pixel")),
        "the page fetched the image"
    );

    // The user's own message is plain text, exactly as typed.
    let user = browser.eval(
        "const c = document.querySelector('[data-testid=message][data-role=user] [data-testid=message-content]'); \
         return [c.textContent, c.querySelectorAll('*').length, getComputedStyle(c).whiteSpace];",
    );
    assert_eq!(user, json!([reply, 0, "pre-wrap"]));

    // A long code line scrolls inside its block; the page does not widen.
    let layout = browser.eval(
        "const pre = document.querySelector('.md-code pre'); \
         const msg = document.querySelector('[data-testid=message][data-role=assistant]'); \
         const bubble = msg.querySelector('.bubble'); \
         return { scrolls: pre.scrollWidth > pre.clientWidth, \
                  bubble_right: bubble.getBoundingClientRect().right, \
                  msg_right: msg.getBoundingClientRect().right, \
                  doc_width: document.documentElement.scrollWidth, window: window.innerWidth };",
    );
    assert_eq!(layout["scrolls"], true, "{layout}");
    assert!(
        layout["bubble_right"].as_f64() <= layout["msg_right"].as_f64().map(|r| r + 1.0),
        "{layout}"
    );
    assert!(
        layout["doc_width"].as_f64() <= layout["window"].as_f64(),
        "{layout}"
    );
    browser.eval("document.querySelector('.md-code').scrollIntoView();");
    browser.screenshot("markdown");
    browser.color_scheme("dark");
    browser.screenshot("markdown-dark");
    browser.color_scheme("light");

    // Copy puts the code on the clipboard (or the textarea fallback) and says so.
    browser.click("[data-testid=copy-code]");
    let copied = browser.wait_for(
        "the Copy button to answer",
        "const b = document.querySelector('[data-testid=copy-code]'); \
         return b.textContent !== 'Copy' && b.textContent;",
    );
    assert_eq!(copied, "Copied");
    browser.wait_for(
        "the Copy button to reset",
        "return document.querySelector('[data-testid=copy-code]').textContent === 'Copy';",
    );

    // Without markdown-it (it failed to load), a reply is plain text.
    browser.eval(
        "window.markdownit = undefined; const s = document.createElement('script'); \
         s.src = '/markdown.js?again'; s.onload = () => { document.body.dataset.reloaded = '1'; }; \
         document.head.append(s);",
    );
    browser.wait_for(
        "markdown.js to load again",
        "return document.body.dataset.reloaded === '1';",
    );
    let fallback = browser.eval(
        "const d = window.renderMarkdown('- **not** a list <b>x</b>'); \
         return [d.className, d.textContent, d.children.length];",
    );
    assert_eq!(
        fallback,
        json!(["md md-plain", "- **not** a list <b>x</b>", 0])
    );
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn search_finds_titles_and_messages_and_opens_the_chat() {
    let (_theater, client, port) =
        common::serve_package(&[], json!({ "store_id": "browser-search" }));
    // Three chats, each answered by the demo model: "pelican" is in one chat's
    // message and in another chat's title; the third holds hostile markup.
    let hostile = "<img src=x onerror=\"document.body.dataset.pwned='1'\"> milk";
    let chat = |title: &str, text: &str| -> String {
        let made = client.expect(201, "POST", "/api/chats", Some(json!({ "title": title })));
        let id = made["id"].as_str().unwrap().to_string();
        let path = format!("/api/messages?chat={id}");
        client.expect(201, "POST", &path, Some(json!({ "content": text })));
        client.expect(202, "POST", &format!("/api/reply?chat={id}"), None);
        id
    };
    let by_message = chat("Birds", "What does a Pelican eat?");
    let by_title = chat("Pelican photos", "Nice pictures of birds");
    let hostile_chat = chat("Groceries", hostile);
    // 50 newer chats: the first call's budget (50 chats) ends before the three above.
    for n in 0..50 {
        client.expect(
            201,
            "POST",
            "/api/chats",
            Some(json!({ "title": format!("Filler {n}") })),
        );
    }

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    // The box is styled: as wide as the sidebar's column, with rounded corners.
    assert_eq!(
        browser.eval(
            "const box = document.querySelector('[data-testid=search]'); \
             const side = document.getElementById('sidebar').getBoundingClientRect().width; \
             return [box.getBoundingClientRect().width > side - 40, getComputedStyle(box).borderTopLeftRadius];"
        ),
        json!([true, "8px"])
    );
    browser.type_into("[data-testid=search]", "PELICAN");
    browser.wait_for(
        "the first page of results, with more to come",
        "return !document.querySelector('[data-testid=search-more]').hidden;",
    );
    assert_eq!(
        browser.eval(
            "return [document.getElementById('chat-list').hidden, \
             document.querySelectorAll('[data-testid=search-result]').length];"
        ),
        json!([true, 0])
    );
    browser.click("[data-testid=search-more]");
    let results = browser.wait_for(
        "both results",
        "const r = Array.from(document.querySelectorAll('[data-testid=search-result]')); \
         return r.length === 2 && r.map(e => [e.dataset.chatId, \
           e.querySelector('[data-testid=search-title]').textContent, \
           Array.from(e.querySelectorAll('[data-testid=search-snippet]')).map(s => s.textContent)]);",
    );
    browser.screenshot("search-results");
    // Newest first: the title match, then the message matches (reply, then question).
    assert_eq!(results[0], json!([by_title, "Pelican photos", []]));
    assert_eq!(results[1][0], by_message.as_str());
    let snippets = results[1][2].as_array().unwrap();
    assert_eq!(snippets.len(), 2, "{results}");
    assert!(snippets[0].as_str().unwrap().starts_with("Reply: "));
    assert!(snippets[0]
        .as_str()
        .unwrap()
        .contains("What does a Pelican eat?"));
    assert_eq!(snippets[1], "You: What does a Pelican eat?");
    // The match is marked (as a text node in a <mark>).
    let marks = browser.eval(
        "return Array.from(document.querySelectorAll('[data-testid=search-results] mark')).map(m => m.textContent);",
    );
    assert!(
        marks.as_array().unwrap().iter().all(|m| m == "Pelican"),
        "{marks}"
    );

    // Clicking a result opens its chat.
    browser.click(&format!(
        "[data-testid=search-result][data-chat-id={by_message}] .chat-open"
    ));
    browser.wait_for(
        "the chat to open",
        &format!(
            "return location.hash === '#{by_message}' && \
             Array.from(document.querySelectorAll('[data-testid=message-content]')).some(m => m.textContent === 'What does a Pelican eat?');"
        ),
    );

    // Esc empties the box and brings the list back.
    browser.type_into("[data-testid=search]", "\u{E00C}");
    browser.wait_for(
        "the chat list again",
        "return !document.getElementById('chat-list').hidden \
         && document.getElementById('search-panel').hidden \
         && document.querySelector('[data-testid=search]').value === '' \
         && document.querySelectorAll('[data-testid=chat-item]').length > 3;",
    );

    // Markup in a query and in what it finds stays text; nothing runs.
    browser.type_into("[data-testid=search]", "<img src=x onerror=");
    browser.wait_for(
        "the first page of results",
        "const m = document.querySelector('[data-testid=search-more]'); return !m.hidden && !m.disabled;",
    );
    browser.click("[data-testid=search-more]");
    let found = browser.wait_for(
        "the hostile chat",
        &format!(
            "const r = document.querySelector('[data-testid=search-result][data-chat-id={hostile_chat}]'); \
             return r && Array.from(r.querySelectorAll('[data-testid=search-snippet]')).map(s => s.textContent);"
        ),
    );
    assert_eq!(found[1], format!("You: {hostile}"));
    let injected = browser.eval(
        "return [document.body.dataset.pwned || null, document.querySelectorAll('#sidebar img, #sidebar script').length];",
    );
    assert_eq!(injected, json!([null, 0]));
    browser.screenshot("search-hostile");
}

/// Opening a long chat shows its end whole, and keeps showing it as what is above it
/// settles (the chat's usage line, each reply's Markdown); a reader scrolled up stays
/// where they are.
#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_long_chat_opens_at_its_last_message() {
    let (_theater, client, port) =
        common::serve_package(&[], json!({ "store_id": "browser-scroll" }));
    let chat = client.expect(201, "POST", "/api/chats", Some(json!({ "title": "Long" })));
    let id = chat["id"].as_str().unwrap();
    for n in 0..6 {
        let text = format!("Question {n}:\n\n```python\nprint({n})\n```\n\n- one\n- two\n- three");
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={id}"),
            Some(json!({ "content": text })),
        );
        client.expect(202, "POST", &format!("/api/reply?chat={id}"), None);
    }

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#{id}"));
    browser.wait_for(
        "the chat with its usage line",
        "return document.body.dataset.ready === '1' \
           && document.querySelectorAll('[data-testid=message]').length === 12 \
           && !document.getElementById('chat-usage').hidden;",
    );
    std::thread::sleep(Duration::from_millis(500));
    const HIDDEN_BELOW: &str = "const c = document.getElementById('conversation'); \
        return [c.scrollHeight > c.clientHeight + 200, \
                Math.round(c.scrollHeight - c.scrollTop - c.clientHeight)];";
    assert_eq!(browser.eval(HIDDEN_BELOW), json!([true, 0]));

    // Scrolled up to read, the view stays put when the panel above opens.
    browser.eval("document.getElementById('conversation').scrollTop = 250;");
    std::thread::sleep(Duration::from_millis(200));
    browser.click("[data-testid=settings-toggle]");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        browser.eval("return Math.round(document.getElementById('conversation').scrollTop);"),
        json!(250)
    );
}

/// A failed reply says why, and still says it after a reload: the page asks the server
/// how the chat's last reply ended, rather than only noting that none came.
#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_failed_reply_says_why_after_a_reload_too() {
    const KEY: &str = "sk-browser-test-key-0123456789";
    let (_fake, _theater, client, port) = common::serve_with_fake_openai(KEY, "browser-failed");
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Failing", "provider": "openai", "model": "fake-500" })),
    );
    let id = chat["id"].as_str().unwrap();
    let url = format!("http://127.0.0.1:{port}/#{id}");
    const NOTICE: &str = "const e = document.querySelector('[data-testid=error]'); \
        return [e ? e.textContent : null, !!document.querySelector('[data-testid=retry]'), \
                !!document.querySelector('[data-testid=unanswered]')];";

    let browser = Browser::start();
    browser.goto(&url);
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    browser.type_into("[data-testid=composer]", "Hello\u{E007}");
    browser.wait_for(
        "the failure",
        "return !!document.querySelector('[data-testid=error]');",
    );
    let seen = browser.eval(NOTICE);
    assert_eq!(
        (seen[1].clone(), seen[2].clone()),
        (json!(true), json!(false)),
        "{seen}"
    );
    assert!(
        seen[0].as_str().unwrap().len() > "No reply. ".len(),
        "{seen}"
    );

    browser.goto(&format!("http://127.0.0.1:{port}/?again#{id}"));
    browser.wait_for(
        "the page to load again",
        "return document.body.dataset.ready === '1' \
           && document.querySelectorAll('[data-testid=message]').length === 1;",
    );
    browser.wait_for(
        "the failure again",
        "return !!document.querySelector('[data-testid=error]');",
    );
    assert_eq!(browser.eval(NOTICE), seen);
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

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_new_chat_starts_with_its_first_message_and_keeps_the_model_picked() {
    const KEY: &str = "sk-browser-test-key-0123456789";
    let (_fake, _theater, client, port) = common::serve_with_fake_openai(KEY, "browser-new");
    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    let select = "return document.querySelector('[data-testid=model-select]').value;";
    browser.eval(
        "const s = document.querySelector('[data-testid=model-select]'); \
         s.value = 'openai/gpt-4o'; s.dispatchEvent(new Event('change', {bubbles: true}));",
    );
    browser.type_into("[data-testid=composer]", "First question\u{E007}");
    browser.wait_for(
        "the reply",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 1;",
    );
    let chats = all_chats(&client);
    assert_eq!(chats.len(), 1);
    assert_eq!(
        (&chats[0]["provider"], &chats[0]["model"]),
        (&json!("openai"), &json!("gpt-4o"))
    );

    // "New chat", however often, creates nothing until something is said.
    for _ in 0..3 {
        browser.click("[data-testid=new-chat]");
    }
    browser.wait_for(
        "the empty conversation",
        "return location.hash === '' && !document.querySelector('[data-testid=message]');",
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(all_chats(&client).len(), 1, "empty chats were created");
    assert_eq!(browser.eval(select), json!("openai/gpt-4o"));

    // The model picked is this browser's choice for new chats, after a reload too.
    browser.eval("location.reload();");
    browser.wait_for(
        "the page to reload",
        "return document.body.dataset.ready === '1';",
    );
    assert_eq!(browser.eval(select), json!("openai/gpt-4o"));
    browser.type_into("[data-testid=composer]", "Second question\u{E007}");
    browser.wait_for(
        "the second chat's reply",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 1 \
         && location.hash !== '';",
    );
    let chats = all_chats(&client);
    assert_eq!(chats.len(), 2);
    assert!(chats
        .iter()
        .all(|c| c["provider"] == "openai" && c["model"] == "gpt-4o"));
}
