//! The web page in a real headless Chromium, driven over WebDriver (chromedriver),
//! against the packaged actor on a real Theater 0.2.1 server.
//!
//! Needs Debian's `chromium` and `chromium-driver`, Theater on PATH and the package:
//! run through scripts/test, or `cargo test --test browser -- --ignored`.

// Test code: a failed expectation should stop the test loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../common/mod.rs"]
mod common;

mod chatting;
mod page;
mod replies;
mod tools;
