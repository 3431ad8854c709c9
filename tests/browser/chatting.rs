//! Chatting: the first message, hostile text, renaming, a reload, an unconfigured provider,
//! a message too long to send, new chats, and a long chat opening at its end.

use crate::common::browser::{Browser, MESSAGES};
use crate::common::{self, all_chats, free_port, package_manifest, Client, Theater};
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
    let error = error.as_str().unwrap();
    assert!(
        error.starts_with("No reply. The OpenAI-compatible provider is not configured")
            && error.contains("OPENAI_API_KEY"),
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
        "return location.hash === '' && !document.querySelector('[data-testid=message]') \
         && document.querySelector('[data-testid=empty-state]').textContent.startsWith('A new chat');",
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
