//! The actor's entry points, over the host port. The bindings edge calls these with
//! decoded state and encodes what they return.

use crate::api::{self, ROUTES, WEBSOCKET_PATH};
use crate::catalog::Catalog;
use crate::chats::{ChatId, ChatStore};
use crate::config::{ActorConfig, ConfigError};
use crate::port::{Host, HostError, HttpRequest, HttpResponse, ServerSpec};
use crate::state::ActorState;
use serde_json::{json, Value};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the built-in model catalog is invalid: {0}")]
    Catalog(String),
    #[error("could not start the HTTP server: {0}")]
    Serve(HostError),
}

/// Reads the configuration, checks the store is readable and starts serving.
pub fn init<H: Host>(host: &H, init_state: Option<&[u8]>) -> Result<ActorState, InitError> {
    let config = ActorConfig::from_init(init_state)?;
    Catalog::builtin().map_err(|error| InitError::Catalog(error.to_string()))?;
    // A broken store should be visible in the log now, not at the first request; the
    // actor still starts so the page can say what is wrong.
    match ChatStore::new(host, &config.store_id).list() {
        Ok(chats) => host.log(&format!(
            "chat: store {:?} holds {} chats",
            config.store_id,
            chats.len()
        )),
        Err(error) => host.log(&format!(
            "chat: store {:?} is unreadable: {error}",
            config.store_id
        )),
    }
    let spec = ServerSpec {
        host: config.host.clone(),
        port: config.port,
        routes: ROUTES.to_vec(),
        websocket_path: WEBSOCKET_PATH,
    };
    let server = host.serve(&spec).map_err(InitError::Serve)?;
    host.log(&format!(
        "chat: listening on http://{}:{}/",
        display_host(&config.host),
        server.port
    ));
    Ok(ActorState {
        config,
        server_id: server.server_id,
        port: server.port,
        sockets: Vec::new(),
    })
}

fn display_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

pub fn handle_request<H: Host>(
    host: &H,
    state: &mut ActorState,
    request: HttpRequest,
) -> HttpResponse {
    let outcome = api::handle(host, &state.config, request);
    if let Some(chat) = outcome.changed {
        notify(host, state, &chat);
    }
    outcome.response
}

/// Tells every open page that a chat changed; pages refetch what they show.
/// Only the id is pushed, never content: the socket has no origin check in 0.2.1.
fn notify<H: Host>(host: &H, state: &mut ActorState, chat: &ChatId) {
    let text = json!({ "type": "changed", "chat": chat }).to_string();
    let server_id = state.server_id;
    state
        .sockets
        .retain(|connection| host.ws_send_text(server_id, *connection, &text).is_ok());
}

pub fn socket_opened(state: &mut ActorState, connection_id: u64) {
    state.add_socket(connection_id);
}

pub fn socket_closed(state: &mut ActorState, connection_id: u64) {
    state.remove_socket(connection_id);
}

/// Answers a text frame from a page: `{"type":"ping"}` gets `{"type":"pong"}`.
pub fn socket_message(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(message) if message.get("type").and_then(Value::as_str) == Some("ping") => {
            json!({ "type": "pong" }).to_string()
        }
        _ => json!({ "type": "error", "message": "expected {\"type\":\"ping\"}" }).to_string(),
    }
}

#[cfg(test)]
mod tests;
