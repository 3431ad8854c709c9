//! The actor's entry points, over the host port. The bindings edge calls these with
//! decoded state and encodes what they return.

use crate::api::{self, auth, generations, WEBSOCKET_PATH};
use crate::catalog::Catalog;
use crate::chats::recover;
use crate::config::{ActorConfig, ConfigError};
use crate::json::{object, Json};
use crate::port::{Host, HostError, HttpRequest, HttpResponse, ServerSpec};
use crate::state::ActorState;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Catalog(String),
    #[error("could not keep the catalog in the store: {0}")]
    Store(HostError),
    #[error("could not start the HTTP server: {0}")]
    Serve(HostError),
    #[error(
        "{0} is reachable from other machines, so it needs an access token: set CHAT_ACCESS_TOKEN \
         (at least 16 characters) in theater-server's environment, or bind to 127.0.0.1"
    )]
    TokenMissing(String),
}

/// Reads the configuration, repairs the store and starts serving. `actor_id` is this
/// actor's id, where workers send their reports.
pub fn init<H: Host>(
    host: &H,
    init_state: Option<&[u8]>,
    actor_id: &str,
) -> Result<ActorState, InitError> {
    let config = ActorConfig::from_init(init_state)?;
    if (config.require_token || !auth::is_loopback(&config.host)) && auth::token(host).is_none() {
        return Err(InitError::TokenMissing(format!(
            "{}:{}",
            config.host, config.port
        )));
    }
    let catalog = match config.catalog.as_deref() {
        None => {
            Catalog::builtin().map_err(|error| InitError::Catalog(error.to_string()))?;
            None
        }
        Some(overlay) => {
            Catalog::with_overlay(Some(overlay))
                .map_err(|error| InitError::Catalog(error.to_string()))?;
            // As JSON, so a read that comes back short is seen and read again
            // (`store::read_object`), and stamped with the time, so that a start never
            // stores the same bytes as one a kill tore (the store would keep the torn
            // file: it skips a write whose hash it has).
            let stored = crate::json::ToJson::to_json(&crate::catalog::StoredOverlay {
                toml: overlay.to_string(),
                stored_at: host.now_ms(),
            })
            .to_bytes();
            Some(
                host.store_put(&config.store_id, &stored)
                    .map_err(InitError::Store)?,
            )
        }
    };
    // Repair what a killed server left torn before serving anything. A store that
    // cannot be read at all is logged, and the actor still starts so the page can say
    // what is wrong.
    match recover::recover(host, &config.store_id) {
        Ok(report) => host.log(&report.summary(&config.store_id)),
        Err(error) => host.log(&format!(
            "chat: store {} is unreadable: {error}",
            crate::json::quoted(&config.store_id)
        )),
    }
    let spec = ServerSpec {
        host: config.host.clone(),
        port: config.port,
        routes: api::server_routes(),
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
        actor_id: actor_id.to_string(),
        generations: Default::default(),
        tickets: Vec::new(),
        catalog,
        hints: Default::default(),
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
    let mut events = generations::expire(host, state);
    let outcome = api::handle(host, state, request);
    if let Some(chat) = outcome.changed {
        events.push(object! { "type": "changed", "chat": chat });
    }
    events.extend(outcome.events);
    notify(host, state, &events);
    outcome.response
}

/// A worker's report arrived (`handle-send`).
pub fn worker_message<H: Host>(host: &H, state: &mut ActorState, bytes: &[u8]) {
    let mut events = generations::expire(host, state);
    events.extend(generations::report(host, state, bytes));
    notify(host, state, &events);
}

/// The runtime says a worker failed (`handle-child-error`).
pub fn child_error<H: Host>(host: &H, state: &mut ActorState, child: &str, kind: &str) {
    let mut events = generations::expire(host, state);
    events.extend(generations::child_failed(host, state, child, kind));
    notify(host, state, &events);
}

/// A worker shut down (`handle-child-exit`).
pub fn child_exit<H: Host>(host: &H, state: &mut ActorState, child: &str) {
    let mut events = generations::expire(host, state);
    events.extend(generations::child_exited(host, state, child));
    notify(host, state, &events);
}

/// Tells every open page what changed; pages refetch what they show. Only ids and
/// statuses are pushed, never content: the socket has no origin check in 0.2.1.
fn notify<H: Host>(host: &H, state: &mut ActorState, events: &[Json]) {
    let server_id = state.server_id;
    for event in events {
        let text = event.to_string();
        state
            .sockets
            .retain(|connection| host.ws_send_text(server_id, *connection, &text).is_ok());
    }
}

/// A page opened the socket; it hears about changes once admitted (with a ticket when
/// the access token is required).
pub fn socket_opened<H: Host>(
    host: &H,
    state: &mut ActorState,
    connection_id: u64,
    query: Option<&str>,
) {
    if auth::admit_socket(host, state, query) {
        state.add_socket(connection_id);
    }
}

pub fn socket_closed(state: &mut ActorState, connection_id: u64) {
    state.remove_socket(connection_id);
}

/// A text frame from a page; deadlines are checked first (pages ping while a reply
/// runs). `{"type":"ping"}` gets `{"type":"pong"}`.
pub fn socket_frame<H: Host>(host: &H, state: &mut ActorState, text: &str) -> String {
    let events = generations::expire(host, state);
    notify(host, state, &events);
    socket_message(text)
}

pub fn socket_message(text: &str) -> String {
    match crate::json::parse(text.as_bytes()) {
        Ok(message) if message.get("type").and_then(Json::as_str) == Some("ping") => {
            object! { "type": "pong" }.to_string()
        }
        _ => object! { "type": "error", "message": "expected {\"type\":\"ping\"}" }.to_string(),
    }
}

#[cfg(test)]
#[path = "actor_tests.rs"]
mod tests;
