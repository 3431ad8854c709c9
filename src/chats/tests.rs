//! The chat store's own behaviour: ids, ordering, history pages, costs.

use super::*;
use crate::port::fake::FakeHost;

pub(super) fn new_chat() -> NewChat {
    NewChat {
        title: None,
        provider: "demo".into(),
        model: "demo-echo".into(),
        settings: Default::default(),
        fork: None,
    }
}

/// The ids on the newest page of the list, newest first.
pub(super) fn listed(store: &ChatStore<'_, FakeHost>) -> Vec<ChatId> {
    let page = store.list(None).unwrap();
    page.chats.into_iter().map(|c| c.id).collect()
}

#[test]
fn ids_parse_strictly() {
    assert!(ChatId::parse("c1").is_some());
    assert!(ChatId::parse("c0").is_none());
    assert!(ChatId::parse("c01").is_none());
    assert!(ChatId::parse("1").is_none());
    assert!(ChatId::parse("c1/../x").is_none());
    assert!(MessageId::parse(&"a".repeat(40)).is_some());
    assert!(MessageId::parse(&"A".repeat(40)).is_none());
    assert!(MessageId::parse(&"a".repeat(39)).is_none());
}

#[test]
fn ids_are_never_reused_after_delete() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let first = store.create(new_chat()).unwrap();
    let second = store.create(new_chat()).unwrap();
    store.delete(&second.id).unwrap();
    let third = store.create(new_chat()).unwrap();
    assert_eq!(
        [first.id.as_str(), second.id.as_str(), third.id.as_str()],
        ["c1", "c2", "c3"]
    );
    assert!(matches!(
        store.get(&second.id),
        Err(StoreError::ChatNotFound(_))
    ));
    let listed = listed(&store);
    assert_eq!(listed.len(), 2);
    assert!(!listed.contains(&second.id));
}

#[test]
fn the_list_is_newest_first_and_posting_does_not_reorder_it() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let old = store.create(new_chat()).unwrap();
    host.advance(10);
    let new = store.create(new_chat()).unwrap();
    host.advance(10);
    store
        .append(old.clone(), Role::User, "bump".into(), None)
        .unwrap();
    assert_eq!(listed(&store), vec![new.id, old.id]);
}

#[test]
fn listing_costs_the_same_at_1_50_and_500_chats_and_pages_reach_every_chat() {
    for total in [1u64, 50, 500] {
        let host = FakeHost::new();
        let store = ChatStore::new(&host, "s");
        for _ in 0..total {
            store.create(new_chat()).unwrap();
        }
        // Deleting some leaves holes, and an emptied shard, without costing more.
        if total == 500 {
            for n in 100..=149 {
                store
                    .delete(&ChatId::parse(&format!("c{n}")).unwrap())
                    .unwrap();
            }
            store.delete(&ChatId::parse("c499").unwrap()).unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let before = host.calls.get();
            let page = store.list(cursor).unwrap();
            assert_eq!(host.calls.get() - before, 4, "{total} chats");
            assert!(page.chats.len() as u64 <= list::SHARD_SIZE);
            seen.extend(page.chats.into_iter().map(|c| c.id.number()));
            match page.next {
                None => break,
                next => cursor = next,
            }
        }
        let expected: Vec<u64> = (1..=total)
            .rev()
            .filter(|n| total != 500 || !((100..=149).contains(n) || *n == 499))
            .collect();
        assert_eq!(seen, expected, "{total} chats");
    }
}

#[test]
fn renaming_relists_and_posting_writes_no_list() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let mut chat = store.create(new_chat()).unwrap();
    chat.title = "Renamed".into();
    let chat = store.update(chat).unwrap();
    store.relist(&chat).unwrap();
    assert_eq!(store.list(None).unwrap().chats[0].title, "Renamed");
    let writes = host.writes.get();
    store.relist(&chat).unwrap();
    assert_eq!(
        host.writes.get(),
        writes,
        "an unchanged entry is not written again"
    );
    let labels_before = host.labels.borrow()["s"].clone();
    store.append(chat, Role::User, "hi".into(), None).unwrap();
    let labels_after = host.labels.borrow()["s"].clone();
    for (label, hash) in &labels_after {
        if label.starts_with("chats.") {
            assert_eq!(Some(hash), labels_before.get(label), "{label} was written");
        }
    }
}

#[test]
fn history_pages_walk_back_from_the_head() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let mut chat = store.create(new_chat()).unwrap();
    for n in 0..7 {
        host.advance(1);
        chat = store
            .append(chat, Role::User, format!("m{n}"), None)
            .unwrap()
            .2;
    }
    assert_eq!(chat.message_count, 7);
    let latest = store.page(&chat, None, 3).unwrap();
    let texts: Vec<_> = latest
        .messages
        .iter()
        .map(|(_, m)| m.content.as_str())
        .collect();
    assert_eq!(texts, ["m4", "m5", "m6"]);
    assert!(latest.has_more);
    let oldest_shown = &latest.messages[0].0;
    let earlier = store.page(&chat, Some(oldest_shown), 10).unwrap();
    let texts: Vec<_> = earlier
        .messages
        .iter()
        .map(|(_, m)| m.content.as_str())
        .collect();
    assert_eq!(texts, ["m0", "m1", "m2", "m3"]);
    assert!(!earlier.has_more);
}

#[test]
fn appending_costs_the_same_however_long_the_history() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let mut chat = store.create(new_chat()).unwrap();
    let mut costs = Vec::new();
    for n in 0..50 {
        let before = host.calls.get();
        chat = store
            .append(chat, Role::User, format!("m{n}"), None)
            .unwrap()
            .2;
        costs.push(host.calls.get() - before);
    }
    // The first message has no parent to read; every later one reads its parent (for
    // the window), stores itself, and moves the record's two labels.
    assert_eq!(costs[0], 3, "{costs:?}");
    assert!(costs[1..].iter().all(|c| *c == 4), "{costs:?}");
}

#[test]
fn a_message_from_another_chat_is_not_an_anchor() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let a = store.create(new_chat()).unwrap();
    let b = store.create(new_chat()).unwrap();
    let (id, _, _) = store.append(a, Role::User, "hi".into(), None).unwrap();
    assert!(matches!(
        store.page(&b, Some(&id), 10),
        Err(StoreError::WrongChat { .. })
    ));
}

#[test]
fn same_text_twice_gives_two_messages() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let chat = store.create(new_chat()).unwrap();
    let (first, _, chat) = store
        .append(chat, Role::User, "again".into(), None)
        .unwrap();
    let (second, message, chat) = store
        .append(chat, Role::User, "again".into(), None)
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(message.parent, Some(first));
    assert_eq!(chat.message_count, 2);
}

fn texts(page: &Page) -> Vec<&str> {
    page.messages
        .iter()
        .map(|(_, m)| m.content.as_str())
        .collect()
}

fn chat_with(host: &FakeHost, n: usize) -> (ChatStore<'_, FakeHost>, Chat) {
    let store = ChatStore::new(host, "s");
    let mut chat = store.create(new_chat()).unwrap();
    for i in 0..n {
        chat = store
            .append(chat, Role::User, format!("m{i}"), None)
            .unwrap()
            .2;
    }
    (store, chat)
}

#[test]
fn any_page_is_one_store_call_however_long_the_history() {
    for n in [10, 200, 1_000] {
        let host = FakeHost::new();
        let (store, chat) = chat_with(&host, n);
        let before = host.calls.get();
        let newest = store.page(&chat, None, 30).unwrap();
        assert_eq!(host.calls.get() - before, 1, "newest page at {n}");
        assert_eq!(newest.messages.len(), 30.min(n));
        assert_eq!(
            newest.messages.last().unwrap().1.content,
            format!("m{}", n - 1)
        );
        // Walk back to the start: every page is one object, and nothing is skipped.
        let mut seen = newest.messages.len();
        let mut oldest = newest.messages[0].0.clone();
        let mut more = newest.has_more;
        while more {
            let before = host.calls.get();
            let page = store.page(&chat, Some(&oldest), 30).unwrap();
            assert_eq!(host.calls.get() - before, 1, "older page at {n}");
            assert_eq!(page.messages.last().unwrap().0, {
                let anchor = store.message(&oldest).unwrap();
                anchor.parent.unwrap()
            });
            seen += page.messages.len();
            oldest = page.messages[0].0.clone();
            more = page.has_more;
        }
        assert_eq!(seen, n);
        assert_eq!(store.message(&oldest).unwrap().content, "m0");
    }
}

#[test]
fn appending_reads_and_writes_a_bounded_number_of_bytes() {
    let host = FakeHost::new();
    let (store, mut chat) = chat_with(&host, 0);
    let mut written = Vec::new();
    for n in 0..300 {
        let before = host.bytes_written.get();
        chat = store
            .append(
                chat,
                Role::User,
                format!("message {n:04}: {}", "x".repeat(180)),
                None,
            )
            .unwrap()
            .2;
        written.push(host.bytes_written.get() - before);
    }
    // The window fills up over the first messages, then the cost stays flat.
    let settled = &written[100..];
    let (low, high) = (settled.iter().min().unwrap(), settled.iter().max().unwrap());
    assert!(high - low < 64, "{low}..{high}");
    assert!(*high < (history::WINDOW_BYTES + 4 * 1024) as u64, "{high}");
}

#[test]
fn a_long_message_makes_pages_shorter_never_wrong() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let mut chat = store.create(new_chat()).unwrap();
    let long = "y".repeat(history::WINDOW_BYTES + 1);
    for text in ["a", "b", long.as_str(), "c", "d"] {
        chat = store.append(chat, Role::User, text.into(), None).unwrap().2;
    }
    let mut all = Vec::new();
    let mut page = store.page(&chat, None, 50).unwrap();
    loop {
        let mut batch: Vec<String> = texts(&page).iter().map(|t| t.to_string()).collect();
        batch.append(&mut all);
        all = batch;
        if !page.has_more {
            break;
        }
        page = store
            .page(&chat, Some(&page.messages[0].0.clone()), 50)
            .unwrap();
    }
    assert_eq!(all, ["a", "b", long.as_str(), "c", "d"]);
}

#[test]
fn a_branch_copies_its_own_ancestors_and_rewrites_nothing() {
    let host = FakeHost::new();
    let (store, chat) = chat_with(&host, 5);
    let page = store.page(&chat, None, 50).unwrap();
    let fork_at = page.messages[2].0.clone(); // "m2"
    let objects = host.content.borrow()["s"].len();
    let mut branch = chat.clone();
    branch.head = Some(fork_at.clone());
    let (_, message, branch) = store
        .append(branch, Role::User, "other m3".into(), None)
        .unwrap();
    assert_eq!(message.parent, Some(fork_at));
    assert_eq!(
        host.content.borrow()["s"].len(),
        objects + 2,
        "one message, one record"
    );
    assert_eq!(
        texts(&store.page(&branch, None, 50).unwrap()),
        ["m0", "m1", "m2", "other m3"]
    );
    assert_eq!(
        texts(&store.page(&chat, None, 50).unwrap()),
        ["m0", "m1", "m2", "m3", "m4"]
    );
}

#[test]
fn messages_stored_before_windows_still_page() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let mut chat = store.create(new_chat()).unwrap();
    // Three messages as the previous version stored them: no window.
    for text in ["old0", "old1", "old2"] {
        let message = serde_json::json!({
            "v": 1, "chat": chat.id.as_str(), "parent": chat.head.as_ref().map(MessageId::as_str),
            "role": "user", "content": text, "created_at": 1
        });
        let hash = host
            .store_put("s", &serde_json::to_vec(&message).unwrap())
            .unwrap();
        chat.head = MessageId::parse(&hash);
    }
    chat = store.update(chat).unwrap();
    for text in ["new0", "new1"] {
        chat = store.append(chat, Role::User, text.into(), None).unwrap().2;
    }
    let page = store.page(&chat, None, 50).unwrap();
    assert_eq!(texts(&page), ["old0", "old1", "old2", "new0", "new1"]);
    assert!(!page.has_more);
}

#[test]
fn a_message_still_being_written_when_the_next_one_comes_is_read_again() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let chat = store.create(new_chat()).unwrap();
    let (first, _, chat) = store
        .append(chat, Role::User, "x".repeat(3_000), None)
        .unwrap();
    // The bench's failure: the next post read the previous message's object short.
    host.short_reads.set(5);
    let (_, second, chat) = store
        .append(chat, Role::Assistant, "answer".into(), None)
        .unwrap();
    assert_eq!(second.parent, Some(first.clone()));
    let page = store.page(&chat, None, 10).unwrap();
    assert_eq!(page.messages.len(), 2);
    assert_eq!(page.messages[0].0, first);
}
