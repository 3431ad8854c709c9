//! Start-time repair: finds what a killed server left torn and puts the store back in a
//! consistent state before the first request is served.
//!
//! What it reconciles (see [`crate::store`] for why each case can happen):
//! - the index and the list's shards, each read from its backup when torn;
//! - a version-1 index, whose list of chats moves into shards (the migration);
//! - chat records on disk that no shard lists: newer than the index's `next_id`, they
//!   were created after the index version that survived and are listed again; older, a
//!   deletion was interrupted after the list dropped them, and it is finished;
//! - listed chats: a torn record, or one whose newest message is torn, is replaced by
//!   its previous version; one with no readable record (its creation was interrupted
//!   before the record landed) leaves the list; a summary behind its record (a rename
//!   interrupted between the two writes) is brought up to date.
//!
//! Cost: one `list-labels` call, two calls for the index and per shard, three per chat.

use super::{list, Chat, ChatId, ChatIndex, ChatStore, StoreError, INDEX_LABEL, INDEX_SCHEMA};
use crate::port::Host;
use crate::store::{backup_label, Loaded, ReadError, Records};

/// What recovery found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Chats listed after recovery.
    pub chats: usize,
    /// One entry per repair, in words a user can act on.
    pub repairs: Vec<String>,
}

impl Report {
    /// The log line for the start.
    pub fn summary(&self, store_id: &str) -> String {
        if self.repairs.is_empty() {
            format!(
                "chat: store {} holds {} chats",
                crate::json::quoted(store_id),
                self.chats
            )
        } else {
            format!(
                "chat: store {} holds {} chats; recovered from an interrupted write: {}",
                crate::json::quoted(store_id),
                self.chats,
                self.repairs.join("; ")
            )
        }
    }
}

enum Verdict {
    Fine,
    Repaired(String),
    Gone(String),
}

pub fn recover<H: Host>(host: &H, store_id: &str) -> Result<Report, StoreError> {
    let records = Records::new(host, store_id);
    let chats = ChatStore::new(host, store_id);
    let mut repairs = Vec::new();
    let labels = host.label_list(store_id)?;
    let on_disk = sorted(
        labels
            .iter()
            .filter_map(|label| ChatId::of_label(label))
            .map(|id| id.number())
            .collect(),
    );

    let mut index_changed = false;
    let mut index = match records.read::<ChatIndex>(INDEX_LABEL) {
        Ok(Some(loaded)) => {
            if loaded.from_backup {
                records.restore_primary(INDEX_LABEL, &loaded.hash)?;
                repairs.push("the chat list was torn; its previous version is back".to_string());
            }
            ChatIndex {
                stored: Some(loaded.hash),
                ..loaded.value
            }
        }
        Ok(None) if on_disk.is_empty() => {
            // Listed yet unreadable: an empty label file, the very first write torn.
            if labels.iter().any(|label| label == INDEX_LABEL) {
                records.remove(INDEX_LABEL)?;
                repairs.push(
                    "the chat list's first write was interrupted; it starts empty".to_string(),
                );
            }
            ChatIndex::empty()
        }
        Ok(None) => {
            repairs.push(format!(
                "the chat list was missing; rebuilt from {} chat records",
                on_disk.len()
            ));
            index_changed = true;
            ChatIndex::empty()
        }
        Err(ReadError::Torn(detail)) => {
            repairs.push(format!(
                "the chat list was unreadable ({detail}); rebuilt from the chat records"
            ));
            index_changed = true;
            ChatIndex::empty()
        }
        Err(ReadError::Host(error)) => return Err(error.into()),
    };
    let rebuilt = index_changed;

    // Every shard the index names or the disk holds.
    let mut shard_numbers = index.shards.clone();
    shard_numbers.extend(
        labels
            .iter()
            .filter_map(|label| list::shard_of_label(label)),
    );
    // Ascending by number, as they are read here (each number once).
    let mut shards: Vec<(u64, (list::Shard, bool))> = Vec::new();
    for number in sorted(shard_numbers) {
        let label = list::shard_label(number);
        let shard = match records.read::<list::Shard>(&label) {
            Ok(Some(loaded)) => {
                if loaded.from_backup {
                    records.restore_primary(&label, &loaded.hash)?;
                    repairs.push(format!(
                        "page {number} of the chat list was torn; its previous version is back"
                    ));
                }
                list::Shard {
                    stored: Some(loaded.hash),
                    ..loaded.value
                }
            }
            Ok(None) => list::Shard::default(),
            // Its first write, torn: it listed only the chat whose creation was cut.
            Err(ReadError::Torn(_)) => {
                shards.push((number, (list::Shard::default(), true)));
                continue;
            }
            Err(ReadError::Host(error)) => return Err(error.into()),
        };
        shards.push((number, (shard, false)));
    }
    let mut members = sorted(
        shards
            .iter()
            .flat_map(|(_, (shard, _))| shard.chats.iter().map(|s| s.id.number()))
            .collect(),
    );
    // Version 1 kept the live chats in the index: they move to shards (their summaries
    // are filled in below, from their records).
    if index.v < INDEX_SCHEMA {
        members.extend(index.chats.iter().map(ChatId::number));
        members = sorted(members);
        index.chats.clear();
        index_changed = true;
    }

    for &number in &on_disk {
        let id = ChatId::from_number(number);
        if number >= index.next_id {
            if let Err(at) = members.binary_search(&number) {
                members.insert(at, number);
            }
            index.next_id = number.saturating_add(1);
            index_changed = true;
            if !rebuilt {
                repairs.push(format!("chat {id} was missing from the list; listed again"));
            }
        } else if members.binary_search(&number).is_err() {
            records.remove(&id.label())?;
            repairs.push(format!("chat {id}: finished its interrupted deletion"));
        }
    }

    let mut live = 0;
    for number in members {
        let id = ChatId::from_number(number);
        // Always there: found, or just added.
        let Some((shard, changed)) = shard_slot(&mut shards, list::shard_of(&id)) else {
            continue;
        };
        // Removal takes the primary first: a backup alone is a deletion under way.
        let label = id.label();
        let verdict = if !labels.contains(&label) && labels.contains(&backup_label(&label)) {
            records.remove(&label)?;
            (
                Verdict::Gone(format!("chat {id}: finished its interrupted deletion")),
                None,
            )
        } else {
            check_chat(&records, &chats, &id)?
        };
        let (verdict, chat) = verdict;
        match verdict {
            Verdict::Fine => {}
            Verdict::Repaired(what) | Verdict::Gone(what) => repairs.push(what),
        }
        match chat {
            None => *changed |= shard.remove(&id),
            Some(chat) => {
                *changed |= shard.put(list::Summary::of(&chat));
                live += 1;
            }
        }
    }
    for (number, (shard, changed)) in &mut shards {
        if *changed {
            chats.save_shard(*number, shard)?;
        }
    }
    let nonempty: Vec<u64> = shards
        .iter()
        .filter(|(_, (shard, _))| !shard.chats.is_empty())
        .map(|(number, _)| *number)
        .collect();
    if nonempty != index.shards {
        index.shards = nonempty;
        index_changed = true;
    }
    if index_changed {
        chats.save_index(&mut index)?;
    }
    Ok(Report {
        chats: live,
        repairs,
    })
}

/// The numbers ascending, each once (sorted vectors stand in for ordered sets: a
/// `BTreeSet` is several kilobytes of code per element type).
fn sorted(mut numbers: Vec<u64>) -> Vec<u64> {
    crate::table::sort(&mut numbers);
    numbers.dedup();
    numbers
}

/// The shard with this number, added empty (and in order) if it is not there yet.
fn shard_slot(
    shards: &mut Vec<(u64, (list::Shard, bool))>,
    number: u64,
) -> Option<&mut (list::Shard, bool)> {
    let at = match shards.binary_search_by_key(&number, |(n, _)| *n) {
        Ok(at) => at,
        Err(at) => {
            shards.insert(at, (number, (list::Shard::default(), false)));
            at
        }
    };
    shards.get_mut(at).map(|(_, slot)| slot)
}

fn head_is_whole<H: Host>(chats: &ChatStore<'_, H>, chat: &Chat) -> bool {
    match &chat.head {
        None => true,
        Some(head) => chats.message(head).is_ok(),
    }
}

/// What to make of a listed chat, and its record as it stands after repair (none: it
/// is gone).
fn check_chat<H: Host>(
    records: &Records<'_, H>,
    chats: &ChatStore<'_, H>,
    id: &ChatId,
) -> Result<(Verdict, Option<Chat>), StoreError> {
    let label = id.label();
    let loaded: Loaded<Chat> = match records.read(&label) {
        Ok(Some(loaded)) => loaded,
        Ok(None) => {
            records.remove(&label)?;
            return Ok((
                Verdict::Gone(format!(
                    "chat {id} has no record (its creation or deletion was interrupted); unlisted"
                )),
                None,
            ));
        }
        Err(ReadError::Torn(detail)) => {
            return Ok((
                Verdict::Gone(format!(
                    "chat {id} has no readable record ({detail}); unlisted, its files kept"
                )),
                None,
            ))
        }
        Err(ReadError::Host(error)) => return Err(error.into()),
    };
    if head_is_whole(chats, &loaded.value) {
        if loaded.from_backup {
            records.restore_primary(&label, &loaded.hash)?;
            return Ok((
                Verdict::Repaired(format!(
                    "chat {id}: its record was torn; its previous version is back"
                )),
                Some(loaded.value),
            ));
        }
        return Ok((Verdict::Fine, Some(loaded.value)));
    }
    // The newest message's write was overtaken by the record's: go back one version.
    match records.read_backup::<Chat>(&label)? {
        Some(backup) if head_is_whole(chats, &backup.value) => {
            records.restore_primary(&label, &backup.hash)?;
            Ok((
                Verdict::Repaired(format!(
                    "chat {id}: its newest message was torn; the version before it is back"
                )),
                Some(backup.value),
            ))
        }
        _ => Ok((
            Verdict::Repaired(format!(
                "chat {id}: its newest message is unreadable and no earlier version is whole"
            )),
            Some(loaded.value),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chats::tests::new_chat;
    use crate::chats::Role;
    use crate::port::fake::FakeHost;

    #[test]
    fn a_clean_store_needs_no_repair_and_says_nothing_extra() {
        let host = FakeHost::new();
        let store = ChatStore::new(&host, "s");
        let chat = store.create(new_chat()).unwrap();
        store.append(chat, Role::User, "hi".into(), None).unwrap();
        store.create(new_chat()).unwrap();
        let report = recover(&host, "s").unwrap();
        assert_eq!(report.chats, 2);
        assert!(report.repairs.is_empty(), "{:?}", report.repairs);
        assert_eq!(report.summary("s"), "chat: store \"s\" holds 2 chats");
    }

    #[test]
    fn a_torn_page_of_the_list_is_put_back_and_said() {
        let host = FakeHost::new();
        let store = ChatStore::new(&host, "s");
        let first = store.create(new_chat()).unwrap();
        let mut renamed = store.create(new_chat()).unwrap();
        renamed.title = "Renamed".into();
        let renamed = store.update(renamed).unwrap();
        store.relist(&renamed).unwrap();
        // A kill emptied the shard's primary label; its backup names the version before.
        host.labels
            .borrow_mut()
            .get_mut("s")
            .unwrap()
            .insert(list::shard_label(0), String::new());
        let report = recover(&host, "s").unwrap();
        assert!(
            report
                .summary("s")
                .contains("page 0 of the chat list was torn; its previous version is back"),
            "{}",
            report.summary("s")
        );
        assert!(host.labels.borrow()["s"][&list::shard_label(0)].len() == 40);
        let listed = crate::chats::tests::listed(&store);
        assert_eq!(listed, [renamed.id, first.id]);
        assert_eq!(store.list(None).unwrap().chats[0].title, "Renamed");
    }

    #[test]
    fn recovery_costs_three_calls_per_chat_and_two_per_shard() {
        let host = FakeHost::new();
        let store = ChatStore::new(&host, "s");
        for _ in 0..10 {
            let chat = store.create(new_chat()).unwrap();
            store.append(chat, Role::User, "hi".into(), None).unwrap();
        }
        let before = host.calls.get();
        recover(&host, "s").unwrap();
        assert_eq!(host.calls.get() - before, 1 + 2 + 2 + 3 * 10);
    }

    #[test]
    fn a_store_whose_index_vanished_under_the_old_layout_gets_its_chats_back() {
        let host = FakeHost::new();
        let store = ChatStore::new(&host, "s");
        for _ in 0..3 {
            store.create(new_chat()).unwrap();
        }
        // The bug this layout fixes: the old index label emptied by a crash, no backup.
        host.labels
            .borrow_mut()
            .get_mut("s")
            .unwrap()
            .insert(INDEX_LABEL.into(), String::new());
        host.labels
            .borrow_mut()
            .get_mut("s")
            .unwrap()
            .remove("chats.index.b");
        let report = recover(&host, "s").unwrap();
        assert_eq!(report.chats, 3);
        let next = store.create(new_chat()).unwrap();
        assert_eq!(next.id.as_str(), "c4");
    }

    #[test]
    fn a_version_1_store_moves_its_chat_list_into_shards_at_start() {
        let host = FakeHost::new();
        let store = ChatStore::new(&host, "s");
        for _ in 0..3 {
            store.create(new_chat()).unwrap();
        }
        // As the previous version left it: the chats listed in the index, no shards.
        let v1 = br#"{"v":1,"next_id":4,"chats":["c1","c3"],"w":{"rev":9,"at":1}}"#;
        let hash = host.store_put("s", v1).unwrap();
        {
            let mut labels = host.labels.borrow_mut();
            let labels = labels.get_mut("s").unwrap();
            labels.retain(|label, _| !label.starts_with("chats."));
            labels.insert(INDEX_LABEL.into(), hash);
        }
        let report = recover(&host, "s").unwrap();
        assert_eq!(report.chats, 2);
        assert_eq!(
            crate::chats::tests::listed(&store),
            [ChatId::parse("c3").unwrap(), ChatId::parse("c1").unwrap()]
        );
        // c2 was not listed: the old version had deleted it, and its record goes now.
        assert!(store.get(&ChatId::parse("c2").unwrap()).is_err());
        assert_eq!(store.create(new_chat()).unwrap().id.as_str(), "c4");
        assert!(recover(&host, "s").unwrap().repairs.is_empty());
    }
}
