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

/// The page's files by path. Markdown is rendered by the vendored markdown-it (README,
/// "Dependencies") through `markdown.js`.
pub(super) fn page_file(path: &str) -> Option<&'static http::Asset> {
    const INDEX_HTML: http::Asset = asset!("text/html; charset=utf-8", "index.html", true);
    const APP_JS: http::Asset = asset!(JS, "app.js", false);
    const TREE_JS: http::Asset = asset!(JS, "tree.js", false);
    const TRANSFER_JS: http::Asset = asset!(JS, "transfer.js", false);
    const SEARCH_JS: http::Asset = asset!(JS, "search.js", false);
    const STYLE_CSS: http::Asset = asset!("text/css; charset=utf-8", "style.css", false);
    const MARKDOWN_JS: http::Asset = asset!(JS, "markdown.js", false);
    const MARKDOWN_IT_JS: http::Asset = asset!(JS, "vendor/markdown-it.min.js", false);
    Some(match path {
        "/" => &INDEX_HTML,
        "/app.js" => &APP_JS,
        "/tree.js" => &TREE_JS,
        "/transfer.js" => &TRANSFER_JS,
        "/search.js" => &SEARCH_JS,
        "/style.css" => &STYLE_CSS,
        "/markdown.js" => &MARKDOWN_JS,
        "/vendor/markdown-it.min.js" => &MARKDOWN_IT_JS,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "assets_tests.rs"]
mod tests;
