//! Start-time repair: finds what a killed server left torn and puts the store back in a
//! consistent state before the first request is served.
//!
//! What it reconciles (see [`crate::store`] for why each case can happen):
//! - the index, read from its backup when its primary is torn;
//! - chat records on disk that the index does not know: newer than its `next_id`, they
//!   were created after the index version that survived and are listed again; older, a
//!   deletion was interrupted after the index dropped them, and it is finished;
//! - listed chats: a torn record, or one whose newest message is torn, is replaced by
//!   its previous version; one with no readable record (its creation was interrupted
//!   before the record landed) leaves the index.
//!
//! Cost: one `list-labels` call, two calls for the index, three per chat.

use super::{Chat, ChatId, ChatIndex, ChatStore, StoreError, INDEX_LABEL};
use crate::port::Host;
use crate::store::{backup_label, Loaded, ReadError, Records};
use std::collections::BTreeSet;

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
            format!("chat: store {store_id:?} holds {} chats", self.chats)
        } else {
            format!(
                "chat: store {store_id:?} holds {} chats; recovered from an interrupted write: {}",
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
    let on_disk: BTreeSet<u64> = labels
        .iter()
        .filter_map(|label| ChatId::of_label(label))
        .map(|id| id.number())
        .collect();

    let mut changed = false;
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
            changed = true;
            ChatIndex::empty()
        }
        Err(ReadError::Torn(detail)) => {
            repairs.push(format!(
                "the chat list was unreadable ({detail}); rebuilt from the chat records"
            ));
            changed = true;
            ChatIndex::empty()
        }
        Err(ReadError::Host(error)) => return Err(error.into()),
    };

    // A rebuilt index lists every chat on disk: that is said once, not per chat.
    let rebuilt = changed;
    for &number in &on_disk {
        let id = ChatId::from_number(number);
        if number >= index.next_id {
            index.chats.push(id.clone());
            index.next_id = number.saturating_add(1);
            if !rebuilt {
                repairs.push(format!("chat {id} was missing from the list; listed again"));
            }
            changed = true;
        } else if !index.chats.contains(&id) {
            records.remove(&id.label())?;
            repairs.push(format!("chat {id}: finished its interrupted deletion"));
        }
    }

    let mut live = Vec::with_capacity(index.chats.len());
    for id in std::mem::take(&mut index.chats) {
        // Removal takes the primary first: a backup alone is a deletion under way.
        let label = id.label();
        if !labels.contains(&label) && labels.contains(&backup_label(&label)) {
            records.remove(&label)?;
            repairs.push(format!("chat {id}: finished its interrupted deletion"));
            changed = true;
            continue;
        }
        match check_chat(&records, &chats, &id)? {
            Verdict::Fine => live.push(id),
            Verdict::Repaired(what) => {
                repairs.push(what);
                live.push(id);
            }
            Verdict::Gone(what) => {
                repairs.push(what);
                changed = true;
            }
        }
    }
    index.chats = live;
    if changed {
        chats.save_index(&mut index)?;
    }
    Ok(Report {
        chats: index.chats.len(),
        repairs,
    })
}

fn head_is_whole<H: Host>(chats: &ChatStore<'_, H>, chat: &Chat) -> bool {
    match &chat.head {
        None => true,
        Some(head) => chats.message(head).is_ok(),
    }
}

fn check_chat<H: Host>(
    records: &Records<'_, H>,
    chats: &ChatStore<'_, H>,
    id: &ChatId,
) -> Result<Verdict, StoreError> {
    let label = id.label();
    let loaded: Loaded<Chat> = match records.read(&label) {
        Ok(Some(loaded)) => loaded,
        Ok(None) => {
            records.remove(&label)?;
            return Ok(Verdict::Gone(format!(
                "chat {id} has no record (its creation or deletion was interrupted); unlisted"
            )));
        }
        Err(ReadError::Torn(detail)) => {
            return Ok(Verdict::Gone(format!(
                "chat {id} has no readable record ({detail}); unlisted, its files kept"
            )))
        }
        Err(ReadError::Host(error)) => return Err(error.into()),
    };
    if head_is_whole(chats, &loaded.value) {
        if loaded.from_backup {
            records.restore_primary(&label, &loaded.hash)?;
            return Ok(Verdict::Repaired(format!(
                "chat {id}: its record was torn; its previous version is back"
            )));
        }
        return Ok(Verdict::Fine);
    }
    // The newest message's write was overtaken by the record's: go back one version.
    match records.read_backup::<Chat>(&label)? {
        Some(backup) if head_is_whole(chats, &backup.value) => {
            records.restore_primary(&label, &backup.hash)?;
            Ok(Verdict::Repaired(format!(
                "chat {id}: its newest message was torn; the version before it is back"
            )))
        }
        _ => Ok(Verdict::Repaired(format!(
            "chat {id}: its newest message is unreadable and no earlier version is whole"
        ))),
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
    fn recovery_costs_three_calls_per_chat() {
        let host = FakeHost::new();
        let store = ChatStore::new(&host, "s");
        for _ in 0..10 {
            let chat = store.create(new_chat()).unwrap();
            store.append(chat, Role::User, "hi".into(), None).unwrap();
        }
        let before = host.calls.get();
        recover(&host, "s").unwrap();
        assert_eq!(host.calls.get() - before, 1 + 2 + 3 * 10);
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
}
