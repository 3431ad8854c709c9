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
pub mod http;
pub mod port;
pub mod providers;
pub mod state;
pub mod store;

#[cfg(test)]
mod crash_tests;

#[cfg(target_arch = "wasm32")]
mod edge;
