//! The durability promise, checked exhaustively over the fake host: a user's session of
//! creates, posts, replies, renames, settings changes, deletes, a regenerated reply, an
//! edited question, a version switch and a fork, with the server
//! killed at every single file write of every operation, each tear mode in turn, then
//! restarted. After each restart:
//! - every acknowledged operation is there, and the interrupted one is there whole or
//!   not at all;
//! - a new chat gets an id never seen before, and no chat was overwritten;
//! - every chat still takes messages;
//! - a torn record was reported in the start's log line.
//!
//! The actor runs with the copies it keeps in memory ([`Cached`]), as on Theater; a
//! restart starts without them.

use crate::actor::{handle_request, init};
use crate::port::cached::Cached;
use crate::port::fake::{FakeHost, ALL_TEARS};
use crate::port::{Host, HttpRequest};
use crate::state::ActorState;
use serde_json::{json, Value};

const INIT: &[u8] = br#"{"store_id":"t"}"#;

struct Op {
    method: &'static str,
    uri: &'static str,
    body: Value,
}

fn ops() -> Vec<Op> {
    let op = |method, uri, body| Op { method, uri, body };
    vec![
        op("POST", "/api/chats", json!({})),
        op(
            "POST",
            "/api/messages?chat=c1",
            json!({ "content": "hello" }),
        ),
        op("POST", "/api/reply?chat=c1", json!({})),
        op("POST", "/api/chats", json!({ "title": "Second" })),
        op("PATCH", "/api/chat?id=c2", json!({ "title": "Renamed" })),
        op(
            "POST",
            "/api/messages?chat=c2",
            json!({ "content": "in two" }),
        ),
        op(
            "PATCH",
            "/api/chat?id=c1",
            json!({ "provider": "openai", "model": "gpt-4o" }),
        ),
        op("DELETE", "/api/chat?id=c1", json!(null)),
        op("POST", "/api/chats", json!({})),
        op(
            "POST",
            "/api/messages?chat=c3",
            json!({ "content": "third" }),
        ),
        op(
            "POST",
            "/api/messages?chat=c2",
            json!({ "content": "more" }),
        ),
        // Branches: ids are looked up when the operation runs (see `resolve`).
        op("POST", "/api/reply?chat=c3", json!({})),
        op(
            "POST",
            "/api/reply?chat=c3",
            json!({ "regenerate": "$msg:c3:1" }),
        ),
        op(
            "POST",
            "/api/edit?chat=c2",
            json!({ "message": "$msg:c2:0", "content": "in two, edited" }),
        ),
        op(
            "POST",
            "/api/branch?chat=c2",
            json!({ "message": "$version:c2:0:0" }),
        ),
        op(
            "POST",
            "/api/fork?chat=c2",
            json!({ "message": "$msg:c2:1" }),
        ),
    ]
}

/// Turns `"$msg:CHAT:I"` (message I of the branch shown) and `"$version:CHAT:P:V"`
/// (version V of fork P) into the ids they name now.
fn resolve(host: &Cached<FakeHost>, state: &mut ActorState, body: &Value) -> Value {
    let mut body = body.clone();
    let Some(map) = body.as_object_mut() else {
        return body;
    };
    for value in map.values_mut() {
        let Some(text) = value.as_str().map(str::to_string) else {
            continue;
        };
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["$msg", chat, i] => {
                let (_, page) = call(
                    host,
                    state,
                    "GET",
                    &format!("/api/messages?chat={chat}&limit=200"),
                    &Value::Null,
                );
                *value = page["messages"][i.parse::<usize>().unwrap()]["id"].clone();
            }
            ["$version", chat, p, v] => {
                let (_, view) = call(
                    host,
                    state,
                    "GET",
                    &format!("/api/chat?id={chat}"),
                    &Value::Null,
                );
                *value = view["tree"][p.parse::<usize>().unwrap()]["children"]
                    [v.parse::<usize>().unwrap()]["id"]
                    .clone();
            }
            _ => {}
        }
    }
    body
}

fn call(
    host: &Cached<FakeHost>,
    state: &mut ActorState,
    method: &str,
    uri: &str,
    body: &Value,
) -> (u16, Value) {
    let mut headers = vec![("Host".to_string(), "127.0.0.1:8084".to_string())];
    let body = if body.is_null() {
        Vec::new()
    } else {
        headers.push(("Content-Type".to_string(), "application/json".to_string()));
        body.to_string().into_bytes()
    };
    let response = handle_request(
        host,
        state,
        HttpRequest {
            method: method.to_string(),
            uri: uri.to_string(),
            headers,
            body,
        },
    );
    let json = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, json)
}

/// Runs a mutating operation; the clock moves first, so every write has its own time.
fn run(host: &Cached<FakeHost>, state: &mut ActorState, op: &Op) -> (u16, Value) {
    let body = resolve(host, state, &op.body);
    host.advance(7);
    call(host, state, op.method, op.uri, &body)
}

/// Everything a user can see: the chat list and every message of every chat.
fn snapshot(host: &Cached<FakeHost>, state: &mut ActorState) -> Value {
    let (status, list) = call(host, state, "GET", "/api/chats", &Value::Null);
    assert_eq!(status, 200, "{list}");
    let mut all = Vec::new();
    for chat in list["chats"].as_array().unwrap() {
        let id = chat["id"].as_str().unwrap();
        let (status, page) = call(
            host,
            state,
            "GET",
            &format!("/api/messages?chat={id}&limit=200"),
            &Value::Null,
        );
        assert_eq!(status, 200, "{page}");
        all.push(json!({ "chat": chat, "messages": page["messages"] }));
    }
    Value::Array(all)
}

fn max_id(snapshot: &Value) -> u64 {
    snapshot
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["chat"]["id"].as_str().unwrap()[1..]
                .parse::<u64>()
                .unwrap()
        })
        .max()
        .unwrap_or(0)
}

/// Labels of listed records that a crash left torn (empty or a partial hash).
fn torn_live_labels(host: &FakeHost, live: &Value) -> Vec<String> {
    let mut names = vec!["chats.index".to_string()];
    for chat in live.as_array().unwrap() {
        names.push(format!("chat.{}", chat["chat"]["id"].as_str().unwrap()));
    }
    let labels = host.labels.borrow();
    let Some(labels) = labels.get("t") else {
        return Vec::new();
    };
    names
        .into_iter()
        .filter(|name| labels.get(name).is_some_and(|hash| hash.len() != 40))
        .collect()
}

#[test]
fn a_kill_at_any_write_loses_nothing_acknowledged() {
    let ops = ops();
    let mut cases = 0;
    for (i, op) in ops.iter().enumerate() {
        // The state before and after this operation, with no crash.
        let clean = Cached::new(FakeHost::new());
        let mut clean_state = init(&clean, Some(INIT), "actor-1").unwrap();
        // The highest chat id ever handed out before this operation.
        let mut handed_out = 0u64;
        for earlier in &ops[..i] {
            let (status, body) = run(&clean, &mut clean_state, earlier);
            assert!(
                status < 300,
                "{} {}: {status} {body}",
                earlier.method,
                earlier.uri
            );
            for id in [&body["id"], &body["chat"]["id"]] {
                if let Some(id) = id.as_str() {
                    handed_out = handed_out.max(id[1..].parse().unwrap());
                }
            }
        }
        let before = snapshot(&clean, &mut clean_state);
        let writes_before = clean.writes.get();
        let (status, _) = run(&clean, &mut clean_state, op);
        assert!(status < 300);
        let full = snapshot(&clean, &mut clean_state);
        let op_writes = clean.writes.get() - writes_before;
        assert!(op_writes > 0, "{} {} wrote nothing", op.method, op.uri);

        for tear in ALL_TEARS {
            for k in 0..op_writes {
                cases += 1;
                let what = format!(
                    "{} {} killed at its write {k} ({tear:?})",
                    op.method, op.uri
                );
                let host = Cached::new(FakeHost::new());
                let mut state = init(&host, Some(INIT), "actor-1").unwrap();
                for earlier in &ops[..i] {
                    run(&host, &mut state, earlier);
                }
                host.crash_at(host.writes.get() + k, tear);
                let (status, _) = run(&host, &mut state, op);
                host.end_of_request();
                let acknowledged = status < 300 && !host.dead.get();
                assert!(host.dead.get(), "{what}: the crash never happened");

                let after = Cached::new(host.restarted());
                after.logs.borrow_mut().clear();
                // The clock of the restarted host differs; compare what users see.
                let mut state = init(&after, Some(INIT), "actor-1").unwrap();
                let torn_before = torn_live_labels(&after, &full);
                let seen = snapshot(&after, &mut state);
                let store_lines: Vec<String> = after
                    .logs
                    .borrow()
                    .iter()
                    .filter(|l| l.starts_with("chat: store"))
                    .cloned()
                    .collect();
                assert_eq!(store_lines.len(), 1, "{what}: {store_lines:?}");
                if acknowledged {
                    assert_eq!(seen, full, "{what}: an acknowledged write is missing");
                } else {
                    assert!(
                        seen == before || seen == full,
                        "{what}: neither before nor after\nbefore {before}\nfull {full}\nseen {seen}"
                    );
                }
                let torn_listed: Vec<_> = torn_before
                    .iter()
                    .filter(|label| {
                        label.as_str() == "chats.index"
                            || seen.as_array().unwrap().iter().any(|c| {
                                format!("chat.{}", c["chat"]["id"].as_str().unwrap()) == **label
                            })
                    })
                    .collect();
                if !torn_listed.is_empty() {
                    assert!(
                        store_lines[0].contains("recovered"),
                        "{what}: {torn_listed:?} torn but the log says {store_lines:?}"
                    );
                }
                assert!(
                    torn_live_labels(&after, &seen).is_empty(),
                    "{what}: still torn after the start's repair"
                );

                // Life goes on: a fresh id, and every chat takes a message.
                after.advance(7);
                let (status, created) = call(&after, &mut state, "POST", "/api/chats", &json!({}));
                assert_eq!(status, 201, "{what}: {created}");
                let new_number: u64 = created["id"].as_str().unwrap()[1..].parse().unwrap();
                let mut taken = handed_out.max(max_id(&seen));
                if acknowledged {
                    taken = taken.max(max_id(&full));
                }
                assert!(
                    new_number > taken,
                    "{what}: id {new_number} handed out again"
                );
                let mut expected = seen.clone();
                for chat in seen.as_array().unwrap() {
                    let id = chat["chat"]["id"].as_str().unwrap();
                    after.advance(7);
                    let (status, body) = call(
                        &after,
                        &mut state,
                        "POST",
                        &format!("/api/messages?chat={id}"),
                        &json!({ "content": "after the crash" }),
                    );
                    assert_eq!(status, 201, "{what}: {body}");
                }
                let later = snapshot(&after, &mut state);
                for chat in expected.as_array_mut().unwrap() {
                    let id = chat["chat"]["id"].as_str().unwrap().to_string();
                    let now = later
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|c| c["chat"]["id"] == id.as_str())
                        .unwrap_or_else(|| panic!("{what}: {id} vanished"));
                    let old = chat["messages"].as_array().unwrap();
                    let new = now["messages"].as_array().unwrap();
                    assert_eq!(
                        &new[..old.len()],
                        &old[..],
                        "{what}: {id}'s history changed"
                    );
                    assert_eq!(new.len(), old.len() + 1);
                }
            }
        }
    }
    assert!(cases > 100, "only {cases} crash points");
}

#[test]
fn posting_costs_the_same_calls_and_bytes_at_any_history_length() {
    let host = Cached::new(FakeHost::new());
    let mut state = init(&host, Some(INIT), "actor-1").unwrap();
    call(&host, &mut state, "POST", "/api/chats", &json!({}));
    let mut costs = Vec::new();
    for n in 0..1_000u32 {
        let calls = host.calls.get();
        let bytes = host.bytes_written.get();
        host.advance(1);
        let (status, _) = call(
            &host,
            &mut state,
            "POST",
            "/api/messages?chat=c1",
            &json!({ "content": "same length text" }),
        );
        assert_eq!(status, 201);
        if n == 100 || n == 999 {
            costs.push((host.calls.get() - calls, host.bytes_written.get() - bytes));
        }
    }
    assert_eq!(costs[0].0, costs[1].0, "host calls per post: {costs:?}");
    // The chat record and the parent (for its window) are in the actor's memory: they
    // were just written. Read the record back once (1: its file may still be in flight
    // when the backup label moves to it), store the message, move the record's two
    // labels (2).
    assert_eq!(costs[0].0, 4, "host calls per post: {costs:?}");
    // Past the first window's worth, counters and times may gain a digit, nothing more.
    assert!(costs[1].1 <= costs[0].1 + 8, "bytes per post: {costs:?}");
    let _ = host.now_ms();
}
