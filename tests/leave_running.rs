//! Leave it running: the runner that `scripts/run` and `nix run` use
//! (`nix/theater-chat.sh`) restarts the chat actor to free the runtime's memory while
//! traffic flows, and keeps a private, small log.
//!
//! - With the rotation threshold below what the server uses, it rotates by itself.
//! - Under a steady stream of posts and page reads, three rotations lose no acknowledged
//!   write (a request cut by a rotation fails, and is retried, as the page does); the
//!   page's WebSocket reconnects by itself and shows a message posted afterwards.
//! - The log holds the actor's lines, no message content, a few hundred bytes per
//!   request at most, and Theater's own per-call log goes nowhere.
//! - A rotation asked for while a reply is being written waits for it, so the reply is
//!   not lost, but not for ever: past `CHAT_ROTATE_WAIT_SECONDS` it goes ahead.
//! - An actor stopped from outside, and a theater-server killed, are started again,
//!   with the chats.
//! - `CHAT_LOG=full` keeps Theater's per-call log, rotated within `CHAT_LOG_MAX_KIB`.
//! - `CHAT_HOST=0.0.0.0` serves other machines only with an access token.
//!
//! Needs Theater on PATH, Chromium and the package: run through scripts/test, or
//! `cargo test --test leave_running -- --ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::browser::Browser;
use common::fake_openai::FakeOpenAi;
use common::{free_port, package_manifest, wait_until, Client, Home};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUNNER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/nix/theater-chat.sh");

/// A running `theater-chat.sh serve`, stopped with `theater-chat.sh stop` on drop.
struct Runner {
    child: Child,
    env: Vec<(String, String)>,
    home: PathBuf,
}

impl Runner {
    fn start(home: &Path, port: u16, server: u16, extra: &[(&str, &str)]) -> Self {
        let package = package_manifest().parent().unwrap().to_path_buf();
        let mut env = vec![
            ("CHAT_PACKAGE".to_string(), package.display().to_string()),
            ("THEATER_HOME".to_string(), home.display().to_string()),
            (
                "THEATER_SERVER_ADDRESS".to_string(),
                format!("127.0.0.1:{server}"),
            ),
            ("CHAT_PORT".to_string(), port.to_string()),
            ("CHAT_CHECK_SECONDS".to_string(), "1".to_string()),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let out = std::fs::File::create(home.join("runner.out")).unwrap();
        let child = Command::new("bash")
            .args([RUNNER, "serve"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let runner = Self {
            child,
            env,
            home: home.to_path_buf(),
        };
        let client = Client::new(port);
        // The actor serves before `theater start` returns to the runner, so wait for the
        // runner's last start line too: tests read what it printed.
        wait_until(
            "the runner never served the page; its output:",
            Duration::from_secs(60),
            || {
                client
                    .try_call("GET", "/api/health", None)
                    .is_some_and(|r| r.status == 200)
                    && runner.output().contains("Ctrl-C stops the actor")
            },
            || runner.output(),
        );
        runner
    }

    fn command(&self, verb: &str) -> String {
        let output = Command::new("bash")
            .args([RUNNER, verb])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.home.join("runner.out")).unwrap_or_default()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("chat.log")).unwrap_or_default()
    }

    fn rotations(&self) -> usize {
        self.log().matches("rotated the chat actor").count()
    }

    fn stop(&mut self) {
        self.command("stop");
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.stop();
        }
        if std::thread::panicking() {
            eprintln!(
                "runner output:\n{}\nchat.log:\n{}",
                self.output(),
                self.log()
            );
        }
    }
}

/// An empty THEATER_HOME of this test process, `tag` telling the tests apart.
fn fresh_home(tag: &str) -> Home {
    Home::fresh(&format!("theater-chat-{tag}-{}", std::process::id()))
}

/// Posts that survive a rotation: a failed or cut request is sent again, as a user
/// would; returns the ids answered 201.
fn post_until(
    client: &Client,
    chat: &str,
    stop: &AtomicBool,
    acked: &Mutex<Vec<String>>,
    retries: &Mutex<u32>,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let body = json!({ "content": format!("private-note-{n} about nothing") });
        loop {
            match client.try_call("POST", &format!("/api/messages?chat={chat}"), Some(&body)) {
                Some(reply) if reply.status == 201 => {
                    let id = reply.json()["message"]["id"].as_str().unwrap().to_string();
                    acked.lock().unwrap().push(id);
                    break;
                }
                // The runtime refuses a request queued for an actor being stopped,
                // without running it: "Handler error: Operation channel closed".
                Some(reply) if reply.status >= 500 && !reply.text.starts_with('{') => {
                    *retries.lock().unwrap() += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Some(reply) => panic!("POST answered {}: {}", reply.status, reply.text),
                None => {
                    *retries.lock().unwrap() += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        // A page read between posts (errors during a rotation are retried next time).
        let _ = client.try_call("GET", &format!("/api/messages?chat={chat}&limit=50"), None);
    }
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn rotations_under_traffic_lose_nothing_and_log_no_content() {
    let home = fresh_home("run");
    let (port, server) = (free_port(), free_port());

    // 1. Past the threshold, the runner rotates the actor by itself.
    let mut runner = Runner::start(&home, port, server, &[("CHAT_ROTATE_AT_MIB", "1")]);
    wait_until(
        "no rotation although the server is past the threshold; output:",
        Duration::from_secs(30),
        || runner.rotations() >= 1,
        || runner.output(),
    );
    let status = runner.command("status");
    assert!(
        status.contains("rotations:")
            && status.contains("MiB resident")
            && status.contains("page:          answers; replies being written: 0"),
        "{status}"
    );
    runner.stop();

    // 2. The default threshold, rotations asked for while traffic flows.
    let runner = Runner::start(&home, port, server, &[]);
    let client = Client::new(port);
    let chat = client.expect(201, "POST", "/api/chats", Some(json!({ "title": "Busy" })));
    let chat = chat["id"].as_str().unwrap().to_string();
    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#{chat}"));
    browser.wait_for("the page", "return document.body.dataset.ready === '1';");
    browser.wait_for(
        "the socket",
        "return document.getElementById('conn-status').dataset.state === 'live';",
    );

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let retries = Arc::new(Mutex::new(0u32));
    let traffic = {
        let (stop, acked, retries, chat) =
            (stop.clone(), acked.clone(), retries.clone(), chat.clone());
        std::thread::spawn(move || post_until(&Client::new(port), &chat, &stop, &acked, &retries))
    };
    let before = runner.rotations();
    for n in 1..=3 {
        std::thread::sleep(Duration::from_millis(1500));
        runner.command("rotate");
        wait_until(
            &format!("rotation {n} never happened; output:"),
            Duration::from_secs(30),
            || runner.rotations() >= before + n,
            || runner.output(),
        );
    }
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::SeqCst);
    traffic.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "too little traffic: {} posts",
        acked.len()
    );

    // Nothing acknowledged is lost; nothing is duplicated by the retries beyond the
    // requests a rotation cut after they were stored.
    let shown = client.history(&chat);
    let missing = acked.iter().filter(|id| !shown.contains(id)).count();
    assert_eq!(missing, 0, "{missing} acknowledged posts are missing");
    let extra = shown.len() - acked.len();
    assert!(
        extra <= 3,
        "{extra} unacknowledged posts, more than the rotations could cut"
    );

    // The page reconnected by itself and hears about new messages.
    browser.wait_for(
        "the socket to come back",
        "return document.getElementById('conn-status').dataset.state === 'live';",
    );
    client.expect(
        201,
        "POST",
        &format!("/api/messages?chat={chat}"),
        Some(json!({ "content": "after the rotations" })),
    );
    browser.wait_for(
        "the page to show a message posted after the rotations",
        "return Array.from(document.querySelectorAll('[data-testid=message-content]')).some(m => m.textContent === 'after the rotations');",
    );

    // The log: the actor's lines and the runner's, no content, small.
    let log = runner.log();
    assert!(
        log.contains("[ACTOR]") && log.contains("chat: store"),
        "{log}"
    );
    assert!(
        !log.contains("private-note"),
        "message content reached the log"
    );
    let requests = acked.len() * 2 + 10;
    assert!(
        log.len() < requests * 300,
        "{} log bytes for about {requests} requests",
        log.len()
    );
    let file_log = home.join("logs/theater/theater_server.log");
    assert_eq!(
        std::fs::read_link(&file_log).unwrap(),
        Path::new("/dev/null")
    );
    let status = runner.command("status");
    let retried = *retries.lock().unwrap();
    eprintln!(
        "{} posts, {retried} retried across rotations; status:\n{status}",
        acked.len()
    );
    drop(browser);
    drop(runner);
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn a_start_that_fails_says_why_and_leaves_no_actor_behind() {
    // A package whose init state has a typo, run on a server that is already up.
    let theater = common::Theater::start(&[]);
    let package = package_manifest().parent().unwrap().to_path_buf();
    let bad = theater.home.join("bad-package");
    std::fs::create_dir_all(bad.join("assets")).unwrap();
    let init = std::fs::read_to_string(package.join("assets/init.json")).unwrap();
    let init = init.replacen('{', "{\n  \"prot\": 1,", 1);
    std::fs::write(bad.join("assets/init.json"), init).unwrap();
    let manifest = std::fs::read_to_string(package.join("actor.portable.toml"))
        .unwrap()
        .replace(
            &format!("{}/assets/init.json", package.display()),
            &format!("{}/assets/init.json", bad.display()),
        );
    std::fs::write(bad.join("actor.portable.toml"), manifest).unwrap();
    let output = Command::new("bash")
        .args([RUNNER, "serve"])
        .env("CHAT_MANIFEST", bad.join("actor.portable.toml"))
        .env("THEATER_HOME", &*theater.home)
        .env("THEATER_SERVER_ADDRESS", &theater.address)
        .env("CHAT_PORT", free_port().to_string())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("did not start") && said.contains("unknown field `prot`"),
        "{said}"
    );
    let listed = theater.cli(&["list", "--address", &theater.address]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        !listed.contains("chat"),
        "the failed actor lingers:\n{listed}"
    );
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn an_asked_rotation_waits_for_the_reply_being_written() {
    const KEY: &str = "sk-rotation-test-key-0123456789abcdef";
    let home = fresh_home("wait");
    let (port, server) = (free_port(), free_port());
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let runner = Runner::start(
        &home,
        port,
        server,
        &[
            ("OPENAI_API_KEY", KEY),
            ("OPENAI_BASE_URL", &base_url),
            ("CHAT_ROTATE_WAIT_SECONDS", "8"),
        ],
    );
    let client = Client::new(port);
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "provider": "openai", "model": "fake-hold" })),
    );
    let chat = chat["id"].as_str().unwrap().to_string();
    let ask = |text: &str| {
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={chat}"),
            Some(json!({ "content": text })),
        );
        let accepted = client.expect(202, "POST", &format!("/api/reply?chat={chat}"), None);
        accepted["generation"]["id"].as_str().unwrap().to_string()
    };
    let status = |id: &str| {
        client.expect(200, "GET", &format!("/api/generation?id={id}"), None)["generation"]["status"]
            .clone()
    };
    let held = |n: usize| {
        wait_until(
            "the reply never reached the provider; output:",
            Duration::from_secs(30),
            || fake.holding() >= n,
            || runner.output(),
        )
    };

    // 1. While the provider holds the reply, the asked rotation waits.
    let first = ask("Worth the wait");
    held(1);
    let said = runner.command("rotate");
    assert!(said.contains("once no reply is being written"), "{said}");
    wait_until(
        "the runner never said it waits; output:",
        Duration::from_secs(10),
        || {
            runner
                .log()
                .contains("rotation waits for the replies being written (1)")
        },
        || runner.output(),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(runner.rotations(), 0, "it rotated under a running reply");
    assert_eq!(status(&first), "running");

    // The reply lands, then the actor is restarted (the new one knows nothing of the old
    // one's generations), and the reply is in the conversation.
    fake.release();
    wait_until(
        "no rotation after the reply; output:",
        Duration::from_secs(30),
        || runner.rotations() >= 1,
        || runner.output(),
    );
    wait_until(
        "the page never came back after the rotation",
        Duration::from_secs(30),
        || {
            client
                .try_call("GET", "/api/health", None)
                .is_some_and(|r| r.status == 200)
        },
        || runner.output(),
    );
    let history = client.expect(200, "GET", &format!("/api/messages?chat={chat}"), None);
    let replies: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "assistant")
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(replies.len(), 1, "{history}");
    assert!(
        replies[0].starts_with("Fake reply #1 to: Worth the wait"),
        "{history}"
    );

    // 2. A provider that never answers does not block a rotation for good.
    fake.hold();
    ask("Never answered");
    held(1);
    runner.command("rotate");
    let asked = Instant::now();
    wait_until(
        "the rotation never went ahead; output:",
        Duration::from_secs(30),
        || runner.rotations() >= 2,
        || runner.output(),
    );
    assert!(
        asked.elapsed() >= Duration::from_secs(7),
        "it did not wait: {:?}",
        asked.elapsed()
    );
    assert!(
        runner
            .log()
            .contains("rotating after 8 s although replies are still being written (1)"),
        "{}",
        runner.log()
    );
    fake.release();
    drop(runner);
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn a_stopped_actor_and_a_dead_server_are_started_again() {
    let home = fresh_home("back");
    let (port, server) = (free_port(), free_port());
    let runner = Runner::start(&home, port, server, &[("CHAT_UNANSWERED_SECONDS", "3")]);
    let client = Client::new(port);
    let chat = client.expect(201, "POST", "/api/chats", Some(json!({ "title": "Kept" })));
    let chat = chat["id"].as_str().unwrap().to_string();
    let posted = client.expect(
        201,
        "POST",
        &format!("/api/messages?chat={chat}"),
        Some(json!({ "content": "still here" })),
    );
    let message = posted["message"]["id"].as_str().unwrap().to_string();
    let answers = || {
        client
            .try_call("GET", "/api/health", None)
            .is_some_and(|r| r.status == 200)
    };
    let run_file = |name: &str| {
        std::fs::read_to_string(home.join("run").join(name))
            .unwrap()
            .trim()
            .to_string()
    };

    // 1. The actor is stopped from outside: the runner starts it again.
    let actor = run_file("actor.id");
    let stopped = Command::new("theater")
        .args(["stop", &actor])
        .envs(runner.env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(stopped.status.success(), "{stopped:?}");
    wait_until(
        "the runner never restarted the stopped actor; output:",
        Duration::from_secs(30),
        // Until the runner has seen it answer: it is then back to watching.
        || {
            runner.log().contains("the page has not answered for")
                && runner.rotations() >= 1
                && answers()
        },
        || runner.output(),
    );
    assert_ne!(run_file("actor.id"), actor);
    assert_eq!(client.history(&chat), vec![message.clone()]);

    // 2. theater-server dies (SIGKILL, as the kernel's OOM killer would): started again.
    let pid = run_file("server.pid");
    let killed = Command::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(killed.success());
    wait_until(
        "the runner never started the dead server again; output:",
        Duration::from_secs(60),
        || {
            runner
                .log()
                .contains("theater-server stopped unexpectedly: starting it again")
                && answers()
        },
        || runner.output(),
    );
    assert_ne!(run_file("server.pid"), pid);
    assert_eq!(client.history(&chat), vec![message]);
    drop(runner);
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn the_full_debug_log_is_kept_within_its_cap_too() {
    let home = fresh_home("full");
    let (port, server) = (free_port(), free_port());
    let runner = Runner::start(
        &home,
        port,
        server,
        &[("CHAT_LOG", "full"), ("CHAT_LOG_MAX_KIB", "64")],
    );
    let client = Client::new(port);
    let chat = client.expect(201, "POST", "/api/chats", Some(json!({ "title": "Debug" })));
    let chat = chat["id"].as_str().unwrap().to_string();
    let log = home.join("theater-server.log");
    let old = home.join("theater-server.log.1");
    // Each request writes a few KB of Theater's per-call lines.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !old.exists() {
        assert!(
            Instant::now() < deadline,
            "theater-server.log was never rotated"
        );
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={chat}"),
            Some(json!({ "content": "debugging" })),
        );
    }
    // The full log is kept (each call with its parameters), and bounded: two files of
    // about the cap, and Theater's own file log goes nowhere.
    // Right after a rotation the new file may not exist yet.
    let kept =
        std::fs::read_to_string(&old).unwrap() + &std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        kept.contains("CallFunction") && kept.contains("http-handlers.handle-request"),
        "the full log lacks the calls"
    );
    for file in [&log, &old] {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        assert!(
            size < 64 * 1024 + 64 * 1024,
            "{} is {size} bytes",
            file.display()
        );
    }
    assert_eq!(
        std::fs::read_link(home.join("logs/theater/theater_server.log")).unwrap(),
        Path::new("/dev/null")
    );
    drop(runner);
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn serving_other_machines_takes_an_access_token() {
    const TOKEN: &str = "a-long-enough-access-token-0123";
    let home = fresh_home("host");
    let (port, server) = (free_port(), free_port());

    // Without a token, the runner says why nothing serves, and stops.
    let output = Command::new("bash")
        .args([RUNNER, "serve"])
        .env("CHAT_PACKAGE", package_manifest().parent().unwrap())
        .env("THEATER_HOME", &*home)
        .env("THEATER_SERVER_ADDRESS", format!("127.0.0.1:{server}"))
        .env("CHAT_PORT", port.to_string())
        .env("CHAT_HOST", "0.0.0.0")
        .env_remove("CHAT_ACCESS_TOKEN")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("did not start") && said.contains("needs an access token"),
        "{said}"
    );

    // With one, it serves every address, and the API asks for the token.
    let runner = Runner::start(
        &home,
        port,
        server,
        &[("CHAT_HOST", "0.0.0.0"), ("CHAT_ACCESS_TOKEN", TOKEN)],
    );
    assert!(
        runner
            .output()
            .contains("also on this machine's other addresses"),
        "{}",
        runner.output()
    );
    let client = Client::new(port);
    assert_eq!(client.call("GET", "/api/chats", None).status, 401);
    let listed = ureq::get(&format!("http://127.0.0.1:{port}/api/chats"))
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .call()
        .unwrap();
    assert_eq!(listed.status(), 200);
    drop(runner);
}
