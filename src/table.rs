//! The actor's own collections code, because std's costs the component dearly for
//! what the actor needs of it:
//! - a hash table for the few maps and sets it keeps (message ids met in an export or
//!   an import, the store objects it holds in memory, the keys of a large JSON object).
//!   std's `HashMap` (hashbrown, SipHash and its random keys) was about 8 KB of the
//!   component; this is open addressing with linear probing, keys hashed with FNV-1a
//!   (a collision only costs time);
//! - a heapsort, where std's sorts were about 5 KB for each type sorted.

/// A key: equal keys hash alike.
pub trait Key: Eq {
    fn hash(&self) -> u64;
}

/// A map with at most half its slots full, so a probe soon meets an empty one.
pub struct Table<K, V> {
    slots: Vec<Option<(K, V)>>,
    len: usize,
}

/// A set is a map to nothing.
pub type Set<K> = Table<K, ()>;

impl<K: Key, V> Default for Table<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Key, V> Table<K, V> {
    pub fn new() -> Self {
        Self {
            slots: Vec::new(),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn mask(&self) -> usize {
        self.slots.len().saturating_sub(1)
    }

    fn home(&self, key: &K) -> usize {
        // Truncating the hash is the point: its low bits pick the slot.
        (key.hash() as usize) & self.mask()
    }

    /// The slot holding `key`, or the empty slot where it would go (`None` when the
    /// table has no slots yet).
    fn probe(&self, key: &K) -> Option<Result<usize, usize>> {
        if self.slots.is_empty() {
            return None;
        }
        let mut at = self.home(key);
        // At most half the slots are full, so an empty one comes before a full loop.
        for _ in 0..self.slots.len() {
            match self.slots.get(at)? {
                None => return Some(Err(at)),
                Some((held, _)) if held == key => return Some(Ok(at)),
                Some(_) => at = (at + 1) & self.mask(),
            }
        }
        None
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        let at = self.probe(key)?.ok()?;
        self.slots.get(at)?.as_ref().map(|(_, value)| value)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let at = self.probe(key)?.ok()?;
        self.slots.get_mut(at)?.as_mut().map(|(_, value)| value)
    }

    pub fn contains(&self, key: &K) -> bool {
        matches!(self.probe(key), Some(Ok(_)))
    }

    /// Puts `value` under `key`; the value it replaces, if any.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        match self.probe(&key) {
            Some(Ok(at)) => self
                .slots
                .get_mut(at)?
                .as_mut()
                .map(|(_, held)| std::mem::replace(held, value)),
            Some(Err(at)) => {
                if let Some(slot) = self.slots.get_mut(at) {
                    *slot = Some((key, value));
                    self.len += 1;
                }
                None
            }
            None => None,
        }
    }

    /// Takes `key` out; the entries after it in its run move back, so every probe
    /// still finds its key before an empty slot.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let mut hole = self.probe(key)?.ok()?;
        let (_, value) = self.slots.get_mut(hole)?.take()?;
        self.len -= 1;
        let mask = self.mask();
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let home = match self.slots.get(at) {
                Some(Some((held, _))) => self.home(held),
                _ => break,
            };
            // The entry at `at` may fill the hole unless its home lies cyclically
            // after the hole, up to `at`.
            let stays = if hole <= at {
                hole < home && home <= at
            } else {
                hole < home || home <= at
            };
            if !stays {
                let moved = self.slots.get_mut(at).and_then(Option::take);
                if let Some(slot) = self.slots.get_mut(hole) {
                    *slot = moved;
                }
                hole = at;
            }
        }
        Some(value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.slots
            .iter()
            .filter_map(|slot| slot.as_ref().map(|(key, value)| (key, value)))
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, (0..size).map(|_| None).collect());
        self.len = 0;
        for (key, value) in old.into_iter().flatten() {
            self.insert(key, value);
        }
    }
}

impl<K: Key> Table<K, ()> {
    /// Adds `key`; whether it was new.
    pub fn add(&mut self, key: K) -> bool {
        self.insert(key, ()).is_none()
    }
}

impl Key for String {
    fn hash(&self) -> u64 {
        self.as_str().hash()
    }
}

impl<A: Key, B: Key> Key for (A, B) {
    fn hash(&self) -> u64 {
        self.0.hash().rotate_left(5) ^ self.1.hash()
    }
}

impl<T: Key> Key for Option<T> {
    fn hash(&self) -> u64 {
        self.as_ref().map_or(0, Key::hash)
    }
}

impl Key for str {
    fn hash(&self) -> u64 {
        crate::http::fnv1a(self.as_bytes())
    }
}

impl<T: Key + ?Sized> Key for &T {
    fn hash(&self) -> u64 {
        (**self).hash()
    }
}

/// Sorts `items` ascending, in place, in O(n log n) with no allocation (not stable).
pub fn sort<T: Ord>(items: &mut [T]) {
    // Moves the item at `root` down until it is larger than its children, within `end`.
    fn sift_down<T: Ord>(items: &mut [T], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && items.get(child) < items.get(child + 1) {
                child += 1;
            }
            if items.get(root) >= items.get(child) {
                return;
            }
            items.swap(root, child);
            root = child;
        }
    }
    let len = items.len();
    for root in (0..len / 2).rev() {
        sift_down(items, root, len);
    }
    for end in (1..len).rev() {
        items.swap(0, end);
        sift_down(items, 0, end);
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
