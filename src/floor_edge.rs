//! The benchmark's floor actor (`--features floor`, built by `scripts/bench` only): a
//! server on the port its init state names, answering `GET /ping` with `pong` and
//! `GET /bytes?n=N` with N bytes, and keeping no state. What it costs is what Theater
//! itself costs per request and per byte, which the chat actor is measured against.
//!
//! `POST /write?n=N` is the least a request that must survive a crash costs: it stores
//! the request body (one `store` call) and points the label `head` at it (one `label`
//! call), then answers N bytes. The bench compares posting a message with it.

#![allow(unsafe_code)]

wit_bindgen::generate!({
    world: "floor",
    path: "wit",
    generate_all,
});

use exports::theater::simple::actor::Guest as ActorGuest;
use exports::theater::simple::http_handlers::Guest as HttpGuest;
use theater::simple::http_framework;
use theater::simple::http_types::{HttpRequest, HttpResponse, MiddlewareResult, ServerConfig};
use theater::simple::store;
use theater::simple::websocket_types::WebsocketMessage;

struct Floor;

struct Init {
    port: u16,
}

impl crate::json::FromJson for Init {
    fn from_json(value: crate::json::Json) -> Result<Self, crate::json::JsonError> {
        let mut f = crate::json::Fields::of(value, "the floor's init state")?;
        Ok(Self {
            port: f.take("port")?,
        })
    }
}

impl ActorGuest for Floor {
    fn init(state: Option<Vec<u8>>, _params: (String,)) -> Result<(Option<Vec<u8>>,), String> {
        let init =
            <Init as crate::json::FromJson>::from_bytes(state.as_deref().unwrap_or_default())
                .map_err(|error| format!("floor: init state: {error}"))?;
        let config = ServerConfig {
            port: Some(init.port),
            host: Some("127.0.0.1".to_string()),
            tls_config: None,
        };
        let server = http_framework::create_server(&config)?;
        let handler = http_framework::register_handler("floor")?;
        for path in ["/ping", "/bytes"] {
            crate::port::when_stored(|| http_framework::add_route(server, path, "GET", handler))?;
        }
        crate::port::when_stored(|| http_framework::add_route(server, "/write", "POST", handler))?;
        http_framework::start_server(server)?;
        Ok((None,))
    }
}

fn body_for(uri: &str) -> Vec<u8> {
    let n = uri
        .split_once("n=")
        .and_then(|(_, n)| n.split('&').next())
        .and_then(|n| n.parse::<usize>().ok());
    match n {
        Some(n) => vec![b'x'; n.min(1 << 24)],
        None => b"pong".to_vec(),
    }
}

/// One durable write: the bytes, then the label naming them.
fn write(body: &[u8]) -> Result<(), String> {
    let stored = store::store(STORE, body)?;
    store::label(STORE, "head", &stored)
}

const STORE: &str = "floor";

impl HttpGuest for Floor {
    fn handle_request(
        state: Option<Vec<u8>>,
        params: (u64, HttpRequest),
    ) -> Result<(Option<Vec<u8>>, (HttpResponse,)), String> {
        let request = params.1;
        let written = match request.method.as_str() {
            "POST" => write(request.body.as_deref().unwrap_or_default()),
            _ => Ok(()),
        };
        let response = match written {
            Ok(()) => HttpResponse {
                status: 200,
                headers: vec![("content-type".to_string(), "text/plain".to_string())],
                body: Some(body_for(&request.uri)),
            },
            Err(error) => HttpResponse {
                status: 500,
                headers: Vec::new(),
                body: Some(error.into_bytes()),
            },
        };
        Ok((state, (response,)))
    }

    fn handle_middleware(
        state: Option<Vec<u8>>,
        params: (u64, HttpRequest),
    ) -> Result<(Option<Vec<u8>>, (MiddlewareResult,)), String> {
        Ok((
            state,
            (MiddlewareResult {
                proceed: true,
                request: params.1,
            },),
        ))
    }

    fn handle_websocket_connect(
        state: Option<Vec<u8>>,
        _params: (u64, u64, String, Option<String>),
    ) -> Result<(Option<Vec<u8>>,), String> {
        Ok((state,))
    }

    fn handle_websocket_message(
        state: Option<Vec<u8>>,
        _params: (u64, u64, WebsocketMessage),
    ) -> Result<(Option<Vec<u8>>, (Vec<WebsocketMessage>,)), String> {
        Ok((state, (Vec::new(),)))
    }

    fn handle_websocket_disconnect(
        state: Option<Vec<u8>>,
        _params: (u64, u64),
    ) -> Result<(Option<Vec<u8>>,), String> {
        Ok((state,))
    }
}

export!(Floor);
