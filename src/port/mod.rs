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

/// The theater-server process's environment, as the manifest's environment handler
/// filters it. Provider keys come only from here.
pub trait Env {
    fn env_var(&self, name: &str) -> Option<String>;
}

/// Outbound HTTP. Only generation workers have it: the chat actor never waits on a
/// provider.
pub trait Outbound {
    /// Sends a request and waits for the whole response (0.2.1 has no timeout).
    fn http_send(&self, request: &HttpRequest) -> Result<HttpResponse, HostError>;
}

/// Everything the chat actor needs from Theater. Methods take `&self`: a call into the
/// actor is single-threaded, and the fake records through interior mutability.
pub trait Host: Env {
    /// One line in the theater-server log. Never pass a secret or a whole prompt.
    fn log(&self, line: &str);
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Stores immutable content; returns its hex content hash.
    fn store_put(&self, store_id: &str, content: &[u8]) -> Result<String, HostError>;
    fn store_get(&self, store_id: &str, hash: &str) -> Result<Vec<u8>, HostError>;
    /// Makes sure the object `hash`, which the caller holds, is whole in the store
    /// itself before a label is pointed at it. A host that hands out only what it read
    /// from the store has nothing to do; [`cached::Cached`] may hold bytes the actor
    /// stored a moment ago, and reads them back.
    fn confirm_stored(&self, _store_id: &str, _hash: &str) -> Result<(), HostError> {
        Ok(())
    }
    fn label_get(&self, store_id: &str, label: &str) -> Result<Option<String>, HostError>;
    fn label_set(&self, store_id: &str, label: &str, hash: &str) -> Result<(), HostError>;
    fn label_remove(&self, store_id: &str, label: &str) -> Result<(), HostError>;
    /// Stores content and points a label at it in one host call; returns the hash.
    /// Not atomic in 0.2.1: see `store` for what a crash can leave behind.
    fn store_at_label(
        &self,
        store_id: &str,
        label: &str,
        content: &[u8],
    ) -> Result<String, HostError>;
    /// The names of every label of the store, torn (empty) ones included.
    fn label_list(&self, store_id: &str) -> Result<Vec<String>, HostError>;

    /// Creates, routes and starts the HTTP server.
    fn serve(&self, spec: &ServerSpec) -> Result<ServerHandle, HostError>;
    /// Sends a text frame; an error means the connection is gone.
    fn ws_send_text(&self, server_id: u64, connection_id: u64, text: &str)
        -> Result<(), HostError>;

    /// Starts a child actor from manifest TOML; returns its id once it is instantiated
    /// (its `init` runs afterwards, on its own).
    fn spawn(&self, manifest: &str, init: &[u8]) -> Result<String, HostError>;
    /// Stops (in 0.2.1: detaches, if it is inside `send-http`) a child actor.
    fn stop_child(&self, child_id: &str) -> Result<(), HostError>;

    /// Unpredictable bytes (for socket tickets).
    fn random_bytes(&self, length: u32) -> Result<Vec<u8>, HostError>;

    /// One of the page's files, by its name in the package's `assets/web` (the
    /// manifest's filesystem handler): `app.js`, or `app.js.gz` gzipped.
    fn read_file(&self, name: &str) -> Result<Vec<u8>, HostError>;
}

/// Attempts of [`when_stored`].
pub const STORED_ATTEMPTS: u32 = 100;

/// Calls `add_route` (the http-framework's `add-route`) again while Theater 0.2.1 has not
/// yet stored the server just created or the handler just registered: `create-server` and
/// `register-handler` each store theirs from a task they spawn and do not wait for, and
/// `add-route` looks both up from another (theater-0.2.1
/// `src/host/framework/http_framework.rs`, "Server not found", "Handler not found").
/// Lost, the race makes `init` fail and the actor never serve; test starts hit both. A
/// failed attempt adds nothing, and each attempt is a host call that waits for its own
/// task, by which time the spawned stores have run.
pub fn when_stored(mut add_route: impl FnMut() -> Result<u64, String>) -> Result<u64, String> {
    let mut attempts = 1;
    loop {
        match add_route() {
            Err(error)
                if (error.starts_with("Server not found")
                    || error.starts_with("Handler not found"))
                    && attempts < STORED_ATTEMPTS =>
            {
                attempts += 1;
            }
            result => return result,
        }
    }
}

pub mod cached;

// Also built for the fuzz targets (`fake-host` feature), which drive the whole actor.
#[cfg(any(test, feature = "fake-host"))]
pub mod fake;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_added_once_the_runtime_has_stored_its_server_and_handler() {
        let mut errors = vec!["Handler not found: 1", "Server not found: 1"];
        let mut calls = 0;
        let added = when_stored(|| {
            calls += 1;
            match errors.pop() {
                Some(error) => Err(error.to_string()),
                None => Ok(7),
            }
        });
        assert_eq!((added, calls), (Ok(7), 3));
    }

    #[test]
    fn other_errors_and_a_server_that_never_appears_are_reported() {
        let mut calls = 0;
        let bad = when_stored(|| {
            calls += 1;
            Err("Invalid HTTP method: BREW".to_string())
        });
        assert_eq!(
            (bad, calls),
            (Err("Invalid HTTP method: BREW".to_string()), 1)
        );
        let mut calls = 0;
        let never = when_stored(|| {
            calls += 1;
            Err("Server not found: 9".to_string())
        });
        assert_eq!(never, Err("Server not found: 9".to_string()));
        assert_eq!(calls, STORED_ATTEMPTS);
    }
}
