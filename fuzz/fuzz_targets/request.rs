//! Any request, through the whole actor (parsing, the host and token checks, routing,
//! validation, the store) over the in-memory host: it must answer, never panic, and
//! never answer 5xx while the store works.
#![no_main]

use chat::actor::{handle_request, init};
use chat::port::fake::FakeHost;
use chat::port::HttpRequest;
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 7] = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "FOO"];

fuzz_target!(|data: &[u8]| {
    // Layout: method byte, then target, header lines and body separated by NUL bytes.
    let Some((&method, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.split(|b| *b == 0);
    let target = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let headers_raw = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default().to_vec();
    let mut headers: Vec<(String, String)> = headers_raw
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    if method % 2 == 0 {
        headers.push(("Host".into(), "127.0.0.1:8084".into()));
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let host = FakeHost::new();
    let Ok(mut state) = init(&host, Some(br#"{"store_id":"f"}"#), "fuzz-actor") else {
        panic!("init failed");
    };
    // A chat to aim at, so routes get past the lookups.
    let seed = HttpRequest {
        method: "POST".into(),
        uri: "/api/chats".into(),
        headers: vec![
            ("Host".into(), "127.0.0.1:8084".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: b"{}".to_vec(),
    };
    assert_eq!(handle_request(&host, &mut state, seed).status, 201);
    let request = HttpRequest {
        method: METHODS[usize::from(method) % METHODS.len()].to_string(),
        uri: target,
        headers,
        body,
    };
    let response = handle_request(&host, &mut state, request);
    assert!(response.status < 500, "{} for a request the store could serve", response.status);
});
