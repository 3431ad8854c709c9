//! What the actor state remembers about the store, so the hot reads skip a label lookup:
//! where the newest page of the chat list is, and the current version of the chat last
//! read or written (the one being used). Both have a constant size.
//!
//! A hint is never taken on trust alone. [`super::ChatStore`] sets it from what it has
//! just read or written, keeps it true at every write of what it names, and forgets it
//! when such a write fails (it may or may not have landed); a hinted object that does
//! not read back as expected sends the read the long way. Only a `ChatStore` built from
//! the state ([`crate::state::ActorState::chats`]) writes with hints; start-up repairs,
//! the one writer without them, run before the state exists. A killed server takes the
//! state, and so the hints, with it.

use super::ChatId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::Cell;
use std::fmt;

/// Where the newest page of the chat list is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Newest {
    pub shard: u64,
    /// The hash of the shard's current version.
    pub hash: String,
    /// Whether the index names an older shard (the page has a `next`).
    pub older: bool,
}

/// The current version of one chat's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Open {
    pub chat: ChatId,
    pub hash: String,
}

/// The hints, behind `Cell`s so that every store borrowed from a shared state keeps
/// them true.
#[derive(Default)]
pub struct Hints {
    list: Cell<Option<Newest>>,
    open: Cell<Option<Open>>,
}

fn peek<T: Clone>(cell: &Cell<Option<T>>) -> Option<T> {
    let value = cell.take();
    cell.set(value.clone());
    value
}

impl Hints {
    pub fn list(&self) -> Option<Newest> {
        peek(&self.list)
    }

    pub fn set_list(&self, value: Option<Newest>) {
        self.list.set(value);
    }

    pub fn open(&self) -> Option<Open> {
        peek(&self.open)
    }

    pub fn set_open(&self, value: Option<Open>) {
        self.open.set(value);
    }

    pub fn is_empty(&self) -> bool {
        self.list().is_none() && self.open().is_none()
    }

    fn data(&self) -> Data {
        Data {
            list: self.list(),
            open: self.open(),
        }
    }
}

/// The hints as the state stores them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Data {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    list: Option<Newest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open: Option<Open>,
}

impl Clone for Hints {
    fn clone(&self) -> Self {
        let data = self.data();
        Self {
            list: Cell::new(data.list),
            open: Cell::new(data.open),
        }
    }
}

impl PartialEq for Hints {
    fn eq(&self, other: &Self) -> bool {
        self.data() == other.data()
    }
}

impl Eq for Hints {}

impl fmt::Debug for Hints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.data().fmt(f)
    }
}

impl Serialize for Hints {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.data().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Hints {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Data::deserialize(deserializer).map(|data| Self {
            list: Cell::new(data.list),
            open: Cell::new(data.open),
        })
    }
}
