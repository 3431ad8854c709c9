//! An in-memory host for tests: set canned replies, then assert the calls made.
//!
//! It copies the failure modes of Theater 0.2.1's store that matter for crash
//! safety: a content write is skipped when a file with that hash exists (even a torn
//! one), an empty label reads as no label, and [`FakeHost::crash_at`] kills the
//! "server" in the middle of any write, leaving it torn the way a `kill -9` would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// How the write that a crash hits is left on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tear {
    /// The file exists and is empty (truncated, nothing written yet).
    Empty,
    /// The first half of the bytes made it.
    Half,
    /// The write was still in flight when the next `n` writes completed (tokio's
    /// `File::write_all` returns before its blocking write has run): this content
    /// is left half-written, the following `n` writes land, then the crash.
    Overtaken(u8),
}

/// Every way a write can be left, for tests that try them all.
pub const ALL_TEARS: [Tear; 5] = [
    Tear::Empty,
    Tear::Half,
    Tear::Overtaken(1),
    Tear::Overtaken(2),
    Tear::Overtaken(3),
];

#[derive(Default)]
pub struct FakeHost {
    pub now: Cell<u64>,
    pub env: RefCell<HashMap<String, String>>,
    /// store id -> hash -> content
    pub content: RefCell<HashMap<String, BTreeMap<String, Vec<u8>>>>,
    /// store id -> label -> hash (an empty string is a torn label)
    pub labels: RefCell<HashMap<String, BTreeMap<String, String>>>,
    pub http_replies: RefCell<VecDeque<Result<HttpResponse, HostError>>>,
    pub http_sent: RefCell<Vec<HttpRequest>>,
    pub served: RefCell<Vec<ServerSpec>>,
    pub ws_sent: RefCell<Vec<(u64, String)>>,
    /// Connections whose sends fail, as if the browser went away.
    pub ws_gone: RefCell<Vec<u64>>,
    pub logs: RefCell<Vec<String>>,
    /// When set, every store write fails (reads still work).
    pub fail_writes: Cell<bool>,
    /// The next this many object reads return only the first half of the object, as
    /// Theater 0.2.1 does while a write it acknowledged is still in flight.
    pub short_reads: Cell<u32>,
    /// Store calls made (reads and writes).
    pub calls: Cell<u64>,
    /// Bytes handed to the store in writes.
    pub bytes_written: Cell<u64>,
    /// Single file writes done so far (a content file, a label file, a removal).
    pub writes: Cell<u64>,
    crash: Cell<Option<(u64, Tear)>>,
    /// The crash has happened: every later call fails, as nothing runs any more.
    pub dead: Cell<bool>,
    /// Writes that still land before an overtaken write's crash.
    land_then_die: Cell<Option<u8>>,
    /// (manifest, init bytes) of every child spawned.
    pub spawned: RefCell<Vec<(String, Vec<u8>)>>,
    pub spawn_fails: Cell<bool>,
    pub stopped: RefCell<Vec<String>>,
    /// (actor, bytes) of every message a worker sent.
    pub messages: RefCell<Vec<(String, Vec<u8>)>>,
    /// Page files read (`read_file` calls).
    pub file_reads: Cell<u64>,
    /// When set, no page file can be read, as if the package's `assets/web` were gone.
    pub files_gone: Cell<bool>,
}

impl FakeHost {
    pub fn new() -> Self {
        let host = Self::default();
        host.now.set(1_700_000_000_000);
        host
    }

    pub fn set_env(&self, name: &str, value: &str) {
        self.env
            .borrow_mut()
            .insert(name.to_string(), value.to_string());
    }

    pub fn reply_with(&self, reply: Result<HttpResponse, HostError>) {
        self.http_replies.borrow_mut().push_back(reply);
    }

    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    /// Kills the server during file write number `write` (counted from 0 over the
    /// host's life, see `writes`), leaving that write torn as `tear` says.
    pub fn crash_at(&self, write: u64, tear: Tear) {
        self.crash.set(Some((write, tear)));
    }

    /// A new server process on the same disk: the files as the crash left them, a
    /// clock that moved on, nothing in flight.
    pub fn restarted(&self) -> FakeHost {
        let host = FakeHost::new();
        host.now.set(self.now.get() + 1_000);
        *host.env.borrow_mut() = self.env.borrow().clone();
        *host.content.borrow_mut() = self.content.borrow().clone();
        *host.labels.borrow_mut() = self.labels.borrow().clone();
        host
    }

    /// A request is over. A write still in flight at this point is killed with it:
    /// no request outlives its own writes.
    pub fn end_of_request(&self) {
        if self.land_then_die.take().is_some() {
            self.dead.set(true);
        }
    }

    /// What `f` returns, and the store calls it made.
    pub fn calls_during<T>(&self, f: impl FnOnce() -> T) -> (T, u64) {
        let before = self.calls.get();
        let value = f();
        (value, self.calls.get() - before)
    }

    /// Every byte the actor ever handed to the host, for secret-leak checks.
    pub fn everything_written(&self) -> String {
        let mut all = String::new();
        for store in self.content.borrow().values() {
            for bytes in store.values() {
                all.push_str(&String::from_utf8_lossy(bytes));
            }
        }
        for line in self.logs.borrow().iter() {
            all.push_str(line);
        }
        for (_, text) in self.ws_sent.borrow().iter() {
            all.push_str(text);
        }
        all
    }

    fn count(&self) -> Result<(), HostError> {
        self.calls.set(self.calls.get() + 1);
        if self.dead.get() {
            return Err(HostError::new("store", "the server is gone"));
        }
        Ok(())
    }

    /// Accounts for one file write; says how it ends.
    fn write_step(&self) -> Result<Option<Tear>, HostError> {
        if self.dead.get() {
            return Err(HostError::new("store", "the server is gone"));
        }
        if self.fail_writes.get() {
            return Err(HostError::new("store", "disk full"));
        }
        let n = self.writes.get();
        self.writes.set(n + 1);
        if let Some(left) = self.land_then_die.get() {
            // This write lands; after the last of them, the process dies.
            if left <= 1 {
                self.land_then_die.set(None);
                self.dead.set(true);
            } else {
                self.land_then_die.set(Some(left - 1));
            }
            return Ok(None);
        }
        match self.crash.get() {
            Some((at, tear)) if at == n => {
                self.crash.set(None);
                if let Tear::Overtaken(n) = tear {
                    self.land_then_die.set(Some(n.max(1)));
                } else {
                    self.dead.set(true);
                }
                Ok(Some(tear))
            }
            _ => Ok(None),
        }
    }

    fn put_content(&self, store_id: &str, content: &[u8]) -> Result<String, HostError> {
        let hash = content_hash(content);
        let exists = self
            .content
            .borrow()
            .get(store_id)
            .is_some_and(|store| store.contains_key(&hash));
        // Like Theater 0.2.1: an existing file is never rewritten, torn or not.
        if exists {
            return Ok(hash);
        }
        let tear = self.write_step()?;
        self.bytes_written
            .set(self.bytes_written.get() + content.len() as u64);
        let kept = match tear {
            None => content.to_vec(),
            Some(Tear::Empty) => Vec::new(),
            Some(Tear::Half | Tear::Overtaken(_)) => content[..content.len() / 2].to_vec(),
        };
        self.content
            .borrow_mut()
            .entry(store_id.to_string())
            .or_default()
            .insert(hash.clone(), kept);
        if self.dead.get() {
            return Err(HostError::new("store", "the server is gone"));
        }
        Ok(hash)
    }

    fn set_label(&self, store_id: &str, label: &str, hash: &str) -> Result<(), HostError> {
        let exists = self
            .content
            .borrow()
            .get(store_id)
            .is_some_and(|store| store.contains_key(hash));
        if !exists {
            return Err(HostError::new(
                "label",
                format!("Content does not exist: {hash}"),
            ));
        }
        let tear = self.write_step()?;
        let kept = match tear {
            None | Some(Tear::Overtaken(_)) => hash.to_string(),
            Some(Tear::Empty) => String::new(),
            Some(Tear::Half) => hash[..hash.len() / 2].to_string(),
        };
        self.labels
            .borrow_mut()
            .entry(store_id.to_string())
            .or_default()
            .insert(label.to_string(), kept);
        if self.dead.get() {
            return Err(HostError::new("label", "the server is gone"));
        }
        Ok(())
    }
}

/// 160 bits of FNV-1a over three seeds: stable, collision-free enough for tests,
/// and shaped like the store's SHA-1 hex.
pub fn content_hash(content: &[u8]) -> String {
    let fnv = |seed: u64| {
        let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
        for byte in content {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    };
    format!("{:016x}{:016x}{:08x}", fnv(1), fnv(2), fnv(3) as u32)
}

impl Env for FakeHost {
    fn env_var(&self, name: &str) -> Option<String> {
        self.env.borrow().get(name).cloned()
    }
}

impl Outbound for FakeHost {
    fn http_send(&self, request: &HttpRequest) -> Result<HttpResponse, HostError> {
        self.http_sent.borrow_mut().push(request.clone());
        self.http_replies
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| Err(HostError::new("send-http", "no canned reply")))
    }
}

impl crate::worker::WorkerHost for FakeHost {
    fn log(&self, line: &str) {
        self.logs.borrow_mut().push(line.to_string());
    }

    fn send(&self, actor: &str, message: &[u8]) -> Result<(), HostError> {
        self.messages
            .borrow_mut()
            .push((actor.to_string(), message.to_vec()));
        Ok(())
    }
}

impl Host for FakeHost {
    fn log(&self, line: &str) {
        self.logs.borrow_mut().push(line.to_string());
    }

    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    fn store_put(&self, store_id: &str, content: &[u8]) -> Result<String, HostError> {
        self.count()?;
        self.put_content(store_id, content)
    }

    fn store_get(&self, store_id: &str, hash: &str) -> Result<Vec<u8>, HostError> {
        self.count()?;
        let mut bytes = self
            .content
            .borrow()
            .get(store_id)
            .and_then(|store| store.get(hash))
            .cloned()
            .ok_or_else(|| HostError::new("get", format!("no content {hash}")))?;
        if self.short_reads.get() > 0 {
            self.short_reads.set(self.short_reads.get() - 1);
            bytes.truncate(bytes.len() / 2);
        }
        Ok(bytes)
    }

    fn label_get(&self, store_id: &str, label: &str) -> Result<Option<String>, HostError> {
        self.count()?;
        // Theater 0.2.1 reads an empty label file as no label.
        Ok(self
            .labels
            .borrow()
            .get(store_id)
            .and_then(|labels| labels.get(label))
            .filter(|hash| !hash.is_empty())
            .cloned())
    }

    fn label_set(&self, store_id: &str, label: &str, hash: &str) -> Result<(), HostError> {
        self.count()?;
        self.set_label(store_id, label, hash)
    }

    fn label_remove(&self, store_id: &str, label: &str) -> Result<(), HostError> {
        self.count()?;
        // Removing a file is atomic: a crash there means it did not happen.
        if self.write_step()?.is_some() {
            return Err(HostError::new("remove-label", "the server is gone"));
        }
        if let Some(labels) = self.labels.borrow_mut().get_mut(store_id) {
            labels.remove(label);
        }
        Ok(())
    }

    fn store_at_label(
        &self,
        store_id: &str,
        label: &str,
        content: &[u8],
    ) -> Result<String, HostError> {
        self.count()?;
        let hash = self.put_content(store_id, content)?;
        self.set_label(store_id, label, &hash)?;
        Ok(hash)
    }

    fn label_list(&self, store_id: &str) -> Result<Vec<String>, HostError> {
        self.count()?;
        Ok(self
            .labels
            .borrow()
            .get(store_id)
            .map(|labels| labels.keys().cloned().collect())
            .unwrap_or_default())
    }

    fn spawn(&self, manifest: &str, init: &[u8]) -> Result<String, HostError> {
        if self.spawn_fails.get() {
            return Err(HostError::new("spawn", "Failed to load the component"));
        }
        let mut spawned = self.spawned.borrow_mut();
        spawned.push((manifest.to_string(), init.to_vec()));
        Ok(format!("child-{}", spawned.len()))
    }

    fn stop_child(&self, child_id: &str) -> Result<(), HostError> {
        self.stopped.borrow_mut().push(child_id.to_string());
        Ok(())
    }

    /// The package's page files are the checkout's `assets/web`; `NAME.gz` is NAME
    /// gzipped, in stored (uncompressed) blocks: a valid gzip stream, which is all the
    /// core sees. How small the package's real `.gz` files are is tested end to end.
    fn read_file(&self, name: &str) -> Result<Vec<u8>, HostError> {
        self.file_reads.set(self.file_reads.get() + 1);
        let missing = || HostError::new("read-file", "No such file or directory (os error 2)");
        if self.files_gone.get() || name.contains("..") || name.starts_with('/') {
            return Err(missing());
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/web");
        match name.strip_suffix(".gz") {
            Some(plain) => std::fs::read(dir.join(plain)).map(|bytes| stored_gzip(&bytes)),
            None => std::fs::read(dir.join(name)),
        }
        .map_err(|_| missing())
    }

    fn random_bytes(&self, length: u32) -> Result<Vec<u8>, HostError> {
        // Distinct on every call, which is all the tests need.
        let n = self.calls.get().wrapping_add(self.now.get());
        Ok((0..length)
            .map(|i| (n.wrapping_mul(31).wrapping_add(u64::from(i)) % 251) as u8)
            .collect())
    }

    fn serve(&self, spec: &ServerSpec) -> Result<ServerHandle, HostError> {
        self.served.borrow_mut().push(spec.clone());
        Ok(ServerHandle {
            server_id: 7,
            port: if spec.port == 0 { 40_000 } else { spec.port },
        })
    }

    fn ws_send_text(&self, _server: u64, connection: u64, text: &str) -> Result<(), HostError> {
        if self.ws_gone.borrow().contains(&connection) {
            return Err(HostError::new("send-websocket-message", "closed"));
        }
        self.ws_sent
            .borrow_mut()
            .push((connection, text.to_string()));
        Ok(())
    }
}

/// `bytes` as a gzip stream of stored deflate blocks (RFC 1951 3.2.4, RFC 1952).
fn stored_gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut blocks = bytes.chunks(0xffff).peekable();
    if blocks.peek().is_none() {
        out.extend([1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(block);
    }
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    out.extend((!crc).to_le_bytes());
    out.extend((bytes.len() as u32).to_le_bytes());
    out
}
