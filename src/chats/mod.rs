//! Chats and messages in Theater's content store.
//!
//! A message is an immutable object whose id is its content hash and which names its
//! parent, so a conversation is a Merkle DAG like git's commits; editing or regenerating
//! adds a sibling without touching history. A chat is a small mutable record (behind the
//! label pair `chat.<id>`, see [`crate::store`]) that points at the head of its current
//! branch. The record `chats.index` lists the live chats and the next id, so ids are
//! never reused. The index is the truth about which chats exist: it is written before a
//! new chat's record and before a deleted chat's labels are removed, and
//! [`recover`] reconciles the two at start.
//!
//! Costs: appending is a constant number of host calls whatever the history length; a
//! page of history is one object per [`history::WINDOW_MESSAGES`] messages; a page of
//! the chat list is one shard. In the running actor an object read or written lately
//! costs no call at all: its host keeps copies of them ([`crate::port::cached`]).

pub mod hints;
pub mod history;
pub mod list;
mod model;
mod read;
pub mod readable;
pub mod recover;
pub mod search;
pub mod transfer;
pub mod tree;
mod write;

use crate::json::ToJson;
use crate::port::{Host, HostError};
use crate::providers::Settings;
use crate::store::{ReadError, Records, Stamp};
use thiserror::Error;

pub const INDEX_LABEL: &str = "chats.index";
/// The prefix of every chat record's labels.
pub const CHAT_LABEL_PREFIX: &str = "chat.";
const SCHEMA: u32 = 1;
/// Version 2: the chat list lives in shards.
pub const INDEX_SCHEMA: u32 = 2;

pub(crate) use model::is_zero;
pub use model::{Chat, ChatId, ChatIndex, Message, MessageId, Origin, Role, Spent, Usage};

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("chat {0} does not exist")]
    ChatNotFound(ChatId),
    #[error("message {0} does not exist")]
    MessageNotFound(MessageId),
    #[error("message {message} does not belong to chat {chat}")]
    WrongChat { message: MessageId, chat: ChatId },
    #[error("message {0} is not on the branch shown; switch to it first")]
    NotOnBranch(MessageId),
    #[error("{0}")]
    Refused(String),
    #[error("stored {what} is unreadable: {detail}")]
    Corrupt { what: String, detail: String },
    #[error(transparent)]
    Host(#[from] HostError),
}

fn read_error(what: &str) -> impl Fn(ReadError) -> StoreError + '_ {
    move |error| match error {
        ReadError::Host(error) => StoreError::Host(error),
        ReadError::Torn(detail) => StoreError::Corrupt {
            what: what.to_string(),
            detail,
        },
    }
}

/// One page of history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub messages: Vec<(MessageId, Message)>,
    /// Whether older messages exist before the first one returned.
    pub has_more: bool,
}

/// Settings of a new chat.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChat {
    pub title: Option<String>,
    pub provider: String,
    pub model: String,
    pub settings: Settings,
    /// A fork: the history it starts with (head, messages) and where that came from.
    pub fork: Option<(MessageId, u64, Vec<ChatId>)>,
}

pub const DEFAULT_TITLE: &str = "New chat";

/// Chats of one store, reached through the host port.
pub struct ChatStore<'a, H: Host> {
    host: &'a H,
    store_id: &'a str,
    records: Records<'a, H>,
    /// The actor state's [`hints`], when built from it; kept true by every write of what
    /// they name.
    hints: Option<&'a hints::Hints>,
}

impl<'a, H: Host> ChatStore<'a, H> {
    /// Without hints: for start-up, which runs before the state exists, and tests.
    /// Requests use [`crate::state::ActorState::chats`].
    pub fn new(host: &'a H, store_id: &'a str) -> Self {
        Self {
            host,
            store_id,
            records: Records::new(host, store_id),
            hints: None,
        }
    }

    pub fn with_hints(host: &'a H, store_id: &'a str, hints: &'a hints::Hints) -> Self {
        Self {
            hints: Some(hints),
            ..Self::new(host, store_id)
        }
    }

    fn list_hint(&self) -> Option<hints::Newest> {
        self.hints.and_then(hints::Hints::list)
    }

    fn set_list_hint(&self, value: Option<hints::Newest>) {
        if let Some(hints) = self.hints {
            hints.set_list(value);
        }
    }

    /// The chat's current version, if the state names it.
    fn open_hash(&self, id: &ChatId) -> Option<String> {
        self.hints
            .and_then(hints::Hints::open)
            .filter(|open| open.chat == *id)
            .map(|open| open.hash)
    }

    fn set_open(&self, value: Option<hints::Open>) {
        if let Some(hints) = self.hints {
            hints.set_open(value);
        }
    }

    /// Forgets the chat's version (a write of it that failed, or its removal).
    fn forget_open(&self, id: &ChatId) {
        if self.open_hash(id).is_some() {
            self.set_open(None);
        }
    }

    fn put_json<T: ToJson>(&self, value: &T) -> Result<String, StoreError> {
        Ok(self
            .host
            .store_put(self.store_id, &value.to_json().to_bytes())?)
    }

    pub fn load_index(&self) -> Result<ChatIndex, StoreError> {
        let loaded = self
            .records
            .read::<ChatIndex>(INDEX_LABEL)
            .map_err(read_error("chat index"))?;
        Ok(match loaded {
            None => ChatIndex::empty(),
            Some(loaded) => ChatIndex {
                stored: Some(loaded.hash),
                ..loaded.value
            },
        })
    }

    pub fn save_index(&self, index: &mut ChatIndex) -> Result<(), StoreError> {
        index.v = INDEX_SCHEMA;
        let previous = index.stored.take();
        let written = self.records.write(INDEX_LABEL, index, previous.as_deref());
        // The newest shard stays cached while it stays the newest; a failed write may
        // or may not have landed, so it forgets.
        let newest = index.shards.last().copied();
        self.set_list_hint(match (&written, self.list_hint()) {
            (Ok(_), Some(cached)) if Some(cached.shard) == newest => Some(hints::Newest {
                older: index.shards.len() > 1,
                ..cached
            }),
            _ => None,
        });
        index.stored = Some(written?);
        Ok(())
    }

    fn save_chat(&self, chat: &mut Chat) -> Result<(), StoreError> {
        let previous = chat.stored.take();
        match self
            .records
            .write(&chat.id.label(), chat, previous.as_deref())
        {
            Ok(hash) => {
                self.set_open(Some(hints::Open {
                    chat: chat.id.clone(),
                    hash: hash.clone(),
                }));
                chat.stored = Some(hash);
                Ok(())
            }
            Err(error) => {
                self.forget_open(&chat.id);
                Err(error.into())
            }
        }
    }

    /// Creates a chat with a fresh id. The index is written first, so a crash between
    /// the two writes can orphan an id but never hand the same id out twice; an id whose
    /// labels exist anyway (an index that lost its newest version) is skipped, so no chat
    /// is ever overwritten.
    pub fn create(&self, new: NewChat) -> Result<Chat, StoreError> {
        self.create_with(new, |_| Ok(()))
    }

    /// [`Self::create`], with `fill` run on the new record once its id is taken in the
    /// index and before its list entry and record are written: an import stores its
    /// messages there and sets the head. A crash in between leaves an unused id and
    /// unreferenced objects, never a listed chat without its messages; and since the id
    /// is taken first, a retried import gets another one, so its messages (which keep
    /// their times) never hash to a copy the crash left torn.
    pub(crate) fn create_with(
        &self,
        new: NewChat,
        fill: impl FnOnce(&mut Chat) -> Result<(), StoreError>,
    ) -> Result<Chat, StoreError> {
        let mut index = self.load_index()?;
        let mut number = index.next_id.max(1);
        loop {
            let id = ChatId::from_number(number);
            let taken = self.host.label_get(self.store_id, &id.label())?.is_some()
                || self
                    .host
                    .label_get(self.store_id, &crate::store::backup_label(&id.label()))?
                    .is_some();
            if !taken {
                break;
            }
            self.host
                .log(&format!("chat: id {id} is already on disk; skipping it"));
            number = number.saturating_add(1);
        }
        let id = ChatId::from_number(number);
        index.next_id = number.saturating_add(1);
        let shard = list::shard_of(&id);
        if let Err(at) = index.shards.binary_search(&shard) {
            index.shards.insert(at, shard);
        }
        self.save_index(&mut index)?;
        let now = self.host.now_ms();
        let mut chat = Chat {
            v: SCHEMA,
            id,
            titled: new.title.is_some(),
            title: new.title.unwrap_or_else(|| DEFAULT_TITLE.to_string()),
            created_at: now,
            updated_at: now,
            head: new.fork.as_ref().map(|(head, _, _)| head.clone()),
            message_count: new.fork.as_ref().map_or(0, |(_, count, _)| *count),
            provider: new.provider,
            model: new.model,
            settings: new.settings,
            spent: Spent::default(),
            tree: tree::Tree::default(),
            lineage: new.fork.map(|(_, _, lineage)| lineage).unwrap_or_default(),
            w: Stamp::default(),
            stored: None,
        };
        fill(&mut chat)?;
        let mut listed = self.load_shard(shard)?;
        listed.put(list::Summary::of(&chat));
        self.save_shard(shard, &mut listed)?;
        self.save_chat(&mut chat)?;
        Ok(chat)
    }

    /// The chat's record: one host call when it is the one the state names (the chat
    /// being used), two otherwise.
    pub fn get(&self, id: &ChatId) -> Result<Chat, StoreError> {
        if let Some(hash) = self.open_hash(id) {
            match crate::store::read_object::<_, Chat>(self.host, self.store_id, &hash) {
                Ok(chat) if chat.id == *id => {
                    return Ok(Chat {
                        stored: Some(hash),
                        ..chat
                    })
                }
                _ => self.set_open(None),
            }
        }
        let chat = self.get_by_label(id)?;
        self.set_open(chat.stored.clone().map(|hash| hints::Open {
            chat: id.clone(),
            hash,
        }));
        Ok(chat)
    }

    fn get_by_label(&self, id: &ChatId) -> Result<Chat, StoreError> {
        let what = format!("chat {id}");
        match self
            .records
            .read::<Chat>(&id.label())
            .map_err(read_error(&what))?
        {
            None => Err(StoreError::ChatNotFound(id.clone())),
            Some(loaded) => Ok(Chat {
                stored: Some(loaded.hash),
                ..loaded.value
            }),
        }
    }

    /// Writes a changed chat record, stamping `updated_at`.
    pub fn update(&self, mut chat: Chat) -> Result<Chat, StoreError> {
        chat.updated_at = self.host.now_ms().max(chat.updated_at);
        self.save_chat(&mut chat)?;
        Ok(chat)
    }

    /// Takes the chat off the list (from then on it is deleted), then removes its
    /// record's labels. Its messages stay: 0.2.1's store cannot delete content.
    pub fn delete(&self, id: &ChatId) -> Result<(), StoreError> {
        self.get(id)?;
        let shard = list::shard_of(id);
        let mut listed = self.load_shard(shard)?;
        listed.remove(id);
        self.save_shard(shard, &mut listed)?;
        self.forget_open(id);
        self.records.remove(&id.label())?;
        if listed.chats.is_empty() {
            let mut index = self.load_index()?;
            index.shards.retain(|s| *s != shard);
            self.save_index(&mut index)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod hints_tests;
#[cfg(test)]
mod tests;
