//! The page's files (HTML, scripts, style), compiled into the component.

use crate::http;

/// The page's files, compiled in gzipped (by build.rs), each with a compile-time ETag of
/// its plain bytes. Only `index.html` is also kept plain, for a client that does not take
/// gzip (`curl http://127.0.0.1:8080/`); every browser does, and the plain copies of the
/// scripts and the style would add a quarter of a megabyte to the component.
macro_rules! asset {
    ($content_type:expr, $name:expr, $plain:expr) => {{
        // Only read at compile time (the ETag): not in the component unless `$plain`.
        const BODY: &str = include_str!(concat!("../../assets/web/", $name));
        const TAG: [u8; 18] = http::etag_of(BODY.as_bytes());
        http::Asset {
            name: $name,
            content_type: $content_type,
            plain: if $plain { Some(BODY) } else { None },
            gzip: include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".gz")),
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
    ("/", asset!("text/html; charset=utf-8", "index.html", true)),
    (
        "/style.css",
        asset!("text/css; charset=utf-8", "style.css", false),
    ),
    ("/chats.js", asset!(JS, "chats.js", false)),
    ("/messages.js", asset!(JS, "messages.js", false)),
    ("/settings.js", asset!(JS, "settings.js", false)),
    ("/branches.js", asset!(JS, "branches.js", false)),
    ("/live.js", asset!(JS, "live.js", false)),
    ("/app.js", asset!(JS, "app.js", false)),
    ("/tree.js", asset!(JS, "tree.js", false)),
    ("/transfer.js", asset!(JS, "transfer.js", false)),
    ("/search.js", asset!(JS, "search.js", false)),
    ("/markdown.js", asset!(JS, "markdown.js", false)),
    (
        "/vendor/markdown-it.min.js",
        asset!(JS, "vendor/markdown-it.min.js", false),
    ),
];

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
