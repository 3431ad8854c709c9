//! `GET /api/search` as the page calls it, over the fake host.

use crate::chats::search::{BUDGET, SNIPPET_CHARS};
use crate::test_support::Harness;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn search(h: &mut Harness, query: &str) -> (u16, Value) {
    h.call("GET", &format!("/api/search?{query}"), None)
}

/// A chat named `title` holding `text`, answered by the demo model.
fn chat_with(h: &mut Harness, title: &str, text: &str) -> String {
    let (status, chat) = h.call("POST", "/api/chats", Some(json!({ "title": title })));
    assert_eq!(status, 201, "{chat}");
    let id = chat["id"].as_str().unwrap().to_string();
    assert_eq!(h.say(&id, text).0, 201);
    let (status, reply) = h.call("POST", &format!("/api/reply?chat={id}"), None);
    assert_eq!(status, 202, "{reply}");
    id
}

#[test]
fn titles_user_and_assistant_messages_are_found_in_any_case() {
    let mut h = Harness::new();
    let walrus = chat_with(&mut h, "Walrus trip", "Where do they live?");
    let asked = chat_with(&mut h, "Animals", "Tell me about the WALRUS please");
    chat_with(&mut h, "Other", "Nothing to see");

    let (status, found) = search(&mut h, "q=%20walrus%20");
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["scanned_chats"], 3);
    assert_eq!(found["scanned_messages"], 6);
    assert!(found.get("next").is_none(), "{found}");
    let results = found["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{found}");
    // Newest chat first; the demo reply repeats the question, so both roles match.
    let first = &results[0];
    assert_eq!(first["chat"], asked.as_str());
    assert_eq!(first["title"], "Animals");
    assert_eq!(first["title_match"], false);
    assert!(first["created_at"].as_u64().unwrap() > 0);
    let roles: Vec<&str> = first["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["assistant", "user"]);
    let user = &first["matches"][1];
    assert_eq!(user["snippet"], "Tell me about the WALRUS please");
    assert_eq!(user["message"].as_str().unwrap().len(), 40);
    assert_eq!(
        results[1],
        json!({ "chat": walrus, "title": "Walrus trip", "created_at": results[1]["created_at"],
                "title_match": true, "matches": [] })
    );

    // Only the assistant's words.
    let (_, found) = search(&mut h, "q=OFFLINE");
    let roles: BTreeSet<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["matches"].as_array().unwrap())
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, BTreeSet::from(["assistant"]));
    assert_eq!(found["results"].as_array().unwrap().len(), 3);
}

#[test]
fn unicode_queries_and_hostile_text_come_back_as_plain_text() {
    let mut h = Harness::new();
    let hostile = "<img src=x onerror=alert(1)> Été à Zürich";
    let id = chat_with(&mut h, "Voyage", hostile);
    // "ÉTÉ" percent-encoded, and "zürich" with a + for a space before it.
    let (status, found) = search(&mut h, "q=%C3%89T%C3%89+%C3%A0+Z%C3%9CRICH");
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["results"][0]["chat"], id.as_str());
    assert_eq!(found["results"][0]["matches"][1]["snippet"], hostile);
    let (_, found) = search(&mut h, "q=%3Cimg%20src%3Dx");
    assert_eq!(found["results"][0]["matches"][1]["snippet"], hostile);
}

#[test]
fn snippets_of_long_messages_are_cut_to_160_characters() {
    let mut h = Harness::new();
    let text = format!("{} the ✓ marker {}", "ä".repeat(500), "ö".repeat(500));
    chat_with(&mut h, "Long", &text);
    let (_, found) = search(&mut h, "q=MARKER");
    for hit in found["results"][0]["matches"].as_array().unwrap() {
        let snippet = hit["snippet"].as_str().unwrap();
        assert!(snippet.chars().count() <= SNIPPET_CHARS, "{snippet}");
        assert!(snippet.contains("the ✓ marker"), "{snippet}");
        assert!(snippet.starts_with('…'), "{snippet}");
    }
}

#[test]
fn bad_queries_get_a_400_that_says_why() {
    let mut h = Harness::new();
    chat_with(&mut h, "Some chat", "some text");
    let too_long = "a".repeat(201);
    let cases = [
        ("", "\"q\""),
        ("q=", "empty"),
        ("q=%20%20%20", "empty"),
        ("q=+", "empty"),
        (
            &format!("q={too_long}") as &str,
            "201 characters long; the most is 200",
        ),
        ("q=a%0Ab", "control characters"),
        ("q=a%09b", "control characters"),
        ("q=a%00", "control characters"),
        ("q=a%7F", "control characters"),
        ("q=a%C2%85b", "control characters"),
        ("q=%FF", "percent-encoded UTF-8"),
        ("q=a&before=", "before must be"),
        ("q=a&before=c3", "before must be"),
        ("q=a&before=-1", "before must be"),
        ("q=a&before=3.zz.1", "before must be"),
    ];
    for (query, says) in cases {
        let (status, error) = search(&mut h, query);
        assert_eq!(status, 400, "{query}: {error}");
        assert_eq!(error["error"]["code"], "bad_request");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{query}: {message}");
    }
    // 200 characters, and 200 multi-byte ones, are fine.
    assert_eq!(search(&mut h, &format!("q={}", "a".repeat(200))).0, 200);
    assert_eq!(
        search(&mut h, &format!("q={}", "%C3%A9".repeat(200))).0,
        200
    );
    // A cursor naming a message of another chat, or none, is refused too.
    let other = h.messages("c1");
    assert_eq!(other.len(), 2);
    let (_, page) = h.call("GET", "/api/messages?chat=c1", None);
    let message = page["messages"][0]["id"].as_str().unwrap().to_string();
    h.call("POST", "/api/chats", Some(json!({ "title": "Second" })));
    let (status, error) = search(&mut h, &format!("q=a&before=2.{message}.0"));
    assert_eq!(status, 400, "{error}");
    let (status, error) = search(&mut h, &format!("q=a&before=1.{}.0", "f".repeat(40)));
    assert_eq!(status, 400, "{error}");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("before must be"));
    // Only GET (and HEAD).
    let (status, _) = h.call("POST", "/api/search?q=a", Some(json!({})));
    assert_eq!(status, 405);
    assert_eq!(h.raw("HEAD", "/api/search?q=a", None).status, 200);
}

#[test]
fn more_results_come_page_by_page_within_the_budget() {
    let mut h = Harness::new();
    let mut made = BTreeSet::new();
    for n in 0..75 {
        let id = h.new_chat();
        let text = if n % 5 == 0 {
            "a Heron here"
        } else {
            "nothing"
        };
        assert_eq!(h.say(&id, text).0, 201);
        if n % 5 == 0 {
            made.insert(id);
        }
    }
    let mut seen = BTreeSet::new();
    let mut uri = "/api/search?q=heron".to_string();
    let mut calls_per_request = Vec::new();
    loop {
        // Counted with nothing in the actor's memory: what the budget bounds is reads.
        h.host.forget();
        let calls = h.host.calls.get();
        let (status, found) = h.call("GET", &uri, None);
        calls_per_request.push(h.host.calls.get() - calls);
        assert_eq!(status, 200, "{found}");
        for result in found["results"].as_array().unwrap() {
            assert!(seen.insert(result["chat"].as_str().unwrap().to_string()));
        }
        match found["next"].as_str() {
            Some(next) => uri = format!("/api/search?q=heron&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen, made);
    // 50 chats, then 25: the index, 2 shards and 3 reads per chat (2 for the newest,
    // whose version the state names); then 1 shard.
    assert_eq!(calls_per_request, [2 + 4 + 150 - 1, 2 + 2 + 75]);
    assert!(calls_per_request
        .iter()
        .all(|calls| *calls <= BUDGET.reads as u64));
}

#[test]
fn a_search_in_a_long_chat_reads_its_budget_and_stops() {
    let mut h = Harness::new();
    let id = h.new_chat();
    for i in 0..2_500 {
        assert_eq!(h.say(&id, &format!("message {i} of a long chat")).0, 201);
    }
    // Counted with nothing in the actor's memory: what the budget bounds is reads.
    h.host.forget();
    let calls = h.host.calls.get();
    let (status, found) = search(&mut h, "q=absent");
    let spent = h.host.calls.get() - calls;
    assert_eq!(status, 200);
    assert_eq!(found["scanned_messages"], 2_013);
    assert!(found["next"].is_string());
    // The index, the shard, the chat (named by the state), then 61 objects of 33
    // messages.
    assert_eq!(spent, 2 + 2 + 1 + 61);
    // A word in every message: three matches from the head's object, and done.
    h.host.forget();
    let calls = h.host.calls.get();
    let (_, found) = search(&mut h, "q=LONG+chat");
    assert_eq!(h.host.calls.get() - calls, 2 + 2 + 1 + 1);
    assert_eq!(found["results"][0]["matches"].as_array().unwrap().len(), 3);
    assert_eq!(
        found["results"][0]["matches"][0]["snippet"],
        "message 2499 of a long chat"
    );
    assert!(found.get("next").is_none());
}

#[test]
fn the_search_script_is_public_like_the_page() {
    let mut h = Harness::with_env(
        r#"{"store_id":"t","require_token":true}"#,
        &[("CHAT_ACCESS_TOKEN", "search-test-token-0123456789")],
    );
    let script = h.page_file("/search.js");
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(script.header("etag").is_some());
    assert!(String::from_utf8(script.body)
        .unwrap()
        .contains("/api/search"));
    assert_eq!(h.call("GET", "/api/search?q=a", None).0, 401);
    let page = String::from_utf8(h.raw("GET", "/", None).body).unwrap();
    let search_at = page.find("src=\"/search.js\"").unwrap();
    assert!(search_at < page.find("src=\"/app.js\"").unwrap());
}

#[test]
fn snippets_read_as_text_unless_the_query_is_in_the_marks() {
    let mut h = Harness::new();
    chat_with(
        &mut h,
        "Marks",
        "## Steps\n\nRead **the guide** at [the docs](https://example.com/guide)\n```sh\nmake all\n```",
    );
    let user_snippet = |found: &Value| {
        found["results"][0]["matches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["role"] == "user")
            .map(|m| m["snippet"].as_str().unwrap().to_string())
            .unwrap()
    };
    let (_, found) = search(&mut h, "q=guide");
    assert_eq!(
        user_snippet(&found),
        "Steps Read the guide at the docs make all"
    );
    // Someone looking for the marks finds them as typed.
    let (_, found) = search(&mut h, "q=**the");
    assert!(user_snippet(&found).contains("**the guide**"), "{found}");
}
