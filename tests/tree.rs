//! Conversations as a tree, in a real headless Chromium on the real Theater 0.2.1:
//! edit a question (a new version, the old one kept), switch versions, regenerate a
//! reply, ask two models at once, jump through the tree view; Esc and Alt+N.
//!
//! Needs Debian's `chromium` and `chromium-driver`, Theater on PATH and the package:
//! run through scripts/test, or `cargo test --test tree -- --ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::browser::{Browser, MESSAGES, VERSIONS};
use common::{all_chats, Client};
use serde_json::{json, Value};

fn roles_and_text(shown: &Value) -> Vec<(String, String)> {
    shown
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m[0].as_str().unwrap().to_string(),
                m[1].as_str().unwrap().chars().take(48).collect(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_user_branches_a_conversation_in_the_browser() {
    const KEY: &str = "sk-tree-test-key-0123456789";
    let (fake, _theater, client, port) = common::serve_with_fake_openai(KEY, "browser-tree");
    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );

    for (n, question) in ["First question", "Second question"].iter().enumerate() {
        browser.type_into("[data-testid=composer]", &format!("{question}\u{E007}"));
        browser.wait_for(
            "the demo reply",
            &format!(
                "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === {} \
                 && !document.body.dataset.busy;",
                n + 1
            ),
        );
    }

    // Edit the second question: a new version is asked, the old one is kept.
    browser.eval("document.querySelectorAll('[data-testid=edit]')[1].click();");
    browser.wait_for(
        "the edit box",
        "return !!document.querySelector('[data-testid=edit-box]');",
    );
    browser.eval("document.querySelector('[data-testid=edit-box]').value = '';");
    browser.type_into(
        "[data-testid=edit-box]",
        "Second question, <img src=x onerror=\"document.body.dataset.pwned=1\"> edited\u{E007}",
    );
    browser.wait_for(
        "the reply to the edited question",
        "const m = document.querySelectorAll('[data-testid=message]'); \
         return m.length === 4 && m[3].textContent.includes('edited') && !document.body.dataset.busy;",
    );
    let shown = roles_and_text(&browser.eval(MESSAGES));
    assert_eq!(
        shown[2].1,
        "Second question, <img src=x onerror=\"document.bo"
    );
    assert_eq!(browser.eval(VERSIONS), json!(["", "", "2/2", ""]));
    assert_eq!(
        browser.eval("return [document.body.dataset.pwned || null, document.querySelectorAll('[data-testid=messages] img').length];"),
        json!([null, 0])
    );
    browser.screenshot("tree-edited");

    // Back to the first version: the original question and its reply.
    browser.eval("document.querySelectorAll('[data-testid=message]')[2].querySelector('[data-testid=version-prev]').click();");
    browser.wait_for(
        "the first version",
        "const m = document.querySelectorAll('[data-testid=message]'); \
         return m.length === 4 && m[2].textContent.includes('Second question') && !m[2].textContent.includes('edited');",
    );
    assert_eq!(browser.eval(VERSIONS), json!(["", "", "1/2", ""]));
    let id = all_chats(&client)[0]["id"].as_str().unwrap().to_string();
    let chat = client.expect(200, "GET", &format!("/api/chat?id={id}"), None);
    assert_eq!(chat["message_count"], 4);

    // Regenerate the last reply: a second version of it, shown.
    browser.eval(
        "const r = document.querySelectorAll('[data-testid=regenerate]'); r[r.length - 1].click();",
    );
    browser.wait_for(
        "the regenerated reply",
        "const v = document.querySelectorAll('[data-testid=message]')[3].querySelector('[data-testid=versions]'); \
         return v && v.textContent.includes('2/2') && !document.body.dataset.busy;",
    );

    // Esc cancels an edit and changes nothing.
    browser.eval("document.querySelectorAll('[data-testid=edit]')[0].click();");
    browser.wait_for(
        "the edit box",
        "return !!document.querySelector('[data-testid=edit-box]');",
    );
    browser.type_into("[data-testid=edit-box]", " never sent\u{E00C}");
    browser.wait_for(
        "the edit to close",
        "return !document.querySelector('[data-testid=edit-box]');",
    );
    assert_eq!(
        client.expect(200, "GET", &format!("/api/chat?id={id}"), None)["message_count"],
        4
    );

    // Ask two models at once: the chat's (demo) and gpt-4o-mini through the fake.
    browser.eval("document.querySelector('[data-testid=compare]').open = true;");
    // The chat's own model always answers: shown ticked, fixed, and not counted.
    let own = browser.eval(
        "const i = Array.from(document.querySelectorAll('#compare-list input')).find(i => i.value === 'demo/demo-echo'); \
         return [i.checked, i.disabled];",
    );
    assert_eq!(own, json!([true, true]));
    browser.eval(
        "Array.from(document.querySelectorAll('#compare-list input')).find(i => i.value === 'openai/gpt-4o-mini').click();",
    );
    assert_eq!(
        browser.eval("return document.getElementById('compare-summary').textContent;"),
        json!("Compare: +1 model")
    );
    browser.type_into("[data-testid=composer]", "Third question\u{E007}");
    browser.wait_for(
        "both answers, as two versions",
        "const m = document.querySelectorAll('[data-testid=message]'); const last = m[m.length - 1]; \
         const v = last && last.querySelector('[data-testid=versions]'); \
         return m.length === 6 && v && / ?\\d\\/2 ?/.test(v.textContent) && !document.body.dataset.busy;",
    );
    let models = browser.eval(
        "const m = document.querySelectorAll('[data-testid=message]'); const last = m[m.length - 1]; \
         last.querySelector('[data-testid=version-prev]:not([disabled]), [data-testid=version-next]:not([disabled])').click(); \
         return last.querySelector('.msg-model').dataset.model;",
    );
    let other = browser.wait_for(
        "the other model's answer",
        &format!(
            "const m = document.querySelectorAll('[data-testid=message]'); const e = m[m.length - 1] && m[m.length - 1].querySelector('.msg-model'); \
             return e && e.dataset.model !== {models} && e.dataset.model;"
        ),
    );
    let mut both = vec![
        models.as_str().unwrap().to_string(),
        other.as_str().unwrap().to_string(),
    ];
    both.sort();
    assert_eq!(both, ["demo-echo", "gpt-4o-mini"]);
    assert_eq!(
        fake.requests().len(),
        1,
        "one request for the compared model"
    );

    // The tree view: three forks; a click on the edited version of the second
    // question opens that branch where it was left.
    browser.click("[data-testid=tree-toggle]");
    let nodes = browser.wait_for(
        "the tree",
        "return document.querySelectorAll('[data-testid=tree] [data-testid=tree-node]').length;",
    );
    assert_eq!(nodes, 6, "three forks of two versions each");
    browser.screenshot("tree-view");
    let edited = version_after_first_reply(&client, &id, 1);
    browser.eval(&format!(
        "document.querySelector('[data-testid=tree-node][data-message=\"{edited}\"]').dispatchEvent(new MouseEvent('click', {{bubbles: true}}));"
    ));
    browser.wait_for(
        "the branch picked in the tree",
        "const m = document.querySelectorAll('[data-testid=message]'); \
         return m.length === 4 && m[2].textContent.includes('edited') && document.querySelector('[data-testid=tree]').hidden;",
    );

    // A reload opens the same branch (the head is stored), and Alt+N starts a new chat.
    browser.eval("location.reload();");
    browser.wait_for(
        "the page to reload",
        "return document.body.dataset.ready === '1';",
    );
    browser.wait_for(
        "the same branch after reload",
        "const m = document.querySelectorAll('[data-testid=message]'); \
         return m.length === 4 && m[2].textContent.includes('edited');",
    );
    // Fork: continue from the first reply in a new chat that shares the history.
    browser.eval("document.querySelectorAll('[data-testid=message]')[1].querySelector('[data-testid=fork]').click();");
    let forked = browser.wait_for(
        "the fork to open",
        &format!(
            "return location.hash !== '#{id}' && document.querySelectorAll('[data-testid=message]').length === 2 \
             && document.getElementById('chat-heading').textContent;"
        ),
    );
    assert!(forked.as_str().unwrap().ends_with("(fork)"), "{forked}");
    assert_eq!(all_chats(&client).len(), 2);
    browser.type_into("[data-testid=composer]", "\u{E00A}n\u{E000}");
    browser.wait_for(
        "a new, empty conversation",
        "return location.hash === '' && document.querySelectorAll('[data-testid=message]').length === 0;",
    );
    // Stored with its first message only.
    assert_eq!(all_chats(&client).len(), 2);
    browser.type_into("[data-testid=composer]", "A new start\u{E007}");
    browser.wait_for(
        "the new chat in the list",
        "return document.querySelectorAll('[data-testid=chat-item]').length === 3;",
    );
    assert_eq!(all_chats(&client).len(), 3);
}

/// The id of version `index` of the second question (the fork after the first reply).
fn version_after_first_reply(client: &Client, chat: &str, index: usize) -> String {
    let view = client.expect(200, "GET", &format!("/api/chat?id={chat}"), None);
    let tree = view["tree"].as_array().unwrap();
    let fork = tree.iter().find(|p| p["n"] == 2).unwrap();
    fork["children"][index]["id"].as_str().unwrap().to_string()
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn two_tabs_stay_in_sync_and_deleting_asks_first() {
    let (_theater, client, port) =
        common::serve_package(&[], json!({ "store_id": "browser-tabs" }));
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Shared" })),
    );
    let id = chat["id"].as_str().unwrap().to_string();
    let url = format!("http://127.0.0.1:{port}/#{id}");
    let (a, b) = (Browser::start(), Browser::start());
    for tab in [&a, &b] {
        tab.goto(&url);
        tab.wait_for(
            "the page to load",
            "return document.body.dataset.ready === '1';",
        );
        tab.wait_for(
            "live updates",
            "return document.getElementById('conn-status').dataset.state === 'live';",
        );
    }
    // What one tab sends, the other shows: the message, the reply, a new version.
    a.type_into("[data-testid=composer]", "Sent from tab A\u{E007}");
    b.wait_for(
        "tab B to show the exchange",
        "return document.querySelectorAll('[data-testid=message]').length === 2;",
    );
    a.wait_for("tab A to settle", "return !document.body.dataset.busy;");
    a.eval("document.querySelector('[data-testid=regenerate]').click();");
    b.wait_for(
        "tab B to show the new version",
        "const v = document.querySelector('[data-testid=message][data-role=assistant] [data-testid=versions]'); \
         return v && v.textContent.includes('2/2');",
    );
    // Each tab keeps its own open chat: B opens another one, A stays.
    let other = client.expect(201, "POST", "/api/chats", Some(json!({ "title": "Other" })));
    let other = other["id"].as_str().unwrap().to_string();
    b.goto(&format!("http://127.0.0.1:{port}/#{other}"));
    b.wait_for(
        "tab B on the other chat",
        "return document.getElementById('chat-heading').textContent === 'Other';",
    );
    assert_eq!(
        a.eval("return document.getElementById('chat-heading').textContent;"),
        "Shared"
    );

    // Deleting asks first: dismissed, nothing happens; accepted, the chat is gone in
    // both tabs.
    let delete = "Array.from(document.querySelectorAll('[data-testid=chat-item]')).find(li => li.textContent.includes('Shared'))\
         .querySelector('[data-testid=delete-chat]').click();";
    a.eval(&format!("setTimeout(() => {{ {delete} }}, 0);"));
    a.wait_for_dialog();
    let asked = a.answer_dialog(false);
    assert!(asked.contains("Shared"), "{asked}");
    assert_eq!(all_chats(&client).len(), 2);
    a.eval(&format!("setTimeout(() => {{ {delete} }}, 0);"));
    a.wait_for_dialog();
    a.answer_dialog(true);
    b.wait_for(
        "the deleted chat to leave tab B's list",
        "return !Array.from(document.querySelectorAll('[data-testid=chat-title]')).some(t => t.textContent === 'Shared');",
    );
    assert_eq!(all_chats(&client).len(), 1);
}
