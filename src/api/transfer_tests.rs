//! Export and import as a browser or curl drives them: Markdown of the branch shown,
//! JSON of every branch, an import that is the same chat under new ids, bad files that
//! store nothing, and what each costs in host calls.

use super::*;
use crate::api::MAX_MESSAGE_CHARS;
use crate::chats::transfer::WalkError;
use crate::chats::{ChatId, ChatStore, Message};
use crate::test_support::Harness;
use serde_json::{json, Value};

fn reply(h: &mut Harness, chat: &str, body: Value) -> Value {
    let (status, answer) = h.call("POST", &format!("/api/reply?chat={chat}"), Some(body));
    assert_eq!(status, 202, "{answer}");
    answer
}

fn edit(h: &mut Harness, chat: &str, message: &str, content: &str) {
    let (status, answer) = h.call(
        "POST",
        &format!("/api/edit?chat={chat}"),
        Some(json!({ "message": message, "content": content })),
    );
    assert_eq!(status, 201, "{answer}");
}

fn switch(h: &mut Harness, chat: &str, message: &str) {
    let (status, answer) = h.call(
        "POST",
        &format!("/api/branch?chat={chat}"),
        Some(json!({ "message": message })),
    );
    assert_eq!(status, 200, "{answer}");
}

fn branch_ids(h: &mut Harness, chat: &str) -> Vec<String> {
    let (status, page) = h.call("GET", &format!("/api/messages?chat={chat}&limit=200"), None);
    assert_eq!(status, 200, "{page}");
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

fn import(h: &mut Harness, file: &Value) -> (u16, Value) {
    h.call("POST", "/api/import", Some(file.clone()))
}

fn chat_count(h: &mut Harness) -> usize {
    h.call("GET", "/api/chats", None).1["chats"]
        .as_array()
        .unwrap()
        .len()
}

/// q1 a1 q2 a2; q2 edited (q2' a2'), a2' regenerated (a2''), q1 edited (q1' a1'); then
/// back to the first q1, which lands on a2'' where it was left: the head is not the
/// newest message.
fn three_forks(h: &mut Harness) -> String {
    let chat = h.new_chat();
    for q in ["q1", "q2"] {
        h.say(&chat, q);
        reply(h, &chat, json!({}));
    }
    let shown = branch_ids(h, &chat);
    edit(h, &chat, &shown[2], "q2, better");
    reply(h, &chat, json!({}));
    let shown = branch_ids(h, &chat);
    reply(h, &chat, json!({ "regenerate": shown[3] }));
    edit(h, &chat, &shown[0], "q1, again");
    reply(h, &chat, json!({}));
    switch(h, &chat, &shown[0]);
    chat
}

/// The messages stored for a chat, whatever branch they are on.
fn stored_messages(h: &Harness, chat: &str) -> usize {
    h.host.content.borrow()["t"]
        .values()
        .filter_map(|bytes| <Message as crate::json::FromJson>::from_bytes(bytes).ok())
        .filter(|m| m.chat.as_str() == chat)
        .count()
}

/// An export with every message id replaced by its place in the list (`m0`, `m1`,
/// ...) wherever it appears, and without what an import renews (the chat's id and
/// creation time).
fn normalized(export: &Value) -> Value {
    let mut export = export.clone();
    let names: std::collections::HashMap<String, String> = export["messages"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, m)| (m["id"].as_str().unwrap().to_string(), format!("m{i}")))
        .collect();
    fn rename(value: &mut Value, names: &std::collections::HashMap<String, String>) {
        match value {
            Value::String(text) => {
                if let Some(name) = names.get(text.as_str()) {
                    *text = name.clone();
                } else {
                    assert!(
                        MessageId::parse(text).is_none(),
                        "{text} is not a message of the export"
                    );
                }
            }
            Value::Array(list) => list.iter_mut().for_each(|v| rename(v, names)),
            Value::Object(map) => map.values_mut().for_each(|v| rename(v, names)),
            _ => {}
        }
    }
    for key in ["messages", "tree", "head"] {
        rename(&mut export[key], &names);
    }
    let chat = export["chat"].as_object_mut().unwrap();
    chat.remove("id");
    chat.remove("created_at");
    export
}

#[test]
fn markdown_is_the_branch_shown_with_times_and_usage() {
    let mut h = Harness::new();
    let chat = three_forks(&mut h);
    let response = h.raw(
        "GET",
        &format!("/api/export?chat={chat}&format=markdown"),
        None,
    );
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    assert_eq!(
        response.header("content-disposition"),
        Some("attachment; filename=\"q1.md\"")
    );
    let text = String::from_utf8(response.body).unwrap();
    assert!(
        text.starts_with("# q1\n\n- Model: demo / demo-echo\n"),
        "{text}"
    );
    assert!(text.contains("- Started: 2023-11-14 22:13 UTC\n"), "{text}");
    // The branch shown: q1, a1, the second version of q2 and its latest reply.
    let headings: Vec<&str> = text.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## You",
            "## Assistant (demo-echo)",
            "## You",
            "## Assistant (demo-echo)"
        ]
    );
    assert!(
        text.contains("\n## You\n\n*2023-11-14 22:13 UTC*\n\nq2, better\n"),
        "{text}"
    );
    assert!(
        !text.contains("q1, again") && !text.contains("\nq2\n"),
        "{text}"
    );
    assert!(
        text.contains("input + "),
        "replies show their tokens: {text}"
    );
    assert!(text.contains(r#"you said "q2, better""#), "{text}");

    // Odd titles give a safe file name, and the exact one for browsers that take it.
    assert_eq!(
        super::disposition("Notes: \"a/b\" ", "md"),
        "attachment; filename=\"Notes_ _a_b.md\""
    );
    assert_eq!(
        super::disposition("Café ☕", "json"),
        "attachment; filename=\"Caf.json\"; filename*=UTF-8''Caf%C3%A9%20%E2%98%95.json"
    );
    assert_eq!(
        super::disposition("///", "md"),
        "attachment; filename=\"chat.md\""
    );
    assert_eq!(super::dollars(0), "$0.00");
    assert_eq!(super::dollars(123_000), "$0.000123");
    assert_eq!(super::dollars(12_500_000_000), "$12.50");
    assert_eq!(super::utc(0), "1970-01-01 00:00 UTC");
    assert_eq!(super::utc(951_782_400_000), "2000-02-29 00:00 UTC");
}

#[test]
fn json_holds_every_message_of_every_branch_parents_first() {
    let mut h = Harness::new();
    let chat = three_forks(&mut h);
    let response = h.raw("GET", &format!("/api/export?chat={chat}"), None);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        response.header("content-disposition"),
        Some("attachment; filename=\"q1.json\"")
    );
    let file: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(file["format"], "theater-chat/1");
    assert_eq!(file["chat"]["id"], chat.as_str());
    assert_eq!(file["chat"]["title"], "q1");
    assert_eq!(file["chat"]["provider"], "demo");
    assert!(file["chat"]["usage"]["output_tokens"].as_u64().unwrap() > 0);

    let messages = file["messages"].as_array().unwrap();
    // 4 + q2' a2' + a2'' + q1' a1'.
    assert_eq!(messages.len(), 9);
    assert_eq!(messages.len(), stored_messages(&h, &chat));
    let mut before = std::collections::HashSet::new();
    for m in messages {
        if let Some(parent) = m["parent"].as_str() {
            assert!(before.contains(parent), "parent after child: {m}");
        }
        assert!(m.get("window").is_none());
        before.insert(m["id"].as_str().unwrap());
    }
    let view = h.call("GET", &format!("/api/chat?id={chat}"), None).1;
    assert_eq!(file["tree"], view["tree"]);
    assert_eq!(file["head"], view["head"]);
    assert_eq!(file["tree"].as_array().unwrap().len(), 3);
    let replies: Vec<&Value> = messages
        .iter()
        .filter(|m| m["role"] == "assistant")
        .collect();
    assert_eq!(replies.len(), 5);
    assert!(replies
        .iter()
        .all(|m| m["model"] == "demo-echo" && m["usage"]["output_tokens"].as_u64().unwrap() > 0));

    // Unknown formats and chats are refused.
    assert_eq!(
        h.call("GET", &format!("/api/export?chat={chat}&format=pdf"), None)
            .0,
        400
    );
    assert_eq!(h.call("GET", "/api/export?chat=c99", None).0, 404);
    assert_eq!(h.call("GET", "/api/export", None).0, 400);
}

#[test]
fn an_import_is_the_same_chat_under_new_ids_and_round_trips_losslessly() {
    let mut h = Harness::new();
    let chat = three_forks(&mut h);
    let first = h.export_json(&chat);
    let (status, imported) = import(&mut h, &first);
    assert_eq!(status, 201, "{imported}");
    let copy = imported["id"].as_str().unwrap().to_string();
    assert_ne!(copy, chat);
    assert_eq!(imported["title"], "q1");
    assert_eq!(imported["message_count"], 4);
    let original = h.call("GET", &format!("/api/chat?id={chat}"), None).1;
    assert_eq!(imported["usage"], original["usage"]);
    assert_eq!(imported["settings"], original["settings"]);

    // export(import(export(c))) is export(c) but for the chat's id and creation time and
    // the message ids; and once more from the copy.
    let second = h.export_json(&copy);
    assert_eq!(normalized(&second), normalized(&first));
    assert_ne!(second["messages"][0]["id"], first["messages"][0]["id"]);
    let (status, again) = import(&mut h, &second);
    assert_eq!(status, 201, "{again}");
    let third = h.export_json(again["id"].as_str().unwrap());
    assert_eq!(normalized(&third), normalized(&first));
    assert_eq!(stored_messages(&h, &copy), 9);

    // The copy reads like the original: the same branch shown, a page of it one object
    // (the windows were rebuilt), the same versions to switch to, and it goes on.
    let contents = |h: &mut Harness, chat: &str| h.messages(chat);
    assert_eq!(contents(&mut h, &copy), contents(&mut h, &chat));
    h.restart();
    let calls = h.host.calls.get();
    h.call("GET", &format!("/api/messages?chat={copy}"), None);
    assert_eq!(
        h.host.calls.get() - calls,
        1,
        "after a restart: the record's label (the start's check read the record and the head's object)"
    );
    let first_q1 = |h: &mut Harness, chat: &str| {
        let view = h.call("GET", &format!("/api/chat?id={chat}"), None).1;
        let root = view["tree"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p.get("at").is_none())
            .unwrap()
            .clone();
        root["children"][1]["id"].as_str().unwrap().to_string()
    };
    let (q1b, q1b_copy) = (first_q1(&mut h, &chat), first_q1(&mut h, &copy));
    switch(&mut h, &chat, &q1b);
    switch(&mut h, &copy, &q1b_copy);
    assert_eq!(contents(&mut h, &copy), contents(&mut h, &chat));
    assert_eq!(h.say(&copy, "q2 after import").0, 201);
    reply(&mut h, &copy, json!({}));
    assert_eq!(contents(&mut h, &copy).len(), 4);
    // The original is untouched.
    assert_eq!(stored_messages(&h, &chat), 9);
}

#[test]
fn an_empty_chat_and_its_settings_round_trip() {
    let mut h = Harness::new();
    let (status, chat) = h.call(
        "POST",
        "/api/chats",
        Some(json!({ "title": "Plans", "system": "Be brief.", "temperature": 0.3, "max_tokens": 100 })),
    );
    assert_eq!(status, 201, "{chat}");
    let file = h.export_json(chat["id"].as_str().unwrap());
    assert_eq!(file["messages"], json!([]));
    assert!(file.get("head").is_none());
    let (status, copy) = import(&mut h, &file);
    assert_eq!(status, 201, "{copy}");
    assert_eq!(copy["settings"], chat["settings"]);
    assert_eq!(copy["title"], "Plans");
    assert_eq!(
        normalized(&h.export_json(copy["id"].as_str().unwrap())),
        normalized(&file)
    );
    // An untitled chat stays untitled: its first message names it.
    let untitled = h.new_chat();
    let file = h.export_json(&untitled);
    let (_, copy) = import(&mut h, &file);
    let copy = copy["id"].as_str().unwrap().to_string();
    h.say(&copy, "Named by this");
    assert_eq!(
        h.call("GET", &format!("/api/chat?id={copy}"), None).1["title"],
        "Named by this"
    );
}

#[test]
fn a_bad_file_says_what_is_wrong_and_stores_nothing() {
    let mut h = Harness::new();
    let chat = three_forks(&mut h);
    let good = h.export_json(&chat);
    let second_id = good["messages"][1]["id"].clone();
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Change, u16, &str)> = vec![
        (
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("format");
            }),
            400,
            "not a chat export",
        ),
        (
            Box::new(|f| f["format"] = json!("theater-chat/2")),
            400,
            "this server reads",
        ),
        (
            Box::new(|f| f["extra"] = json!(1)),
            400,
            "unknown field \"extra\"",
        ),
        (
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("chat");
            }),
            400,
            "\"chat\" is missing",
        ),
        (
            Box::new(|f| f["chat"]["title"] = json!(" ")),
            400,
            "the title",
        ),
        (
            Box::new(|f| f["chat"]["colour"] = json!("red")),
            400,
            "unknown field `colour`",
        ),
        (
            Box::new(|f| f["chat"]["provider"] = json!("nope")),
            400,
            "the chat's model nope/demo-echo",
        ),
        (
            Box::new(|f| f["chat"]["settings"] = json!({ "temperature": 9 })),
            400,
            "settings",
        ),
        (
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("messages");
            }),
            400,
            "\"messages\"",
        ),
        (
            Box::new(|f| f["messages"][2]["id"] = json!("xyz")),
            400,
            "messages[2]: `id`: invalid message id",
        ),
        (
            Box::new(move |f| f["messages"][3]["id"] = second_id.clone()),
            400,
            "in the file twice",
        ),
        (
            Box::new(|f| f["messages"].as_array_mut().unwrap().swap(0, 1)),
            400,
            "is not an earlier message",
        ),
        (
            Box::new(|f| f["messages"][0]["role"] = json!("system")),
            400,
            "messages[0]: `role`: expected \"user\" or \"assistant\", found the string \"system\"",
        ),
        (
            Box::new(|f| f["messages"][0]["content"] = json!(" \n")),
            400,
            "the message is empty",
        ),
        (
            Box::new(|f| f["messages"][0]["content"] = json!("x".repeat(MAX_MESSAGE_CHARS + 1))),
            413,
            "longer than 100000",
        ),
        (
            Box::new(|f| f["messages"][0]["model"] = json!("gpt")),
            400,
            "a message of the user",
        ),
        (
            Box::new(|f| {
                f["messages"][1].as_object_mut().unwrap().remove("provider");
            }),
            400,
            "both its provider and its model",
        ),
        (
            Box::new(|f| f["messages"][1]["created_at"] = json!(-1)),
            400,
            "messages[1]",
        ),
        (
            Box::new(|f| f["tree"][0]["children"][0]["id"] = json!("0".repeat(40))),
            400,
            "tree[0].children[0]",
        ),
        (
            Box::new(|f| f["tree"][0]["selected"] = json!(7)),
            400,
            "\"selected\" 7",
        ),
        (
            Box::new(|f| f["tree"][1]["route"] = json!([[9, 0]])),
            400,
            "its route names [9, 0]",
        ),
        (
            Box::new(move |f| f["tree"][1]["at"] = f["tree"][0]["at"].clone()),
            400,
            "a second fork after the same message",
        ),
        (Box::new(|f| f["tree"] = json!({})), 400, "\"tree\""),
        (
            Box::new(|f| f["head"] = json!("f".repeat(40))),
            400,
            "\"head\"",
        ),
        (
            Box::new(|f| {
                f.as_object_mut().unwrap().remove("head");
            }),
            400,
            "\"head\" is missing",
        ),
    ];
    let chats = chat_count(&mut h);
    for (change, status, says) in cases {
        let mut file = good.clone();
        change(&mut file);
        let writes = h.host.writes.get();
        let (got, answer) = import(&mut h, &file);
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(
            (got, message.contains(says)),
            (status, true),
            "{says}: {answer}"
        );
        assert_eq!(h.host.writes.get(), writes, "{says}: something was stored");
    }
    // Not an object, not JSON, too big for a request.
    for body in [json!([1]), json!("text")] {
        assert_eq!(import(&mut h, &body).0, 400);
    }
    let mut big = good.clone();
    big["messages"][0]["content"] = json!("x".repeat(crate::http::MAX_IMPORT_BYTES));
    let (status, answer) = import(&mut h, &big);
    assert_eq!(status, 413);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("over 4 MiB, the most an import may carry, so it cannot be imported"),
        "{answer}"
    );
    assert_eq!(chat_count(&mut h), chats, "no chat was created");
    // The unchanged file still imports.
    assert_eq!(import(&mut h, &good).0, 201);
    assert_eq!(chat_count(&mut h), chats + 1);
}

#[test]
fn a_file_with_too_many_messages_is_refused_before_reading_them() {
    let catalog = crate::catalog::Catalog::with_overlay(None).unwrap();
    let message = json!({ "id": "0".repeat(40), "role": "user", "content": "x", "created_at": 1 });
    let file = json!({
        "format": FORMAT,
        "chat": { "title": "t", "provider": "demo", "model": "demo-echo" },
        "messages": vec![message; MAX_MESSAGES + 1],
    });
    let body = crate::json::parse(&serde_json::to_vec(&file).unwrap()).unwrap();
    let error = read_import(crate::json::Map::of(body).unwrap(), &catalog).unwrap_err();
    assert_eq!((error.status, error.code), (413, "export_too_large"));
}

#[test]
fn exports_and_imports_cost_bounded_host_calls() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    for n in 0..50 {
        h.say(&chat, &format!("question {n}"));
        reply(&mut h, &chat, json!({}));
    }
    // 100 messages on one branch, with nothing in the actor's memory: the chat record
    // (1: the state names it) and one object per window (33).
    h.host.forget();
    let calls = h.host.calls.get();
    let file = h.export_json(&chat);
    assert_eq!(file["messages"].as_array().unwrap().len(), 100);
    assert_eq!(h.host.calls.get() - calls, 1 + 4);
    // Markdown reads the branch a page of 200 at a time: the same objects, plus the one
    // each page starts at.
    let calls = h.host.calls.get();
    h.raw(
        "GET",
        &format!("/api/export?chat={chat}&format=markdown"),
        None,
    );
    assert!(h.host.calls.get() - calls <= 2 + 4 + 1);

    // An import costs one write per message on top of what creating a chat costs.
    let calls = h.host.calls.get();
    h.new_chat();
    let create = h.host.calls.get() - calls;
    let calls = h.host.calls.get();
    let writes = h.host.writes.get();
    assert_eq!(import(&mut h, &file).0, 201);
    assert_eq!(h.host.calls.get() - calls, create + 100);
    assert!(h.host.writes.get() - writes <= 100 + 9);

    // With forks: each branch end is read once at most.
    let forked = three_forks(&mut h);
    let view = h.call("GET", &format!("/api/chat?id={forked}"), None).1;
    let branches: usize = view["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["children"].as_array().unwrap().len())
        .sum();
    let calls = h.host.calls.get();
    h.export_json(&forked);
    assert!(h.host.calls.get() - calls <= (2 + 1 + 2 * branches) as u64);
}

#[test]
fn the_walk_stops_past_its_limit() {
    let mut h = Harness::new();
    let chat = three_forks(&mut h);
    let store = ChatStore::new(&h.host, "t");
    let record = store.get(&ChatId::parse(&chat).unwrap()).unwrap();
    assert_eq!(store.every_message(&record, 9).unwrap().len(), 9);
    assert!(matches!(
        store.every_message(&record, 8),
        Err(WalkError::TooMany(8))
    ));
}

#[test]
fn the_page_script_is_public_and_exports_need_the_token_like_any_read() {
    const TOKEN: &str = "transfer-test-token-0123456789";
    let mut h = Harness::with_env(
        r#"{"store_id":"t","require_token":true}"#,
        &[(crate::api::auth::TOKEN_VAR, TOKEN)],
    );
    let page = String::from_utf8(h.with_headers("GET", "/", &[], None).body).unwrap();
    assert!(page.contains(r#"<script src="/transfer.js" defer></script>"#));
    let script = h.page_file("/transfer.js");
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let cookie = format!("chat_session={TOKEN}");
    let authorized = [("Cookie", cookie.as_str())];
    let created = h.with_headers("POST", "/api/chats", &authorized, Some(json!({})));
    assert_eq!(created.status, 201);
    let uri = "/api/export?chat=c1&format=markdown";
    assert_eq!(h.with_headers("GET", uri, &[], None).status, 401);
    assert_eq!(h.with_headers("GET", uri, &authorized, None).status, 200);
    let file = h.with_headers("GET", "/api/export?chat=c1", &authorized, None);
    let file: Value = serde_json::from_slice(&file.body).unwrap();
    assert_eq!(
        h.with_headers("POST", "/api/import", &[], Some(file.clone()))
            .status,
        401
    );
    assert_eq!(
        h.with_headers("POST", "/api/import", &authorized, Some(file))
            .status,
        201
    );
}

#[test]
fn a_kill_at_any_write_of_an_import_leaves_it_whole_or_not_at_all() {
    use crate::port::fake::ALL_TEARS;
    // q1 a1 q2 a2 with q2 edited and answered: 6 messages, one fork.
    let source = |h: &mut Harness| {
        let chat = h.new_chat();
        for q in ["q1", "q2"] {
            h.say(&chat, q);
            reply(h, &chat, json!({}));
        }
        let shown = branch_ids(h, &chat);
        edit(h, &chat, &shown[2], "q2, better");
        reply(h, &chat, json!({}));
        chat
    };
    let mut clean = Harness::new();
    let chat = source(&mut clean);
    let file = clean.export_json(&chat);
    let shown = clean.messages(&chat);
    let writes = clean.host.writes.get();
    assert_eq!(import(&mut clean, &file).0, 201);
    let import_writes = clean.host.writes.get() - writes;
    assert!(import_writes > 6);

    for tear in ALL_TEARS {
        for k in 0..import_writes {
            let what = format!("import killed at its write {k} ({tear:?})");
            let mut h = Harness::new();
            let chat = source(&mut h);
            assert_eq!(h.export_json(&chat), file, "the same chat, the same file");
            h.host.crash_at(h.host.writes.get() + k, tear);
            let (status, _) = import(&mut h, &file);
            h.host.end_of_request();
            assert!(h.host.dead.get(), "{what}: the crash never happened");
            let acknowledged = status == 201 && !h.host.dead.get();

            let mut after = h;
            after.restart();
            let (_, list) = after.call("GET", "/api/chats", None);
            let ids: Vec<String> = list["chats"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect();
            assert!(ids.contains(&chat), "{what}: the source chat is gone");
            assert!(matches!(ids.len(), 1 | 2), "{what}: {ids:?}");
            if acknowledged {
                assert_eq!(ids.len(), 2, "{what}: an acknowledged import is missing");
            }
            // An import that is there is all there: the same chat under new ids.
            for id in ids.iter().filter(|id| **id != chat) {
                assert_eq!(
                    normalized(&after.export_json(id)),
                    normalized(&file),
                    "{what}"
                );
                assert_eq!(after.messages(id), shown, "{what}");
            }
            assert_eq!(after.messages(&chat), shown, "{what}");
            // Life goes on: the same file imports whole (even where the same messages were
            // torn), and a new chat takes an id no chat has.
            let (status, again) = import(&mut after, &file);
            assert_eq!(status, 201, "{what}: {again}");
            let again = again["id"].as_str().unwrap().to_string();
            assert!(!ids.contains(&again), "{what}: {again} handed out again");
            assert_eq!(
                normalized(&after.export_json(&again)),
                normalized(&file),
                "{what}"
            );
            assert_eq!(after.messages(&again), shown, "{what}");
            let created = after.new_chat();
            assert!(
                !ids.contains(&created),
                "{what}: {created} handed out again"
            );
        }
    }
}

/// An export is written byte for byte as the serde version wrote it (the text was
/// printed by that version from the same chat), and reads back as an import.
#[test]
fn exports_keep_their_json() {
    use crate::chats::tree::{Branch, Point, Tree};
    use crate::chats::{ChatId, Spent, Usage};
    let id = |c: char| MessageId::parse(&c.to_string().repeat(40)).unwrap();
    let chat = Chat {
        v: 2,
        id: ChatId::parse("c12").unwrap(),
        title: "A title".into(),
        titled: false,
        created_at: 1,
        updated_at: 2,
        head: Some(id('b')),
        message_count: 2,
        provider: "gemini".into(),
        model: "flash".into(),
        settings: Settings {
            system: None,
            temperature: Some(crate::decimal::dec("1.5")),
            max_tokens: None,
        },
        spent: Spent {
            input_tokens: 1,
            output_tokens: 2,
            cost: 3,
            unpriced: 0,
        },
        tree: Tree {
            points: vec![Point {
                at: None,
                n: 0,
                route: vec![],
                children: vec![Branch {
                    id: id('a'),
                    tip: id('b'),
                    tip_n: 2,
                }],
                selected: 0,
            }],
        },
        lineage: vec![],
        w: Default::default(),
        stored: None,
    };
    let question = Message {
        v: 3,
        chat: chat.id.clone(),
        parent: None,
        role: Role::User,
        content: "q\n".into(),
        created_at: 5,
        provider: None,
        model: None,
        usage: None,
        omitted: 0,
        window: vec![],
        before: None,
    };
    let answer = Message {
        parent: Some(id('a')),
        role: Role::Assistant,
        content: "a".into(),
        created_at: 6,
        provider: Some("gemini".into()),
        model: Some("flash".into()),
        usage: Some(Usage {
            input_tokens: 1,
            output_tokens: 2,
            cost: Some(3),
        }),
        omitted: 1,
        ..question.clone()
    };
    let bytes = json_export(&chat, vec![(id('a'), question), (id('b'), answer)]).unwrap();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        r#"{"format":"theater-chat/1","chat":{"id":"c12","title":"A title","titled":false,"created_at":1,"provider":"gemini","model":"flash","settings":{"temperature":1.5},"usage":{"input_tokens":1,"output_tokens":2,"cost":3,"unpriced":0}},"messages":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","role":"user","content":"q\n","created_at":5},{"id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","parent":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","role":"assistant","content":"a","created_at":6,"provider":"gemini","model":"flash","usage":{"input_tokens":1,"output_tokens":2,"cost":3},"omitted":1}],"tree":[{"n":0,"route":[],"children":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","tip":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","tip_n":2}],"selected":0}],"head":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}"#
    );
    let catalog = crate::catalog::Catalog::with_overlay(None).unwrap();
    let body = crate::json::Map::of(crate::json::parse(&bytes).unwrap()).unwrap();
    let import = read_import(body, &catalog).unwrap();
    assert_eq!((import.messages.len(), import.head), (2, Some(id('b'))));
    assert_eq!(
        import.chat.settings.temperature,
        Some(crate::decimal::dec("1.5"))
    );
}
