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
pub mod recover;
pub mod search;
pub mod transfer;
pub mod tree;

use crate::port::{Host, HostError};
use crate::providers::Settings;
use crate::store::{ReadError, Record, Records, Stamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

pub const INDEX_LABEL: &str = "chats.index";
/// The prefix of every chat record's labels.
pub const CHAT_LABEL_PREFIX: &str = "chat.";
const SCHEMA: u32 = 1;
/// Version 2: the chat list lives in shards.
pub const INDEX_SCHEMA: u32 = 2;

/// `c` followed by a decimal counter, e.g. `c12`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChatId(String);

impl ChatId {
    fn from_number(n: u64) -> Self {
        Self(format!("c{n}"))
    }

    /// The counter in the id (ids are parsed strictly, so it is always there).
    pub fn number(&self) -> u64 {
        self.0
            .get(1..)
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0)
    }

    /// The chat whose record a label belongs to (its primary or its backup).
    pub fn of_label(label: &str) -> Option<Self> {
        let rest = label.strip_prefix(CHAT_LABEL_PREFIX)?;
        let id = rest
            .strip_suffix(crate::store::BACKUP_SUFFIX)
            .unwrap_or(rest);
        Self::parse(id)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('c')?;
        let valid = !digits.is_empty()
            && digits.len() <= 19
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        valid.then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn label(&self) -> String {
        format!("{CHAT_LABEL_PREFIX}{}", self.0)
    }
}

impl TryFrom<String> for ChatId {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text).ok_or_else(|| format!("invalid chat id {text:?}"))
    }
}

impl From<ChatId> for String {
    fn from(id: ChatId) -> String {
        id.0
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The content hash of a message: 40 lowercase hex digits (SHA-1 in Theater's store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl MessageId {
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == 40
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MessageId {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        Self::parse(&text).ok_or_else(|| format!("invalid message id {text:?}"))
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> String {
        id.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// Token counts reported by a provider, and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Billionths of a US dollar, from the catalog's prices when the reply was stored;
    /// absent when the model has no known price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::catalog::NanoUsd>,
}

/// Where a reply came from, stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub provider: String,
    pub model: String,
    pub usage: Option<Usage>,
    /// Earlier messages of the branch not sent to the model (context window, limit).
    pub omitted: u64,
}

/// What a chat's replies used and cost, over every branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Spent {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Billionths of a US dollar, over the replies with a known price.
    pub cost: crate::catalog::NanoUsd,
    /// Replies whose model had no known price, or that reported no usage.
    pub unpriced: u64,
}

impl Spent {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub fn add(&mut self, usage: Option<&Usage>) {
        match usage {
            Some(usage) => {
                self.input_tokens = self.input_tokens.saturating_add(usage.input_tokens);
                self.output_tokens = self.output_tokens.saturating_add(usage.output_tokens);
                match usage.cost {
                    Some(cost) => self.cost = self.cost.saturating_add(cost),
                    None => self.unpriced = self.unpriced.saturating_add(1),
                }
            }
            None => self.unpriced = self.unpriced.saturating_add(1),
        }
    }
}

/// An immutable message. Its id is the hash of this object as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub v: u32,
    pub chat: ChatId,
    pub parent: Option<MessageId>,
    pub role: Role,
    pub content: String,
    pub created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Earlier messages of the branch left out of what the model was sent.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: u64,
    /// Copies of the ancestors just before this message, oldest first: a page of
    /// history in this one object (see [`history`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub window: Vec<history::Ancestor>,
    /// The parent of `window`'s first entry (unused when the window is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<MessageId>,
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The mutable record of one chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    #[serde(default)]
    pub v: u32,
    pub id: ChatId,
    pub title: String,
    /// False until the user names the chat or its first message does.
    #[serde(default)]
    pub titled: bool,
    pub created_at: u64,
    pub updated_at: u64,
    pub head: Option<MessageId>,
    /// Messages on the current branch, root to head.
    pub message_count: u64,
    pub provider: String,
    pub model: String,
    /// System prompt, temperature and reply length for this chat's replies.
    #[serde(default, skip_serializing_if = "Settings::is_empty")]
    pub settings: Settings,
    /// Tokens and cost of every reply stored in the chat.
    #[serde(default, skip_serializing_if = "Spent::is_empty")]
    pub spent: Spent,
    /// Where the conversation forks, and which way each fork is shown.
    #[serde(default, skip_serializing_if = "tree::Tree::is_empty")]
    pub tree: tree::Tree,
    /// The chats this one was forked from, nearest first: their messages are its
    /// history too (a fork copies nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lineage: Vec<ChatId>,
    #[serde(default)]
    pub w: Stamp,
    /// The hash this version was read from; the next write makes it the backup.
    #[serde(skip)]
    pub stored: Option<String>,
}

impl Chat {
    /// Whether a message is part of this chat's history (its own, or a forked chat's).
    pub fn owns(&self, message: &Message) -> bool {
        message.chat == self.id || self.lineage.contains(&message.chat)
    }
}

impl Record for Chat {
    fn stamp(&self) -> Stamp {
        self.w
    }
    fn set_stamp(&mut self, stamp: Stamp) {
        self.w = stamp;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ChatIndex {
    #[serde(default)]
    pub v: u32,
    pub next_id: u64,
    /// Shards of the chat list that hold any chat, ascending (see [`list`]).
    #[serde(default)]
    pub shards: Vec<u64>,
    /// Before version 2, the live chats, oldest first; start-up moves them to shards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chats: Vec<ChatId>,
    #[serde(default)]
    pub w: Stamp,
    #[serde(skip)]
    pub stored: Option<String>,
}

impl Record for ChatIndex {
    fn stamp(&self) -> Stamp {
        self.w
    }
    fn set_stamp(&mut self, stamp: Stamp) {
        self.w = stamp;
    }
}

impl ChatIndex {
    pub fn empty() -> Self {
        Self {
            v: INDEX_SCHEMA,
            next_id: 1,
            ..Self::default()
        }
    }
}

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

    fn put_json<T: Serialize>(&self, value: &T) -> Result<String, StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|error| StoreError::Corrupt {
            what: "record".to_string(),
            detail: error.to_string(),
        })?;
        Ok(self.host.store_put(self.store_id, &bytes)?)
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

    pub fn load_shard(&self, shard: u64) -> Result<list::Shard, StoreError> {
        let label = list::shard_label(shard);
        let loaded = self
            .records
            .read::<list::Shard>(&label)
            .map_err(read_error("chat list"))?;
        Ok(match loaded {
            None => list::Shard::default(),
            Some(loaded) => list::Shard {
                stored: Some(loaded.hash),
                ..loaded.value
            },
        })
    }

    pub fn save_shard(&self, shard: u64, value: &mut list::Shard) -> Result<(), StoreError> {
        let previous = value.stored.take();
        let written = self
            .records
            .write(&list::shard_label(shard), value, previous.as_deref());
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
    pub fn list(&self, before: Option<u64>) -> Result<list::ListPage, StoreError> {
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
                return Ok(list::ListPage {
                    chats: page.chats,
                    next,
                });
            }
        }
        Ok(list::ListPage {
            chats: Vec::new(),
            next: None,
        })
    }

    /// The hinted newest shard, if its object reads back whole and lists a chat.
    fn cached_page(&self, newest: hints::Newest) -> Option<list::ListPage> {
        let shard: list::Shard =
            crate::store::read_object(self.host, self.store_id, &newest.hash).ok()?;
        (!shard.chats.is_empty()).then(|| list::ListPage {
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
        let shard = list::shard_of(&chat.id);
        let mut listed = self.load_shard(shard)?;
        if listed.put(list::Summary::of(chat)) {
            self.save_shard(shard, &mut listed)?;
        }
        Ok(())
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

    pub fn message(&self, id: &MessageId) -> Result<Message, StoreError> {
        match crate::store::read_object(self.host, self.store_id, id.as_str()) {
            Ok(message) => Ok(message),
            Err(crate::store::ObjectError::Unreadable(error)) => Err(StoreError::Corrupt {
                what: format!("message {id}"),
                detail: error.to_string(),
            }),
            Err(crate::store::ObjectError::Missing(_)) => {
                Err(StoreError::MessageNotFound(id.clone()))
            }
        }
    }

    /// Adds a message after the chat's head and moves the head to it.
    pub fn append(
        &self,
        chat: Chat,
        role: Role,
        content: String,
        origin: Option<Origin>,
    ) -> Result<(MessageId, Message, Chat), StoreError> {
        let mut chat = chat;
        let parent = match chat.head.clone() {
            None => None,
            Some(head) => {
                let message = self.message(&head)?;
                Some((head, message))
            }
        };
        let (id, message) = self.put_message(&mut chat, parent, role, content, origin)?;
        chat.head = Some(id.clone());
        chat.message_count = chat.message_count.saturating_add(1);
        let chat = self.update(chat)?;
        Ok((id, message, chat))
    }

    /// Stores a message after `parent` (counting its usage in the chat); the caller
    /// moves the head.
    pub(crate) fn put_message(
        &self,
        chat: &mut Chat,
        parent: Option<(MessageId, Message)>,
        role: Role,
        content: String,
        origin: Option<Origin>,
    ) -> Result<(MessageId, Message), StoreError> {
        let now = self.host.now_ms();
        self.put_message_at(chat, parent, (role, content, now), origin)
    }

    /// [`Self::put_message`] with the time it was written (an imported message keeps
    /// its own).
    pub(crate) fn put_message_at(
        &self,
        chat: &mut Chat,
        parent: Option<(MessageId, Message)>,
        (role, content, created_at): (Role, String, u64),
        origin: Option<Origin>,
    ) -> Result<(MessageId, Message), StoreError> {
        let (provider, model, usage, omitted) = match origin {
            Some(origin) => {
                chat.spent.add(origin.usage.as_ref());
                (
                    Some(origin.provider),
                    Some(origin.model),
                    origin.usage,
                    origin.omitted,
                )
            }
            None => (None, None, None, 0),
        };
        let (parent, (window, before)) = match &parent {
            None => (None, (Vec::new(), None)),
            Some((id, message)) => (Some(id.clone()), history::window_after(id, message)),
        };
        let message = Message {
            v: SCHEMA,
            chat: chat.id.clone(),
            parent,
            role,
            content,
            created_at,
            provider,
            model,
            usage,
            omitted,
            window,
            before,
        };
        let hash = self.put_json(&message)?;
        let id = MessageId::parse(&hash).ok_or_else(|| StoreError::Corrupt {
            what: "content reference".to_string(),
            detail: format!("{hash:?} is not a hex SHA-1"),
        })?;
        Ok((id, message))
    }

    /// Up to `limit` messages of the chat's current branch that come before `before`
    /// (or end at the head), oldest first. The newest page is the head's object (its
    /// window and itself), the page before a message is its window: a page of up to
    /// [`history::WINDOW_MESSAGES`] is one object, a larger `limit` reads one more
    /// object per that many messages. Messages stored before windows existed are
    /// walked one by one.
    pub fn page(
        &self,
        chat: &Chat,
        before: Option<&MessageId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let (mut next, mut with_self) = match before {
            None => (chat.head.clone(), true),
            Some(id) => (Some(id.clone()), false),
        };
        let mut chunks: Vec<Vec<(MessageId, Message)>> = Vec::new();
        let mut count = 0;
        let mut objects = 0;
        while let Some(id) = next.take() {
            let message = self.message(&id)?;
            if !chat.owns(&message) {
                return Err(StoreError::WrongChat {
                    message: id,
                    chat: chat.id.clone(),
                });
            }
            objects += 1;
            let windowed = !message.window.is_empty();
            next = message.run_parent().cloned();
            let run = message.run(&id, with_self);
            with_self = true;
            count += run.len();
            chunks.push(run);
            if count >= limit || (windowed && objects > limit / history::WINDOW_MESSAGES) {
                break;
            }
        }
        let mut messages: Vec<(MessageId, Message)> = chunks.into_iter().rev().flatten().collect();
        let cut = messages.len().saturating_sub(limit);
        messages.drain(..cut);
        Ok(Page {
            messages,
            has_more: next.is_some() || cut > 0,
        })
    }
}

#[cfg(test)]
mod hints_tests;
#[cfg(test)]
mod tests;
