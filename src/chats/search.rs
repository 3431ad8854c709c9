//! Search of chat titles and current branches, newest chat first, in bounded work per call.
//!
//! The scan follows the store's own layout: the index, then the list's shards newest
//! first (one shard names up to 50 chats), then for each chat its record and its branch
//! from the head back, one message object at a time. An object holds the message and
//! its window of up to 32 ancestors ([`super::history`]), so a branch of short messages
//! costs one read per 33 messages; the window is also capped at 6 KiB, so long messages
//! cost more reads each. That is why the scan walks objects itself rather than asking
//! [`super::ChatStore::page`] for 200 messages: a page over long messages can read 200
//! objects, and the budget has to be able to stop between any two reads.
//!
//! A call stops at whichever limit of its [`Budget`] comes first and returns a
//! [`Cursor`] to go on from: the chat to continue below, and when a chat's branch was
//! cut, the message object to resume it at. Following the cursors finds every match
//! once; a chat cut in two shows up on both pages, each time with its new matches.

use super::list::SHARD_SIZE;
use super::{Chat, ChatId, ChatStore, MessageId, Role, StoreError};
use crate::port::Host;

/// Messages of one chat reported, newest first; a chat stops being read once it has
/// them.
pub const MAX_MATCHES_PER_CHAT: usize = 3;
/// Longest snippet, in characters, ellipses included.
pub const SNIPPET_CHARS: usize = 160;

/// How much one call may do; it stops at the first limit reached. Limits are checked
/// before each object, so messages and bytes can pass theirs by one object's worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Chats whose record is read.
    pub chats: usize,
    /// Messages compared with the query.
    pub messages: usize,
    /// Store calls: 2 for the index, 2 per shard, 2 per chat record, 1 per message
    /// object (a record whose primary label is torn costs 2 more, not counted).
    pub reads: usize,
    /// Bytes of message objects read, estimated as each message's text plus
    /// [`MESSAGE_OVERHEAD`]: the runtime records every byte a call returns, so long
    /// messages must stop a call sooner than short ones.
    pub bytes: usize,
}

/// What a message adds to an object besides its text (id, role, time, JSON).
pub const MESSAGE_OVERHEAD: usize = 100;

/// What one `GET /api/search` may do.
pub const BUDGET: Budget = Budget {
    chats: 50,
    messages: 2_000,
    reads: 160,
    bytes: 512 * 1024,
};

/// Where the next call goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Chats numbered below this one are still to search.
    pub below: u64,
    /// The chat numbered `below` itself, when its branch was cut.
    pub resume: Option<Resume>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The message object to read next: it and everything before it on the branch.
    pub at: MessageId,
    /// Matches already reported for this chat.
    pub found: usize,
}

impl Cursor {
    /// `12` (chats below c12) or `12.<message id>.<matches found>` (c12 from that message
    /// back, then chats below it).
    pub fn encode(&self) -> String {
        match &self.resume {
            None => self.below.to_string(),
            Some(resume) => format!("{}.{}.{}", self.below, resume.at, resume.found),
        }
    }

    /// The inverse of [`Self::encode`]; `None` for anything it never writes.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let below = number(parts.next()?)?;
        let resume = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => None,
            (Some(at), Some(found), None) => {
                let found = usize::try_from(number(found)?).ok()?;
                (found < MAX_MATCHES_PER_CHAT).then_some(())?;
                Some(Resume {
                    at: MessageId::parse(at)?,
                    found,
                })
            }
            _ => return None,
        };
        (below >= 1).then_some(Self { below, resume })
    }
}

/// Digits only, no sign, no leading zero (but `0` itself).
fn number(text: &str) -> Option<u64> {
    let plain = !text.is_empty()
        && text.len() <= 19
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

/// The search text, folded: Unicode lowercase, and final sigma as sigma, so `ΟΔΟΣ`,
/// `οδος` and `Οδος` find each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    folded: String,
}

impl Query {
    /// `None` when nothing is left to look for.
    pub fn new(text: &str) -> Option<Self> {
        let folded = fold(text);
        (!folded.is_empty()).then_some(Self { folded })
    }

    /// Whether `text` contains the query.
    pub fn matches(&self, text: &str) -> bool {
        fold(text).contains(&self.folded)
    }

    /// Plain text around the first match in `text`, or `None` when there is none.
    pub fn snippet(&self, text: &str) -> Option<String> {
        let chars: Vec<char> = text.chars().map(plain).collect();
        // starts[i]: where character i's folded form begins in `folded`.
        let mut starts = Vec::with_capacity(chars.len());
        let mut folded = String::with_capacity(text.len());
        for c in &chars {
            starts.push(folded.len());
            push_folded(&mut folded, *c);
        }
        let at = folded.find(&self.folded)?;
        let end = at.saturating_add(self.folded.len());
        let first = starts.partition_point(|s| *s <= at).saturating_sub(1);
        let last = starts.partition_point(|s| *s < end);
        Some(cut(&chars, first, last.max(first.saturating_add(1))))
    }
}

/// Control characters (newlines, tabs, ...) read as spaces: a snippet is one line, and
/// `a b` finds `a` and `b` on two lines.
fn plain(c: char) -> char {
    if c.is_control() {
        ' '
    } else {
        c
    }
}

fn push_folded(out: &mut String, c: char) {
    for lower in c.to_lowercase() {
        out.push(if lower == 'ς' { 'σ' } else { lower });
    }
}

fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_folded(&mut out, plain(c));
    }
    out
}

/// How far a snippet's edge may move to fall between words.
const WORD_SLACK: usize = 12;

/// At most [`SNIPPET_CHARS`] characters of `chars` around `[first, last)`, with `…`
/// where text was left out on either side.
fn cut(chars: &[char], first: usize, last: usize) -> String {
    let total = chars.len();
    let whole = |from: usize, to: usize| -> String {
        chars
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .collect::<String>()
            .trim()
            .to_string()
    };
    if total <= SNIPPET_CHARS {
        return whole(0, total);
    }
    // Room for the text between two ellipses.
    let room = SNIPPET_CHARS - 2;
    let found = last.saturating_sub(first);
    let (mut from, mut to) = if found >= room {
        (first, first + room)
    } else {
        let lead = (room - found) / 3;
        let from = first.saturating_sub(lead);
        let to = (from + room).min(total);
        (to.saturating_sub(room), to)
    };
    // Start and end between words when a space is close, never inside the match.
    if from > 0 {
        let limit = first.min(from + WORD_SLACK);
        if let Some(space) = (from..limit).find(|i| chars.get(*i) == Some(&' ')) {
            from = space + 1;
        }
    }
    if to < total {
        let limit = last.max(to.saturating_sub(WORD_SLACK));
        if let Some(space) = (limit..to).rev().find(|i| chars.get(*i) == Some(&' ')) {
            to = space;
        }
    }
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(&whole(from, to));
    if to < total {
        out.push('…');
    }
    out
}

/// A message that contains the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub message: MessageId,
    pub role: Role,
    pub snippet: String,
}

/// A chat whose title or messages contain the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub chat: ChatId,
    pub title: String,
    pub created_at: u64,
    pub title_match: bool,
    /// Newest first, at most [`MAX_MATCHES_PER_CHAT`] over all pages.
    pub matches: Vec<Hit>,
    /// Its branch was cut by the previous call's budget: this is the rest.
    pub continued: bool,
}

/// What one call found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    pub results: Vec<Found>,
    pub next: Option<Cursor>,
    pub scanned_chats: usize,
    pub scanned_messages: usize,
    /// Bytes of message objects read (see [`Budget::bytes`]).
    pub scanned_bytes: usize,
    /// Store reads planned (see [`Budget::reads`]).
    pub reads: usize,
    /// Chats left out because something of theirs could not be read.
    pub unreadable: Vec<(ChatId, String)>,
}

/// How reading one chat's branch ended.
enum Walked {
    /// Read to its root, or to its last reported match.
    Done,
    /// The budget ran out: go on at this object.
    Cut(MessageId),
}

/// Searches the chats below `from` (all of them without one), newest first, until the
/// budget or the chats run out.
pub fn search<H: Host>(
    store: &ChatStore<'_, H>,
    query: &Query,
    from: Option<&Cursor>,
    budget: &Budget,
) -> Result<Outcome, StoreError> {
    let mut scan = Scan {
        store,
        query,
        budget,
        out: Outcome::default(),
    };
    scan.run(from)?;
    Ok(scan.out)
}

struct Scan<'s, 'a, H: Host> {
    store: &'s ChatStore<'a, H>,
    query: &'s Query,
    budget: &'s Budget,
    out: Outcome,
}

impl<H: Host> Scan<'_, '_, H> {
    fn afford(&self, reads: usize) -> bool {
        self.out.reads.saturating_add(reads) <= self.budget.reads
    }

    /// Room for one more chat: its record, one object, one message.
    fn room_for_chat(&self) -> bool {
        self.out.scanned_chats < self.budget.chats
            && self.out.scanned_messages < self.budget.messages
            && self.out.scanned_bytes < self.budget.bytes
            && self.afford(3)
    }

    /// Fills `out`, setting `next` when the budget ran out before the chats did.
    fn run(&mut self, from: Option<&Cursor>) -> Result<(), StoreError> {
        let index = self.store.load_index()?;
        self.out.reads = 2;
        let mut below = from.map_or(u64::MAX, |cursor| cursor.below);
        if let Some(Cursor {
            below: number,
            resume: Some(resume),
        }) = from
        {
            if let Some(id) = ChatId::parse(&format!("c{number}")) {
                if let Walked::Cut(at) = self.visit(&id, Some(resume))? {
                    self.cut(*number, &id, at, resume.found);
                    return Ok(());
                }
            }
        }
        // Newest shard first; only those holding a chat below the cursor.
        let start = below;
        let mut shards = index
            .shards
            .iter()
            .rev()
            .copied()
            .filter(move |shard| shard.saturating_mul(SHARD_SIZE) < start)
            .peekable();
        while let Some(shard) = shards.next() {
            if !self.afford(2 + 3) || !self.room_for_chat() {
                self.out.next = Some(Cursor {
                    below,
                    resume: None,
                });
                return Ok(());
            }
            let listed = self.store.load_shard(shard)?;
            self.out.reads += 2;
            let mut chats = listed
                .chats
                .iter()
                .filter(move |summary| summary.id.number() < start)
                .peekable();
            while let Some(summary) = chats.next() {
                if !self.room_for_chat() {
                    self.out.next = Some(Cursor {
                        below,
                        resume: None,
                    });
                    return Ok(());
                }
                let number = summary.id.number();
                if let Walked::Cut(at) = self.visit(&summary.id, None)? {
                    self.cut(number, &summary.id, at, 0);
                    return Ok(());
                }
                below = number;
                if chats.peek().is_none() && shards.peek().is_none() {
                    return Ok(());
                }
            }
            below = below.min(shard.saturating_mul(SHARD_SIZE));
        }
        Ok(())
    }

    /// Ends the call inside a chat's branch.
    fn cut(&mut self, number: u64, id: &ChatId, at: MessageId, found_before: usize) {
        let found_now = self
            .out
            .results
            .iter()
            .find(|found| &found.chat == id)
            .map_or(0, |found| found.matches.len());
        self.out.next = Some(Cursor {
            below: number,
            resume: Some(Resume {
                at,
                found: found_before + found_now,
            }),
        });
    }

    /// Reads one chat's record and walks its branch (from `resume`, else from the head),
    /// adding it to the results when anything matched. A chat that is gone is skipped;
    /// one that cannot be read is skipped and named in `unreadable`. A resumed walk that
    /// cannot start (the cursor names a message that is not there, or not the chat's)
    /// is the caller's error.
    fn visit(&mut self, id: &ChatId, resume: Option<&Resume>) -> Result<Walked, StoreError> {
        self.out.reads += 2;
        self.out.scanned_chats += 1;
        let chat = match self.store.get(id) {
            Ok(chat) => chat,
            // Deleted since it was listed (or since the cursor was made).
            Err(StoreError::ChatNotFound(_)) => return Ok(Walked::Done),
            Err(StoreError::Host(error)) => return Err(StoreError::Host(error)),
            Err(error) => {
                self.out.unreadable.push((id.clone(), error.to_string()));
                return Ok(Walked::Done);
            }
        };
        let found_before = resume.map_or(0, |r| r.found);
        let start = match resume {
            Some(resume) => Some(resume.at.clone()),
            None => chat.head.clone(),
        };
        let mut matches = Vec::new();
        let mut objects = 0;
        let walked = match self.walk(&chat, start, found_before, &mut matches, &mut objects) {
            Ok(walked) => walked,
            Err(error @ StoreError::Host(_)) => return Err(error),
            Err(error) if resume.is_some() && objects == 0 => return Err(error),
            Err(error) => {
                self.out.unreadable.push((id.clone(), error.to_string()));
                Walked::Done
            }
        };
        // A continued chat's title was reported with its first part.
        let title_match = self.query.matches(&chat.title);
        if !matches.is_empty() || (title_match && resume.is_none()) {
            self.out.results.push(Found {
                chat: chat.id,
                title: chat.title,
                created_at: chat.created_at,
                title_match,
                matches,
                continued: resume.is_some(),
            });
        }
        Ok(walked)
    }

    /// Walks a branch back from the object `next`, newest message first, adding matches
    /// until the chat has [`MAX_MATCHES_PER_CHAT`], the branch ends or the budget does
    /// (checked before each object). `objects` counts the objects read.
    fn walk(
        &mut self,
        chat: &Chat,
        mut next: Option<MessageId>,
        found_before: usize,
        matches: &mut Vec<Hit>,
        objects: &mut usize,
    ) -> Result<Walked, StoreError> {
        while let Some(id) = next.take() {
            if found_before + matches.len() >= MAX_MATCHES_PER_CHAT {
                return Ok(Walked::Done);
            }
            if self.out.scanned_messages >= self.budget.messages
                || self.out.scanned_bytes >= self.budget.bytes
                || !self.afford(1)
            {
                return Ok(Walked::Cut(id));
            }
            self.out.reads += 1;
            let message = self.store.message(&id)?;
            if !chat.owns(&message) {
                return Err(StoreError::WrongChat {
                    message: id,
                    chat: chat.id.clone(),
                });
            }
            *objects += 1;
            next = message.run_parent().cloned();
            let run = message.run(&id, true);
            self.out.scanned_bytes += run
                .iter()
                .map(|(_, message)| message.content.len() + MESSAGE_OVERHEAD)
                .sum::<usize>();
            // The object's own message and its window, newest first.
            for (message_id, message) in run.into_iter().rev() {
                self.out.scanned_messages += 1;
                if let Some(raw) = self.query.snippet(&message.content) {
                    // Shown as read, unless the query is in the marks themselves.
                    let snippet = self
                        .query
                        .snippet(&super::readable::text(&message.content))
                        .unwrap_or(raw);
                    matches.push(Hit {
                        message: message_id,
                        role: message.role,
                        snippet,
                    });
                    if found_before + matches.len() >= MAX_MATCHES_PER_CHAT {
                        return Ok(Walked::Done);
                    }
                }
            }
        }
        Ok(Walked::Done)
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
