//! The web page in a real headless Chromium, driven over WebDriver (chromedriver),
//! against the packaged actor on a real Theater 0.2.1 server.
//!
//! Needs Debian's `chromium` and `chromium-driver`, Theater on PATH and the package:
//! run through scripts/test, or `cargo test --test browser -- --ignored`.

// Test code: a failed expectation should stop the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::fake_openai::FakeOpenAi;
use common::{free_port, package_manifest, response, wait_until, Client, Theater};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process and one browser session, both ended on drop.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Browser {
    fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: apt-get install chromium chromium-driver (scripts/test does)"
        );
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is missing: apt-get install chromium-driver");
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        wait_until(
            "chromedriver did not start",
            Duration::from_secs(30),
            || agent.get(&format!("{base}/status")).call().is_ok(),
            String::new,
        );
        let profile = std::env::temp_dir().join(format!("chat-browser-{}", std::process::id()));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic",
                    "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let mut browser = Self {
            driver,
            base,
            session: String::new(),
            agent,
        };
        let created = browser.command("POST", "/session", Some(capabilities));
        browser.session = created["sessionId"]
            .as_str()
            .expect("no WebDriver session")
            .to_string();
        browser
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let request = self.agent.request(method, &url);
        let result = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        let response = response(result, &format!("WebDriver {method} {path}"));
        let value: Value = response.into_json().unwrap();
        if let Some(error) = value["value"]["error"].as_str() {
            panic!(
                "WebDriver {method} {path}: {error}: {}",
                value["value"]["message"]
            );
        }
        value["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{}", self.session, rest)
    }

    fn goto(&self, url: &str) {
        self.command(
            "POST",
            &self.session_path("/url"),
            Some(json!({ "url": url })),
        );
    }

    /// Runs a script in the page and returns its value.
    fn eval(&self, script: &str) -> Value {
        self.command(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({ "script": script, "args": [] })),
        )
    }

    fn element(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            &self.session_path("/element"),
            Some(json!({ "using": "css selector", "value": css })),
        );
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_string()
    }

    fn click(&self, css: &str) {
        let id = self.element(css);
        self.command(
            "POST",
            &self.session_path(&format!("/element/{id}/click")),
            Some(json!({})),
        );
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.command(
            "POST",
            &self.session_path(&format!("/element/{id}/value")),
            Some(json!({ "text": text })),
        );
    }

    /// Waits until `script` returns something truthy; returns it.
    fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self.eval(script);
            let truthy = !matches!(value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                self.screenshot("failure");
                panic!("timed out waiting for {what}");
            }
            sleep(Duration::from_millis(100));
        }
    }

    /// Saves a PNG under target/e2e/ for people to look at.
    fn screenshot(&self, name: &str) {
        let data = self.command("GET", &self.session_path("/screenshot"), None);
        if let Some(base64) = data.as_str() {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{name}.png")), decode_base64(base64));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(&format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let sextets: Vec<u8> = text.bytes().filter_map(value).collect();
    sextets
        .chunks(4)
        .flat_map(|chunk| {
            let n = chunk.iter().fold(0u32, |acc, s| (acc << 6) | u32::from(*s))
                << (6 * (4 - chunk.len()));
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            bytes.into_iter().take(chunk.len().saturating_sub(1))
        })
        .collect()
}

const MESSAGES: &str =
    "return Array.from(document.querySelectorAll('[data-testid=message]')).map(m => \
     [m.dataset.role, m.querySelector('[data-testid=message-content]').textContent]);";

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_user_chats_in_the_browser() {
    let manifest = package_manifest();
    let mut theater = Theater::start(&[]);
    let port = free_port();
    theater.start_actor(
        &manifest,
        &json!({ "port": port, "store_id": "browser-chat" }),
    );
    let client = Client::new(port);
    client.wait_ready(&theater);
    let url = format!("http://127.0.0.1:{port}/");

    let browser = Browser::start();
    browser.goto(&url);
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );

    // First message: the page creates a chat, the demo model answers.
    browser.type_into("[data-testid=composer]", "Hello from the browser");
    browser.click("[data-testid=send]");
    browser.wait_for(
        "the demo reply",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 1 \
         && !document.body.dataset.busy;",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown[0], json!(["user", "Hello from the browser"]));
    assert_eq!(shown[1][0], "assistant");
    assert!(shown[1][1]
        .as_str()
        .unwrap()
        .contains("\"Hello from the browser\" (4 words)"));
    browser.wait_for(
        "the auto title in the sidebar",
        "return Array.from(document.querySelectorAll('[data-testid=chat-title]'))\
         .some(t => t.textContent === 'Hello from the browser');",
    );
    browser.screenshot("conversation");

    // Hostile text renders as text: no element is created, no script runs.
    let hostile = "<img src=x onerror=\"document.body.dataset.pwned='1'\"><script>document.body.dataset.pwned='2'</script>";
    browser.type_into("[data-testid=composer]", &format!("{hostile}\u{E007}"));
    browser.wait_for(
        "the reply to the hostile message",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 2 \
         && !document.body.dataset.busy;",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown[2], json!(["user", hostile]));
    assert!(shown[3][1].as_str().unwrap().contains("<img src=x"));
    let injected = browser.eval(
        "return [document.body.dataset.pwned || null, \
         document.querySelectorAll('[data-testid=messages] img, [data-testid=messages] script').length];",
    );
    assert_eq!(injected, json!([null, 0]));

    // Rename in the sidebar.
    browser.click("[data-testid=chat-item] [data-testid=rename-chat]");
    browser.wait_for(
        "the rename box",
        "return !!document.querySelector('[data-testid=rename-input]');",
    );
    browser.eval("const i = document.querySelector('[data-testid=rename-input]'); i.value = '';");
    browser.type_into("[data-testid=rename-input]", "Renamed <i>chat</i>\u{E007}");
    browser.wait_for(
        "the new title",
        "return Array.from(document.querySelectorAll('[data-testid=chat-title]'))\
         .some(t => t.textContent === 'Renamed <i>chat</i>');",
    );

    // A reload shows the same chat, from the actor's store.
    browser.eval("location.reload();");
    browser.wait_for(
        "the page to reload",
        "return document.body.dataset.ready === '1';",
    );
    browser.wait_for(
        "the history after reload",
        "return document.querySelectorAll('[data-testid=message]').length === 4;",
    );
    let chats = client.expect(200, "GET", "/api/chats", None);
    assert_eq!(chats["chats"][0]["title"], "Renamed <i>chat</i>");
    assert_eq!(chats["chats"][0]["message_count"], 4);

    // A provider that is not configured says so, and the user's message stays.
    browser.eval(
        "const s = document.querySelector('[data-testid=model-select]'); \
         const o = Array.from(s.options).find(o => o.value.startsWith('openai/')); \
         o.disabled = false; s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true}));",
    );
    browser.wait_for(
        "the model change to be saved",
        "return fetch('/api/chats').then(r => r.json()).then(j => j.chats[0].provider === 'openai');",
    );
    browser.type_into("[data-testid=composer]", "Anyone there?\u{E007}");
    let error = browser.wait_for(
        "the provider error",
        "const e = document.querySelector('[data-testid=error]'); return e && e.textContent;",
    );
    assert!(
        error.as_str().unwrap().contains("OPENAI_API_KEY"),
        "{error}"
    );
    assert!(browser.eval("return !!document.querySelector('[data-testid=retry]');") == json!(true));
    let shown = browser.eval(MESSAGES);
    assert_eq!(
        shown.as_array().unwrap().last().unwrap(),
        &json!(["user", "Anyone there?"])
    );
    browser.screenshot("provider-error");
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_reply_in_progress_shows_and_can_be_stopped() {
    const KEY: &str = "sk-browser-test-key-0123456789";
    let manifest = package_manifest();
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let mut theater = Theater::start(&[("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", &base_url)]);
    let port = free_port();
    theater.start_actor(
        &manifest,
        &json!({ "port": port, "store_id": "browser-workers" }),
    );
    let client = Client::new(port);
    client.wait_ready(&theater);
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Held", "provider": "openai", "model": "fake-hold" })),
    );
    let id = chat["id"].as_str().unwrap();

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#{id}"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    browser.type_into("[data-testid=composer]", "Think hard\u{E007}");
    browser.wait_for(
        "the progress indicator with Stop",
        "return !!document.querySelector('[data-testid=thinking] [data-testid=stop]');",
    );
    wait_until(
        "the worker never reached the provider",
        Duration::from_secs(30),
        || fake.holding() == 1,
        || theater.server_log(),
    );
    // The page stays usable: the sidebar still lists and opens chats.
    assert!(
        browser.eval("return document.querySelectorAll('[data-testid=chat-item]').length;")
            == json!(1)
    );
    browser.screenshot("generating");
    browser.click("[data-testid=stop]");
    browser.wait_for(
        "the indicator to go",
        "return !document.querySelector('[data-testid=thinking]');",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown, json!([["user", "Think hard"]]));
    assert_eq!(
        client.expect(200, "GET", &format!("/api/generation?chat={id}"), None)["generation"]
            ["status"],
        "stopped"
    );

    // Once the provider answers, the next reply arrives by itself (socket or poll).
    fake.release();
    browser.type_into("[data-testid=composer]", "Now answer\u{E007}");
    browser.wait_for(
        "the reply",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 1;",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown[1], json!(["user", "Now answer"]));
    assert!(
        shown[2][1].as_str().unwrap().contains("Now answer"),
        "{shown}"
    );
    // The stopped generation's late answer was dropped, not shown.
    assert_eq!(shown.as_array().unwrap().len(), 3);
}
