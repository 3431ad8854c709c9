//! The worker's bindings edge (`worker` feature, wasm only): `init` runs the job in
//! [`crate::worker`]; the message-server exports are the stubs 0.2.1 requires.

#![allow(unsafe_code)]

use crate::port::{self, Env, HostError, Outbound};
use crate::worker::{self, WorkerHost};

wit_bindgen::generate!({
    world: "worker",
    path: "wit",
    generate_all,
});

use exports::theater::simple::actor::Guest as ActorGuest;
use exports::theater::simple::message_server_client::Guest as MessageGuest;
use theater::simple::http_types::HttpRequest;
use theater::simple::types::ChannelAccept;
use theater::simple::{environment, http_client, message_server_host, runtime};

struct TheaterWorker;

impl Env for TheaterWorker {
    fn env_var(&self, name: &str) -> Option<String> {
        environment::get_var(name)
    }
}

impl Outbound for TheaterWorker {
    fn http_send(&self, request: &port::HttpRequest) -> Result<port::HttpResponse, HostError> {
        let wire = HttpRequest {
            method: request.method.clone(),
            uri: request.uri.clone(),
            headers: request.headers.clone(),
            body: Some(request.body.clone()),
        };
        http_client::send_http(&wire)
            .map(|response| port::HttpResponse {
                status: response.status,
                headers: response.headers,
                body: response.body.unwrap_or_default(),
            })
            .map_err(|message| HostError::new("send-http", message))
    }
}

impl WorkerHost for TheaterWorker {
    fn log(&self, line: &str) {
        runtime::log(line);
    }

    fn send(&self, actor: &str, message: &[u8]) -> Result<(), HostError> {
        message_server_host::send(actor, message).map_err(|message| HostError::new("send", message))
    }
}

struct Component;

impl ActorGuest for Component {
    // The returned state is recorded in the chain: the worker keeps none.
    fn init(state: Option<Vec<u8>>, _params: (String,)) -> Result<(Option<Vec<u8>>,), String> {
        worker::run(&TheaterWorker, state.as_deref().unwrap_or_default())?;
        Ok((None,))
    }
}

impl MessageGuest for Component {
    fn handle_send(
        state: Option<Vec<u8>>,
        _params: (Vec<u8>,),
    ) -> Result<(Option<Vec<u8>>,), String> {
        Ok((state,))
    }

    refused_requests_and_channels!();
}

export!(Component);
