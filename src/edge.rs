//! The bindings edge: the only module that names generated WIT types. Each export
//! decodes the state, calls the core in `actor`, and encodes the result; errors become
//! strings only here. Compiled for wasm32 only, so host `cargo test` links.

// The generated glue is FFI code; everything else in the crate stays free of `unsafe`.
#![allow(unsafe_code)]

use crate::actor;
use crate::port::cached::Cached;
use crate::port::{self, Env, Host, HostError, ServerHandle, ServerSpec};
use crate::state::ActorState;

wit_bindgen::generate!({
    world: "chat",
    path: "wit",
    generate_all,
});

use exports::theater::simple::actor::Guest as ActorGuest;
use exports::theater::simple::http_handlers::Guest as HttpGuest;
use exports::theater::simple::message_server_client::Guest as MessageGuest;
use exports::theater::simple::supervisor_handlers::Guest as SupervisorGuest;
use theater::simple::http_types::{HttpRequest, HttpResponse, MiddlewareResult, ServerConfig};
use theater::simple::types::{ChannelAccept, WitActorError, WitErrorType};
use theater::simple::websocket_types::{MessageType, WebsocketMessage};
use theater::simple::{
    environment, filesystem, http_framework, random, runtime, store, supervisor, timing,
};

struct TheaterHost;

thread_local! {
    /// The host every export uses, with the store objects of late in the instance's
    /// memory, which Theater keeps from one call to the next (see `port::cached`).
    static HOST: Cached<TheaterHost> = Cached::new(TheaterHost);
}

fn with_host<T>(f: impl FnOnce(&Cached<TheaterHost>) -> T) -> T {
    HOST.with(f)
}

fn host_error(operation: &'static str) -> impl Fn(String) -> HostError {
    move |message| HostError::new(operation, message)
}

impl Env for TheaterHost {
    fn env_var(&self, name: &str) -> Option<String> {
        environment::get_var(name)
    }
}

impl Host for TheaterHost {
    fn log(&self, line: &str) {
        runtime::log(line);
    }

    fn now_ms(&self) -> u64 {
        timing::now()
    }

    fn store_put(&self, store_id: &str, content: &[u8]) -> Result<String, HostError> {
        store::store(store_id, content)
            .map(|reference| reference.hash)
            .map_err(host_error("store"))
    }

    fn store_get(&self, store_id: &str, hash: &str) -> Result<Vec<u8>, HostError> {
        let reference = store::ContentRef {
            hash: hash.to_string(),
        };
        store::get(store_id, &reference).map_err(host_error("get"))
    }

    fn label_get(&self, store_id: &str, label: &str) -> Result<Option<String>, HostError> {
        store::get_by_label(store_id, label)
            .map(|found| found.map(|reference| reference.hash))
            .map_err(host_error("get-by-label"))
    }

    fn label_set(&self, store_id: &str, label: &str, hash: &str) -> Result<(), HostError> {
        let reference = store::ContentRef {
            hash: hash.to_string(),
        };
        store::label(store_id, label, &reference).map_err(host_error("label"))
    }

    fn label_remove(&self, store_id: &str, label: &str) -> Result<(), HostError> {
        store::remove_label(store_id, label).map_err(host_error("remove-label"))
    }

    fn store_at_label(
        &self,
        store_id: &str,
        label: &str,
        content: &[u8],
    ) -> Result<String, HostError> {
        store::replace_content_at_label(store_id, label, content)
            .map(|reference| reference.hash)
            .map_err(host_error("replace-content-at-label"))
    }

    fn label_list(&self, store_id: &str) -> Result<Vec<String>, HostError> {
        store::list_labels(store_id).map_err(host_error("list-labels"))
    }

    fn spawn(&self, manifest: &str, init: &[u8]) -> Result<String, HostError> {
        supervisor::spawn(manifest, Some(init)).map_err(host_error("spawn"))
    }

    fn stop_child(&self, child_id: &str) -> Result<(), HostError> {
        supervisor::stop_child(child_id).map_err(host_error("stop-child"))
    }

    fn random_bytes(&self, length: u32) -> Result<Vec<u8>, HostError> {
        random::random_bytes(length).map_err(host_error("random-bytes"))
    }

    fn read_file(&self, name: &str) -> Result<Vec<u8>, HostError> {
        filesystem::read_file(name).map_err(host_error("read-file"))
    }

    fn serve(&self, spec: &ServerSpec) -> Result<ServerHandle, HostError> {
        let config = ServerConfig {
            port: Some(spec.port),
            host: Some(spec.host.clone()),
            tls_config: None,
        };
        let server_id =
            http_framework::create_server(&config).map_err(host_error("create-server"))?;
        let handler =
            http_framework::register_handler("chat").map_err(host_error("register-handler"))?;
        for (method, path) in &spec.routes {
            port::when_stored(|| http_framework::add_route(server_id, path, method, handler))
                .map_err(host_error("add-route"))?;
        }
        http_framework::enable_websocket(
            server_id,
            spec.websocket_path,
            Some(handler),
            handler,
            Some(handler),
        )
        .map_err(host_error("enable-websocket"))?;
        let port = http_framework::start_server(server_id).map_err(host_error("start-server"))?;
        Ok(ServerHandle { server_id, port })
    }

    fn ws_send_text(
        &self,
        server_id: u64,
        connection_id: u64,
        text: &str,
    ) -> Result<(), HostError> {
        let message = WebsocketMessage {
            ty: MessageType::Text,
            data: None,
            text: Some(text.to_string()),
        };
        http_framework::send_websocket_message(server_id, connection_id, &message)
            .map_err(host_error("send-websocket-message"))
    }
}

fn decode(state: Option<Vec<u8>>) -> Result<ActorState, String> {
    ActorState::decode(state.as_deref()).map_err(|error| error.to_string())
}

struct Component;

impl ActorGuest for Component {
    fn init(state: Option<Vec<u8>>, params: (String,)) -> Result<(Option<Vec<u8>>,), String> {
        with_host(
            |host| match actor::init(host, state.as_deref(), &params.0) {
                Ok(state) => Ok((Some(state.encode()),)),
                Err(error) => {
                    host.log(&format!("chat: init failed: {error}"));
                    Err(error.to_string())
                }
            },
        )
    }
}

impl HttpGuest for Component {
    fn handle_request(
        state: Option<Vec<u8>>,
        params: (u64, HttpRequest),
    ) -> Result<(Option<Vec<u8>>, (HttpResponse,)), String> {
        let mut state = decode(state)?;
        let (_, request) = params;
        let request = port::HttpRequest {
            method: request.method,
            uri: request.uri,
            headers: request.headers,
            body: request.body.unwrap_or_default(),
        };
        let response = with_host(|host| actor::handle_request(host, &mut state, request));
        let response = HttpResponse {
            status: response.status,
            headers: response.headers,
            body: Some(response.body),
        };
        Ok((Some(state.encode()), (response,)))
    }

    fn handle_middleware(
        state: Option<Vec<u8>>,
        params: (u64, HttpRequest),
    ) -> Result<(Option<Vec<u8>>, (MiddlewareResult,)), String> {
        // No middleware is registered; pass requests through unchanged.
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
        params: (u64, u64, String, Option<String>),
    ) -> Result<(Option<Vec<u8>>,), String> {
        let mut state = decode(state)?;
        with_host(|host| actor::socket_opened(host, &mut state, params.1, params.3.as_deref()));
        Ok((Some(state.encode()),))
    }

    fn handle_websocket_message(
        state: Option<Vec<u8>>,
        params: (u64, u64, WebsocketMessage),
    ) -> Result<(Option<Vec<u8>>, (Vec<WebsocketMessage>,)), String> {
        let mut state = decode(state)?;
        let (_, _, message) = params;
        let replies = match (message.ty, message.text) {
            (MessageType::Text, Some(text)) => vec![WebsocketMessage {
                ty: MessageType::Text,
                data: None,
                text: Some(with_host(|host| {
                    actor::socket_frame(host, &mut state, &text)
                })),
            }],
            _ => Vec::new(),
        };
        Ok((Some(state.encode()), (replies,)))
    }

    fn handle_websocket_disconnect(
        state: Option<Vec<u8>>,
        params: (u64, u64),
    ) -> Result<(Option<Vec<u8>>,), String> {
        let mut state = decode(state)?;
        actor::socket_closed(&mut state, params.1);
        Ok((Some(state.encode()),))
    }
}

// Workers report through `send`; nothing else is accepted.
impl MessageGuest for Component {
    fn handle_send(
        state: Option<Vec<u8>>,
        params: (Vec<u8>,),
    ) -> Result<(Option<Vec<u8>>,), String> {
        let mut state = decode(state)?;
        with_host(|host| actor::worker_message(host, &mut state, &params.0));
        Ok((Some(state.encode()),))
    }

    refused_requests_and_channels!();
}

impl SupervisorGuest for Component {
    fn handle_child_error(
        state: Option<Vec<u8>>,
        params: (String, WitActorError),
    ) -> Result<(Option<Vec<u8>>,), String> {
        let mut state = decode(state)?;
        let kind = match params.1.error_type {
            WitErrorType::OperationTimeout => "operation timeout",
            WitErrorType::ChannelClosed => "channel closed",
            WitErrorType::ShuttingDown => "shutting down",
            WitErrorType::FunctionNotFound => "function not found",
            WitErrorType::TypeMismatch => "type mismatch",
            WitErrorType::Internal => "internal error",
            WitErrorType::SerializationError => "serialization error",
            WitErrorType::UpdateComponentError => "update component error",
            WitErrorType::Paused => "paused",
        };
        with_host(|host| actor::child_error(host, &mut state, &params.0, kind));
        Ok((Some(state.encode()),))
    }

    fn handle_child_exit(
        state: Option<Vec<u8>>,
        params: (String, Option<Vec<u8>>),
    ) -> Result<(Option<Vec<u8>>,), String> {
        let mut state = decode(state)?;
        with_host(|host| actor::child_exit(host, &mut state, &params.0));
        Ok((Some(state.encode()),))
    }
}

export!(Component);
