//! The actor as a browser or curl sees it, over the fake host.

use super::*;
use crate::port::fake::FakeHost;
use crate::providers::OPENAI_API_KEY;
use serde_json::{json, Value};

const KEY: &str = "sk-secret-abcdef123456";

use crate::test_support::Harness;

#[test]
fn init_serves_every_route_and_the_socket_on_the_configured_port() {
    let h = Harness::new();
    let served = h.host.served.borrow();
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].port, 8084);
    assert_eq!(served[0].host, "127.0.0.1");
    assert!(served[0].routes.contains(&("*", "/api/reply")));
    assert!(served[0].routes.contains(&("*", "/")));
    assert_eq!(served[0].websocket_path, "/ws");
    assert_eq!(h.state.port, 8084);
    assert!(h
        .host
        .logs
        .borrow()
        .iter()
        .any(|l| l.contains("listening on http://127.0.0.1:8084/")));
}

#[test]
fn init_refuses_a_bad_config_with_a_clear_error() {
    let host = FakeHost::new();
    let error = init(&host, Some(br#"{"store_id":"../x"}"#), "actor-1").unwrap_err();
    assert!(error.to_string().contains("store_id"), "{error}");
    assert!(host.served.borrow().is_empty());
}

#[test]
fn the_page_is_served_with_a_strict_content_security_policy() {
    let mut h = Harness::new();
    let response = h.raw("GET", "/", None);
    assert_eq!(response.status, 200);
    assert!(String::from_utf8_lossy(&response.body).contains("<html"));
    let csp = response.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
}

/// The list shows a first message's words, not the Markdown around them; the message
/// itself keeps every character.
#[test]
fn a_chat_is_named_by_its_first_line_of_text_without_markdown() {
    let mut h = Harness::new();
    for (content, title) in [
        ("## **Plan** for `main`\nsteps follow", "Plan for main"),
        ("\n\n  > Quoted __idea__  \nmore", "Quoted idea"),
        ("- buy milk\n- buy eggs", "buy milk"),
        ("```rust\nfn main() {}\n```", "fn main() {}"),
        ("2*3 = 6, #1 choice", "2*3 = 6, #1 choice"),
        ("#1 priority", "#1 priority"),
        ("> ### Nested heading", "Nested heading"),
        ("```\n```", "```"),
    ] {
        let chat = h.new_chat();
        let (status, posted) = h.say(&chat, content);
        assert_eq!(status, 201, "{posted}");
        assert_eq!(posted["chat"]["title"], title, "{content:?}");
        assert_eq!(posted["message"]["content"], content);
        assert_eq!(
            h.call("GET", "/api/chats", None).1["chats"][0]["title"],
            title
        );
    }
}

#[test]
fn a_conversation_with_the_demo_model() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    let (status, posted) = h.say(&chat, "Hello there");
    assert_eq!(status, 201, "{posted}");
    assert_eq!(posted["chat"]["title"], "Hello there");
    let (status, reply) = h.call("POST", &format!("/api/reply?chat={chat}"), Some(json!({})));
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["generation"]["status"], "done", "{reply}");
    assert_eq!(reply["message"]["role"], "assistant");
    assert_eq!(reply["message"]["provider"], "demo");
    assert_eq!(reply["message"]["parent"], posted["message"]["id"]);
    assert!(reply["message"]["content"]
        .as_str()
        .unwrap()
        .contains("\"Hello there\" (2 words)"));
    assert_eq!(reply["chat"]["message_count"], 2);
    assert_eq!(reply["chat"]["head"], reply["message"]["id"]);
    let roles: Vec<_> = h
        .messages(&chat)
        .into_iter()
        .map(|(role, _)| role)
        .collect();
    assert_eq!(roles, ["user", "assistant"]);
}

#[test]
fn a_reply_needs_a_user_message_to_answer() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    let (status, error) = h.call("POST", &format!("/api/reply?chat={chat}"), None);
    assert_eq!(status, 409);
    assert_eq!(error["error"]["code"], "nothing_to_answer");
    h.say(&chat, "hi");
    assert_eq!(
        h.call("POST", &format!("/api/reply?chat={chat}"), None).0,
        202
    );
    assert_eq!(
        h.call("POST", &format!("/api/reply?chat={chat}"), None).0,
        409
    );
}

#[test]
fn rename_and_delete() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    let (status, renamed) = h.call(
        "PATCH",
        &format!("/api/chat?id={chat}"),
        Some(json!({ "title": "  Trip\nplans " })),
    );
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["title"], "Trip plans");
    // A renamed chat keeps its name when the first message arrives.
    h.say(&chat, "first");
    assert_eq!(
        h.call("GET", &format!("/api/chat?id={chat}"), None).1["title"],
        "Trip plans"
    );

    assert_eq!(
        h.call("DELETE", &format!("/api/chat?id={chat}"), None).0,
        204
    );
    assert_eq!(h.call("GET", &format!("/api/chat?id={chat}"), None).0, 404);
    assert_eq!(
        h.call("DELETE", &format!("/api/chat?id={chat}"), None).0,
        404
    );
    assert_eq!(h.say(&chat, "hello?").0, 404);
    assert_eq!(h.call("GET", "/api/chats", None).1["chats"], json!([]));
}

#[test]
fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    h.say(&chat, "keep me");
    let before = h.host.labels.borrow().clone();
    let long = "x".repeat(crate::api::MAX_MESSAGE_CHARS + 1);
    let cases: Vec<(&str, String, Option<Value>, u16)> = vec![
        ("GET", "/api/chat".into(), None, 400),
        ("GET", "/api/chat?id=nope".into(), None, 404),
        ("GET", "/api/chat?id=c999".into(), None, 404),
        (
            "PATCH",
            format!("/api/chat?id={chat}"),
            Some(json!({})),
            400,
        ),
        (
            "PATCH",
            format!("/api/chat?id={chat}"),
            Some(json!({ "title": "" })),
            400,
        ),
        (
            "PATCH",
            format!("/api/chat?id={chat}"),
            Some(json!({ "title": 7 })),
            400,
        ),
        (
            "PATCH",
            format!("/api/chat?id={chat}"),
            Some(json!({ "provider": "nope" })),
            400,
        ),
        (
            "PATCH",
            format!("/api/chat?id={chat}"),
            Some(json!({ "provider": "demo", "model": "gpt-4o" })),
            400,
        ),
        (
            "POST",
            "/api/chats".into(),
            Some(json!({ "title": "t".repeat(201) })),
            400,
        ),
        ("POST", "/api/chats".into(), Some(json!([1, 2])), 400),
        (
            "POST",
            format!("/api/messages?chat={chat}"),
            Some(json!({})),
            400,
        ),
        (
            "POST",
            format!("/api/messages?chat={chat}"),
            Some(json!({ "content": "   " })),
            400,
        ),
        (
            "POST",
            format!("/api/messages?chat={chat}"),
            Some(json!({ "content": long })),
            413,
        ),
        (
            "GET",
            format!("/api/messages?chat={chat}&limit=0"),
            None,
            400,
        ),
        (
            "GET",
            format!("/api/messages?chat={chat}&limit=x"),
            None,
            400,
        ),
        (
            "GET",
            format!("/api/messages?chat={chat}&before=zz"),
            None,
            400,
        ),
        (
            "GET",
            format!("/api/messages?chat={chat}&before={}", "a".repeat(40)),
            None,
            404,
        ),
        ("GET", "/api/nothing".into(), None, 404),
    ];
    for (method, uri, body, expected) in cases {
        let (status, error) = h.call(method, &uri, body.clone());
        assert_eq!(status, expected, "{method} {uri} {body:?} -> {error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{method} {uri}: no message in {error}"
        );
    }
    assert_eq!(*h.host.labels.borrow(), before);
    assert_eq!(
        h.messages(&chat),
        [("user".to_string(), "keep me".to_string())]
    );
}

#[test]
fn a_revisit_gets_the_page_files_as_304s_without_a_body() {
    let mut h = Harness::new();
    let gzip = ("Accept-Encoding", "gzip, deflate, br, zstd");
    for path in ["/", "/app.js", "/style.css"] {
        let first = h.with_headers("GET", path, &[gzip], None);
        assert_eq!(first.status, 200);
        let tag = first.header("etag").unwrap().to_string();
        assert!(tag.starts_with('"') && tag.ends_with("-gz\""), "{tag}");
        let again = h.with_headers("GET", path, &[gzip, ("If-None-Match", &tag)], None);
        assert_eq!((again.status, again.body.len()), (304, 0), "{path}");
        let stale = h.with_headers("GET", path, &[gzip, ("If-None-Match", "\"0000\"")], None);
        assert_eq!(stale.status, 200);
        assert_eq!(stale.body, first.body);
    }
    let tags: Vec<String> = ["/", "/app.js"]
        .iter()
        .map(|p| h.page_file(p).header("etag").unwrap().to_string())
        .collect();
    assert_ne!(tags[0], tags[1], "each file has its own tag");
}

#[test]
fn browsers_get_the_page_files_gzipped_and_other_clients_plain() {
    use crate::test_support::on_disk;
    let mut h = Harness::new();
    for (path, file) in [
        ("/", "assets/web/index.html"),
        ("/app.js", "assets/web/app.js"),
        ("/style.css", "assets/web/style.css"),
    ] {
        let accept = [("Accept-Encoding", "gzip, deflate, br, zstd")];
        // A weight above 0 still takes gzip.
        let weighed = h.with_headers("GET", path, &[("Accept-Encoding", "gzip;q=0.5")], None);
        assert_eq!(weighed.header("content-encoding"), Some("gzip"), "{path}");
        let gz = h.with_headers("GET", path, &accept, None);
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
        let unzipped = crate::test_support::gunzip(&gz.body);
        assert_eq!(unzipped, on_disk(file), "{path}");
        // Each encoding has its own tag; a revisit with it is a bodiless 304.
        let tag = gz.header("etag").unwrap().to_string();
        let mut revisit = accept.to_vec();
        revisit.push(("If-None-Match", &tag));
        let again = h.with_headers("GET", path, &revisit, None);
        assert_eq!((again.status, again.body.len()), (304, 0), "{path}");
    }
    // `curl http://127.0.0.1:8080/app.js` gets each file plain, with its own tag.
    for refusing in [
        None,
        Some("gzip;q=0"),
        Some("gzip; q=0.000, br"),
        Some("gzip;q=x"),
        Some("identity"),
    ] {
        let headers: Vec<(&str, &str)> = refusing
            .map(|v| ("Accept-Encoding", v))
            .into_iter()
            .collect();
        for (path, file) in [
            ("/", "assets/web/index.html"),
            ("/app.js", "assets/web/app.js"),
        ] {
            let plain = h.with_headers("GET", path, &headers, None);
            assert_eq!(plain.status, 200, "{path} {refusing:?}");
            assert_eq!(plain.header("content-encoding"), None);
            assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
            assert_eq!(plain.body, on_disk(file));
            let tag = plain.header("etag").unwrap().to_string();
            assert_ne!(Some(tag.as_str()), h.page_file(path).header("etag"));
            let mut revisit = headers.clone();
            revisit.push(("If-None-Match", &tag));
            let again = h.with_headers("GET", path, &revisit, None);
            assert_eq!((again.status, again.body.len()), (304, 0), "{path}");
        }
    }
}

#[test]
fn a_method_a_path_does_not_take_is_a_json_405_with_allow() {
    let mut h = Harness::new();
    for method in ["PUT", "FOO", "DELETE"] {
        let response = h.raw(method, "/api/chats", None);
        assert_eq!(response.status, 405, "{method}");
        assert_eq!(response.header("allow"), Some("GET, POST, HEAD"));
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
    let response = h.raw("POST", "/api/health", None);
    assert_eq!(
        (response.status, response.header("allow")),
        (405, Some("GET, HEAD"))
    );
    let head = h.raw("HEAD", "/", None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(h.raw("GET", "/api/nothing", None).status, 404);
}

#[test]
fn cross_site_requests_are_refused() {
    let mut h = Harness::new();
    let request = HttpRequest {
        method: "POST".into(),
        uri: "/api/chats".into(),
        headers: vec![
            ("Host".into(), "127.0.0.1:8084".into()),
            ("Origin".into(), "https://evil.example".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: b"{}".to_vec(),
    };
    assert_eq!(handle_request(&h.host, &mut h.state, request).status, 403);
    assert_eq!(h.call("GET", "/api/chats", None).1["chats"], json!([]));
}

#[test]
fn a_failing_store_is_a_500_and_nothing_half_written_shows() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    h.host.fail_writes.set(true);
    let (status, error) = h.say(&chat, "lost?");
    assert_eq!(status, 500);
    assert_eq!(error["error"]["code"], "storage_failed");
    h.host.fail_writes.set(false);
    assert!(h.messages(&chat).is_empty());
    assert_eq!(h.say(&chat, "now").0, 201);
}

#[test]
fn open_pages_hear_about_changes_and_dead_sockets_are_dropped() {
    let mut h = Harness::new();
    socket_opened(&h.host, &mut h.state, 1, None);
    socket_opened(&h.host, &mut h.state, 2, None);
    h.host.ws_gone.borrow_mut().push(2);
    let chat = h.new_chat();
    let sent = h.host.ws_sent.borrow().clone();
    assert_eq!(
        sent,
        vec![(1, format!(r#"{{"type":"changed","chat":"{chat}"}}"#))]
    );
    assert_eq!(h.state.sockets, vec![1]);
    socket_closed(&mut h.state, 1);
    assert!(h.state.sockets.is_empty());
    assert_eq!(socket_message(r#"{"type":"ping"}"#), r#"{"type":"pong"}"#);
    assert!(socket_message("hello").contains("error"));
}

#[test]
fn state_stays_small_however_long_the_history() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    let start = h.state.encode().len();
    for n in 0..100 {
        h.say(&chat, &format!("message {n}"));
        h.call("POST", &format!("/api/reply?chat={chat}"), None);
    }
    // Only the generation counter may gain digits.
    assert!(
        h.state.encode().len() <= start + 4,
        "{} vs {start}",
        h.state.encode().len()
    );
    assert!(start < 512, "state is {start} bytes");
}

#[test]
fn long_histories_page_back_to_the_first_message() {
    let mut h = Harness::new();
    let chat = h.new_chat();
    for n in 0..120 {
        h.say(&chat, &format!("m{n}"));
    }
    let calls = h.host.calls.get();
    h.call("GET", &format!("/api/messages?chat={chat}"), None);
    // The chat's record (the state names its current version) and the head's object
    // are both in the actor's memory: they were just written.
    assert_eq!(h.host.calls.get() - calls, 0);
    // After a restart: only the record's label. The start's check of the store read
    // the record and the head's object, which holds the page.
    h.restart();
    let calls = h.host.calls.get();
    let (_, first) = h.call("GET", &format!("/api/messages?chat={chat}"), None);
    assert_eq!(h.host.calls.get() - calls, 1);
    let page = first["messages"].as_array().unwrap();
    assert_eq!(page.len(), 32);
    assert_eq!(page[31]["content"], "m119");
    assert_eq!(first["has_more"], true);
    let mut seen = page.len();
    let mut oldest = page[0]["id"].as_str().unwrap().to_string();
    loop {
        let calls = h.host.calls.get();
        let (_, next) = h.call(
            "GET",
            &format!("/api/messages?chat={chat}&before={oldest}"),
            None,
        );
        // The object before the oldest shown (the record is in memory).
        assert_eq!(h.host.calls.get() - calls, 1);
        let page = next["messages"].as_array().unwrap();
        seen += page.len();
        if next["has_more"] == false {
            assert_eq!(page[0]["content"], "m0");
            break;
        }
        oldest = page[0]["id"].as_str().unwrap().to_string();
    }
    assert_eq!(seen, 120);
}

#[test]
fn providers_report_availability_without_revealing_keys() {
    let mut h = Harness::new();
    let (_, listed) = h.call("GET", "/api/providers", None);
    assert_eq!(
        listed["default"],
        json!({ "provider": "demo", "model": "demo-echo" })
    );
    assert_eq!(listed["providers"][1]["available"], false);
    h.host.set_env(OPENAI_API_KEY, KEY);
    let (_, listed) = h.call("GET", "/api/providers", None);
    assert_eq!(listed["providers"][1]["available"], true);
    assert!(!listed.to_string().contains(KEY));
}
