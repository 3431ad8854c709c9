//! Harness for tests against the real Theater 0.2.1: a theater-server with its own
//! THEATER_HOME on a free port, the `theater` CLI, HTTP helpers, and fake providers on
//! 127.0.0.1 (OpenAI-compatible, Anthropic, Gemini, OpenRouter). Everything started
//! here is stopped by `Drop`, also when a test fails.

#![allow(dead_code)]

pub mod browser;
pub mod fake_http;
pub mod fake_openai;
pub mod fake_providers;

use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Polls `ready` until it holds; after `limit`, fails with `what` and `context()`.
pub fn wait_until(
    what: &str,
    limit: Duration,
    mut ready: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}\n{}", context());
        sleep(Duration::from_millis(200));
    }
}

/// A reply with any status is a response to inspect; only a transport failure fails.
pub fn response(result: Result<ureq::Response, ureq::Error>, what: &str) -> ureq::Response {
    match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{what}: {error}"),
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free port on 127.0.0.1")
}

/// The package built by scripts/build-component (or `CHAT_PACKAGE`).
pub fn package_manifest() -> PathBuf {
    let dir = std::env::var_os("CHAT_PACKAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/package"));
    let manifest = dir.join("actor.portable.toml");
    assert!(
        manifest.exists(),
        "{} is missing: run scripts/build-component first (scripts/test does)",
        manifest.display()
    );
    manifest
}

fn require_binary(name: &str) {
    let found = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "`{name}` is not on PATH: scripts/test installs Theater 0.2.1 and puts it there"
    );
}

/// A test's private THEATER_HOME: removed when the test passes; kept, and named, when it
/// fails, for what its logs say. Declared before (or held by) what runs in it, so dropped
/// after that has stopped.
pub struct Home(PathBuf);

impl Home {
    /// An empty `name` in the system's temporary directory.
    pub fn fresh(name: &str) -> Self {
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl std::ops::Deref for Home {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test failed; THEATER_HOME kept at {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A theater-server process with a private THEATER_HOME.
pub struct Theater {
    pub home: Home,
    pub address: String,
    server: Option<Child>,
    env: Vec<(String, String)>,
    actors: Vec<String>,
}

static NEXT_HOME: AtomicU32 = AtomicU32::new(0);

impl Theater {
    /// Starts a server whose environment also has `env` (what the actor's
    /// environment handler will see).
    pub fn start(env: &[(&str, &str)]) -> Self {
        require_binary("theater-server");
        require_binary("theater");
        let home = Home::fresh(&format!(
            "theater-chat-e2e-{}-{}",
            std::process::id(),
            NEXT_HOME.fetch_add(1, Ordering::SeqCst)
        ));
        let mut theater = Self {
            home,
            address: format!("127.0.0.1:{}", free_port()),
            server: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            actors: Vec::new(),
        };
        theater.start_server();
        theater
    }

    pub fn start_server(&mut self) {
        assert!(self.server.is_none(), "server already running");
        let log = std::fs::File::create(self.home.join("server.out")).unwrap();
        let child = Command::new("theater-server")
            .args(["--address", &self.address, "--log-stdout"])
            .env("THEATER_HOME", &*self.home)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("theater-server did not start");
        self.server = Some(child);
        // `theater list` ignores THEATER_SERVER_ADDRESS in 0.2.1; only its flag works.
        wait_until(
            &format!("theater-server did not answer on {}; log:", self.address),
            Duration::from_secs(60),
            || {
                self.cli(&["list", "--address", &self.address])
                    .status
                    .success()
            },
            || self.server_log(),
        );
    }

    /// Stops the server the way a user's Ctrl-C or a crash would leave it: the process
    /// is gone and every actor with it. `kill` sends SIGKILL, the harshest case.
    pub fn kill_server(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.actors.clear();
    }

    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new("theater")
            .args(args)
            .env("THEATER_SERVER_ADDRESS", &self.address)
            .env("THEATER_HOME", &*self.home)
            .stdin(Stdio::null())
            .output()
            .expect("could not run theater")
    }

    /// `theater start MANIFEST -i INIT --id-only`; returns the actor id.
    pub fn start_actor(&mut self, manifest: &Path, init: &Value) -> String {
        let init = init.to_string();
        let manifest = manifest.to_str().unwrap();
        let output = self.cli(&["start", manifest, "-i", &init, "--id-only"]);
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
        assert!(
            output.status.success() && !stdout.is_empty(),
            "theater start failed: {}\n{}\nserver log:\n{}",
            stdout,
            String::from_utf8_lossy(&output.stderr),
            self.server_log()
        );
        let id = stdout.lines().last().unwrap().trim().to_string();
        self.actors.push(id.clone());
        id
    }

    pub fn stop_actor(&mut self, id: &str) {
        let output = self.cli(&["stop", id]);
        assert!(
            output.status.success(),
            "theater stop failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.actors.retain(|actor| actor != id);
    }

    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.home.join("server.out")).unwrap_or_default()
    }

    /// Every file under THEATER_HOME, concatenated (for secret-leak checks).
    pub fn everything_on_disk(&self) -> Vec<u8> {
        fn walk(dir: &Path, out: &mut Vec<u8>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    out.extend_from_slice(&bytes);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.home, &mut out);
        out
    }
}

impl Drop for Theater {
    fn drop(&mut self) {
        for id in std::mem::take(&mut self.actors) {
            let _ = self.cli(&["stop", &id]);
        }
        self.kill_server();
        // The home is dropped next: kept, and named, when the test failed.
        if std::thread::panicking() {
            eprintln!(
                "theater-server log:\n{}",
                self.server_log()
                    .lines()
                    .rev()
                    .take(60)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}

/// A JSON HTTP client for the actor on 127.0.0.1.
pub struct Client {
    pub base: String,
    agent: ureq::Agent,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
    /// Bytes of the body as sent (gzipped, if it was).
    pub sent_bytes: usize,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    pub fn new(port: u16) -> Self {
        Self {
            base: format!("http://127.0.0.1:{port}"),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    pub fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request.send_string(body),
            None => request.call(),
        };
        let response = response(result, &format!("{method} {path}"));
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|name| {
                let value = response.header(&name)?.to_string();
                Some((name, value))
            })
            .collect();
        let gzipped = response.header("content-encoding") == Some("gzip");
        let mut body = Vec::new();
        let _ = std::io::Read::read_to_end(&mut response.into_reader(), &mut body);
        let sent_bytes = body.len();
        if gzipped {
            // The page files come gzipped; the text is what the browser unzips.
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
                .expect("a gzipped body that unzips");
            body = plain;
        }
        Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&body).into_owned(),
            sent_bytes,
        }
    }

    /// A page file as a browser gets it: taking gzip (the text is unzipped).
    pub fn page_file(&self, path: &str) -> Reply {
        self.raw(
            "GET",
            path,
            None,
            &[("Accept-Encoding", "gzip, deflate, br")],
        )
    }

    /// Like `call`, but a transport failure (the server is gone) is `None`, not a panic.
    pub fn try_call(&self, method: &str, path: &str, body: Option<&Value>) -> Option<Reply> {
        let request = self
            .agent
            .request(method, &format!("{}{}", self.base, path));
        let result = match body {
            Some(body) => request
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
            None => request.call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(_) => return None,
        };
        let status = response.status();
        let text = response.into_string().ok()?;
        Some(Reply {
            status,
            headers: Vec::new(),
            sent_bytes: text.len(),
            text,
        })
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        match body {
            Some(body) => self.raw(
                method,
                path,
                Some(&body.to_string()),
                &[("Content-Type", "application/json")],
            ),
            None => self.raw(method, path, None, &[]),
        }
    }

    /// Calls and asserts the status, returning the JSON body.
    pub fn expect(&self, status: u16, method: &str, path: &str, body: Option<Value>) -> Value {
        let reply = self.call(method, path, body);
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text);
        if reply.text.is_empty() {
            Value::Null
        } else {
            reply.json()
        }
    }

    /// Every message id of a chat's current branch, oldest first, walking back page by
    /// page.
    pub fn history(&self, chat: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let path = match &before {
                None => format!("/api/messages?chat={chat}&limit=200"),
                Some(b) => format!("/api/messages?chat={chat}&limit=200&before={b}"),
            };
            let page = self.expect(200, "GET", &path, None);
            let mut batch: Vec<String> = page["messages"]
                .as_array()
                .expect("a page of messages")
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect();
            before = batch.first().cloned();
            batch.extend(ids);
            ids = batch;
            if page["has_more"] != true {
                return ids;
            }
        }
    }

    /// Waits until the actor answers its health check.
    pub fn wait_ready(&self, theater: &Theater) {
        let healthy = || {
            self.agent
                .get(&format!("{}/api/health", self.base))
                .timeout(Duration::from_secs(2))
                .call()
                .map(|r| r.status() == 200)
                .unwrap_or(false)
        };
        wait_until(
            &format!("the actor never answered on {}; server log:", self.base),
            Duration::from_secs(60),
            healthy,
            || theater.server_log(),
        );
    }
}

/// Every chat on the list, following its pages (`next`) to the end.
pub fn all_chats(client: &Client) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = "/api/chats".to_string();
    loop {
        let page = client.expect(200, "GET", &path, None);
        all.extend(page["chats"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("/api/chats?before={next}"),
            None => return all,
        }
    }
}

/// A fake OpenAI-compatible provider taking `key`, and the package served by a
/// theater-server that has the key and points the OpenAI provider at the fake, its store
/// named `store_id`: the fake, the server, a client, the port.
pub fn serve_with_fake_openai(
    key: &str,
    store_id: &str,
) -> (fake_openai::FakeOpenAi, Theater, Client, u16) {
    let fake = fake_openai::FakeOpenAi::start(key);
    let base_url = fake.base_url();
    let (theater, client, port) = serve_package(
        &[("OPENAI_API_KEY", key), ("OPENAI_BASE_URL", &base_url)],
        serde_json::json!({ "store_id": store_id }),
    );
    (fake, theater, client, port)
}

/// A theater-server started with `env`, and the package's actor on a free port with the
/// init fields `init` (plus that `port`), answering: the server, a client, the port.
pub fn serve_package(env: &[(&str, &str)], init: Value) -> (Theater, Client, u16) {
    let mut theater = Theater::start(env);
    let port = free_port();
    let mut init = init;
    init["port"] = serde_json::json!(port);
    theater.start_actor(&package_manifest(), &init);
    let client = Client::new(port);
    client.wait_ready(&theater);
    (theater, client, port)
}
