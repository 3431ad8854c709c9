//! Branches of a chat: where its conversation forks, and which way each fork goes now.
//!
//! Messages never change, so an edited question or a regenerated answer is a *sibling*:
//! a new message with the same parent. A chat's [`Tree`], kept in its record so a fork
//! and the head move in one crash-safe write, lists only its forks ([`Point`]s): the
//! message they fork after, its depth, the children, which child is shown, and for each
//! child the *tip* (the head it had when the user last left it), so switching back
//! lands where they were. It grows with the forks the user made, never with the
//! history; appending a message does not change it.
//!
//! Forks nest: each point records its *route*, the (point, child) choices on the way
//! to it from the root, so the page can draw the tree and a click anywhere in it can
//! switch every fork on the way.

use super::{Chat, ChatStore, MessageId, StoreError};
use crate::port::Host;

/// Forks one chat may have; past it a new sibling is refused (the record stays small).
pub const MAX_POINTS: usize = 200;
/// Siblings one message may have.
pub const MAX_CHILDREN: usize = 50;
/// How far back from the head an edited or regenerated message is looked for.
pub const MAX_WALK: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub id: MessageId,
    /// The head this branch had when it was last left (itself until then).
    pub tip: MessageId,
    /// Messages from the root to `tip`.
    pub tip_n: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// The message the children follow; `None`: they are first messages.
    pub at: Option<MessageId>,
    /// Messages from the root to `at` (0 at the root).
    pub n: u64,
    /// The (point, child) choices on the way here, outermost first.
    pub route: Vec<(u32, u32)>,
    pub children: Vec<Branch>,
    /// The child shown.
    pub selected: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tree {
    pub points: Vec<Point>,
}

/// Why a branch operation is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    NotOnBranch(MessageId),
    NotASibling(MessageId),
    TooMany(&'static str),
}

impl Tree {
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    fn point_at(&self, at: Option<&MessageId>) -> Option<usize> {
        self.points.iter().position(|p| p.at.as_ref() == at)
    }

    fn selected(&self, point: u32) -> Option<u32> {
        self.points.get(point as usize).map(|p| p.selected)
    }

    /// Whether every choice on the way to `point` is the one shown.
    fn on_path(&self, point: &Point) -> bool {
        point
            .route
            .iter()
            .all(|(q, c)| self.selected(*q) == Some(*c))
    }

    /// The choices shown on the way down to depth `n`, outermost first.
    fn route_to(&self, n: u64) -> Vec<(u32, u32)> {
        let mut on: Vec<(u64, u32, u32)> = self
            .points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.n < n && self.on_path(p))
            .map(|(i, p)| (p.n, i as u32, p.selected))
            .collect();
        crate::table::sort(&mut on);
        on.into_iter().map(|(_, i, c)| (i, c)).collect()
    }

    /// Where a message is a child: (point, child index).
    pub fn find(&self, id: &MessageId) -> Option<(usize, usize)> {
        self.points.iter().enumerate().find_map(|(p, point)| {
            point
                .children
                .iter()
                .position(|b| &b.id == id)
                .map(|c| (p, c))
        })
    }

    /// Adds `new` as a sibling of `existing` (both children of `at`, at depth `n`) and
    /// shows it; the branch left keeps `head`/`count` as its tip.
    pub fn fork(
        &mut self,
        at: Option<&MessageId>,
        n: u64,
        existing: &MessageId,
        new: &MessageId,
        (head, count): (&MessageId, u64),
    ) -> Result<(), Refused> {
        let index = match self.point_at(at) {
            Some(index) => index,
            None => {
                if self.points.len() >= MAX_POINTS {
                    return Err(Refused::TooMany("forks in this chat"));
                }
                let route = self.route_to(n);
                let index = self.points.len() as u32;
                // Forks further down this branch now lie under its first child.
                let depth = route.len();
                for point in &mut self.points {
                    let below = point.n > n
                        && point.route.len() >= depth
                        && point.route.get(..depth) == Some(route.as_slice());
                    if below {
                        point.route.insert(depth, (index, 0));
                    }
                }
                self.points.push(Point {
                    at: at.cloned(),
                    n,
                    route,
                    children: vec![Branch {
                        id: existing.clone(),
                        tip: head.clone(),
                        tip_n: count,
                    }],
                    selected: 0,
                });
                index as usize
            }
        };
        let Some(point) = self.points.get_mut(index) else {
            return Err(Refused::NotOnBranch(existing.clone()));
        };
        if point.children.len() >= MAX_CHILDREN {
            return Err(Refused::TooMany("versions of this message"));
        }
        if let Some(left) = point.children.get_mut(point.selected as usize) {
            left.tip = head.clone();
            left.tip_n = count;
        }
        point.children.push(Branch {
            id: new.clone(),
            tip: new.clone(),
            tip_n: n.saturating_add(1),
        });
        point.selected = point.children.len().saturating_sub(1) as u32;
        Ok(())
    }

    /// Shows the branch starting at `child` (and every fork on the way to it); returns
    /// the new head and its depth. The branch left keeps `head` as its tip.
    pub fn switch(
        &mut self,
        child: &MessageId,
        (head, count): (&MessageId, u64),
    ) -> Result<(MessageId, u64), Refused> {
        let (index, target) = self
            .find(child)
            .ok_or_else(|| Refused::NotASibling(child.clone()))?;
        let Some(point) = self.points.get(index) else {
            return Err(Refused::NotASibling(child.clone()));
        };
        let mut choices = point.route.clone();
        choices.push((index as u32, target as u32));
        // The first choice that differs is where the shown branch is left; the last one
        // that differs is where the new one was left (the forks below it still show
        // what they showed then, so its tip is where the user was).
        let mut left = false;
        let mut landing: Option<(usize, usize)> = None;
        for (q, c) in choices {
            let Some(point) = self.points.get_mut(q as usize) else {
                continue;
            };
            if point.selected != c {
                if !left {
                    if let Some(branch) = point.children.get_mut(point.selected as usize) {
                        branch.tip = head.clone();
                        branch.tip_n = count;
                    }
                    left = true;
                }
                point.selected = c;
                landing = Some((q as usize, c as usize));
            }
        }
        let Some((point, version)) = landing else {
            // Already shown: the branch stays where it is.
            return Ok((head.clone(), count));
        };
        self.points
            .get(point)
            .and_then(|p| p.children.get(version))
            .map(|b| (b.tip.clone(), b.tip_n))
            .ok_or_else(|| Refused::NotASibling(child.clone()))
    }
}

fn refused(refused: Refused) -> StoreError {
    StoreError::Refused(match refused {
        Refused::NotOnBranch(id) => format!("message {id} is not on the branch shown"),
        Refused::NotASibling(id) => format!("message {id} has no other versions to switch to"),
        Refused::TooMany(what) => format!("too many {what}"),
    })
}

impl<H: Host> ChatStore<'_, H> {
    /// Stores a sibling of `of` (a message of this chat `depth` deep on the current
    /// branch, after `parent`) and shows it; the branch left keeps its head as its tip.
    /// One record write moves the head and records the fork.
    pub fn add_sibling(
        &self,
        chat: Chat,
        (of, parent, depth): (&MessageId, Option<&MessageId>, u64),
        role: super::Role,
        content: String,
        origin: Option<super::Origin>,
    ) -> Result<(MessageId, super::Message, Chat), StoreError> {
        let mut chat = chat;
        let head = chat.head.clone().ok_or_else(|| StoreError::WrongChat {
            message: of.clone(),
            chat: chat.id.clone(),
        })?;
        let at = parent.cloned();
        let parent = match parent {
            None => None,
            Some(id) => Some((id.clone(), self.message(id)?)),
        };
        let (id, message) = self.put_message(&mut chat, parent, role, content, origin)?;
        chat.tree
            .fork(
                at.as_ref(),
                depth.saturating_sub(1),
                of,
                &id,
                (&head, chat.message_count),
            )
            .map_err(refused)?;
        chat.head = Some(id.clone());
        chat.message_count = depth;
        let chat = self.update(chat)?;
        Ok((id, message, chat))
    }

    /// Shows the branch that starts at `child` (a message with siblings), where the user
    /// last left it.
    pub fn switch_branch(&self, chat: Chat, child: &MessageId) -> Result<Chat, StoreError> {
        let mut chat = chat;
        let Some(head) = chat.head.clone() else {
            return Err(refused(Refused::NotASibling(child.clone())));
        };
        let (head, count) = chat
            .tree
            .switch(child, (&head, chat.message_count))
            .map_err(refused)?;
        chat.head = Some(head);
        chat.message_count = count;
        self.update(chat)
    }

    /// How deep `target` is on the chat's current branch (1 for a first message),
    /// reading back from the head a window at a time; [`StoreError::NotOnBranch`] when
    /// it is not on it (a failed read is that failure, not this).
    pub fn depth_on_branch(&self, chat: &Chat, target: &MessageId) -> Result<u64, StoreError> {
        let mut before: Option<MessageId> = None;
        let mut seen = 0usize;
        let mut newest = chat.message_count;
        while seen < MAX_WALK {
            let page = self.page(chat, before.as_ref(), 200)?;
            let len = page.messages.len() as u64;
            if let Some(at) = page.messages.iter().position(|(id, _)| id == target) {
                let from_end = len.saturating_sub(at as u64);
                return Ok(newest.saturating_sub(from_end).saturating_add(1));
            }
            if !page.has_more || page.messages.is_empty() {
                break;
            }
            seen = seen.saturating_add(page.messages.len());
            newest = newest.saturating_sub(len);
            before = page.messages.first().map(|(id, _)| id.clone());
        }
        Err(StoreError::NotOnBranch(target.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> MessageId {
        MessageId::parse(&format!("{n:040x}")).unwrap()
    }

    #[test]
    fn a_fork_keeps_the_left_branch_tip_and_switching_back_lands_there() {
        let mut tree = Tree::default();
        // m1 → m2 → m3 → m4 (head, 4 deep); edit m3 into m5.
        tree.fork(Some(&id(2)), 2, &id(3), &id(5), (&id(4), 4))
            .unwrap();
        let point = &tree.points[0];
        assert_eq!(point.children.len(), 2);
        assert_eq!(point.selected, 1);
        assert_eq!(
            (point.children[0].tip.clone(), point.children[0].tip_n),
            (id(4), 4)
        );
        // Back to m3's branch: the head is m4 again; m5's branch keeps its tip.
        assert_eq!(tree.switch(&id(3), (&id(6), 4)).unwrap(), (id(4), 4));
        assert_eq!(tree.points[0].children[1].tip, id(6));
        assert_eq!(tree.switch(&id(5), (&id(4), 4)).unwrap(), (id(6), 4));
        // Picking the version already shown changes nothing.
        assert_eq!(tree.switch(&id(5), (&id(7), 5)).unwrap(), (id(7), 5));
        assert_eq!(tree.points[0].children[0].tip, id(4));
    }

    #[test]
    fn forks_nest_and_a_new_fork_above_adopts_those_below() {
        let mut tree = Tree::default();
        // m1 → m2 → m3 → m4; fork at m3 (m4 | m10).
        tree.fork(Some(&id(3)), 3, &id(4), &id(10), (&id(4), 4))
            .unwrap();
        // On m10's branch, fork higher up at m1 (m2 | m20): the fork at m3 is under m2.
        tree.fork(Some(&id(1)), 1, &id(2), &id(20), (&id(10), 4))
            .unwrap();
        assert_eq!(tree.points[0].route, vec![(1, 0)]);
        assert_eq!(tree.points[1].route, vec![]);
        // From m20's branch, a click on m4 switches both forks and lands on m4.
        assert_eq!(tree.switch(&id(4), (&id(20), 2)).unwrap(), (id(4), 4));
        assert_eq!((tree.points[0].selected, tree.points[1].selected), (0, 0));
        assert_eq!(tree.points[1].children[1].tip, id(20));
        // A fork deeper on m20's branch is under (point 1, child 1).
        tree.switch(&id(20), (&id(4), 4)).unwrap();
        tree.fork(Some(&id(20)), 2, &id(21), &id(22), (&id(21), 3))
            .unwrap();
        assert_eq!(tree.points[2].route, vec![(1, 1)]);
    }

    #[test]
    fn picking_a_version_already_chosen_below_a_fork_that_changes_lands_where_it_was_left() {
        let mut tree = Tree::default();
        // m1 → m2 → m3 → m4; fork at m3 (m4 | m10), m10's branch grows to m11.
        tree.fork(Some(&id(3)), 3, &id(4), &id(10), (&id(4), 4))
            .unwrap();
        // Fork higher at m1 (m2 | m20) from m11: the fork at m3 (showing m10) is under m2.
        tree.fork(Some(&id(1)), 1, &id(2), &id(20), (&id(11), 5))
            .unwrap();
        // From m20, pick m10 (already chosen at its fork): back to m11, where m2's
        // branch was left, not to m10 itself.
        assert_eq!(tree.switch(&id(10), (&id(20), 2)).unwrap(), (id(11), 5));
        assert_eq!(tree.points[1].children[1].tip, id(20));
    }

    #[test]
    fn unknown_siblings_and_too_many_versions_are_refused() {
        let mut tree = Tree::default();
        assert_eq!(
            tree.switch(&id(9), (&id(1), 1)),
            Err(Refused::NotASibling(id(9)))
        );
        tree.fork(None, 0, &id(1), &id(2), (&id(1), 1)).unwrap();
        for n in 3..(MAX_CHILDREN as u8 + 1) {
            tree.fork(None, 0, &id(1), &id(n), (&id(n - 1), 1)).unwrap();
        }
        assert_eq!(
            tree.fork(None, 0, &id(1), &id(200), (&id(1), 1)),
            Err(Refused::TooMany("versions of this message"))
        );
    }
}
