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
pub mod generation;
pub mod http;
pub mod port;
pub mod providers;
pub mod state;
pub mod store;
pub mod worker;

#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod generation_tests;
#[cfg(test)]
mod test_support;

// One crate, two components: the chat actor, and (with the `worker` feature) the
// generation worker it spawns.
#[cfg(all(target_arch = "wasm32", not(feature = "worker")))]
mod edge;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
mod worker_edge;
