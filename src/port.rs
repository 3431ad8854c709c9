//! The host port: everything the actor asks of Theater, as one small trait.
//!
//! The bindings edge implements it over the real host functions; tests use
//! [`fake::FakeHost`], which keeps an in-memory store and records every call.

use thiserror::Error;

/// An HTTP request, in or out, with the body always present (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequest {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// A host call that failed. Its message comes from Theater and never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("host call {operation} failed: {message}")]
pub struct HostError {
    pub operation: &'static str,
    pub message: String,
}

impl HostError {
    pub fn new(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            message: message.into(),
        }
    }
}

/// What the HTTP server should look like; the edge turns it into framework calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    pub host: String,
    pub port: u16,
    /// (method, exact path) pairs.
    pub routes: Vec<(&'static str, &'static str)>,
    pub websocket_path: &'static str,
}

/// A running server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHandle {
    pub server_id: u64,
    pub port: u16,
}

/// Everything the actor needs from Theater. Methods take `&self`: a call into the actor
/// is single-threaded, and the fake records through interior mutability.
pub trait Host {
    /// One line in the theater-server log. Never pass a secret or a whole prompt.
    fn log(&self, line: &str);
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// A variable of the theater-server environment, if the manifest allows it.
    fn env_var(&self, name: &str) -> Option<String>;

    /// Stores immutable content; returns its hex content hash.
    fn store_put(&self, store_id: &str, content: &[u8]) -> Result<String, HostError>;
    fn store_get(&self, store_id: &str, hash: &str) -> Result<Vec<u8>, HostError>;
    fn label_get(&self, store_id: &str, label: &str) -> Result<Option<String>, HostError>;
    fn label_set(&self, store_id: &str, label: &str, hash: &str) -> Result<(), HostError>;
    fn label_remove(&self, store_id: &str, label: &str) -> Result<(), HostError>;

    /// Sends a request and waits for the whole response.
    fn http_send(&self, request: &HttpRequest) -> Result<HttpResponse, HostError>;

    /// Creates, routes and starts the HTTP server.
    fn serve(&self, spec: &ServerSpec) -> Result<ServerHandle, HostError>;
    /// Sends a text frame; an error means the connection is gone.
    fn ws_send_text(&self, server_id: u64, connection_id: u64, text: &str)
        -> Result<(), HostError>;
}

#[cfg(test)]
pub mod fake {
    //! An in-memory host for tests: set canned replies, then assert the calls made.

    use super::*;
    use std::cell::{Cell, RefCell};
    use std::collections::{BTreeMap, HashMap, VecDeque};

    #[derive(Default)]
    pub struct FakeHost {
        pub now: Cell<u64>,
        pub env: RefCell<HashMap<String, String>>,
        /// store id -> hash -> content
        pub content: RefCell<HashMap<String, BTreeMap<String, Vec<u8>>>>,
        /// store id -> label -> hash
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
        pub calls: Cell<u64>,
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

        fn count(&self) {
            self.calls.set(self.calls.get() + 1);
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

    impl Host for FakeHost {
        fn log(&self, line: &str) {
            self.logs.borrow_mut().push(line.to_string());
        }

        fn now_ms(&self) -> u64 {
            self.now.get()
        }

        fn env_var(&self, name: &str) -> Option<String> {
            self.env.borrow().get(name).cloned()
        }

        fn store_put(&self, store_id: &str, content: &[u8]) -> Result<String, HostError> {
            self.count();
            if self.fail_writes.get() {
                return Err(HostError::new("store", "disk full"));
            }
            let hash = content_hash(content);
            self.content
                .borrow_mut()
                .entry(store_id.to_string())
                .or_default()
                .insert(hash.clone(), content.to_vec());
            Ok(hash)
        }

        fn store_get(&self, store_id: &str, hash: &str) -> Result<Vec<u8>, HostError> {
            self.count();
            self.content
                .borrow()
                .get(store_id)
                .and_then(|store| store.get(hash))
                .cloned()
                .ok_or_else(|| HostError::new("get", format!("no content {hash}")))
        }

        fn label_get(&self, store_id: &str, label: &str) -> Result<Option<String>, HostError> {
            self.count();
            Ok(self
                .labels
                .borrow()
                .get(store_id)
                .and_then(|labels| labels.get(label))
                .cloned())
        }

        fn label_set(&self, store_id: &str, label: &str, hash: &str) -> Result<(), HostError> {
            self.count();
            if self.fail_writes.get() {
                return Err(HostError::new("label", "disk full"));
            }
            self.labels
                .borrow_mut()
                .entry(store_id.to_string())
                .or_default()
                .insert(label.to_string(), hash.to_string());
            Ok(())
        }

        fn label_remove(&self, store_id: &str, label: &str) -> Result<(), HostError> {
            self.count();
            if self.fail_writes.get() {
                return Err(HostError::new("remove-label", "disk full"));
            }
            if let Some(labels) = self.labels.borrow_mut().get_mut(store_id) {
                labels.remove(label);
            }
            Ok(())
        }

        fn http_send(&self, request: &HttpRequest) -> Result<HttpResponse, HostError> {
            self.http_sent.borrow_mut().push(request.clone());
            self.http_replies
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Err(HostError::new("send-http", "no canned reply")))
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
}
