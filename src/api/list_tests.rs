//! `GET /api/chats` as the sidebar sees it: no store call once the state knows where
//! the newest page is and the page is in the actor's memory, and every change on it at
//! once.

use crate::chats::ChatStore;
use crate::state::ActorState;
use crate::test_support::Harness;
use serde_json::json;

/// The sidebar's first page, its store calls, and the page the store itself holds.
fn list(h: &mut Harness) -> (Vec<String>, u64) {
    // The state crosses the runtime between calls as bytes, like on Theater.
    h.state = ActorState::decode(Some(&h.state.encode())).unwrap();
    let before = h.host.calls.get();
    let (status, page) = h.call("GET", "/api/chats", None);
    let calls = h.host.calls.get() - before;
    assert_eq!(status, 200, "{page}");
    let titles: Vec<String> = page["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap().to_string())
        .collect();
    let stored = ChatStore::new(&*h.host, "t").list(None).unwrap();
    let truth: Vec<String> = stored.chats.into_iter().map(|c| c.title).collect();
    assert_eq!(titles, truth, "the page is what the store holds");
    (titles, calls)
}

fn created(h: &mut Harness, title: &str) -> String {
    let (status, chat) = h.call("POST", "/api/chats", Some(json!({ "title": title })));
    assert_eq!(status, 201, "{chat}");
    chat["id"].as_str().unwrap().to_string()
}

#[test]
fn the_sidebar_costs_no_store_call_and_shows_every_change_at_once() {
    let mut h = Harness::new();
    let first = created(&mut h, "First");
    // The first list finds the newest page through the labels (2 calls: its objects
    // are in memory, they were just written); from then on the state names it.
    assert_eq!(list(&mut h), (vec!["First".to_string()], 2));
    assert_eq!(list(&mut h), (vec!["First".to_string()], 0));
    assert!(h.state.encode().len() < 400, "the state stays small");

    created(&mut h, "Second");
    assert_eq!(list(&mut h).0, ["Second", "First"]);
    assert_eq!(list(&mut h).1, 0);

    let (status, _) = h.call(
        "PATCH",
        &format!("/api/chat?id={first}"),
        Some(json!({ "title": "First, renamed" })),
    );
    assert_eq!(status, 200);
    assert_eq!(
        list(&mut h),
        (vec!["Second".into(), "First, renamed".into()], 0)
    );

    let (_, said) = h.say(&first, "a question");
    let (status, forked) = h.call(
        "POST",
        &format!("/api/fork?chat={first}"),
        Some(json!({ "message": said["message"]["id"] })),
    );
    assert_eq!(status, 201, "{forked}");
    let fork_title = forked["title"].as_str().unwrap().to_string();
    assert_eq!(list(&mut h).0.first(), Some(&fork_title));

    let file = h.export_json(&first);
    let (status, imported) = h.call("POST", "/api/import", Some(file));
    assert_eq!(status, 201, "{imported}");
    let imported_title = imported["title"].as_str().unwrap().to_string();
    assert_eq!(list(&mut h).0.first(), Some(&imported_title));

    assert_eq!(list(&mut h).0.len(), 4);
    let (status, _) = h.call("DELETE", &format!("/api/chat?id={first}"), None);
    assert!((200..300).contains(&status));
    let (titles, calls) = list(&mut h);
    assert_eq!((titles.len(), calls), (3, 0), "{titles:?}");

    // After a restart: the index's label and the shard's (the start's check of the
    // store read their objects), then nothing.
    h.restart();
    assert_eq!(list(&mut h), (titles.clone(), 2));
    assert_eq!(list(&mut h), (titles, 0));
}
