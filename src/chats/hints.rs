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
use crate::json::{Fields, FromJson, Json, JsonError, Object, ToJson};
use std::cell::Cell;
use std::fmt;

/// Where the newest page of the chat list is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newest {
    pub shard: u64,
    /// The hash of the shard's current version.
    pub hash: String,
    /// Whether the index names an older shard (the page has a `next`).
    pub older: bool,
}

/// The current version of one chat's record.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
struct Data {
    list: Option<Newest>,
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

impl ToJson for Newest {
    fn to_json(&self) -> Json {
        crate::json::object! { "shard": self.shard, "hash": self.hash, "older": self.older }
    }
}

impl FromJson for Newest {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a list hint")?;
        Ok(Self {
            shard: f.take("shard")?,
            hash: f.take("hash")?,
            older: f.take("older")?,
        })
    }
}

impl ToJson for Open {
    fn to_json(&self) -> Json {
        crate::json::object! { "chat": self.chat, "hash": self.hash }
    }
}

impl FromJson for Open {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a chat hint")?;
        Ok(Self {
            chat: f.take("chat")?,
            hash: f.take("hash")?,
        })
    }
}

impl ToJson for Hints {
    fn to_json(&self) -> Json {
        let data = self.data();
        Object::new()
            .some("list", &data.list)
            .some("open", &data.open)
            .build()
    }
}

impl FromJson for Hints {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "the hints")?;
        Ok(Self {
            list: Cell::new(f.take("list")?),
            open: Cell::new(f.take("open")?),
        })
    }
}
