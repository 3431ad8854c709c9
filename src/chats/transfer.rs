//! Moving a whole chat out and in: every message of every branch for an export, and a new chat written from an import (its messages first, its record last).

use super::tree::{Branch, Point, Tree};
use super::{Chat, ChatStore, Message, MessageId, NewChat, Origin, Role, Spent, StoreError};
use crate::port::Host;
use crate::table::{Set, Table};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Why the messages of a chat were not all collected.
#[derive(Debug)]
pub enum WalkError {
    /// The chat holds more messages than the limit asked for.
    TooMany(usize),
    Store(StoreError),
}

impl From<StoreError> for WalkError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// A message of an import, named by its id in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub id: MessageId,
    /// An earlier message of the import.
    pub parent: Option<MessageId>,
    pub role: Role,
    pub content: String,
    pub created_at: u64,
    pub origin: Option<Origin>,
}

/// A checked import: everything a new chat is made of, with ids as the file names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub chat: NewChat,
    pub titled: bool,
    pub spent: Spent,
    /// Parents before children.
    pub messages: Vec<Incoming>,
    pub tree: Tree,
    pub head: Option<MessageId>,
}

fn broken(detail: String) -> StoreError {
    StoreError::Corrupt {
        what: "import".to_string(),
        detail,
    }
}

impl<H: Host> ChatStore<'_, H> {
    /// Every message of every branch of `chat`, parents before children (and otherwise
    /// oldest first), without their windows. Each branch end (the head, and every
    /// version and tip the tree names) is walked back until a message already found, a
    /// window at a time, so each stored object is read at most once: about one read per
    /// 33 messages of a branch. Stops with [`WalkError::TooMany`] past `limit` messages.
    pub fn every_message(
        &self,
        chat: &Chat,
        limit: usize,
    ) -> Result<Vec<(MessageId, Message)>, WalkError> {
        let mut ends: Vec<&MessageId> = chat.head.iter().collect();
        for point in &chat.tree.points {
            for branch in &point.children {
                ends.push(&branch.id);
                ends.push(&branch.tip);
            }
        }
        let mut found: Vec<(MessageId, Message)> = Vec::new();
        let mut seen: Set<MessageId> = Set::new();
        for end in ends {
            // What is found already comes with all its ancestors.
            let mut next = (!seen.contains(end)).then(|| end.clone());
            while let Some(id) = next.take() {
                let message = self.message(&id).map_err(|error| match error {
                    StoreError::MessageNotFound(id) => StoreError::Corrupt {
                        what: format!("chat {}", chat.id),
                        detail: format!("its message {id} is missing from the store"),
                    },
                    other => other,
                })?;
                if message.chat != chat.id {
                    return Err(StoreError::WrongChat {
                        message: id,
                        chat: chat.id.clone(),
                    }
                    .into());
                }
                let older = message.run_parent().cloned();
                let mut met = false;
                for (id, message) in message.run(&id, true).into_iter().rev() {
                    if !seen.add(id.clone()) {
                        met = true;
                        break;
                    }
                    found.push((id, message));
                    if found.len() > limit {
                        return Err(WalkError::TooMany(limit));
                    }
                }
                if !met {
                    next = older.filter(|id| !seen.contains(id));
                }
            }
        }
        Ok(parents_first(found, &chat.tree))
    }

    /// Writes an import as a new chat, through [`ChatStore::create_with`]: the id is
    /// taken in the index, then each message is stored under it, after its parent (so it
    /// carries its window, as if it had been posted), keeping its time; the list entry
    /// and the record come last, so a crash leaves at most an unused id and unreferenced
    /// objects. The ids of the
    /// file become the new ones in the tree and the head; the totals, title and settings
    /// are kept. The import must have been checked: a parent, tree entry or head naming
    /// no earlier message fails here, with what was stored so far unreferenced.
    pub fn import(&self, import: Import) -> Result<Chat, StoreError> {
        let Import {
            chat: new,
            titled,
            spent,
            messages,
            tree,
            head,
        } = import;
        self.create_with(new, move |chat| {
            // How many children each message still waits for: its stored object (the
            // window of the next one) is held only until the last of them is written.
            let mut waiting: Table<MessageId, usize> = Table::new();
            for message in &messages {
                if let Some(parent) = &message.parent {
                    match waiting.get_mut(parent) {
                        Some(count) => *count = count.saturating_add(1),
                        None => {
                            waiting.insert(parent.clone(), 1);
                        }
                    }
                }
            }
            let mut held: Table<MessageId, (MessageId, Message)> = Table::new();
            let mut renamed: Table<MessageId, (MessageId, u64)> = Table::new();
            for incoming in messages {
                let (parent, depth) = match &incoming.parent {
                    None => (None, 1),
                    Some(old) => {
                        let depth = renamed
                            .get(old)
                            .map(|(_, depth)| depth.saturating_add(1))
                            .ok_or_else(|| {
                                broken(format!("the parent of {} comes after it", incoming.id))
                            })?;
                        let left = waiting.get_mut(old).map(|n| {
                            *n = n.saturating_sub(1);
                            *n
                        });
                        let stored = if left == Some(0) {
                            held.remove(old)
                        } else {
                            held.get(old).cloned()
                        };
                        let stored = stored.ok_or_else(|| {
                            broken(format!("the parent of {} is not held", incoming.id))
                        })?;
                        (Some(stored), depth)
                    }
                };
                let (id, stored) = self.put_message_at(
                    chat,
                    parent,
                    (incoming.role, incoming.content, incoming.created_at),
                    incoming.origin,
                )?;
                if waiting.get(&incoming.id).is_some_and(|n| *n > 0) {
                    held.insert(incoming.id.clone(), (id.clone(), stored));
                }
                renamed.insert(incoming.id, (id, depth));
            }
            let rename = |old: &MessageId| {
                renamed
                    .get(old)
                    .cloned()
                    .ok_or_else(|| broken(format!("{old} is not a message of the import")))
            };
            let mut points = Vec::with_capacity(tree.points.len());
            for point in tree.points {
                let at = point
                    .at
                    .as_ref()
                    .map(&rename)
                    .transpose()?
                    .map(|(id, _)| id);
                let mut children = Vec::with_capacity(point.children.len());
                for branch in point.children {
                    children.push(Branch {
                        id: rename(&branch.id)?.0,
                        tip: rename(&branch.tip)?.0,
                        tip_n: branch.tip_n,
                    });
                }
                points.push(Point {
                    at,
                    children,
                    ..point
                });
            }
            chat.tree = Tree { points };
            let head = head.as_ref().map(&rename).transpose()?;
            chat.message_count = head.as_ref().map_or(0, |(_, depth)| *depth);
            chat.head = head.map(|(id, _)| id);
            // The file's totals: they cover replies no branch reaches any more too.
            chat.spent = spent;
            chat.titled = titled;
            Ok(())
        })
    }
}

/// Orders messages so that each comes after its parent: oldest first, versions of one
/// message in the tree's order, then as found. Depends only on the chat's shape and
/// contents, never on ids, so a chat and its import list their messages alike.
fn parents_first(found: Vec<(MessageId, Message)>, tree: &Tree) -> Vec<(MessageId, Message)> {
    let order = {
        let mut index: Table<&MessageId, usize> = Table::new();
        for (i, (id, _)) in found.iter().enumerate() {
            index.insert(id, i);
        }
        let mut rank: Table<&MessageId, usize> = Table::new();
        for point in &tree.points {
            for (n, branch) in point.children.iter().enumerate() {
                if !rank.contains(&&branch.id) {
                    rank.insert(&branch.id, n);
                }
            }
        }
        let key = |i: usize| {
            let (id, message) = found.get(i)?;
            Some(Reverse((
                message.created_at,
                rank.get(&id).copied().unwrap_or(0),
                i,
            )))
        };
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); found.len()];
        let mut ready = BinaryHeap::new();
        for (i, (_, message)) in found.iter().enumerate() {
            let parent = message.parent.as_ref().and_then(|p| index.get(&p));
            match parent.and_then(|p| children.get_mut(*p)) {
                Some(siblings) => siblings.push(i),
                None => ready.extend(key(i)),
            }
        }
        let mut order = Vec::with_capacity(found.len());
        while let Some(Reverse((_, _, i))) = ready.pop() {
            order.push(i);
            if let Some(next) = children.get_mut(i) {
                for child in std::mem::take(next) {
                    ready.extend(key(child));
                }
            }
        }
        order
    };
    let mut slots: Vec<Option<(MessageId, Message)>> = found.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}
