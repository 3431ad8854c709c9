//! The Theater chat actor.
//!
//! Three layers (see `docs/architecture.md`): the bindings edge ([`edge`], wasm only),
//! the host port ([`port`]), and the pure core (everything else), which holds the logic
//! and nearly all the tests and runs natively.

pub mod actor;
pub mod api;
pub mod catalog;
pub mod chats;
pub mod config;
pub mod context;
pub mod decimal;
pub mod generation;
pub mod http;
pub mod json;
pub mod port;
pub mod providers;
pub mod state;
pub mod store;
pub mod table;
pub mod worker;

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod generation_tests;
#[cfg(test)]
mod test_support;

/// The `message-server-client` exports Theater 0.2.1 requires of an actor that lists the
/// handler, beyond `handle-send`: neither component takes requests or channels. Expanded
/// inside each edge's `impl Guest`, where its own `ChannelAccept` is in scope.
#[cfg(all(target_arch = "wasm32", not(feature = "floor")))]
macro_rules! refused_requests_and_channels {
    () => {
        fn handle_request(
            state: Option<Vec<u8>>,
            _params: (String, Vec<u8>),
        ) -> Result<(Option<Vec<u8>>, (Option<Vec<u8>>,)), String> {
            Ok((state, (None,)))
        }

        fn handle_channel_open(
            state: Option<Vec<u8>>,
            _params: (String, Vec<u8>),
        ) -> Result<(Option<Vec<u8>>, (ChannelAccept,)), String> {
            let refused = ChannelAccept {
                accepted: false,
                message: None,
            };
            Ok((state, (refused,)))
        }

        fn handle_channel_message(
            state: Option<Vec<u8>>,
            _params: (String, Vec<u8>),
        ) -> Result<(Option<Vec<u8>>,), String> {
            Ok((state,))
        }

        fn handle_channel_close(
            state: Option<Vec<u8>>,
            _params: (String,),
        ) -> Result<(Option<Vec<u8>>,), String> {
            Ok((state,))
        }
    };
}

// One crate, two components: the chat actor, and (with the `worker` feature) the
// generation worker it spawns.
#[cfg(all(
    target_arch = "wasm32",
    not(feature = "worker"),
    not(feature = "floor")
))]
mod edge;
#[cfg(all(target_arch = "wasm32", feature = "floor"))]
mod floor_edge;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod worker_edge;
