//! The actor as a browser or curl sees it, over the fake host; workers are run in
//! place from what the actor spawned, so a test drives the whole generation path.

use crate::actor::{self, handle_request, init};
use crate::port::cached::Cached;
use crate::port::fake::FakeHost;
use crate::port::{HttpRequest, HttpResponse};
use crate::state::ActorState;
use serde_json::{json, Value};

pub const WORKER: &str = "/pkg/lib/worker.wasm";

/// A file of this crate, as committed.
pub fn on_disk(path: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

pub struct Harness {
    /// The fake host behind the copies the real actor keeps in its memory.
    pub host: Cached<FakeHost>,
    pub state: ActorState,
    /// The init state it was started with, for [`Self::restart`].
    init: String,
}

impl Harness {
    pub fn new() -> Self {
        Self::with_init(r#"{"store_id":"t"}"#)
    }

    /// An actor whose init state names the worker component.
    pub fn with_worker() -> Self {
        Self::with_init(&format!(
            r#"{{"store_id":"t","worker":"{WORKER}","timeouts":{{"openai":30}}}}"#
        ))
    }

    pub fn with_init(init_state: &str) -> Self {
        Self::with_env(init_state, &[])
    }

    /// An actor started with these variables in the server's environment.
    pub fn with_env(init_state: &str, env: &[(&str, &str)]) -> Self {
        let host = Cached::new(FakeHost::new());
        for (name, value) in env {
            host.set_env(name, value);
        }
        let state = init(&host, Some(init_state.as_bytes()), "5f0c6d2e-actor").unwrap();
        Self {
            host,
            state,
            init: init_state.to_string(),
        }
    }

    /// The server killed and started again on the same disk: the actor's memory and its
    /// state are gone, the store is as it was left.
    pub fn restart(&mut self) {
        let host = Cached::new(self.host.restarted());
        self.state = init(&host, Some(self.init.as_bytes()), "5f0c6d2e-actor").unwrap();
        self.host = host;
    }

    /// A page file as a browser fetches it (taking gzip), with its body unzipped.
    pub fn page_file(&mut self, path: &str) -> HttpResponse {
        let mut response = self.with_headers("GET", path, &[("Accept-Encoding", "gzip")], None);
        if response.header("content-encoding") == Some("gzip") {
            response.body = gunzip(&response.body);
        }
        response
    }

    /// A chat's JSON export (every branch), as the page downloads it.
    pub fn export_json(&mut self, chat: &str) -> Value {
        let response = self.raw("GET", &format!("/api/export?chat={chat}&format=json"), None);
        assert_eq!(
            response.status,
            200,
            "{:?}",
            String::from_utf8_lossy(&response.body)
        );
        serde_json::from_slice(&response.body).unwrap()
    }

    /// A request with extra headers (the Host header is always set).
    pub fn with_headers(
        &mut self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> HttpResponse {
        let mut all = vec![("Host".to_string(), "127.0.0.1:8084".to_string())];
        all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let body = match body {
            Some(body) => {
                all.push(("Content-Type".to_string(), "application/json".to_string()));
                body.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        self.host.advance(5);
        handle_request(
            &self.host,
            &mut self.state,
            HttpRequest {
                method: method.to_string(),
                uri: uri.to_string(),
                headers: all,
                body,
            },
        )
    }

    pub fn call(&mut self, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
        let response = self.raw(method, uri, body);
        let json = if response.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&response.body).unwrap_or(Value::Null)
        };
        (response.status, json)
    }

    pub fn raw(&mut self, method: &str, uri: &str, body: Option<Value>) -> HttpResponse {
        let mut headers = vec![("Host".to_string(), "127.0.0.1:8084".to_string())];
        let body = match body {
            Some(body) => {
                headers.push(("Content-Type".to_string(), "application/json".to_string()));
                body.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        let request = HttpRequest {
            method: method.to_string(),
            uri: uri.to_string(),
            headers,
            body,
        };
        self.host.advance(5);
        handle_request(&self.host, &mut self.state, request)
    }

    pub fn new_chat(&mut self) -> String {
        let (status, chat) = self.call("POST", "/api/chats", Some(json!({})));
        assert_eq!(status, 201, "{chat}");
        chat["id"].as_str().unwrap().to_string()
    }

    pub fn say(&mut self, chat: &str, text: &str) -> (u16, Value) {
        self.call(
            "POST",
            &format!("/api/messages?chat={chat}"),
            Some(json!({ "content": text })),
        )
    }

    pub fn messages(&mut self, chat: &str) -> Vec<(String, String)> {
        let (status, page) =
            self.call("GET", &format!("/api/messages?chat={chat}&limit=200"), None);
        assert_eq!(status, 200, "{page}");
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_string(),
                    m["content"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Queues what the provider answers the next worker.
    pub fn provider_answers(&self, status: u16, body: &str) {
        self.host.reply_with(Ok(HttpResponse {
            status,
            headers: vec![("retry-after".into(), "20".into())],
            body: body.as_bytes().to_vec(),
        }));
    }

    /// Runs the worker spawned last (its `init`), then hands its message to the actor
    /// as the runtime would (`handle-send`).
    pub fn run_worker(&mut self) {
        let last = self
            .host
            .spawned
            .borrow()
            .len()
            .checked_sub(1)
            .expect("no worker spawned");
        self.run_worker_at(last);
    }

    /// Runs the `index`th worker spawned (0 first), as [`Self::run_worker`].
    pub fn run_worker_at(&mut self, index: usize) {
        let (_, job) = self
            .host
            .spawned
            .borrow()
            .get(index)
            .cloned()
            .expect("no such worker");
        self.host.messages.borrow_mut().clear();
        crate::worker::run(&*self.host, &job).unwrap();
        let (to, report) = self.host.messages.borrow()[0].clone();
        assert_eq!(to, "5f0c6d2e-actor", "the report goes to the chat actor");
        self.host.advance(5);
        actor::worker_message(&self.host, &mut self.state, &report);
    }

    /// The WebSocket frames of this kind sent so far, parsed.
    pub fn pushed(&self, kind: &str) -> Vec<Value> {
        self.host
            .ws_sent
            .borrow()
            .iter()
            .map(|(_, text)| serde_json::from_str::<Value>(text).unwrap())
            .filter(|v| v["type"] == kind)
            .collect()
    }
}
