//! The benchmark (`scripts/bench`): the packaged actor and a floor actor (the least an
//! actor can do: `--features floor`, `GET /bytes?n=N`, and `POST /write?n=N`, one
//! durable write) on one real theater-server with a temporary THEATER_HOME, a fake
//! OpenAI-compatible provider, all on 127.0.0.1. Every route is compared with the floor
//! returning the same number of bytes; posting also with the floor's durable write.
//!
//! Measures: component sizes; start time (empty store, 10,000 messages); p50/p99 and the
//! ratio to the floor of each route (search at 10,000 messages and at 500 chats too); host calls per request (counted in the actor's
//! event chain); scaling with history (10, 1,000, 10,000 messages) and chats (1, 50,
//! 500); throughput at 1 and 8 clients; the actor state's size; theater-server RSS
//! growth for 1,000 posts + 400 page reads, and the floor's for the same bytes on a
//! server of its own; log bytes per request; what a worker costs, and the chat list
//! while replies wait on the provider.
//! Prints tables and writes `bench.json` (and `bench.png` when gnuplot is there) to the
//! output folder. Not a test: nothing here fails on a number.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::fake_openai::FakeOpenAi;
use common::{free_port, package_manifest, wait_until, Client, Theater};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KEY: &str = "sk-bench-key-0123456789";
const RUNS: usize = 300;
const WARMUP: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// p50 and p99 (ms) of the last `n` of `warmup + n` runs of `f`.
fn time(warmup: usize, n: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut times = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let start = Instant::now();
        f();
        if i >= warmup {
            times.push(start.elapsed());
        }
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

struct Row {
    name: String,
    p50: f64,
    p99: f64,
    bytes: usize,
    floor_p50: f64,
    calls: Option<usize>,
}

impl Row {
    fn json(&self) -> Value {
        json!({ "name": self.name, "p50_ms": self.p50, "p99_ms": self.p99, "body_bytes": self.bytes,
                "floor_p50_ms": self.floor_p50, "vs_floor": self.p50 / self.floor_p50,
                "store_calls": self.calls })
    }
}

struct Bench {
    theater: Theater,
    manifest: PathBuf,
    chat_actor: String,
    client: Client,
    /// A second actor on the same store, restarted at each size, whose event chain is
    /// short enough to read back: it counts the store calls of each request.
    counter: Option<(String, Client)>,
    floor: Client,
    rows: Vec<Row>,
}

impl Bench {
    fn floor_p50(&self, bytes: usize) -> f64 {
        let path = format!("/bytes?n={bytes}");
        time(WARMUP, RUNS, || {
            let reply = self.floor.call("GET", &path, None);
            assert_eq!(reply.text.len(), bytes);
        })
        .0
    }

    /// Times a request, the floor returning as many bytes, and counts its store calls.
    fn route(&mut self, name: &str, method: &str, path: &str, body: Option<Value>, status: u16) {
        let reply = self.client.call(method, path, body.clone());
        assert_eq!(reply.status, status, "{name}: {}", reply.text);
        let bytes = reply.text.len();
        let calls = self.store_calls(method, path, body.clone());
        let (p50, p99) = time(WARMUP, RUNS, || {
            let reply = self.client.call(method, path, body.clone());
            assert_eq!(reply.status, status, "{name}");
        });
        let floor_p50 = self.floor_p50(bytes);
        println!(
            "  {name}: {p50:.2} ms p50, {:.1}x the floor at {bytes} B, {} store calls",
            p50 / floor_p50,
            calls.map_or("?".to_string(), |c| c.to_string())
        );
        self.rows.push(Row {
            name: name.to_string(),
            p50,
            p99,
            bytes,
            floor_p50,
            calls,
        });
    }

    /// The least a request that must survive a crash costs, timed right after posting a
    /// message so both meet the same disk: one object stored and one label moved
    /// (`POST /write` on the floor), with the request body and reply bytes of a post.
    fn floor_write(&mut self, name: &str) {
        let reply_bytes = self
            .rows
            .iter()
            .rev()
            .find(|row| row.name.starts_with("POST /api/messages"))
            .map_or(470, |row| row.bytes);
        let write = format!("/write?n={reply_bytes}");
        let mut n = 0u64;
        let (p50, p99) = time(WARMUP, RUNS, || {
            n += 1;
            let body = json!({ "content": format!("one more message of ordinary length {n}") });
            assert_eq!(self.floor.call("POST", &write, Some(body)).status, 200);
        });
        let floor_p50 = self.floor_p50(reply_bytes);
        println!("  {name} (1 store + 1 label): {p50:.2} ms p50");
        self.rows.push(Row {
            name: name.to_string(),
            p50,
            p99,
            bytes: reply_bytes,
            floor_p50,
            calls: Some(2),
        });
    }

    /// Store calls of one request in the steady state (the same request made just
    /// before, so the state's hints name what it reads), counted in the counting
    /// actor's event chain (two events per call: the call and its result), between its
    /// `handle-request` events.
    fn store_calls(&self, method: &str, path: &str, body: Option<Value>) -> Option<usize> {
        let (actor, client) = self.counter.as_ref()?;
        client.call(method, path, body.clone());
        client.call(method, path, body);
        client.call("GET", "/api/health", None);
        let out = self.theater.cli(&[
            "events",
            actor,
            "--address",
            &self.theater.address,
            "--format",
            "json",
            "--limit",
            "400",
            "--sort",
            "chain",
            "--reverse",
        ]);
        let events: Value = serde_json::from_slice(&out.stdout).ok()?;
        // Newest first: the health check's two wasm events, then ours (completed ...
        // our host calls ... started).
        let mut wasm_seen = 0;
        let mut store_events = 0;
        for event in events["events"].as_array()? {
            let kind = event["event_type"].as_str().unwrap_or_default();
            let text = event["description"].as_str().unwrap_or_default();
            if kind == "wasm" && text.contains("http-handlers.handle-request") {
                wasm_seen += 1;
                if wasm_seen == 4 {
                    return Some(store_events / 2);
                }
            } else if wasm_seen == 3 && kind.starts_with("theater:simple/store/") {
                store_events += 1;
            }
        }
        None
    }

    /// Starts a fresh counting actor (stopping the last one) on a copy of the store
    /// "bench": one store has one actor, whose state's hints no other actor's writes
    /// may overtake (README, "One actor per store").
    fn recount(&mut self) {
        if let Some((id, _)) = self.counter.take() {
            self.theater.stop_actor(&id);
        }
        let stores = self.theater.home.join("store");
        let copy = stores.join("bench-count");
        let _ = std::fs::remove_dir_all(&copy);
        if stores.join("bench").exists() {
            let status = std::process::Command::new("cp")
                .arg("-a")
                .arg(stores.join("bench"))
                .arg(&copy)
                .status()
                .unwrap();
            assert!(status.success(), "copying the store for the counting actor");
        }
        let manifest = self.manifest.clone();
        let (id, port, _) = start_timed(&mut self.theater, &manifest, "bench-count");
        self.counter = Some((id, Client::new(port)));
    }

    fn post(&self, chat: &str, n: usize, text: &str) {
        let path = format!("/api/messages?chat={chat}");
        for i in 0..n {
            let body =
                json!({ "content": format!("{text} {i}: an ordinary message of ordinary length") });
            self.client.expect(201, "POST", &path, Some(body));
        }
    }

    fn health(&self) -> Value {
        self.client.expect(200, "GET", "/api/health", None)
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn gzip_len(path: &Path) -> u64 {
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output();
    out.map(|o| o.stdout.len() as u64).unwrap_or(0)
}

/// Requests per second over `secs` with `clients` keep-alive clients.
fn throughput(port: u16, path: &str, clients: usize, secs: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let path = path.to_string();
            std::thread::spawn(move || {
                let client = Client::new(port);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    assert_eq!(client.call("GET", &path, None).status, 200);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / secs as f64
}

/// Starts an actor and times `theater start` to its first answer.
fn start_timed(theater: &mut Theater, manifest: &Path, store: &str) -> (String, u16, f64) {
    let port = free_port();
    let started = Instant::now();
    let id = theater.start_actor(manifest, &json!({ "port": port, "store_id": store }));
    let client = Client::new(port);
    while client
        .try_call("GET", "/api/health", None)
        .map(|r| r.status)
        != Some(200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{store} never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    (id, port, started.elapsed().as_secs_f64() * 1000.0)
}

/// The floor's manifest: `runtime` (which calls `init`), `http-framework`, and `store`
/// for `POST /write`.
fn floor_manifest(out: &Path, port: u16) -> PathBuf {
    let wasm = out.join("floor.wasm");
    assert!(
        wasm.exists(),
        "{} is missing: scripts/bench builds it",
        wasm.display()
    );
    std::fs::write(
        out.join("floor-init.json"),
        json!({ "port": port }).to_string(),
    )
    .unwrap();
    let manifest = out.join("floor.toml");
    std::fs::write(
        &manifest,
        format!(
            "name = \"floor\"\nversion = \"0.1.0\"\ncomponent = \"{}\"\ninit_state = \"{}\"\n\n[[handlers]]\ntype = \"runtime\"\nconfig = {{}}\n\n[[handlers]]\ntype = \"http-framework\"\nconfig = {{}}\n\n[[handlers]]\ntype = \"store\"\nconfig = {{}}\n",
            wasm.display(),
            out.join("floor-init.json").display()
        ),
    )
    .unwrap();
    manifest
}

/// theater-server's RSS growth (MiB) over 1,000 posts to `post` (message bodies, each
/// answered `posted`) and 400 reads of `read`, with the sizes of the last reply and page.
fn workload(
    theater: &Theater,
    client: &Client,
    (post, posted): (&str, u16),
    read: &str,
) -> (f64, usize, usize) {
    let pid = theater.server_pid().unwrap();
    let before = rss_kib(pid);
    let mut reply_bytes = 0;
    for i in 0..1_000 {
        let body =
            json!({ "content": format!("memory {i}: an ordinary message of ordinary length") });
        let reply = client.call("POST", post, Some(body));
        assert_eq!(reply.status, posted, "POST {post}: {}", reply.text);
        reply_bytes = reply.text.len();
    }
    let mut page_bytes = 0;
    for _ in 0..400 {
        let page = client.call("GET", read, None);
        assert_eq!(page.status, 200, "GET {read}");
        page_bytes = page.text.len();
    }
    let growth = rss_kib(pid).saturating_sub(before) as f64 / 1024.0;
    (growth, reply_bytes, page_bytes)
}

/// The workload on a fresh server running only the chat actor, posting to and reading
/// the newest page of one chat; also theater-server's log bytes per request.
fn chat_memory(manifest: &Path) -> (f64, f64, usize, usize) {
    let mut theater = Theater::start(&[("MALLOC_ARENA_MAX", "2")]);
    let (_, port, _) = start_timed(&mut theater, manifest, "memory");
    let client = Client::new(port);
    let log = theater.home.join("server.out");
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "memory" })),
    );
    let path = format!("/api/messages?chat={}", chat["id"].as_str().unwrap());
    let log_before = file_len(&log);
    let (growth, reply_bytes, page_bytes) = workload(&theater, &client, (&path, 201), &path);
    let log_per_request = file_len(&log).saturating_sub(log_before) as f64 / 1_400.0;
    (growth, log_per_request, reply_bytes, page_bytes)
}

/// The workload's least on a fresh server running only the floor: each post one
/// durable write answered with `post_reply_bytes`, each read `page_bytes`.
fn floor_memory(out: &Path, post_reply_bytes: usize, page_bytes: usize) -> f64 {
    let mut theater = Theater::start(&[("MALLOC_ARENA_MAX", "2")]);
    let (client, _) = start_floor(&mut theater, out);
    let write = format!("/write?n={post_reply_bytes}");
    let read = format!("/bytes?n={page_bytes}");
    let (growth, _, read_bytes) = workload(&theater, &client, (&write, 200), &read);
    assert_eq!(read_bytes, page_bytes);
    growth
}

/// Starts the floor actor on a free port and waits until it answers.
fn start_floor(theater: &mut Theater, out: &Path) -> (Client, u16) {
    let port = free_port();
    theater.start_actor(&floor_manifest(out, port), &json!({ "port": port }));
    let client = Client::new(port);
    common::wait_until(
        "the floor never answered",
        Duration::from_secs(30),
        || {
            client
                .try_call("GET", "/ping", None)
                .is_some_and(|reply| reply.status == 200)
        },
        || theater.server_log(),
    );
    (client, port)
}

fn main() {
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .unwrap_or_else(|| "target/bench".to_string());
    std::fs::create_dir_all(&out).unwrap();
    let out = std::fs::canonicalize(out).unwrap();
    let manifest = package_manifest();
    let lib = manifest.parent().unwrap().join("lib");
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let mut theater = Theater::start(&[
        ("OPENAI_API_KEY", KEY),
        ("OPENAI_BASE_URL", &base_url),
        ("MALLOC_ARENA_MAX", "2"),
    ]);
    let (floor, floor_port) = start_floor(&mut theater, &out);
    let (chat_actor, port, start_empty_ms) = start_timed(&mut theater, &manifest, "bench");
    let client = Client::new(port);
    let mut b = Bench {
        theater,
        manifest: manifest.clone(),
        chat_actor,
        client,
        floor,
        counter: None,
        rows: Vec::new(),
    };
    let mut scaling = Vec::new();

    // Memory and log retained by a fixed workload, each time on a fresh server of its
    // own: the chat actor, then the floor doing the same work's least (each post one
    // durable write of the same body answered with the same bytes, each read the same
    // bytes), which is what any actor doing this work would cost. Three rounds, medians.
    println!("memory: 1,000 posts + 400 page reads, each on a fresh server, 3 rounds");
    let mut ours = Vec::new();
    let mut floors = Vec::new();
    let mut log_per_request = 0.0;
    let (mut post_reply_bytes, mut page_bytes) = (0, 0);
    for round in 1..=3 {
        let (growth, log_bytes, reply, page) = chat_memory(&manifest);
        (log_per_request, post_reply_bytes, page_bytes) = (log_bytes, reply, page);
        let floor = floor_memory(&out, post_reply_bytes, page_bytes);
        println!("  round {round}: theater-server RSS +{growth:.1} MiB; the floor, same bytes ({reply} B per post reply, {page} B per page): +{floor:.1} MiB");
        ours.push(growth);
        floors.push(floor);
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let (rss_growth_mib, floor_growth_mib) = (median(&mut ours), median(&mut floors));
    println!("  medians: +{rss_growth_mib:.1} MiB, the floor +{floor_growth_mib:.1} MiB; theater's own log {log_per_request:.0} B per request (--log-stdout)");
    b.recount();

    println!("routes (one keep-alive client, {RUNS} runs after {WARMUP}):");
    b.route("GET /api/health", "GET", "/api/health", None, 200);
    // The page files are served gzipped (a browser always takes gzip): the bytes on the
    // wire are the gzipped ones.
    let gzip = ("Accept-Encoding", "gzip, deflate, br");
    let first = b.client.page_file("/app.js");
    assert_eq!(first.status, 200, "GET /app.js: {}", first.text);
    let wire = first
        .header("content-length")
        .and_then(|n| n.parse::<usize>().ok())
        .expect("a Content-Length");
    let etag = first.header("etag").expect("an ETag").to_string();
    for (name, headers, bytes, status) in [
        ("GET /app.js first visit (gzip)", vec![gzip], wire, 200),
        (
            "GET /app.js with If-None-Match (304)",
            vec![gzip, ("If-None-Match", etag.as_str())],
            0,
            304,
        ),
    ] {
        let (p50, p99) = time(WARMUP, RUNS, || {
            let r = b.client.raw("GET", "/app.js", None, &headers);
            assert_eq!(r.status, status, "{name}");
        });
        let floor_p50 = b.floor_p50(bytes);
        println!(
            "  {name}: {p50:.2} ms p50, {:.1}x the floor at {bytes} B, 0 store calls",
            p50 / floor_p50
        );
        b.rows.push(Row {
            name: name.into(),
            p50,
            p99,
            bytes,
            floor_p50,
            calls: Some(0),
        });
    }

    // One chat, growing history.
    let chat = b
        .client
        .expect(201, "POST", "/api/chats", Some(json!({ "title": "long" })));
    let chat = chat["id"].as_str().unwrap().to_string();
    let mut have = 0;
    for size in [10usize, 1_000, 10_000] {
        println!("history of {size} messages:");
        b.post(&chat, size - have, "filler");
        have = size;
        b.recount();
        let newest = format!("/api/messages?chat={chat}");
        b.route(
            &format!("GET /api/messages newest page ({size})"),
            "GET",
            &newest,
            None,
            200,
        );
        let page = b.client.expect(200, "GET", &newest, None);
        let oldest = page["messages"][0]["id"].as_str().unwrap().to_string();
        let older = format!("/api/messages?chat={chat}&before={oldest}");
        if page["has_more"] == true {
            b.route(
                &format!("GET /api/messages older page ({size})"),
                "GET",
                &older,
                None,
                200,
            );
        }
        let post = format!("/api/messages?chat={chat}");
        b.route(
            &format!("POST /api/messages ({size})"),
            "POST",
            &post,
            Some(json!({ "content": "one more message of ordinary length" })),
            201,
        );
        b.floor_write(&format!("floor: POST /write ({size}), one durable write"));
        // The post before the timed ones and the timed ones (the counting actor posts to a
        // copy).
        have += WARMUP + RUNS + 1;
        if size == 10_000 {
            // A word in no message: the whole budget (2,000 messages of the long chat).
            b.route(
                "GET /api/search, no match (10,000)",
                "GET",
                "/api/search?q=absent",
                None,
                200,
            );
            // A word in every message: the newest chat's head object gives 3 matches.
            b.route(
                "GET /api/search, matches at once (10,000)",
                "GET",
                "/api/search?q=ordinary",
                None,
                200,
            );
        }
        let state = b.health()["state_bytes"].clone();
        scaling.push(json!({ "messages": size, "state_bytes": state }));
    }

    // Growing list of chats.
    let mut chats = 1;
    for size in [1usize, 50, 500] {
        while chats < size {
            b.client.expect(
                201,
                "POST",
                "/api/chats",
                Some(json!({ "title": format!("chat {chats}") })),
            );
            chats += 1;
        }
        println!("{size} chats:");
        b.recount();
        b.route(
            &format!("GET /api/chats ({size} chats)"),
            "GET",
            "/api/chats",
            None,
            200,
        );
        if size == 500 {
            // 50 chats read, the budget's chat limit, none matching.
            b.route(
                "GET /api/search, no match (500 chats)",
                "GET",
                "/api/search?q=absent",
                None,
                200,
            );
        }
        let state = b.health()["state_bytes"].clone();
        scaling.push(json!({ "chats": size, "state_bytes": state }));
    }

    println!("throughput of GET /api/chats (500 chats) and of the floor at the same bytes:");
    let list_bytes = b.client.call("GET", "/api/chats", None).text.len();
    let mut rates = Vec::new();
    for clients in [1, 8] {
        let ours = throughput(port, "/api/chats", clients, 5);
        let floor_rate = throughput(floor_port, &format!("/bytes?n={list_bytes}"), clients, 5);
        println!(
            "  {clients} clients: {ours:.0} req/s, floor {floor_rate:.0} req/s ({:.0}%)",
            100.0 * ours / floor_rate
        );
        rates.push(json!({ "clients": clients, "req_per_s": ours, "floor_req_per_s": floor_rate }));
    }

    // Start time with 10,000 messages: stop the actor and start it on the same store.
    b.theater.stop_actor(&b.chat_actor.clone());
    let (id, port2, start_full_ms) = start_timed(&mut b.theater, &manifest, "bench");
    b.chat_actor = id;
    b.client = Client::new(port2);
    println!("start: empty store {start_empty_ms:.0} ms, 10,000+ messages and 500 chats {start_full_ms:.0} ms");

    // What a worker costs: spawn to stored reply, the provider answering at once.
    let (mut socket, _) = tungstenite::connect(format!("ws://127.0.0.1:{port2}/ws")).unwrap();
    let worker_chat = b.client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "provider": "openai", "model": "gpt-4o-mini" })),
    );
    let worker_chat = worker_chat["id"].as_str().unwrap().to_string();
    let (worker_p50, worker_p99) = time(3, 30, || {
        b.client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={worker_chat}"),
            Some(json!({ "content": "hi" })),
        );
        let accepted =
            b.client
                .expect(202, "POST", &format!("/api/reply?chat={worker_chat}"), None);
        let id = accepted["generation"]["id"].as_str().unwrap().to_string();
        loop {
            if let tungstenite::Message::Text(text) = socket.read().expect("socket closed") {
                let event: Value = serde_json::from_str(text.as_str()).unwrap();
                let g = &event["generation"];
                if event["type"] == "generation"
                    && g["id"] == id.as_str()
                    && g["status"] != "running"
                {
                    assert_eq!(g["status"], "done", "{g}");
                    break;
                }
            }
        }
    });
    println!(
        "reply through a worker (instant provider): {worker_p50:.0} ms p50, {worker_p99:.0} ms p99"
    );

    // The chat list while 3 replies wait on a provider that holds its answer, next to
    // the list when idle: replies run in workers, so nothing waits for them.
    let list = || {
        let reply = b.client.call("GET", "/api/chats", None);
        assert_eq!(reply.status, 200, "{}", reply.text);
    };
    let (idle_p50, idle_p99) = time(WARMUP, RUNS, list);
    fake.hold();
    let mut waiting = Vec::new();
    for n in 0..3 {
        let chat = b.client.expect(
            201,
            "POST",
            "/api/chats",
            Some(json!({ "provider": "openai", "model": "fake-hold" })),
        );
        let chat = chat["id"].as_str().unwrap().to_string();
        b.client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={chat}"),
            Some(json!({ "content": format!("take your time ({n})") })),
        );
        b.client
            .expect(202, "POST", &format!("/api/reply?chat={chat}"), None);
        waiting.push(chat);
    }
    let log = || b.theater.server_log();
    let limit = Duration::from_secs(30);
    wait_until(
        "the replies never reached the provider",
        limit,
        || fake.holding() >= 3,
        log,
    );
    let (busy_p50, busy_p99) = time(WARMUP, RUNS, list);
    assert_eq!(
        fake.holding(),
        3,
        "a reply ended while the provider held it"
    );
    fake.release();
    for chat in &waiting {
        let path = format!("/api/generation?chat={chat}");
        let status = || b.client.expect(200, "GET", &path, None)["generation"]["status"].clone();
        wait_until(
            "a released reply never ended",
            limit,
            || status() != "running",
            log,
        );
        assert_eq!(status(), "done");
    }
    println!(
        "GET /api/chats while 3 replies wait on the provider: {busy_p50:.2} ms p50, {busy_p99:.2} ms p99 ({:.2}x idle: {idle_p50:.2} ms p50, {idle_p99:.2} ms p99)",
        busy_p50 / idle_p50
    );

    let sizes = json!({
        "chat_wasm": file_len(&lib.join("chat.wasm")), "chat_wasm_gzip": gzip_len(&lib.join("chat.wasm")),
        "worker_wasm": file_len(&lib.join("worker.wasm")), "worker_wasm_gzip": gzip_len(&lib.join("worker.wasm")),
    });
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!("\n{cores} cores, load average {load}; sizes {sizes}\n");
    println!("| request | p50 ms | p99 ms | body B | floor p50 ms | vs floor | store calls |\n|---|---|---|---|---|---|---|");
    for r in &b.rows {
        println!(
            "| {} | {:.2} | {:.2} | {} | {:.2} | {:.2}x | {} |",
            r.name,
            r.p50,
            r.p99,
            r.bytes,
            r.floor_p50,
            r.p50 / r.floor_p50,
            r.calls.map_or("?".to_string(), |c| c.to_string())
        );
    }
    let report = json!({
        "cores": cores, "load_average": load, "sizes": sizes,
        "start_ms": { "empty": start_empty_ms, "10000_messages_500_chats": start_full_ms },
        "routes": b.rows.iter().map(Row::json).collect::<Vec<_>>(),
        "throughput_chats_500": rates, "scaling_state": scaling,
        "memory_1000_posts_400_reads": { "rss_growth_mib": rss_growth_mib, "log_bytes_per_request": log_per_request, "floor_same_bytes_rss_growth_mib": floor_growth_mib, "post_reply_bytes": post_reply_bytes, "page_bytes": page_bytes },
        "worker_reply_ms": { "p50": worker_p50, "p99": worker_p99 },
        "list_while_3_replies_wait_ms": { "p50": busy_p50, "p99": busy_p99, "idle_p50": idle_p50, "idle_p99": idle_p99 },
    });
    std::fs::write(
        out.join("bench.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    chart(&out, &b.rows);
    println!("wrote {}", out.join("bench.json").display());
}

/// bench.png: each route's p50 next to the floor's at the same bytes.
fn chart(out: &Path, rows: &[Row]) {
    let data: String = rows
        .iter()
        .map(|r| {
            format!(
                "\"{}\" {} {}\n",
                r.name.replace('"', "'"),
                r.p50,
                r.floor_p50
            )
        })
        .collect();
    std::fs::write(out.join("bench.dat"), data).unwrap();
    let script = format!(
        "set terminal png size 1200,700; set output '{}'; set style data histograms; set style fill solid; set ylabel 'p50 ms'; set xtics rotate by -35; set key top left; plot '{}' using 2:xtic(1) title 'chat actor', '' using 3 title 'floor, same bytes'",
        out.join("bench.png").display(),
        out.join("bench.dat").display()
    );
    let ran = std::process::Command::new("gnuplot")
        .arg("-e")
        .arg(&script)
        .status();
    if !matches!(ran, Ok(s) if s.success()) {
        println!("gnuplot is not installed: no bench.png (bench.json has every figure)");
    }
}
