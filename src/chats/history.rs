//! Message history laid out so that a page is one object.
//!
//! Every message object carries a *window*: copies of the ancestors just before it,
//! oldest first, up to [`WINDOW_MESSAGES`] messages and [`WINDOW_BYTES`] of content.
//! The window of a new message is its parent's window plus the parent, trimmed from the
//! front, so appending reads one object (the parent) and writes one, of bounded size,
//! whatever the history length. Reading the newest page is reading the head; the page
//! before any message is that message's window, and the next one back starts at the
//! parent of the window's oldest message (`before`). History is still an immutable
//! Merkle DAG: a message's id is the hash of its object, which names its parent, so a
//! branch (an edited question, a regenerated answer) is one more object whose window
//! copies its own ancestors, and nothing is ever rewritten.
//!
//! Messages stored before windows existed have none: pages over them walk the parents
//! one object at a time, as before, and every message appended after them starts to
//! carry a window again, so old chats get fast as they grow.

use super::{Chat, ChatStore, Message, MessageId, Origin, Page, Role, StoreError, Usage, SCHEMA};
use crate::port::Host;

/// Most ancestors a message object copies.
pub const WINDOW_MESSAGES: usize = 32;
/// Most content bytes of the ancestors a message object copies. A message longer than
/// this is in no window: pages around it are shorter, never wrong.
pub const WINDOW_BYTES: usize = 6 * 1024;

/// A copy of an ancestor inside a message object's window. Its parent is the entry
/// before it (the first entry's parent is the object's `before`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    pub id: MessageId,
    pub role: Role,
    pub content: String,
    pub created_at: u64,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub usage: Option<Usage>,
    pub omitted: u64,
}

/// The window of a message whose parent is `parent` (stored as `parent_id`).
pub fn window_after(parent_id: &MessageId, parent: &Message) -> (Vec<Ancestor>, Option<MessageId>) {
    let mut window: Vec<Ancestor> = parent.window.clone();
    window.push(Ancestor {
        id: parent_id.clone(),
        role: parent.role,
        content: parent.content.clone(),
        created_at: parent.created_at,
        provider: parent.provider.clone(),
        model: parent.model.clone(),
        usage: parent.usage,
        omitted: parent.omitted,
    });
    let mut before = parent.run_parent().cloned();
    let mut bytes: usize = window.iter().map(|a| a.content.len()).sum();
    let mut drop = 0;
    while drop < window.len() && (window.len() - drop > WINDOW_MESSAGES || bytes > WINDOW_BYTES) {
        if let Some(oldest) = window.get(drop) {
            bytes = bytes.saturating_sub(oldest.content.len());
            before = Some(oldest.id.clone());
        }
        drop += 1;
    }
    window.drain(..drop);
    if window.is_empty() {
        // Only the parent itself, and it did not fit: the run starts at this message.
        before = None;
    }
    (window, before)
}

impl Message {
    /// The parent of the oldest message this object holds (its window's first entry, or
    /// itself): where the page before it starts.
    pub fn run_parent(&self) -> Option<&MessageId> {
        if self.window.is_empty() {
            self.parent.as_ref()
        } else {
            self.before.as_ref()
        }
    }

    /// The messages this object holds, oldest first, as full messages with their
    /// parents; itself last when `with_self`.
    pub fn run(self, id: &MessageId, with_self: bool) -> Vec<(MessageId, Message)> {
        let mut parent = self.run_parent().cloned();
        let mut out = Vec::with_capacity(self.window.len() + 1);
        for ancestor in &self.window {
            out.push((
                ancestor.id.clone(),
                Message {
                    v: self.v,
                    chat: self.chat.clone(),
                    parent: parent.take(),
                    role: ancestor.role,
                    content: ancestor.content.clone(),
                    created_at: ancestor.created_at,
                    provider: ancestor.provider.clone(),
                    model: ancestor.model.clone(),
                    usage: ancestor.usage,
                    omitted: ancestor.omitted,
                    window: Vec::new(),
                    before: None,
                },
            ));
            parent = Some(ancestor.id.clone());
        }
        if with_self {
            out.push((
                id.clone(),
                Message {
                    window: Vec::new(),
                    before: None,
                    ..self
                },
            ));
        }
        out
    }
}

/// Reading, appending and paging messages.
impl<H: Host> ChatStore<'_, H> {
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
            Some((id, message)) => (Some(id.clone()), window_after(id, message)),
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
            detail: format!("{} is not a hex SHA-1", crate::json::quoted(&hash)),
        })?;
        Ok((id, message))
    }

    /// Up to `limit` messages of the chat's current branch that come before `before`
    /// (or end at the head), oldest first. The newest page is the head's object (its
    /// window and itself), the page before a message is its window: a page of up to
    /// [`WINDOW_MESSAGES`] is one object, a larger `limit` reads one more
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
            if count >= limit || (windowed && objects > limit / WINDOW_MESSAGES) {
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
