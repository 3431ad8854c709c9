//! What a chat and a message are, as the store keeps them.

use super::{history, tree, CHAT_LABEL_PREFIX, INDEX_SCHEMA};
use crate::providers::Settings;
use crate::store::{Record, Stamp};
use std::fmt;

/// `c` followed by a decimal counter, e.g. `c12`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChatId(String);

impl ChatId {
    pub(super) fn from_number(n: u64) -> Self {
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
        Self::parse(&text).ok_or_else(|| format!("invalid chat id {}", crate::json::quoted(&text)))
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageId(String);

impl crate::table::Key for MessageId {
    fn hash(&self) -> u64 {
        self.0.hash()
    }
}

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
        Self::parse(&text)
            .ok_or_else(|| format!("invalid message id {}", crate::json::quoted(&text)))
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// Token counts reported by a provider, and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Billionths of a US dollar, from the catalog's prices when the reply was stored;
    /// absent when the model has no known price.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub v: u32,
    pub chat: ChatId,
    pub parent: Option<MessageId>,
    pub role: Role,
    pub content: String,
    pub created_at: u64,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub usage: Option<Usage>,
    /// Earlier messages of the branch left out of what the model was sent.
    pub omitted: u64,
    /// Copies of the ancestors just before this message, oldest first: a page of
    /// history in this one object (see [`history`]).
    pub window: Vec<history::Ancestor>,
    /// The parent of `window`'s first entry (unused when the window is empty).
    pub before: Option<MessageId>,
}

pub(crate) fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The mutable record of one chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Chat {
    pub v: u32,
    pub id: ChatId,
    pub title: String,
    /// False until the user names the chat or its first message does.
    pub titled: bool,
    pub created_at: u64,
    pub updated_at: u64,
    pub head: Option<MessageId>,
    /// Messages on the current branch, root to head.
    pub message_count: u64,
    pub provider: String,
    pub model: String,
    /// System prompt, temperature and reply length for this chat's replies.
    pub settings: Settings,
    /// Tokens and cost of every reply stored in the chat.
    pub spent: Spent,
    /// Where the conversation forks, and which way each fork is shown.
    pub tree: tree::Tree,
    /// The chats this one was forked from, nearest first: their messages are its
    /// history too (a fork copies nothing).
    pub lineage: Vec<ChatId>,
    pub w: Stamp,
    /// The hash this version was read from; the next write makes it the backup.
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

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChatIndex {
    pub v: u32,
    pub next_id: u64,
    /// Shards of the chat list that hold any chat, ascending (see [`list`]).
    pub shards: Vec<u64>,
    /// Before version 2, the live chats, oldest first; start-up moves them to shards.
    pub chats: Vec<ChatId>,
    pub w: Stamp,
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
