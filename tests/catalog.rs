//! Models and prices changed without a rebuild, the way a user does it: a TOML file
//! named by CHAT_MODELS, read by the runner (`nix run`, `scripts/run`) at every start,
//! on the real Theater 0.2.1.
//!
//! Needs Theater on PATH and the package: run through scripts/test, or
//! `cargo test --test catalog -- --ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{free_port, package_manifest, wait_until, Client, Theater};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::Duration;

const RUNNER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/nix/theater-chat.sh");

/// `theater-chat.sh serve` against `theater`'s server with `models` as CHAT_MODELS.
fn runner(theater: &Theater, models: &std::path::Path, port: u16) -> Command {
    let package = package_manifest().parent().unwrap().to_path_buf();
    let mut command = Command::new("bash");
    command
        .args([RUNNER, "serve"])
        .env("CHAT_PACKAGE", package)
        .env("THEATER_HOME", &*theater.home)
        .env("THEATER_SERVER_ADDRESS", &theater.address)
        .env("CHAT_PORT", port.to_string())
        .env("CHAT_CHECK_SECONDS", "1")
        .env("CHAT_MODELS", models)
        .stdin(Stdio::null());
    command
}

#[test]
#[ignore = "needs Theater 0.2.1 and the built package; run scripts/test"]
fn a_models_file_adds_models_and_prices_and_a_mistake_names_its_line() {
    let theater = Theater::start(&[]);
    // Quotes, backslashes, tabs and CRLF line ends survive the trip into the init state.
    let good = theater.home.join("my-models.toml");
    std::fs::write(
        &good,
        "# my \"local\" models \\ and prices\r\n[[providers]]\r\nid = \"openai\"\r\nmodels = [\r\n\t{ id = \"llama3.1:8b\", name = \"Llama \\\"local\\\"\", context_window = 8192, input_price = 0.0, output_price = 0.0 },\r\n  { id = \"gpt-4o-mini\", name = \"GPT-4o mini (our price)\", input_price = 0.1 },\r\n]\r\n",
    )
    .unwrap();
    let port = free_port();
    let out = std::fs::File::create(theater.home.join("runner.out")).unwrap();
    let mut serve = runner(&theater, &good, port)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let client = Client::new(port);
    let output = || std::fs::read_to_string(theater.home.join("runner.out")).unwrap_or_default();
    wait_until(
        "the runner never served the page; its output:",
        Duration::from_secs(60),
        || {
            client
                .try_call("GET", "/api/health", None)
                .is_some_and(|r| r.status == 200)
        },
        output,
    );
    let providers = client.expect(200, "GET", "/api/providers", None);
    let openai = providers["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "openai")
        .unwrap()
        .clone();
    let model = |id: &str| {
        openai["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing: {openai}"))
            .clone()
    };
    assert_eq!(model("llama3.1:8b")["name"], "Llama \"local\"");
    assert_eq!(model("llama3.1:8b")["context_window"], 8192);
    let mini = model("gpt-4o-mini");
    assert_eq!(
        (mini["input_price"].clone(), mini["output_price"].clone()),
        (json!(0.1), json!(0.6))
    );
    // The new model can be chosen, with the window it was given capping max_tokens.
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "provider": "openai", "model": "llama3.1:8b", "max_tokens": 512 })),
    );
    assert_eq!(chat["settings"]["max_tokens"], 512);
    let stopped = Command::new("bash")
        .args([RUNNER, "stop"])
        .env("THEATER_HOME", &*theater.home)
        .env("THEATER_SERVER_ADDRESS", &theater.address)
        .output()
        .unwrap();
    assert!(stopped.status.success(), "{stopped:?}");
    wait_until(
        "the runner did not stop",
        Duration::from_secs(30),
        || serve.try_wait().unwrap().is_some(),
        output,
    );

    // A typo on line 4: the start stops and says where.
    let bad = theater.home.join("bad-models.toml");
    std::fs::write(
        &bad,
        "[[providers]]\nid = \"openai\"\nmodels = [\n  { id = \"x\", name = \"X\", input_prize = 1.0 },\n]\n",
    )
    .unwrap();
    let failed = runner(&theater, &bad, free_port()).output().unwrap();
    let said = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{said}");
    assert!(
        said.contains("did not start") && said.contains("line 4") && said.contains("input_prize"),
        "{said}"
    );
    let missing = runner(&theater, &theater.home.join("nope.toml"), free_port())
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("CHAT_MODELS: cannot read"));
}
