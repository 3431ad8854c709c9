//! Any reply from a provider, through its parser, and any message a worker could send,
//! through the chat actor's decoding: errors, never a panic.
#![no_main]

use chat::generation::Report;
use chat::port::HttpResponse;
use chat::providers::{OpenAi, Provider};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = u16::from_le_bytes(*status) % 600;
    let response = HttpResponse {
        status,
        headers: vec![("retry-after".into(), String::from_utf8_lossy(&body[..body.len().min(8)]).into_owned())],
        body: body.to_vec(),
    };
    let provider = OpenAi::new("http://127.0.0.1:9/v1", "sk-fuzz-key-0123456789").unwrap();
    if let Err(error) = provider.parse(&response) {
        assert!(!error.to_string().contains("sk-fuzz-key-0123456789"), "{error}");
    }
    let _ = <Report as chat::json::FromJson>::from_bytes(data);
});
