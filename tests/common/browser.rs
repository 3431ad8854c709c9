//! A chromedriver process driving one headless Debian Chromium session over WebDriver.

use super::{free_port, response, wait_until};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process and one browser session, both ended on drop.
/// A script returning each message shown as `[role, text]`.
pub const MESSAGES: &str =
    "return Array.from(document.querySelectorAll('[data-testid=message]')).map(m => \
     [m.dataset.role, m.querySelector('[data-testid=message-content]').textContent]);";

/// The "k/N" of each message's versions ("" for a message without siblings).
pub const VERSIONS: &str =
    "return Array.from(document.querySelectorAll('[data-testid=message]')).map(m => { \
       const v = m.querySelector('[data-testid=versions]'); \
       return v ? v.textContent.replace(/[‹›]/g, '') : ''; });";

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    /// Chromium's profile (about 3 MB) and temporary files, removed on drop.
    home: std::path::PathBuf,
}

impl Browser {
    pub fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: apt-get install chromium chromium-driver (scripts/test does)"
        );
        let port = free_port();
        // One directory per browser (two tabs of a test are two browsers): Chromium's
        // profile, and the temporary directories chromedriver and Chromium make
        // (`org.chromium.Chromium.scoped_dir.*`), all removed on drop.
        let home = std::env::temp_dir().join(format!("chat-browser-{}-{port}", std::process::id()));
        let scratch = home.join("tmp");
        std::fs::create_dir_all(&scratch).expect("cannot make the browser's directory");
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .env("TMPDIR", &scratch)
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
        let profile = home.join("profile");
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
            home,
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

    pub fn goto(&self, url: &str) {
        self.command(
            "POST",
            &self.session_path("/url"),
            Some(json!({ "url": url })),
        );
    }

    /// Sets the window's size (a phone is 390 x 844).
    pub fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            &self.session_path("/window/rect"),
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Makes the page see `prefers-color-scheme: dark` (or light), through Chromium's
    /// DevTools protocol.
    pub fn color_scheme(&self, scheme: &str) {
        self.command(
            "POST",
            &self.session_path("/goog/cdp/execute"),
            Some(json!({
                "cmd": "Emulation.setEmulatedMedia",
                "params": { "features": [{ "name": "prefers-color-scheme", "value": scheme }] }
            })),
        );
    }

    /// Runs a script in the page and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        self.command(
            "POST",
            &self.session_path("/execute/sync"),
            Some(json!({ "script": script, "args": [] })),
        )
    }

    pub fn element(&self, css: &str) -> String {
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

    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.command(
            "POST",
            &self.session_path(&format!("/element/{id}/click")),
            Some(json!({})),
        );
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.command(
            "POST",
            &self.session_path(&format!("/element/{id}/value")),
            Some(json!({ "text": text })),
        );
    }

    /// Waits until `script` returns something truthy; returns it.
    pub fn wait_for(&self, what: &str, script: &str) -> Value {
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

    /// Waits until the page opens a dialog (`confirm()`, `alert()`).
    pub fn wait_for_dialog(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}{}", self.base, self.session_path("/alert/text"));
            let open = self
                .agent
                .get(&url)
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|v| v["value"].is_string());
            if open {
                return;
            }
            assert!(Instant::now() < deadline, "no dialog opened");
            sleep(Duration::from_millis(50));
        }
    }

    /// Answers the page's open `confirm()` dialog; returns its text.
    pub fn answer_dialog(&self, accept: bool) -> String {
        let text = self.command("GET", &self.session_path("/alert/text"), None);
        let verb = if accept {
            "/alert/accept"
        } else {
            "/alert/dismiss"
        };
        self.command("POST", &self.session_path(verb), Some(json!({})));
        text.as_str().unwrap_or_default().to_string()
    }

    /// A Chrome DevTools Protocol command, through chromedriver.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.command(
            "POST",
            &self.session_path("/goog/cdp/execute"),
            Some(json!({ "cmd": cmd, "params": params })),
        )
    }

    /// Browser zoom: `percent` of a `width`×`height` window (CSS pixels shrink).
    pub fn zoom(&self, width: u32, height: u32, percent: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": width * 100 / percent,
                "height": height * 100 / percent,
                "deviceScaleFactor": f64::from(percent) / 100.0,
                "mobile": false,
            }),
        );
    }

    /// Saves a PNG under target/e2e/ for people to look at.
    pub fn screenshot(&self, name: &str) {
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
        // Chromium has quit with its session; a leftover process would only make this
        // fail, which leaves the directory as before.
        let _ = std::fs::remove_dir_all(&self.home);
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
