//! A fake OpenAI-compatible server on 127.0.0.1 speaking the real wire format of
//! `POST /v1/chat/completions`, including its error replies. It records every request.
//!
//! Behaviour by model name: `fake-429` answers 429 with Retry-After, `fake-500` a 500,
//! `fake-empty` a completion with no content; any other model gets
//! `"Fake reply #N to: <last user message>"`. A wrong or missing bearer key gets a 401.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct FakeOpenAi {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeOpenAi {
    /// Serves until the test process exits.
    pub fn start(api_key: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = requests.clone();
        let key = api_key.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &key, &recorded);
            }
        });
        Self { port, requests }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, key: &str, recorded: &Mutex<Vec<Recorded>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let request = Recorded {
        method,
        path,
        headers,
        body,
    };
    let (status, extra, reply) = answer(&request, key, recorded.lock().unwrap().len() + 1);
    recorded.lock().unwrap().push(request);
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
    if request.method != "POST" || request.path != "/v1/chat/completions" {
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
