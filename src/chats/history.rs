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

use super::{Message, MessageId, Role, Usage};
use serde::{Deserialize, Serialize};

/// Most ancestors a message object copies.
pub const WINDOW_MESSAGES: usize = 32;
/// Most content bytes of the ancestors a message object copies. A message longer than
/// this is in no window: pages around it are shorter, never wrong.
pub const WINDOW_BYTES: usize = 6 * 1024;

/// A copy of an ancestor inside a message object's window. Its parent is the entry
/// before it (the first entry's parent is the object's `before`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ancestor {
    pub id: MessageId,
    pub role: Role,
    pub content: String,
    pub created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "super::is_zero")]
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
