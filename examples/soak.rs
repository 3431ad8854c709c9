//! The soak (`scripts/soak`): the project's own run mode (the runner behind
//! `scripts/run` and `nix run`, default memory limit) under rounds of sustained use.
//! One round W = 1,000 posted messages + 400 reads of the newest 50-message page, plus
//! 10 new chats and 50 demo replies. After each round: theater-server's RSS, the log
//! sizes, rotations so far. At the end every acknowledged message is checked.
//! Writes `soak.csv` and `soak.txt` (and `soak.png` when gnuplot is installed).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{free_port, package_manifest, Client};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNNER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/nix/theater-chat.sh");

fn arg(name: &str, default: &str) -> String {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .unwrap_or_else(|| default.to_string())
}

fn rss_mib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Sends until answered: a request the runtime refused during a rotation, or one whose
/// connection a rotation cut before it ran, is sent again, as the page does.
fn send(
    client: &Client,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    retries: &mut u64,
) -> serde_json::Value {
    loop {
        match client.try_call(method, path, body.as_ref()) {
            Some(r) if r.status < 300 => {
                return if r.text.is_empty() {
                    json!(null)
                } else {
                    r.json()
                }
            }
            Some(r) if r.status >= 500 && !r.text.starts_with('{') => {}
            Some(r) => panic!("{method} {path} answered {}: {}", r.status, r.text),
            None => {}
        }
        *retries += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn main() {
    let rounds: usize = arg("--rounds", "20").parse().unwrap();
    let out = arg("--out", "target/soak");
    std::fs::create_dir_all(&out).unwrap();
    let home = std::env::temp_dir().join(format!("theater-chat-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let (port, server) = (free_port(), free_port());
    let package = package_manifest().parent().unwrap().to_path_buf();
    let env = [
        ("CHAT_PACKAGE", package.display().to_string()),
        ("THEATER_HOME", home.display().to_string()),
        ("THEATER_SERVER_ADDRESS", format!("127.0.0.1:{server}")),
        ("CHAT_PORT", port.to_string()),
        ("CHAT_CHECK_SECONDS", "2".to_string()),
    ];
    let mut runner = Command::new("bash")
        .args([RUNNER, "serve"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(home.join("runner.out")).unwrap())
        .spawn()
        .unwrap();
    let client = Client::new(port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while client
        .try_call("GET", "/api/health", None)
        .is_none_or(|r| r.status != 200)
    {
        assert!(
            Instant::now() < deadline,
            "the runner never served the page"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let server_pid = std::fs::read_to_string(home.join("run/server.pid"))
        .unwrap()
        .trim()
        .to_string();
    let log = home.join("chat.log");
    let log_old = home.join("chat.log.1");
    let started = Instant::now();
    let mut retries = 0u64;
    let mut requests = 0u64;
    let mut acked: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rows = vec![format!(
        "round,seconds,rss_mib,log_bytes,requests,rotations,retries"
    )];
    let base_rss = rss_mib(&server_pid);
    println!("round  seconds  RSS MiB  log bytes  requests  rotations  retries");
    println!(
        "{:>5}  {:>7}  {:>7}  {:>9}  {:>8}  {:>9}  {:>7}",
        0,
        0,
        base_rss,
        size(&log),
        0,
        0,
        0
    );
    rows.push(format!("0,0,{base_rss},{},0,0,0", size(&log)));
    for round in 1..=rounds {
        let mut chats = Vec::new();
        for n in 0..10 {
            let chat = send(
                &client,
                "POST",
                "/api/chats",
                Some(json!({ "title": format!("r{round} c{n}") })),
                &mut retries,
            );
            chats.push(chat["id"].as_str().unwrap().to_string());
            requests += 1;
        }
        for n in 0..1000 {
            let chat = &chats[n % chats.len()];
            let text =
                format!("round {round} message {n}: an ordinary sentence of ordinary length");
            let posted = send(
                &client,
                "POST",
                &format!("/api/messages?chat={chat}"),
                Some(json!({ "content": text })),
                &mut retries,
            );
            acked
                .entry(chat.clone())
                .or_default()
                .push(posted["message"]["id"].as_str().unwrap().to_string());
            requests += 1;
            if n % 20 == 19 {
                // A demo reply (answered inline).
                let reply = send(
                    &client,
                    "POST",
                    &format!("/api/reply?chat={chat}"),
                    None,
                    &mut retries,
                );
                if let Some(id) = reply["message"]["id"].as_str() {
                    acked.get_mut(chat).unwrap().push(id.to_string());
                }
                requests += 1;
            }
            if n % 5 == 4 {
                for _ in 0..2 {
                    let page = format!("/api/messages?chat={chat}&limit=50");
                    send(&client, "GET", &page, None, &mut retries);
                    requests += 1;
                }
            }
        }
        let rotations = std::fs::read_to_string(home.join("chat.log"))
            .unwrap_or_default()
            .matches("rotated the chat actor")
            .count()
            + std::fs::read_to_string(&log_old)
                .unwrap_or_default()
                .matches("rotated the chat actor")
                .count();
        let pid = std::fs::read_to_string(home.join("run/server.pid"))
            .unwrap_or_default()
            .trim()
            .to_string();
        let rss = rss_mib(&pid);
        let logs =
            size(&log) + size(&log_old) + size(&home.join("logs/theater/theater_server.log"));
        let secs = started.elapsed().as_secs();
        println!("{round:>5}  {secs:>7}  {rss:>7}  {logs:>9}  {requests:>8}  {rotations:>9}  {retries:>7}");
        rows.push(format!(
            "{round},{secs},{rss},{logs},{requests},{rotations},{retries}"
        ));
    }

    // Every acknowledged message is there.
    let mut checked = 0;
    for (chat, ids) in &acked {
        let page = send(
            &client,
            "GET",
            &format!("/api/messages?chat={chat}&limit=200"),
            None,
            &mut retries,
        );
        let shown: Vec<&str> = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        for id in ids {
            assert!(
                shown.contains(&id.as_str()),
                "acknowledged message {id} of {chat} is missing"
            );
            checked += 1;
        }
    }
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !log_text.contains("ordinary sentence"),
        "message content reached the log"
    );
    let summary = format!(
        "{rounds} rounds, {requests} requests, {retries} retried during rotations; {checked} acknowledged messages all present; \
         log {} bytes in all ({:.2} bytes per request); no message content in the log",
        size(&log) + size(&log_old),
        (size(&log) + size(&log_old)) as f64 / requests as f64
    );
    println!("{summary}");
    std::fs::write(Path::new(&out).join("soak.csv"), rows.join("\n") + "\n").unwrap();
    std::fs::write(
        Path::new(&out).join("soak.txt"),
        format!("{}\n{summary}\n", rows.join("\n")),
    )
    .unwrap();
    let _ = Command::new("bash")
        .args([RUNNER, "stop"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .status();
    let _ = runner.wait();
    let plot = format!(
        "set terminal png size 900,500; set output '{out}/soak.png'; set datafile separator ','; \
         set key autotitle columnhead; set xlabel 'round (1,000 posts + 400 page reads each)'; \
         set ylabel 'theater-server RSS (MiB)'; set yrange [0:*]; \
         plot '{out}/soak.csv' using 1:3 with linespoints title 'RSS MiB', 512 title 'limit' with lines"
    );
    match Command::new("gnuplot").args(["-e", &plot]).status() {
        Ok(status) if status.success() => println!("wrote {out}/soak.png"),
        _ => println!("gnuplot not found: no PNG (apt-get install gnuplot-nox)"),
    }
    println!("wrote {out}/soak.csv and {out}/soak.txt");
    let _ = std::fs::remove_dir_all(&home);
}
