//! Whatever a crash (or a person) leaves in the store: arbitrary bytes for the index,
//! a chat record, its backup and a message, read by the start's repair and then by the
//! API. Every outcome is an answer or a logged recovery, never a panic.
#![no_main]

use chat::actor::{handle_request, init};
use chat::port::fake::{content_hash, FakeHost};
use chat::port::HttpRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let host = FakeHost::new();
    let mut pieces = data.split(|b| *b == 0xff);
    for label in ["chats.index", "chat.c1", "chat.c1.b", "chats.index.b"] {
        let Some(bytes) = pieces.next() else { break };
        let hash = content_hash(bytes);
        host.content
            .borrow_mut()
            .entry("f".into())
            .or_default()
            .insert(hash.clone(), bytes.to_vec());
        host.labels.borrow_mut().entry("f".into()).or_default().insert(label.into(), hash);
    }
    if let Some(message) = pieces.next() {
        let hash = content_hash(message);
        host.content.borrow_mut().entry("f".into()).or_default().insert(hash, message.to_vec());
    }
    let Ok(mut state) = init(&host, Some(br#"{"store_id":"f"}"#), "fuzz-actor") else {
        panic!("init must not fail on a bad store");
    };
    for uri in ["/api/chats", "/api/chat?id=c1", "/api/messages?chat=c1"] {
        let request = HttpRequest {
            method: "GET".into(),
            uri: uri.into(),
            headers: vec![("Host".into(), "127.0.0.1:8084".into())],
            body: Vec::new(),
        };
        handle_request(&host, &mut state, request);
    }
});
