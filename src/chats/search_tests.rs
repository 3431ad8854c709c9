//! The scan over a fake store: what it finds, how snippets are cut, and what it costs.

use super::*;
use crate::chats::tests::new_chat;
use crate::chats::{ChatStore, NewChat, Role};
use crate::port::fake::FakeHost;
use std::collections::{BTreeSet, HashSet};

fn q(text: &str) -> Query {
    Query::new(text).unwrap()
}

fn titled(title: &str) -> NewChat {
    NewChat {
        title: Some(title.to_string()),
        ..new_chat()
    }
}

/// Appends messages to a chat, alternating user and assistant.
fn say(store: &ChatStore<'_, FakeHost>, chat: &ChatId, texts: &[String]) -> Vec<MessageId> {
    let mut record = store.get(chat).unwrap();
    let mut ids = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        let (id, _, next) = store.append(record, role, text.clone(), None).unwrap();
        record = next;
        ids.push(id);
    }
    ids
}

fn filler(n: usize, tag: &str) -> Vec<String> {
    (0..n)
        .map(|i| format!("{tag} {i} nothing to see"))
        .collect()
}

/// Follows the cursors to the end; checks each call's cost on the way.
fn search_all(host: &FakeHost, store: &ChatStore<'_, FakeHost>, query: &Query) -> Vec<Outcome> {
    let mut pages = Vec::new();
    let mut from: Option<Cursor> = None;
    loop {
        let calls = host.calls.get();
        let out = search(store, query, from.as_ref(), &BUDGET).unwrap();
        let spent = host.calls.get() - calls;
        assert_eq!(
            spent as usize, out.reads,
            "planned reads are the store calls made"
        );
        assert!(out.reads <= BUDGET.reads, "{} reads", out.reads);
        assert!(out.scanned_chats <= BUDGET.chats);
        assert!(out.scanned_messages < BUDGET.messages + 33);
        // The cursor round-trips as text.
        let next = out
            .next
            .clone()
            .map(|cursor| Cursor::parse(&cursor.encode()).unwrap());
        assert_eq!(next, out.next);
        pages.push(out);
        match next {
            Some(cursor) => from = Some(cursor),
            None => return pages,
        }
        assert!(pages.len() < 1_000, "the cursors never end");
    }
}

#[test]
fn snippets_find_the_match_whatever_its_case() {
    let query = q("Needle");
    assert_eq!(
        query.snippet("a NEEDLE in a haystack").as_deref(),
        Some("a NEEDLE in a haystack")
    );
    assert_eq!(query.snippet("no match here"), None);
    assert!(query.matches("needles"));
    assert!(q("HAY").matches("haystack"));
    // Line breaks and tabs read as spaces, in the text and for matching.
    assert_eq!(
        q("two lines").snippet("two\nlines\tand a tab").as_deref(),
        Some("two lines and a tab")
    );
}

#[test]
fn unicode_text_is_matched_and_cut_on_characters() {
    assert!(q("ÉTÉ").matches("un été chaud"));
    assert!(q("straße").matches("STRAẞE"));
    // Final sigma and sigma are one letter.
    assert!(q("οδος").matches("ΟΔΟΣ"));
    assert!(q("ΟΔΟΣ").matches("η οδος"));
    assert!(q("дом").matches("ДОМ"));
    assert!(q("東京").matches("今日は東京へ"));
    // 'İ' lowercases to two characters; the snippet still holds the whole of it.
    let text = format!("{}İstanbul{}", "ç".repeat(150), "ü".repeat(150));
    let snippet = q("i̇stanbul").snippet(&text).unwrap();
    assert!(snippet.contains("İstanbul"), "{snippet}");
    assert!(snippet.chars().count() <= SNIPPET_CHARS);
    // Emoji and combining marks survive the cut whole (a String cannot hold half).
    let text = format!(
        "{} café 🎉 party {}",
        "👍🏽".repeat(100),
        "e\u{301}".repeat(100)
    );
    let snippet = q("CAFÉ 🎉").snippet(&text).unwrap();
    assert!(snippet.contains("café 🎉"), "{snippet}");
    assert!(snippet.chars().count() <= SNIPPET_CHARS);
}

#[test]
fn snippets_are_at_most_160_characters_around_the_match() {
    let word = "target";
    for before in [0usize, 1, 10, 70, 79, 80, 81, 150, 400, 5_000] {
        for after in [0usize, 1, 10, 80, 158, 400, 5_000] {
            let text = format!(
                "{}{word}{}",
                "lorem ipsum "
                    .repeat(before / 12 + 1)
                    .get(..before)
                    .unwrap(),
                " dolor sit".repeat(after / 10 + 1).get(..after).unwrap()
            );
            let snippet = q("TARGET").snippet(&text).unwrap();
            let length = snippet.chars().count();
            assert!(length <= SNIPPET_CHARS, "{before}/{after}: {length}");
            assert!(snippet.contains(word), "{before}/{after}: {snippet}");
            assert_eq!(
                snippet.starts_with('…'),
                !text.starts_with(snippet.trim_start_matches('…').trim_end_matches('…'))
            );
            if text.chars().count() > SNIPPET_CHARS {
                // Long text: the snippet is most of the room, not a sliver.
                assert!(
                    length >= SNIPPET_CHARS - 2 * 12 - 2,
                    "{before}/{after}: {snippet}"
                );
            } else {
                assert_eq!(snippet, text.trim());
            }
            let inner = snippet.trim_start_matches('…').trim_end_matches('…');
            assert!(text.contains(inner), "{before}/{after}: {snippet}");
        }
    }
    // A match longer than the room shows its start.
    let long = "x".repeat(300);
    let snippet = q(&"x".repeat(200))
        .snippet(&format!("aaa {long} bbb"))
        .unwrap();
    assert_eq!(snippet, format!("…{}…", "x".repeat(SNIPPET_CHARS - 2)));
}

#[test]
fn cursors_parse_only_what_they_write() {
    let id = MessageId::parse(&"ab".repeat(20)).unwrap();
    for cursor in [
        Cursor {
            below: 12,
            resume: None,
        },
        Cursor {
            below: 7,
            resume: Some(Resume { at: id, found: 2 }),
        },
    ] {
        assert_eq!(Cursor::parse(&cursor.encode()), Some(cursor));
    }
    let hex = "ab".repeat(20);
    for bad in [
        "",
        "0",
        "-1",
        "012",
        "1e3",
        "12.",
        "x",
        "99999999999999999999",
        &format!("12.{hex}"),
        &format!("12.{hex}.3"),
        &format!("12.{hex}.1.1"),
        &format!("12.{}.1", "AB".repeat(20)),
        &format!("12.{hex}.01"),
    ] {
        assert_eq!(Cursor::parse(bad), None, "{bad:?}");
    }
}

#[test]
fn titles_and_both_roles_match_newest_chat_first() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let plain = store.create(titled("Groceries")).unwrap();
    say(
        &store,
        &plain.id,
        &["buy milk".into(), "and the Zebra cake".into()],
    );
    let named = store.create(titled("Zebra facts")).unwrap();
    say(&store, &named.id, &["stripes?".into(), "yes".into()]);
    let asked = store.create(new_chat()).unwrap();
    let ids = say(
        &store,
        &asked.id,
        &[
            "Do you know zebras?".into(),
            "A ZEBRA is a horse with stripes.".into(),
        ],
    );
    store.create(titled("Nothing here")).unwrap();

    let out = search(&store, &q("zebra"), None, &BUDGET).unwrap();
    assert_eq!(out.next, None);
    assert_eq!(out.scanned_chats, 4);
    assert_eq!(out.scanned_messages, 6);
    let found: Vec<(&str, bool, usize)> = out
        .results
        .iter()
        .map(|f| (f.chat.as_str(), f.title_match, f.matches.len()))
        .collect();
    assert_eq!(found, [("c3", false, 2), ("c2", true, 0), ("c1", false, 1)]);
    let c3 = &out.results[0];
    // Newest message first.
    assert_eq!(c3.matches[0].message, ids[1]);
    assert_eq!(c3.matches[0].role, Role::Assistant);
    assert_eq!(c3.matches[0].snippet, "A ZEBRA is a horse with stripes.");
    assert_eq!(c3.matches[1].role, Role::User);
    assert_eq!(out.results[1].title, "Zebra facts");
}

#[test]
fn a_chat_stops_at_three_matches_and_deleted_chats_are_not_searched() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let gone = store.create(titled("needle, deleted")).unwrap();
    say(&store, &gone.id, &["needle".into()]);
    let busy = store.create(new_chat()).unwrap();
    let mut texts = filler(100, "old needle");
    texts.extend(filler(5, "new"));
    say(&store, &busy.id, &texts);
    store.delete(&gone.id).unwrap();
    let out = search(&store, &q("needle"), None, &BUDGET).unwrap();
    assert_eq!(out.results.len(), 1);
    let found = &out.results[0];
    assert_eq!(found.chat, busy.id);
    let snippets: Vec<&str> = found.matches.iter().map(|h| h.snippet.as_str()).collect();
    assert_eq!(
        snippets,
        [
            "old needle 99 nothing to see",
            "old needle 98 nothing to see",
            "old needle 97 nothing to see"
        ]
    );
    // Stopped early: the 5 newest messages and the 3 matches, nothing older.
    assert_eq!(out.scanned_messages, 8);
    assert_eq!(out.scanned_chats, 1);
}

#[test]
fn the_budget_cuts_long_branches_and_the_cursors_find_every_match_once() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    // 120 chats: some long (cut by the budget), some with long messages (one object
    // each, so the read limit comes first), some empty; at most 3 matching messages
    // each, at places of every kind.
    let mut expected = HashSet::new();
    let mut titles = BTreeSet::new();
    for n in 1..=120usize {
        let chat = store
            .create(titled(&if n % 7 == 0 {
                format!("Chat {n} about the Quarry")
            } else {
                format!("Chat {n}")
            }))
            .unwrap();
        if n % 7 == 0 {
            titles.insert(chat.id.clone());
        }
        let length = match (n % 40, n % 10) {
            (3, _) => 2_200,
            (_, 0) => 0,
            (_, 6) => 40,
            _ => n % 50,
        };
        let long = n % 10 == 6;
        let mut texts: Vec<String> = (0..length)
            .map(|i| {
                let text = format!("chat {n} message {i}");
                if long {
                    format!("{text} {}", "long ".repeat(1_300))
                } else {
                    text
                }
            })
            .collect();
        let wanted: Vec<usize> = match length {
            0 => vec![],
            2_200 => vec![0, 1_100, 2_199],
            l => vec![l / 2, l - 1],
        };
        for at in &wanted {
            if let Some(text) = texts.get_mut(*at) {
                text.push_str(" found the QUARRY here");
            }
        }
        let ids = say(&store, &chat.id, &texts);
        for at in wanted {
            expected.insert(ids[at].clone());
        }
    }
    store.delete(&ChatId::parse("c77").unwrap()).unwrap();
    expected.retain(|id| store.message(id).unwrap().chat.as_str() != "c77");
    titles.remove(&ChatId::parse("c77").unwrap());

    let pages = search_all(&host, &store, &q("quarry"));
    assert!(pages.len() > 3, "{} calls", pages.len());
    let mut seen = HashSet::new();
    let mut title_hits = BTreeSet::new();
    let mut order = Vec::new();
    for page in &pages {
        for found in &page.results {
            for hit in &found.matches {
                assert!(
                    seen.insert(hit.message.clone()),
                    "found twice: {}",
                    hit.message
                );
                assert!(hit.snippet.to_lowercase().contains("quarry"));
            }
            if found.title_match && !found.continued {
                assert!(title_hits.insert(found.chat.clone()));
            }
            if !found.continued {
                order.push(found.chat.number());
            }
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(title_hits, titles);
    // Long branches were cut and resumed; some calls ended on the read limit.
    assert!(pages
        .iter()
        .any(|page| page.results.iter().any(|found| found.continued)));
    assert!(pages.iter().any(|page| page.next.is_some()
        && page.scanned_chats < BUDGET.chats
        && page.scanned_messages < BUDGET.messages));
    // Newest chat first, across pages.
    assert!(order.windows(2).all(|w| w[0] > w[1]), "{order:?}");
}

#[test]
fn a_branch_cut_in_two_reports_three_matches_in_all() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let chat = store.create(new_chat()).unwrap();
    let mut texts = filler(3_000, "plain");
    for at in [10, 20, 30, 1_500, 2_990] {
        texts[at] = format!("lynx {at}");
    }
    say(&store, &chat.id, &texts);
    let pages = search_all(&host, &store, &q("LYNX"));
    let found: Vec<Vec<String>> = pages
        .iter()
        .map(|p| {
            p.results
                .iter()
                .flat_map(|f| f.matches.iter().map(|h| h.snippet.clone()))
                .collect()
        })
        .collect();
    // The first call reads 2,013 messages, back to message 987.
    assert_eq!(found[0], ["lynx 2990", "lynx 1500"]);
    // The third match ends the chat: "lynx 30"; the two older ones are not read.
    assert_eq!(found[1], ["lynx 30"]);
    assert_eq!(found.concat(), ["lynx 2990", "lynx 1500", "lynx 30"]);
    assert!(pages[1].results[0].continued);
    assert_eq!(pages.last().unwrap().next, None);
    let scanned: usize = pages.iter().map(|p| p.scanned_messages).sum();
    assert_eq!(scanned, 3_000 - 30);
}

#[test]
fn a_request_costs_the_same_reads_at_any_store_size() {
    // 10,000 messages in one chat, a word found nowhere: the request reads the budget
    // and stops.
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let chat = store.create(new_chat()).unwrap();
    say(&store, &chat.id, &filler(10_000, "filler"));
    let calls = host.calls.get();
    let out = search(&store, &q("absent"), None, &BUDGET).unwrap();
    let spent = host.calls.get() - calls;
    // Index, shard, record, then one object per 33 messages up to 2,000 messages.
    assert_eq!(out.scanned_messages, 2_013);
    assert_eq!(spent, 2 + 2 + 2 + 61);
    assert!(out.next.is_some());
    // Many small chats: the chat limit comes first.
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    for _ in 0..200 {
        let chat = store.create(new_chat()).unwrap();
        say(&store, &chat.id, &filler(2, "x"));
    }
    let calls = host.calls.get();
    let out = search(&store, &q("absent"), None, &BUDGET).unwrap();
    assert_eq!(out.scanned_chats, BUDGET.chats);
    assert_eq!(host.calls.get() - calls, 2 + 2 * 2 + 50 * 3);
    assert_eq!(
        out.next.as_ref().map(Cursor::encode).as_deref(),
        Some("151")
    );
    // Long messages (each in no window, one object each): the byte limit comes first.
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let chat = store.create(new_chat()).unwrap();
    say(&store, &chat.id, &vec!["long ".repeat(1_400); 500]);
    let calls = host.calls.get();
    let out = search(&store, &q("absent"), None, &BUDGET).unwrap();
    // 74 objects of 7,100 bytes pass 512 KiB.
    assert_eq!(out.scanned_messages, 74);
    assert_eq!(out.scanned_bytes, 74 * 7_100);
    assert_eq!(host.calls.get() - calls, 6 + 74);
    // One chat in each of 40 shards (the rest deleted): the read limit comes first,
    // at 5 reads per chat (its shard, its record, its one object).
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    for n in 1..=2_000u64 {
        let chat = store.create(new_chat()).unwrap();
        if n % 50 == 0 {
            say(&store, &chat.id, &["kept".to_string()]);
        } else {
            store.delete(&chat.id).unwrap();
        }
    }
    let calls = host.calls.get();
    let out = search(&store, &q("absent"), None, &BUDGET).unwrap();
    assert_eq!(host.calls.get() - calls, 2 + 31 * 5);
    assert_eq!(out.scanned_chats, 31);
    assert_eq!(
        out.next.as_ref().map(Cursor::encode).as_deref(),
        Some("500")
    );
}

#[test]
fn an_empty_store_and_empty_chats_cost_little() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let out = search(&store, &q("x"), None, &BUDGET).unwrap();
    assert_eq!(
        out,
        Outcome {
            reads: 2,
            ..Outcome::default()
        }
    );
    store.create(new_chat()).unwrap();
    let calls = host.calls.get();
    let out = search(&store, &q("x"), None, &BUDGET).unwrap();
    assert_eq!(host.calls.get() - calls, 2 + 2 + 2);
    assert_eq!(
        (out.scanned_chats, out.scanned_messages, out.next),
        (1, 0, None)
    );
}

#[test]
fn a_cursor_into_a_deleted_chat_goes_on_below_it() {
    let host = FakeHost::new();
    let store = ChatStore::new(&host, "s");
    let older = store.create(titled("otter")).unwrap();
    let long = store.create(new_chat()).unwrap();
    say(&store, &long.id, &filler(3_000, "otter"));
    let _ = older;
    let first = search(&store, &q("absent"), None, &BUDGET).unwrap();
    let cursor = first.next.unwrap();
    assert_eq!(cursor.below, 2);
    store.delete(&long.id).unwrap();
    let rest = search(&store, &q("otter"), Some(&cursor), &BUDGET).unwrap();
    let chats: Vec<&str> = rest.results.iter().map(|f| f.chat.as_str()).collect();
    assert_eq!(chats, ["c1"]);
    assert_eq!(rest.next, None);
}
