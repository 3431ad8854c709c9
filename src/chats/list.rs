//! The chat list, kept in shards so that a page of it is one record.
//!
//! Chat `cN` is listed in shard `N / SHARD_SIZE` (label pair `chats.sK`, a crash-safe
//! record, see [`crate::store`]), which holds a [`Summary`] of each of its live chats.
//! The shards are the truth about which chats exist; the index names the shards that
//! hold any. A page of the list is one shard, newest chats first, so listing costs the
//! index and one shard (four host calls) whatever the number of chats, and posting a
//! message never touches it: only creating, renaming, changing the model, the first
//! message's title and deleting do.
//!
//! The actor state keeps where the newest page is ([`super::hints`]): the newest shard,
//! its object's hash and whether older ones exist. [`super::ChatStore`] fills it when it
//! reads the list and keeps it true whenever it writes the index or that shard, so the
//! first page, which every page load and every change asks for, is one host call (none
//! in the running actor once the shard's object is among its copies in memory).
//!
//! The list is ordered by creation, newest first, so a chat never jumps while it is
//! used. A summary repeats the title, model and creation time of the chat's record,
//! which stays the authority: [`super::recover`] puts a summary that a crash left
//! behind its record right at the next start.

use super::{hints, read_error, Chat, ChatId, ChatStore, StoreError};
use crate::port::Host;
use crate::store::{Record, Stamp};

/// Chats per shard: a page of the list.
pub const SHARD_SIZE: u64 = 50;
const SHARD_PREFIX: &str = "chats.s";

/// What the list shows of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: ChatId,
    pub title: String,
    pub created_at: u64,
    pub provider: String,
    pub model: String,
}

impl Summary {
    pub fn of(chat: &Chat) -> Self {
        Self {
            id: chat.id.clone(),
            title: chat.title.clone(),
            created_at: chat.created_at,
            provider: chat.provider.clone(),
            model: chat.model.clone(),
        }
    }
}

/// The live chats of one shard, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shard {
    pub chats: Vec<Summary>,
    pub w: Stamp,
    pub stored: Option<String>,
}

impl Record for Shard {
    fn stamp(&self) -> Stamp {
        self.w
    }
    fn set_stamp(&mut self, stamp: Stamp) {
        self.w = stamp;
    }
}

impl Shard {
    /// Lists or relists a chat; true when that changed anything.
    pub fn put(&mut self, summary: Summary) -> bool {
        match self.chats.iter_mut().find(|s| s.id == summary.id) {
            Some(listed) if *listed == summary => false,
            Some(listed) => {
                *listed = summary;
                true
            }
            None => {
                let at = self
                    .chats
                    .iter()
                    .position(|s| s.id.number() < summary.id.number())
                    .unwrap_or(self.chats.len());
                self.chats.insert(at, summary);
                true
            }
        }
    }

    /// Unlists a chat; true when it was listed.
    pub fn remove(&mut self, id: &ChatId) -> bool {
        let before = self.chats.len();
        self.chats.retain(|s| &s.id != id);
        self.chats.len() != before
    }
}

pub fn shard_of(id: &ChatId) -> u64 {
    id.number() / SHARD_SIZE
}

pub fn shard_label(shard: u64) -> String {
    format!("{SHARD_PREFIX}{shard}")
}

/// The shard a label belongs to (its primary or its backup).
pub fn shard_of_label(label: &str) -> Option<u64> {
    let rest = label.strip_prefix(SHARD_PREFIX)?;
    let digits = rest
        .strip_suffix(crate::store::BACKUP_SUFFIX)
        .unwrap_or(rest);
    let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| digits.parse().ok()).flatten()
}

/// One page of the chat list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub chats: Vec<Summary>,
    /// The cursor of the next (older) page.
    pub next: Option<u64>,
}

/// Reading and writing the list's shards.
impl<H: Host> ChatStore<'_, H> {
    pub fn load_shard(&self, shard: u64) -> Result<Shard, StoreError> {
        let label = shard_label(shard);
        let loaded = self
            .records
            .read::<Shard>(&label)
            .map_err(read_error("chat list"))?;
        Ok(match loaded {
            None => Shard::default(),
            Some(loaded) => Shard {
                stored: Some(loaded.hash),
                ..loaded.value
            },
        })
    }

    pub fn save_shard(&self, shard: u64, value: &mut Shard) -> Result<(), StoreError> {
        let previous = value.stored.take();
        let written = self
            .records
            .write(&shard_label(shard), value, previous.as_deref());
        if let Some(cached) = self.list_hint().filter(|hint| hint.shard == shard) {
            self.set_list_hint(match &written {
                Ok(hash) => Some(hints::Newest {
                    hash: hash.clone(),
                    ..cached
                }),
                Err(_) => None,
            });
        }
        value.stored = Some(written?);
        Ok(())
    }

    /// A page of the chat list, newest first: the newest shard, or the newest one below
    /// `before` (a page's `next`). The newest page is one host call while the state's
    /// hint names it (see [`hints`]).
    pub fn list(&self, before: Option<u64>) -> Result<ListPage, StoreError> {
        if before.is_none() {
            if let Some(page) = self.list_hint().and_then(|newest| self.cached_page(newest)) {
                return Ok(page);
            }
        }
        let index = self.load_index()?;
        let mut older = index
            .shards
            .iter()
            .rev()
            .copied()
            .filter(|shard| before.is_none_or(|cursor| *shard < cursor));
        while let Some(shard) = older.next() {
            let page = self.load_shard(shard)?;
            // An emptied shard leaves the index right after; skip one a crash left.
            if !page.chats.is_empty() {
                let next = older.next().map(|_| shard);
                if before.is_none() {
                    self.set_list_hint(page.stored.clone().map(|hash| hints::Newest {
                        shard,
                        hash,
                        older: next.is_some(),
                    }));
                }
                return Ok(ListPage {
                    chats: page.chats,
                    next,
                });
            }
        }
        Ok(ListPage {
            chats: Vec::new(),
            next: None,
        })
    }

    /// The hinted newest shard, if its object reads back whole and lists a chat.
    fn cached_page(&self, newest: hints::Newest) -> Option<ListPage> {
        let shard: Shard =
            crate::store::read_object(self.host, self.store_id, &newest.hash).ok()?;
        (!shard.chats.is_empty()).then(|| ListPage {
            chats: shard.chats,
            next: newest.older.then_some(newest.shard),
        })
    }

    /// [`Self::relist`] after a write that must stand whatever happens to the list.
    pub fn relist_or_log(&self, chat: &Chat) {
        if let Err(error) = self.relist(chat) {
            self.host.log(&format!(
                "chat: the list entry of {} waits for the next start: {error}",
                chat.id
            ));
        }
    }

    /// Brings the chat's list entry up to date after its title or model changed.
    pub fn relist(&self, chat: &Chat) -> Result<(), StoreError> {
        let shard = shard_of(&chat.id);
        let mut listed = self.load_shard(shard)?;
        if listed.put(Summary::of(chat)) {
            self.save_shard(shard, &mut listed)?;
        }
        Ok(())
    }
}
