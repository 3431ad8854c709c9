//! Search, and a chat's settings with its usage and trimmed context.

use crate::common::browser::Browser;
use crate::common::{self, all_chats};
use serde_json::json;

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
