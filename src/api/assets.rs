//! The page's files (HTML, scripts, style): their names, types and validators are
//! compiled in; their bytes are read from the package's `assets/web` (the manifest's
//! filesystem handler), where scripts/build-component puts each file plain and gzipped,
//! and kept in memory once read (`port::cached`). Compiled in, they were 88 KB of the
//! component.

use super::ApiError;
use crate::http;

/// A page file by its name under assets/web, with a compile-time ETag of its plain
/// bytes (they are only read at compile time, for the hash: none is in the component).
macro_rules! asset {
    ($content_type:expr, $name:expr) => {{
        const TAG: [u8; 18] = http::etag_of(include_bytes!(concat!("../../assets/web/", $name)));
        http::Asset {
            name: $name,
            content_type: $content_type,
            // Hex digits and quotes only, so always UTF-8.
            etag: match std::str::from_utf8(&TAG) {
                Ok(tag) => tag,
                Err(_) => "\"0\"",
            },
        }
    }};
}

const JS: &str = "text/javascript; charset=utf-8";

/// The page's files by path: everything the page loads, all public (no access token).
/// Markdown is rendered by the vendored markdown-it (README, "Dependencies") through
/// `markdown.js`.
static PAGE_FILES: [(&str, http::Asset); 13] = [
    ("/", asset!("text/html; charset=utf-8", "index.html")),
    ("/style.css", asset!("text/css; charset=utf-8", "style.css")),
    ("/chats.js", asset!(JS, "chats.js")),
    ("/messages.js", asset!(JS, "messages.js")),
    ("/settings.js", asset!(JS, "settings.js")),
    ("/branches.js", asset!(JS, "branches.js")),
    ("/live.js", asset!(JS, "live.js")),
    ("/app.js", asset!(JS, "app.js")),
    ("/tree.js", asset!(JS, "tree.js")),
    ("/transfer.js", asset!(JS, "transfer.js")),
    ("/search.js", asset!(JS, "search.js")),
    ("/markdown.js", asset!(JS, "markdown.js")),
    (
        "/vendor/markdown-it.min.js",
        asset!(JS, "vendor/markdown-it.min.js"),
    ),
];

/// A page file's bytes from the package; a clear 500 (and one log line) when the
/// package lacks it, which only an incomplete package does.
pub(super) fn read<H: crate::port::Host>(host: &H, name: &str) -> Result<Vec<u8>, ApiError> {
    host.read_file(name).map_err(|error| {
        host.log(&format!(
            "chat: the page file {name} could not be read: {error}"
        ));
        ApiError::new(
            500,
            "page_file_missing",
            format!(
                "the page file {name} could not be read from the package's assets/web \
                 ({}); build the package again (scripts/build-component or nix build)",
                error.message
            ),
        )
    })
}

pub(super) fn page_file(path: &str) -> Option<&'static http::Asset> {
    PAGE_FILES
        .iter()
        .find(|(served_at, _)| *served_at == path)
        .map(|(_, file)| file)
}

/// Where the page's files are served.
pub(super) fn paths() -> impl Iterator<Item = &'static str> {
    PAGE_FILES.iter().map(|(path, _)| *path)
}

#[cfg(test)]
#[path = "assets_tests.rs"]
mod tests;
