//! The benchmark (`scripts/bench`): the packaged actor on a real theater-server with a
//! temporary THEATER_HOME, a fake OpenAI-compatible provider on 127.0.0.1, one
//! keep-alive client. Prints a table and writes `bench.json` to the output folder.
//!
//! Figures: latency of the main routes; what a worker costs (spawn to reply with a
//! provider that answers at once, next to the demo model answering inline); and
//! `GET /api/chats` while 3 replies wait on a 5 s provider, next to none in flight.
//!
//! Not a test: timings vary with the machine, so nothing here fails on a number.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::fake_openai::FakeOpenAi;
use common::{free_port, package_manifest, Client, Theater};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const KEY: &str = "sk-bench-key-0123456789";

struct Figure {
    name: String,
    p50_ms: f64,
    p99_ms: f64,
    n: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Runs `f` `warmup + n` times and keeps the last `n` timings.
fn measure(name: &str, warmup: usize, n: usize, mut f: impl FnMut()) -> Figure {
    let mut times = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let start = Instant::now();
        f();
        if i >= warmup {
            times.push(start.elapsed());
        }
    }
    times.sort();
    Figure {
        name: name.to_string(),
        p50_ms: percentile(&times, 0.5),
        p99_ms: percentile(&times, 0.99),
        n,
    }
}

type Socket = tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<std::net::TcpStream>>;

/// Waits on the page socket for the end of generation `id`.
fn wait_generation(socket: &mut Socket, id: &str) -> Value {
    loop {
        if let tungstenite::Message::Text(text) = socket.read().expect("socket closed") {
            let event: Value = serde_json::from_str(text.as_str()).unwrap();
            let g = &event["generation"];
            if event["type"] == "generation" && g["id"] == id && g["status"] != "running" {
                return g.clone();
            }
        }
    }
}

fn main() {
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .unwrap_or_else(|| "target/bench".to_string());
    std::fs::create_dir_all(&out).unwrap();
    let manifest = package_manifest();
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let mut theater = Theater::start(&[("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", &base_url)]);
    let port = free_port();
    theater.start_actor(&manifest, &json!({ "port": port, "store_id": "bench" }));
    let client = Client::new(port);
    client.wait_ready(&theater);
    let mut figures = Vec::new();

    // Routes, with 50 chats and a chat of 200 messages.
    for n in 0..49 {
        client.expect(
            201,
            "POST",
            "/api/chats",
            Some(json!({ "title": format!("chat {n}") })),
        );
    }
    let long = client.expect(201, "POST", "/api/chats", Some(json!({ "title": "long" })));
    let long = long["id"].as_str().unwrap().to_string();
    for n in 0..200 {
        let text = format!("message {n}: some ordinary text of ordinary length");
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={long}"),
            Some(json!({ "content": text })),
        );
    }
    let get = |path: &str| {
        let reply = client.call("GET", path, None);
        assert_eq!(reply.status, 200, "{path}");
    };
    figures.push(measure("GET /api/health", 20, 300, || get("/api/health")));
    figures.push(measure("GET /api/chats (50 chats)", 20, 300, || {
        get("/api/chats")
    }));
    let page = format!("/api/messages?chat={long}&limit=50");
    figures.push(measure(
        "GET /api/messages (newest 50 of 200)",
        20,
        300,
        || get(&page),
    ));
    // Posting costs the same however long the history: a fresh chat, then the same chat
    // once it holds 3,000 messages.
    let fresh = client.expect(201, "POST", "/api/chats", Some(json!({ "title": "fresh" })));
    let fresh = format!("/api/messages?chat={}", fresh["id"].as_str().unwrap());
    figures.push(measure(
        "POST /api/messages (history of 10 to 310)",
        10,
        300,
        || {
            client.expect(201, "POST", &fresh, Some(json!({ "content": "one more" })));
        },
    ));
    let post = format!("/api/messages?chat={long}");
    figures.push(measure(
        "POST /api/messages (history of 200 to 500)",
        20,
        300,
        || {
            client.expect(201, "POST", &post, Some(json!({ "content": "one more" })));
        },
    ));
    for _ in 0..2_500 {
        client.expect(201, "POST", &post, Some(json!({ "content": "filler" })));
    }
    figures.push(measure(
        "POST /api/messages (history of 3,000 to 3,300)",
        0,
        300,
        || {
            client.expect(201, "POST", &post, Some(json!({ "content": "one more" })));
        },
    ));

    // What a worker costs: spawn to stored reply, the provider answering at once.
    let (mut socket, _) = tungstenite::connect(format!("ws://127.0.0.1:{port}/ws")).unwrap();
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "provider": "openai", "model": "gpt-4o-mini" })),
    );
    let chat = chat["id"].as_str().unwrap().to_string();
    figures.push(measure(
        "reply through a worker (provider answers at once)",
        3,
        30,
        || {
            client.expect(
                201,
                "POST",
                &format!("/api/messages?chat={chat}"),
                Some(json!({ "content": "hi" })),
            );
            let accepted = client.expect(202, "POST", &format!("/api/reply?chat={chat}"), None);
            let id = accepted["generation"]["id"].as_str().unwrap();
            let done = wait_generation(&mut socket, id);
            assert_eq!(done["status"], "done", "{done}");
        },
    ));
    let demo = client.expect(201, "POST", "/api/chats", Some(json!({})));
    let demo = demo["id"].as_str().unwrap().to_string();
    figures.push(measure(
        "reply from the demo model (inline, no worker)",
        3,
        30,
        || {
            client.expect(
                201,
                "POST",
                &format!("/api/messages?chat={demo}"),
                Some(json!({ "content": "hi" })),
            );
            client.expect(202, "POST", &format!("/api/reply?chat={demo}"), None);
        },
    ));

    // The chat list while 3 replies wait on a 5 s provider, next to none in flight.
    let idle = measure("GET /api/chats, no reply in flight", 10, 100, || {
        get("/api/chats")
    });
    let mut waiting = Vec::new();
    for _ in 0..3 {
        let c = client.expect(
            201,
            "POST",
            "/api/chats",
            Some(json!({ "provider": "openai", "model": "fake-delay-5000" })),
        );
        let c = c["id"].as_str().unwrap().to_string();
        client.expect(
            201,
            "POST",
            &format!("/api/messages?chat={c}"),
            Some(json!({ "content": "slow" })),
        );
        let accepted = client.expect(202, "POST", &format!("/api/reply?chat={c}"), None);
        waiting.push(accepted["generation"]["id"].as_str().unwrap().to_string());
    }
    let started = Instant::now();
    let busy = measure(
        "GET /api/chats, 3 replies in flight (5 s provider)",
        10,
        100,
        || get("/api/chats"),
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the busy window closed before the sample ended"
    );
    let still_running = waiting
        .iter()
        .filter(|id| {
            client.expect(200, "GET", &format!("/api/generation?id={id}"), None)["generation"]
                ["status"]
                == "running"
        })
        .count();
    assert_eq!(
        still_running, 3,
        "the replies must still be in flight while measuring"
    );
    let ratio = busy.p50_ms / idle.p50_ms;
    figures.push(idle);
    figures.push(busy);
    for id in &waiting {
        wait_generation(&mut socket, id);
    }

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!("\n{cores} cores, load average {load}; one keep-alive client on 127.0.0.1\n");
    println!("| what | p50 ms | p99 ms | runs |\n|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {:.2} | {:.2} | {} |",
            f.name, f.p50_ms, f.p99_ms, f.n
        );
    }
    println!("\nGET /api/chats with 3 replies in flight / with none (p50): {ratio:.2}x (goal: at most 2x)");
    let json = json!({
        "cores": cores,
        "load_average": load,
        "figures": figures.iter().map(|f| json!({ "name": f.name, "p50_ms": f.p50_ms, "p99_ms": f.p99_ms, "runs": f.n })).collect::<Vec<_>>(),
        "chats_busy_over_idle_p50": ratio,
    });
    let path = std::path::Path::new(&out).join("bench.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("wrote {}", path.display());
}
