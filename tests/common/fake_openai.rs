//! A fake OpenAI-compatible server on 127.0.0.1 speaking the real wire format of
//! `POST /v1/chat/completions`, including its error replies. It records every request.
//!
//! Behaviour by model name: `fake-429` answers 429 with Retry-After, `fake-500` a 500,
//! `fake-empty` a completion with no content, `fake-drop` closes the connection without
//! an answer, `fake-hold` holds its answer until the test calls `release`,
//! `fake-delay-MS` answers after MS milliseconds, `fake-echo` replies with the last user
//! message verbatim (a test writes the model's reply, Markdown and all); any other
//! model gets `"Fake reply #N to: <last user message>"`. A wrong or missing bearer key
//! gets a 401. Each connection is served on its own thread.

use serde_json::{json, Value};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Held `fake-hold` requests: how many wait, and how many may go.
#[derive(Default)]
pub struct Gate {
    state: Mutex<(usize, usize)>,
    changed: Condvar,
}

pub use super::fake_http::Recorded;

pub struct FakeOpenAi {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    gate: Arc<Gate>,
}

impl FakeOpenAi {
    /// Serves until the test process exits.
    pub fn start(api_key: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(Gate::default());
        let (recorded, held) = (requests.clone(), gate.clone());
        let key = api_key.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (key, recorded, held) = (key.clone(), recorded.clone(), held.clone());
                std::thread::spawn(move || serve(stream, &key, &recorded, &held));
            }
        });
        Self {
            port,
            requests,
            gate,
        }
    }

    /// How many `fake-hold` requests are waiting.
    pub fn holding(&self) -> usize {
        self.gate.state.lock().unwrap().0
    }

    /// Lets every held request answer (and any that arrives later).
    pub fn release(&self) {
        let mut state = self.gate.state.lock().unwrap();
        state.1 = usize::MAX;
        self.gate.changed.notify_all();
    }

    /// Holds `fake-hold` requests again.
    pub fn hold(&self) {
        self.gate.state.lock().unwrap().1 = 0;
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    key: &str,
    recorded: &Mutex<Vec<Recorded>>,
    gate: &Gate,
) -> std::io::Result<()> {
    let request = super::fake_http::read_request(&stream)?;
    let model = request.body["model"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let n = {
        let mut recorded = recorded.lock().unwrap();
        recorded.push(request.clone());
        recorded.len()
    };
    let (status, extra, reply) = answer(&request, key, n);
    if model == "fake-drop" && status == 200 {
        return Ok(()); // the connection closes with no answer
    }
    if let Some(ms) = model
        .strip_prefix("fake-delay-")
        .and_then(|ms| ms.parse().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
    if model == "fake-hold" && status == 200 {
        let mut state = gate.state.lock().unwrap();
        state.0 += 1;
        while state.1 == 0 {
            state = gate.changed.wait(state).unwrap();
        }
        state.0 -= 1;
    }
    let reply = reply.to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{reply}",
        reply.len()
    )?;
    stream.flush()
}

fn error(message: &str, kind: &str, code: Value) -> Value {
    json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })
}

fn answer(request: &Recorded, key: &str, n: usize) -> (u16, &'static str, Value) {
    if request.method != "POST" || request.path() != "/v1/chat/completions" {
        return (
            404,
            "",
            error(
                "Unknown request URL",
                "invalid_request_error",
                json!("unknown_url"),
            ),
        );
    }
    let bearer = request.header("authorization").unwrap_or_default();
    if bearer != format!("Bearer {key}") {
        let shown = bearer.trim_start_matches("Bearer ");
        return (
            401,
            "",
            error(
                &format!("Incorrect API key provided: {shown}."),
                "invalid_request_error",
                json!("invalid_api_key"),
            ),
        );
    }
    let model = request.body["model"].as_str().unwrap_or_default();
    match model {
        "fake-429" => (
            429,
            "Retry-After: 12\r\n",
            error(
                "Rate limit reached for requests",
                "requests",
                json!("rate_limit_exceeded"),
            ),
        ),
        "fake-500" => (
            500,
            "",
            error("The server had an error", "server_error", Value::Null),
        ),
        _ => {
            let last = request.body["messages"]
                .as_array()
                .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
                .and_then(|m| m["content"].as_str())
                .unwrap_or_default()
                .to_string();
            let content = if model == "fake-empty" {
                Value::Null
            } else if model == "fake-echo" {
                json!(last)
            } else {
                json!(format!("Fake reply #{n} to: {last}"))
            };
            (
                200,
                "",
                json!({
                    "id": format!("chatcmpl-fake{n}"),
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "model": model,
                    "choices": [{
                        "index": 0,
                        "message": { "role": "assistant", "content": content },
                        "logprobs": null,
                        "finish_reason": "stop"
                    }],
                    "usage": { "prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18 }
                }),
            )
        }
    }
}
