//! The objects of the store the actor used last, kept in its own memory.
//!
//! Theater 0.2.1 runs every call of an actor on one wasm instance (theater-0.2.1
//! `src/wasm.rs`, `ActorInstance::call_function` reuses its `Store`), so the instance's
//! memory lives from `init` until the actor stops, while every host call is recorded
//! for the actor's life and costs the request its round trip. Store objects are
//! content-addressed and never change: the bytes of hash `h` are the bytes of `h`
//! forever, so a copy of them can never be stale, whoever moves the labels. [`Cached`]
//! puts such copies in front of any [`Host`]:
//! - every object the actor stores, with the exact bytes it handed over;
//! - every object it reads that parses as JSON. A read that comes back short (a write
//!   still in flight, or torn by a kill) never parses, so it is never kept, and
//!   `store::read_object` reads it again as before.
//!
//! Labels are never cached: they change; the hints in the actor state name the hashes.
//! A kill takes the memory, and so every copy, with it.
//!
//! One thing a copy cannot tell is whether the file under it is whole yet: Theater
//! acknowledges a write before its last bytes are in the file. A record write points
//! its backup label at the version before ([`crate::store::Records::write`]), which
//! must be whole on disk by then, so it asks [`Host::confirm_stored`] first: a copy
//! that came from the store itself is whole there; one the actor stored is read back
//! once from the store (again while it reads short) before it counts as whole.
//!
//! Bounded: at most [`BUDGET`] bytes of copies, none over [`LARGEST`]; the least
//! recently used go first, a batch at a time (down to [`AFTER_EVICTION`]), so that
//! finding them, a pass over every copy, happens once per batch and not once per copy.
//!
//! The page's files are kept the same way once read ([`Host::read_file`]): they do not
//! change while the actor runs, and each read would record the whole file in the event
//! chain again. They are a fixed set of names (about 90 KB gzipped, 240 KB plain, and a
//! browser asks only for the gzipped ones), so they are kept apart from the budget.

use super::{Env, Host, HostError, HttpRequest, HttpResponse, Outbound, ServerHandle, ServerSpec};
use crate::store::{confirm_whole, ObjectError};
use crate::table::Table;
use std::cell::RefCell;
use std::ops::Deref;

/// Most bytes of copies kept (about 1 MiB of the actor's memory, which never shrinks).
pub const BUDGET: usize = 1 << 20;
/// The largest object copied; a larger one is read from the store each time.
pub const LARGEST: usize = BUDGET / 8;
/// Bytes of copies left once the budget is exceeded and the oldest are dropped.
pub const AFTER_EVICTION: usize = BUDGET - BUDGET / 8;

struct Kept {
    bytes: Vec<u8>,
    /// When it was last used (a counter).
    used: u64,
    /// Its bytes were read whole from the store, not only handed to it.
    whole_on_disk: bool,
}

#[derive(Default)]
struct Copies {
    /// (store id, hash) -> copy
    by_hash: Table<(String, String), Kept>,
    bytes: usize,
    clock: u64,
}

impl Copies {
    fn tick(&mut self) -> u64 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
    }

    fn get(&mut self, key: &(String, String)) -> Option<Vec<u8>> {
        let now = self.tick();
        self.by_hash.get_mut(key).map(|copy| {
            copy.used = now;
            copy.bytes.clone()
        })
    }

    fn keep(&mut self, key: (String, String), bytes: &[u8], whole_on_disk: bool) {
        if bytes.len() > LARGEST {
            return;
        }
        let used = self.tick();
        if let Some(copy) = self.by_hash.get_mut(&key) {
            copy.used = used;
            copy.whole_on_disk |= whole_on_disk;
            return;
        }
        self.bytes += bytes.len();
        self.by_hash.insert(
            key,
            Kept {
                bytes: bytes.to_vec(),
                used,
                whole_on_disk,
            },
        );
        if self.bytes > BUDGET {
            self.evict();
        }
    }

    /// Drops the least recently used copies until [`AFTER_EVICTION`] bytes are left.
    fn evict(&mut self) {
        let mut by_age: Vec<(u64, &(String, String))> = self
            .by_hash
            .iter()
            .map(|(key, copy)| (copy.used, key))
            .collect();
        crate::table::sort(&mut by_age);
        let mut left = self.bytes;
        let mut dropped = Vec::new();
        for (_, key) in by_age {
            if left <= AFTER_EVICTION {
                break;
            }
            if let Some(copy) = self.by_hash.get(key) {
                left = left.saturating_sub(copy.bytes.len());
                dropped.push(key.clone());
            }
        }
        for key in dropped {
            if let Some(copy) = self.by_hash.remove(&key) {
                self.bytes -= copy.bytes.len();
            }
        }
    }
}

/// A host with copies of store objects in front of it (see the module's notes).
pub struct Cached<H> {
    inner: H,
    copies: RefCell<Copies>,
    /// (name, bytes) of the page files read so far.
    files: RefCell<Vec<(String, Vec<u8>)>>,
}

impl<H> Cached<H> {
    pub fn new(inner: H) -> Self {
        Self {
            inner,
            copies: RefCell::new(Copies::default()),
            files: RefCell::new(Vec::new()),
        }
    }

    /// Copies kept and their bytes.
    #[cfg(test)]
    pub fn held(&self) -> (usize, usize) {
        let copies = self.copies.borrow();
        (copies.by_hash.len(), copies.bytes)
    }

    /// Drops every copy, as a restart does, for tests that count what reading from the
    /// store itself costs.
    #[cfg(test)]
    pub fn forget(&self) {
        *self.copies.borrow_mut() = Copies::default();
    }

    fn keep(&self, store_id: &str, hash: &str, bytes: &[u8], whole_on_disk: bool) {
        self.copies.borrow_mut().keep(
            (store_id.to_string(), hash.to_string()),
            bytes,
            whole_on_disk,
        );
    }
}

/// The wrapped host, for what only it has (a test's fake disk, its counters).
impl<H> Deref for Cached<H> {
    type Target = H;

    fn deref(&self) -> &H {
        &self.inner
    }
}

impl<H: Env> Env for Cached<H> {
    fn env_var(&self, name: &str) -> Option<String> {
        self.inner.env_var(name)
    }
}

impl<H: Outbound> Outbound for Cached<H> {
    fn http_send(&self, request: &HttpRequest) -> Result<HttpResponse, HostError> {
        self.inner.http_send(request)
    }
}

impl<H: Host> Host for Cached<H> {
    fn log(&self, line: &str) {
        self.inner.log(line);
    }

    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }

    fn store_put(&self, store_id: &str, content: &[u8]) -> Result<String, HostError> {
        let hash = self.inner.store_put(store_id, content)?;
        self.keep(store_id, &hash, content, false);
        Ok(hash)
    }

    fn store_get(&self, store_id: &str, hash: &str) -> Result<Vec<u8>, HostError> {
        let key = (store_id.to_string(), hash.to_string());
        if let Some(bytes) = self.copies.borrow_mut().get(&key) {
            return Ok(bytes);
        }
        let bytes = self.inner.store_get(store_id, hash)?;
        // A whole JSON value; a short read of one never is.
        if crate::json::is_whole(&bytes) {
            self.keep(store_id, hash, &bytes, true);
        }
        Ok(bytes)
    }

    fn confirm_stored(&self, store_id: &str, hash: &str) -> Result<(), HostError> {
        let key = (store_id.to_string(), hash.to_string());
        let stored = match self.copies.borrow().by_hash.get(&key) {
            // Not copied: the caller read it from the store itself.
            None => return self.inner.confirm_stored(store_id, hash),
            Some(kept) if kept.whole_on_disk => return Ok(()),
            Some(kept) => kept.bytes.clone(),
        };
        // Read back as any object is: again while it reads short (a short read never
        // parses), so it parses once its file is whole.
        match confirm_whole(&self.inner, store_id, hash) {
            Ok(_) => {
                self.keep(store_id, hash, &stored, true);
                Ok(())
            }
            Err(ObjectError::Missing(error)) => Err(error),
            Err(ObjectError::Unreadable(_)) => Err(HostError::new(
                "get",
                format!("object {hash} stays short in the store"),
            )),
        }
    }

    fn label_get(&self, store_id: &str, label: &str) -> Result<Option<String>, HostError> {
        self.inner.label_get(store_id, label)
    }

    fn label_set(&self, store_id: &str, label: &str, hash: &str) -> Result<(), HostError> {
        self.inner.label_set(store_id, label, hash)
    }

    fn label_remove(&self, store_id: &str, label: &str) -> Result<(), HostError> {
        self.inner.label_remove(store_id, label)
    }

    fn store_at_label(
        &self,
        store_id: &str,
        label: &str,
        content: &[u8],
    ) -> Result<String, HostError> {
        let hash = self.inner.store_at_label(store_id, label, content)?;
        self.keep(store_id, &hash, content, false);
        Ok(hash)
    }

    fn label_list(&self, store_id: &str) -> Result<Vec<String>, HostError> {
        self.inner.label_list(store_id)
    }

    fn serve(&self, spec: &ServerSpec) -> Result<ServerHandle, HostError> {
        self.inner.serve(spec)
    }

    fn ws_send_text(
        &self,
        server_id: u64,
        connection_id: u64,
        text: &str,
    ) -> Result<(), HostError> {
        self.inner.ws_send_text(server_id, connection_id, text)
    }

    fn spawn(&self, manifest: &str, init: &[u8]) -> Result<String, HostError> {
        self.inner.spawn(manifest, init)
    }

    fn stop_child(&self, child_id: &str) -> Result<(), HostError> {
        self.inner.stop_child(child_id)
    }

    fn random_bytes(&self, length: u32) -> Result<Vec<u8>, HostError> {
        self.inner.random_bytes(length)
    }

    fn read_file(&self, name: &str) -> Result<Vec<u8>, HostError> {
        if let Some((_, bytes)) = self.files.borrow().iter().find(|(kept, _)| kept == name) {
            return Ok(bytes.clone());
        }
        let bytes = self.inner.read_file(name)?;
        self.files
            .borrow_mut()
            .push((name.to_string(), bytes.clone()));
        Ok(bytes)
    }
}

#[cfg(test)]
#[path = "cached_tests.rs"]
mod tests;
