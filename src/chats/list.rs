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

use super::{Chat, ChatId};
use crate::store::{Record, Stamp};
use serde::{Deserialize, Serialize};

/// Chats per shard: a page of the list.
pub const SHARD_SIZE: u64 = 50;
const SHARD_PREFIX: &str = "chats.s";

/// What the list shows of a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Shard {
    pub chats: Vec<Summary>,
    #[serde(default)]
    pub w: Stamp,
    #[serde(skip)]
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
