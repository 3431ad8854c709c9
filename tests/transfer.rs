//! Export and import in a real headless Chromium on the real Theater 0.2.1: a chat with
//! a fork is exported as JSON and Markdown from the page's Export links, imported through
//! the Import button's file input, and opens as the same conversation under new ids; a
//! file that is not an export is refused with the server's reason and creates nothing.
//!
//! Needs Debian's `chromium` and `chromium-driver`, Theater on PATH and the package:
//! run through scripts/test, or `cargo test --test transfer -- --ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::all_chats;
use common::browser::{Browser, MESSAGES, VERSIONS};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The export with each message id replaced by its place in the list, and without the
/// chat's id and creation time (what an import renews).
fn normalized(export: &Value) -> Value {
    fn rename(value: &mut Value, names: &HashMap<String, String>) {
        match value {
            Value::String(text) => {
                if let Some(name) = names.get(text.as_str()) {
                    *text = name.clone();
                }
            }
            Value::Array(list) => list.iter_mut().for_each(|v| rename(v, names)),
            Value::Object(map) => map.values_mut().for_each(|v| rename(v, names)),
            _ => {}
        }
    }
    let mut export = export.clone();
    let names: HashMap<String, String> = export["messages"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, m)| (m["id"].as_str().unwrap().to_string(), format!("m{i}")))
        .collect();
    for key in ["messages", "tree", "head"] {
        rename(&mut export[key], &names);
    }
    let chat = export["chat"].as_object_mut().unwrap();
    chat.remove("id");
    chat.remove("created_at");
    export
}

/// Fetches `path` in the page (same origin, the page's cookie) and returns
/// `[status, content-disposition, text]`.
fn fetch_in_page(browser: &Browser, path: &str) -> Value {
    browser.eval(&format!(
        "window.__fetched = null; fetch({path:?}).then(async r => {{ \
           window.__fetched = [r.status, r.headers.get('content-disposition'), await r.text()]; }});"
    ));
    browser.wait_for("the download", "return window.__fetched;")
}

/// Hands `text` to the Import button's file input, as a picked file would be.
fn pick_file(browser: &Browser, name: &str, text: &str) {
    browser.eval(&format!(
        "const dt = new DataTransfer(); \
         dt.items.add(new File([{text}], {name:?}, {{ type: 'application/json' }})); \
         const input = document.querySelector('[data-testid=import-file]'); \
         input.files = dt.files; \
         input.dispatchEvent(new Event('change', {{ bubbles: true }}));",
        text = serde_json::to_string(text).unwrap()
    ));
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_chat_is_exported_and_imported_back_in_the_browser() {
    let (_theater, client, port) =
        common::serve_package(&[], json!({ "store_id": "browser-transfer" }));

    // A chat with a fork: q1 a1 q2 a2, q2 edited and answered again.
    let chat = client.expect(201, "POST", "/api/chats", Some(json!({})))["id"]
        .as_str()
        .unwrap()
        .to_string();
    for q in ["First question", "Second question"] {
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={chat}"),
            Some(json!({ "content": q })),
        );
        client.expect(
            202,
            "POST",
            &format!("/api/reply?chat={chat}"),
            Some(json!({})),
        );
    }
    let shown = client.history(&chat);
    client.expect(
        201,
        "POST",
        &format!("/api/edit?chat={chat}"),
        Some(json!({ "message": shown[2], "content": "Second question, edited" })),
    );
    client.expect(
        202,
        "POST",
        &format!("/api/reply?chat={chat}"),
        Some(json!({})),
    );

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#{chat}"));
    browser.wait_for(
        "the chat to open",
        "return document.body.dataset.ready === '1' \
         && document.querySelectorAll('[data-testid=message]').length === 4;",
    );
    let original = browser.eval(MESSAGES);

    // The Export menu links to both formats of the open chat, as downloads.
    assert_eq!(
        browser.eval(
            "const m = document.querySelector('[data-testid=export-menu]'); \
             return [m.hidden, ...['markdown', 'json'].map(f => { \
               const a = document.querySelector(`[data-testid=export-${f}]`); \
               return [a.getAttribute('href'), a.hasAttribute('download')]; })];"
        ),
        json!([
            false,
            [format!("/api/export?chat={chat}&format=markdown"), true],
            [format!("/api/export?chat={chat}&format=json"), true]
        ])
    );
    browser.click("[data-testid=export-menu] summary");
    browser.screenshot("transfer-export-menu");
    let markdown = fetch_in_page(
        &browser,
        &format!("/api/export?chat={chat}&format=markdown"),
    );
    assert_eq!(markdown[0], 200);
    assert_eq!(markdown[1], "attachment; filename=\"First question.md\"");
    let text = markdown[2].as_str().unwrap();
    assert!(text.starts_with("# First question\n"), "{text}");
    assert!(text.contains("\n## You\n") && text.contains("\n## Assistant (demo-echo)\n"));
    assert!(text.contains("Second question, edited") && !text.contains("\nSecond question\n"));

    let exported = fetch_in_page(&browser, &format!("/api/export?chat={chat}&format=json"));
    assert_eq!(exported[0], 200);
    let file_text = exported[2].as_str().unwrap().to_string();
    let file: Value = serde_json::from_str(&file_text).unwrap();
    assert_eq!(
        file["messages"].as_array().unwrap().len(),
        6,
        "both branches"
    );

    // A file that is not an export: the server's reason, and no chat.
    pick_file(&browser, "notes.json", r#"{"title": "not an export"}"#);
    let error = browser.wait_for(
        "the refusal",
        "const e = document.querySelector('[data-testid=error]'); return e && e.textContent;",
    );
    assert!(
        error.as_str().unwrap().contains("not a chat export"),
        "{error}"
    );
    assert_eq!(all_chats(&client).len(), 1);
    // One over the server's body limit is refused in the page, before it is sent.
    let mut big = file.clone();
    big["messages"][0]["content"] = json!("x".repeat(4200 * 1024));
    pick_file(&browser, "big.json", &big.to_string());
    browser.wait_for(
        "the size refusal",
        "const e = document.querySelector('[data-testid=error]');          return e && e.textContent.includes('the server imports files up to 4 MiB');",
    );
    assert_eq!(all_chats(&client).len(), 1);

    // Import it through the Import button: the new chat opens, the same conversation.
    assert_eq!(
        browser.eval("const b = document.querySelector('[data-testid=import-chat]'); return !b.disabled && b.textContent;"),
        "Import"
    );
    pick_file(&browser, "First question.json", &file_text);
    let copy = browser.wait_for(
        "the imported chat to open",
        &format!(
            "const id = decodeURIComponent(location.hash.slice(1)); \
             return id && id !== {chat:?} && document.querySelectorAll('[data-testid=message]').length === 4 \
               && !document.querySelector('[data-testid=error]') && id;"
        ),
    );
    let copy = copy.as_str().unwrap().to_string();
    assert_eq!(browser.eval(MESSAGES), original);
    assert_eq!(browser.eval(VERSIONS), json!(["", "", "2/2", ""]));
    browser.screenshot("transfer-imported");
    let listed: Vec<String> = all_chats(&client)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(listed.contains(&copy) && listed.len() == 2, "{listed:?}");

    // On the real store (SHA-1 ids), the copy exports as the original did.
    let again = client.raw("GET", &format!("/api/export?chat={copy}"), None, &[]);
    let again: Value = serde_json::from_str(&again.text).unwrap();
    assert_ne!(again["head"], file["head"]);
    assert_eq!(normalized(&again), normalized(&file));
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn an_export_imports_up_to_the_body_limit_and_is_refused_past_it() {
    let (_theater, client, _) = common::serve_package(&[], json!({ "store_id": "transfer-limit" }));
    let chat = client.expect(201, "POST", "/api/chats", Some(json!({})))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let long = "x".repeat(100_000);
    let post = || {
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={chat}"),
            Some(json!({ "content": long })),
        );
    };
    let export = || {
        client
            .raw("GET", &format!("/api/export?chat={chat}"), None, &[])
            .text
    };
    // 40 long messages (about 4 MB) import through the real runtime; 43 do not.
    for _ in 0..40 {
        post();
    }
    let fits = export();
    assert!(
        fits.len() > 3_900_000 && fits.len() < 4 * 1024 * 1024,
        "{}",
        fits.len()
    );
    let json_body = [("Content-Type", "application/json")];
    let imported = client.raw("POST", "/api/import", Some(&fits), &json_body);
    assert_eq!(imported.status, 201, "{}", imported.text);
    let copy = imported.json()["id"].as_str().unwrap().to_string();
    assert_eq!(client.history(&copy).len(), 40);
    for _ in 0..3 {
        post();
    }
    let too_big = export();
    assert!(too_big.len() > 4 * 1024 * 1024);
    let refused = client.raw("POST", "/api/import", Some(&too_big), &json_body);
    assert_eq!(refused.status, 413, "{}", refused.text);
    assert!(
        refused.text.contains("over 4 MiB") && refused.text.contains("cannot be imported"),
        "{}",
        refused.text
    );
    assert_eq!(all_chats(&client).len(), 2);
}
