//! A small HTTP/1.1 server on 127.0.0.1 for the fake providers: one thread per
//! connection, every request recorded before it is answered, `Connection: close`.
//! What each fake answers is its own `handler`; the key it expects can be changed while
//! it runs, so a test can make the key theater-server holds a wrong one.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The body as JSON; `Null` when it was not JSON.
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    /// The text of the last turn with this role, in either wire shape: a `content`
    /// string (Anthropic, OpenAI) or `parts[].text` (Gemini).
    pub fn last_text(&self, list: &str, role: &str) -> String {
        self.body[list]
            .as_array()
            .and_then(|turns| turns.iter().rev().find(|t| t["role"] == role))
            .map(|turn| match &turn["content"] {
                Value::String(text) => text.clone(),
                _ => turn["parts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|part| part["text"].as_str())
                    .collect(),
            })
            .unwrap_or_default()
    }
}

/// A reply: status, extra headers, body (JSON unless made by `html`).
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            content_type: "application/json",
            body: body.to_string(),
        }
    }

    pub fn html(status: u16, body: &str) -> Self {
        Self {
            content_type: "text/html; charset=UTF-8",
            body: body.to_string(),
            ..Self::json(status, Value::Null)
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// What a fake answers to a request, given the key it expects now.
pub type Handler = fn(&Recorded, &str) -> Answer;

pub struct FakeServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    key: Arc<Mutex<String>>,
}

impl FakeServer {
    /// Serves until the test process exits.
    pub fn start(api_key: &str, handler: Handler) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let key = Arc::new(Mutex::new(api_key.to_string()));
        let (recorded, expected) = (requests.clone(), key.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (recorded, expected) = (recorded.clone(), expected.clone());
                std::thread::spawn(move || serve(stream, &recorded, &expected, handler));
            }
        });
        Self {
            port,
            requests,
            key,
        }
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on only `key` is accepted.
    pub fn expect_key(&self, key: &str) {
        *self.key.lock().unwrap() = key.to_string();
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn last(&self) -> Recorded {
        self.requests()
            .pop()
            .expect("the fake provider got no request")
    }
}

/// Reads one request (line, headers, a `Content-Length` body) from a connection.
pub fn read_request(stream: &TcpStream) -> std::io::Result<Recorded> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
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
    Ok(Recorded {
        method,
        target,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

fn serve(
    stream: TcpStream,
    recorded: &Mutex<Vec<Recorded>>,
    key: &Mutex<String>,
    handler: Handler,
) -> std::io::Result<()> {
    let request = read_request(&stream)?;
    recorded.lock().unwrap().push(request.clone());
    let expected = key.lock().unwrap().clone();
    let answer = handler(&request, &expected);
    let body = answer.body;
    let extra: String = answer
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{body}",
        answer.status,
        answer.content_type,
        body.len()
    )?;
    stream.flush()
}
