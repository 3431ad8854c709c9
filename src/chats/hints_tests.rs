//! The hints in the actor state: one host call for the newest page of the list and for
//! the chat being used, and never a read that differs from what the store says.

use super::tests::new_chat;
use super::*;
use crate::port::fake::FakeHost;

/// The newest page as the store says it is, read without any hints.
fn truth(host: &FakeHost) -> list::ListPage {
    ChatStore::new(host, "s").list(None).unwrap()
}

fn id(n: u64) -> ChatId {
    ChatId::parse(&format!("c{n}")).unwrap()
}

#[test]
fn the_newest_page_costs_one_call_at_1_50_and_500_chats_once_cached() {
    for total in [1u64, 50, 500] {
        let host = FakeHost::new();
        let hints = hints::Hints::default();
        let store = ChatStore::with_hints(&host, "s", &hints);
        for _ in 0..total {
            store.create(new_chat()).unwrap();
        }
        for round in 0..3 {
            let (page, calls) = host.calls_during(|| store.list(None).unwrap());
            assert_eq!(page, truth(&host), "{total} chats");
            assert!(calls <= 4, "{total} chats: {calls} calls");
            if round > 0 {
                assert_eq!(calls, 1, "{total} chats, list {round}");
            }
        }
        // Older pages take the long way and leave the hints alone.
        if let Some(next) = store.list(None).unwrap().next {
            let (_, calls) = host.calls_during(|| store.list(Some(next)).unwrap());
            assert_eq!(calls, 4);
            assert_eq!(host.calls_during(|| store.list(None).unwrap()).1, 1);
        }
    }
}

#[test]
fn the_cached_page_follows_every_change_of_the_list() {
    let host = FakeHost::new();
    let hints = hints::Hints::default();
    let store = ChatStore::with_hints(&host, "s", &hints);
    let check = |what: &str| {
        assert_eq!(store.list(None).unwrap(), truth(&host), "after {what}");
        assert_eq!(
            store.list(None).unwrap(),
            truth(&host),
            "again after {what}"
        );
    };
    for _ in 0..49 {
        store.create(new_chat()).unwrap();
    }
    check("49 chats in the first shard");
    // c50 opens the second shard: the newest page is now it alone.
    store.create(new_chat()).unwrap();
    check("the chat that opens a shard");
    assert_eq!(store.list(None).unwrap().chats.len(), 1);
    let mut newest = store.get(&id(50)).unwrap();
    newest.title = "Renamed newest".into();
    let newest = store.update(newest).unwrap();
    store.relist(&newest).unwrap();
    check("renaming a chat on the newest page");
    assert_eq!(store.list(None).unwrap().chats[0].title, "Renamed newest");
    let mut older = store.get(&id(7)).unwrap();
    older.model = "demo-other".into();
    let older = store.update(older).unwrap();
    store.relist(&older).unwrap();
    check("changing the model of a chat on an older page");
    store.create(new_chat()).unwrap();
    check("a chat added to the newest page");
    store.delete(&id(51)).unwrap();
    check("deleting from the newest page");
    store.delete(&id(50)).unwrap();
    check("emptying the newest page");
    assert_eq!(store.list(None).unwrap().chats.len(), 49);
    store.create(new_chat()).unwrap();
    check("a chat after the newest page emptied");
    store
        .append(store.get(&id(52)).unwrap(), Role::User, "hi".into(), None)
        .unwrap();
    check("posting");
    for n in 1..=49 {
        store.delete(&id(n)).unwrap();
    }
    check("emptying every older page");
    assert_eq!(store.list(None).unwrap().next, None);
    store.delete(&id(52)).unwrap();
    check("deleting the last chat");
    assert!(store.list(None).unwrap().chats.is_empty());
}

#[test]
fn a_write_that_fails_forgets_the_cache_and_the_list_stays_true() {
    let host = FakeHost::new();
    let hints = hints::Hints::default();
    let store = ChatStore::with_hints(&host, "s", &hints);
    let chat = store.create(new_chat()).unwrap();
    store.list(None).unwrap();
    assert!(hints.list().is_some());
    let mut renamed = chat.clone();
    renamed.title = "Never acknowledged".into();
    host.fail_writes.set(true);
    assert!(store.relist(&renamed).is_err());
    host.fail_writes.set(false);
    assert!(
        hints.list().is_none(),
        "a failed write of the newest shard forgets it"
    );
    assert_eq!(store.list(None).unwrap(), truth(&host));
    assert_eq!(store.list(None).unwrap().chats[0].title, chat.title);
}

#[test]
fn a_cached_hash_that_does_not_read_back_sends_the_list_the_long_way() {
    let host = FakeHost::new();
    let hints = hints::Hints::default();
    let store = ChatStore::with_hints(&host, "s", &hints);
    store.create(new_chat()).unwrap();
    store.list(None).unwrap();
    hints.set_list(Some(hints::Newest {
        shard: 0,
        hash: "0".repeat(40),
        older: false,
    }));
    let (page, calls) = host.calls_during(|| store.list(None).unwrap());
    assert_eq!(page, truth(&host));
    assert_eq!(calls, 5, "the missing object, then the index and the shard");
    assert_eq!(host.calls_during(|| store.list(None).unwrap()).1, 1);
}

#[test]
fn the_chat_being_used_is_one_call_to_read_and_another_chat_two() {
    let host = FakeHost::new();
    let hints = hints::Hints::default();
    let store = ChatStore::with_hints(&host, "s", &hints);
    let used = store.create(new_chat()).unwrap();
    let other = store.create(new_chat()).unwrap();
    let (_, _, used) = store.append(used, Role::User, "hi".into(), None).unwrap();
    let (read, calls) = host.calls_during(|| store.get(&used.id).unwrap());
    assert_eq!((read, calls), (used.clone(), 1));
    // Another chat takes the long way, and is then the one named.
    let (read, calls) = host.calls_during(|| store.get(&other.id).unwrap());
    assert_eq!((read.id, calls), (other.id.clone(), 2));
    assert_eq!(host.calls_during(|| store.get(&other.id).unwrap()).1, 1);
    // Every version read through the hint is the one the store holds.
    let (_, _, used) = store
        .append(
            store.get(&used.id).unwrap(),
            Role::User,
            "again".into(),
            None,
        )
        .unwrap();
    assert_eq!(
        store.get(&used.id).unwrap(),
        ChatStore::new(&host, "s").get(&used.id).unwrap()
    );
    assert_eq!(used.message_count, 2);
}

#[test]
fn a_chat_write_that_fails_or_a_delete_forgets_its_version() {
    let host = FakeHost::new();
    let hints = hints::Hints::default();
    let store = ChatStore::with_hints(&host, "s", &hints);
    let chat = store.create(new_chat()).unwrap();
    assert!(hints.open().is_some());
    let mut renamed = chat.clone();
    renamed.title = "Never acknowledged".into();
    host.fail_writes.set(true);
    assert!(store.update(renamed).is_err());
    host.fail_writes.set(false);
    assert!(hints.open().is_none());
    let read = store.get(&chat.id).unwrap();
    assert_eq!(read, ChatStore::new(&host, "s").get(&chat.id).unwrap());
    assert_eq!(read.title, chat.title);
    assert!(hints.open().is_some(), "read the long way, and named again");
    store.delete(&chat.id).unwrap();
    assert!(hints.open().is_none());
    assert!(matches!(
        store.get(&chat.id),
        Err(StoreError::ChatNotFound(_))
    ));
}

#[test]
fn a_named_version_that_does_not_read_back_sends_the_read_the_long_way() {
    let host = FakeHost::new();
    let hints = hints::Hints::default();
    let store = ChatStore::with_hints(&host, "s", &hints);
    let chat = store.create(new_chat()).unwrap();
    let other = store.create(new_chat()).unwrap();
    // A hint naming another chat's record must not pass for this one.
    hints.set_open(Some(hints::Open {
        chat: chat.id.clone(),
        hash: other.stored.clone().unwrap(),
    }));
    assert_eq!(store.get(&chat.id).unwrap().id, chat.id);
    hints.set_open(Some(hints::Open {
        chat: chat.id.clone(),
        hash: "0".repeat(40),
    }));
    assert_eq!(store.get(&chat.id).unwrap(), chat);
}
