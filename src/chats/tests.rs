//! The chat store's own behaviour: ids, ordering, history pages, costs.

use super::*;
use crate::port::fake::FakeHost;

pub(super) fn new_chat() -> NewChat {
    NewChat {
        title: None,
        provider: "demo".into(),
        model: "demo-echo".into(),
    }
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
    let listed: Vec<_> = store.list().unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(listed.len(), 2);
    assert!(!listed.contains(&second.id));
}

#[test]
fn list_is_most_recently_updated_first() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let old = store.create(new_chat()).unwrap();
    host.advance(10);
    let new = store.create(new_chat()).unwrap();
    host.advance(10);
    store
        .append(old.clone(), Role::User, "bump".into(), None)
        .unwrap();
    let order: Vec<_> = store.list().unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(order, vec![old.id, new.id]);
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
    assert!(costs.iter().all(|c| *c == costs[0]), "{costs:?}");
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
