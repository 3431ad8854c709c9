//! Parsing requests and building responses, with the checks every request passes.

use crate::json::{Json, Map};
use crate::port::{HttpRequest, HttpResponse};
use std::fmt;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// `POST /api/import` carries a whole chat: it may be bigger (the runtime records the
/// body once, for that call).
pub const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;

/// The largest body a path takes.
pub fn max_body(path: &str) -> usize {
    if path == "/api/import" {
        MAX_IMPORT_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// A client-visible failure: an HTTP status, a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
    /// The methods a path takes, for 405.
    pub allow: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            allow: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    pub fn into_response(self) -> HttpResponse {
        let error = crate::json::object! { "code": self.code, "message": self.message };
        let body = crate::json::object! { "error": error };
        let mut response = json(self.status, &body);
        if let Some(seconds) = self.retry_after {
            response
                .headers
                .push(("Retry-After".to_string(), seconds.to_string()));
        }
        if let Some(allow) = self.allow {
            response.headers.push(("Allow".to_string(), allow));
        }
        response
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

/// A request after parsing its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn parse(raw: HttpRequest) -> Result<Self, ApiError> {
        // The framework passes the target as received; tolerate an absolute form.
        let target = match raw.uri.split_once("://") {
            Some((_, rest)) => rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/"),
            None => raw.uri.as_str(),
        };
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        let query = match query {
            None => Vec::new(),
            Some(query) => parse_query(query)?,
        };
        Ok(Self {
            method: raw.method.to_ascii_uppercase(),
            path: path.to_string(),
            query,
            headers: raw.headers,
            body: raw.body,
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn required_query(&self, name: &str) -> Result<&str, ApiError> {
        self.query(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "the query parameter {} is required",
                    crate::json::quoted(name)
                ))
            })
    }

    /// The body as a JSON object; an empty body reads as `{}`.
    pub fn json_object(&self) -> Result<Map, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::default());
        }
        match crate::json::parse(&self.body).map(Map::of) {
            Ok(Some(map)) => Ok(map),
            Ok(None) => Err(ApiError::bad_request(
                "the request body must be a JSON object",
            )),
            Err(error) => Err(ApiError::bad_request(format!(
                "the request body is not valid JSON: {error}"
            ))),
        }
    }

    /// Rejects requests the actor must not act on: oversized bodies, foreign hosts
    /// (DNS rebinding), cross-site writes (CSRF) and non-JSON bodies.
    /// The checks every request passes: size, the DNS-rebinding guard (the Host header
    /// must name this server exactly: a loopback name or the bind host, and the bound
    /// port), the cross-site guard for writes, and JSON bodies.
    pub fn check(&self, bind_host: &str, bound_port: u16) -> Result<(), ApiError> {
        let limit = max_body(&self.path);
        if self.body.len() > limit {
            return Err(ApiError::new(
                413,
                "payload_too_large",
                format!(
                    "the request body is {} bytes, over the {} KiB this takes",
                    self.body.len(),
                    limit / 1024
                ),
            ));
        }
        let host = self.header("host");
        match host {
            None => {
                return Err(ApiError::new(
                    403,
                    "forbidden_host",
                    "the request has no Host header",
                ))
            }
            Some(host) if !host_allowed(host, bind_host, Some(bound_port)) => {
                return Err(ApiError::new(
                    403,
                    "forbidden_host",
                    "this server only answers requests addressed to its own host name and port",
                ))
            }
            Some(_) => {}
        }
        let writes = !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS");
        if writes {
            if let Some(origin) = self.header("origin") {
                let authority = origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"));
                let same_origin = match (authority, host) {
                    (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host),
                    (Some(authority), None) => host_allowed(authority, bind_host, None),
                    (None, _) => false,
                };
                if !same_origin {
                    return Err(ApiError::new(
                        403,
                        "forbidden_origin",
                        "cross-site requests are not accepted",
                    ));
                }
            }
            let has_body = !self.body.iter().all(u8::is_ascii_whitespace);
            let json = self
                .header("content-type")
                .map(|value| {
                    value
                        .split(';')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .eq_ignore_ascii_case("application/json")
                })
                .unwrap_or(false);
            if has_body && !json {
                return Err(ApiError::new(
                    415,
                    "unsupported_media_type",
                    "send the request body as application/json",
                ));
            }
        }
        Ok(())
    }
}

/// Whether a Host header names this server: a loopback name, or the configured bind
/// host. A wildcard bind (0.0.0.0, ::) means the operator chose to serve any name.
/// `name[:port]` or `[v6]:port`, parsed exactly: anything else is not an authority.
fn parse_authority(text: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (inside, after) = rest.split_once(']')?;
            let valid = !inside.is_empty()
                && inside
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            if !valid {
                return None;
            }
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':')?),
            };
            (format!("[{inside}]"), port)
        }
        None => {
            let (name, port) = match text.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (text, None),
            };
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !valid {
                return None;
            }
            (name.to_string(), port)
        }
    };
    let port = match port {
        None => None,
        Some(digits) => {
            let valid =
                (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
            Some(digits.parse::<u16>().ok().filter(|p| valid && *p != 0)?)
        }
    };
    Some((name.to_ascii_lowercase(), port))
}

/// Whether a Host (or Origin authority) names this server: a loopback name or the bind
/// host, and when `bound_port` is given, that port (80 when the header names none).
fn host_allowed(host_header: &str, bind_host: &str, bound_port: Option<u16>) -> bool {
    let Some((name, port)) = parse_authority(host_header.trim()) else {
        return false;
    };
    if let Some(bound) = bound_port {
        if port.unwrap_or(80) != bound {
            return false;
        }
    }
    if bind_host == "0.0.0.0" || bind_host == "::" || bind_host == "[::]" {
        return true;
    }
    let bind = bind_host.to_ascii_lowercase();
    let bind = if bind.contains(':') && !bind.starts_with('[') {
        format!("[{bind}]")
    } else {
        bind
    };
    ["127.0.0.1", "localhost", "[::1]"].contains(&name.as_str()) || name == bind
}

fn parse_query(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(key)?, percent_decode(value)?))
        })
        .collect()
}

fn percent_decode(text: &str) -> Result<String, ApiError> {
    let bad = || ApiError::bad_request("the query string is not valid percent-encoded UTF-8");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

fn base_headers(content_type: &str) -> Vec<(String, String)> {
    vec![
        ("Content-Type".to_string(), content_type.to_string()),
        ("X-Content-Type-Options".to_string(), "nosniff".to_string()),
        ("Referrer-Policy".to_string(), "no-referrer".to_string()),
    ]
}

pub fn json(status: u16, body: &Json) -> HttpResponse {
    let mut headers = base_headers("application/json");
    headers.push(("Cache-Control".to_string(), "no-store".to_string()));
    HttpResponse {
        status,
        headers,
        body: body.to_bytes(),
    }
}

pub fn no_content() -> HttpResponse {
    let mut headers = base_headers("application/json");
    headers.retain(|(name, _)| name != "Content-Type");
    HttpResponse {
        status: 204,
        headers,
        body: Vec::new(),
    }
}

/// The page's security policy: only our own script, style and endpoints; nothing
/// inline, so text from a model or a user can never run as code.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A file of the page, read from the package (`NAME`, and `NAME.gz` gzipped when it was
/// assembled). Its validator is a hash of the bytes it was compiled with, computed at
/// compile time, so a browser that already has it gets a 304 with no body and no read.
pub struct Asset {
    /// Its name under the package's assets/web.
    pub name: &'static str,
    pub content_type: &'static str,
    pub etag: &'static str,
}

/// Whether an `Accept-Encoding` header takes gzip (and does not refuse it with `q=0`).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|header| {
        header.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=").is_some_and(|q| {
                    crate::decimal::Decimal::parse(q)
                        .is_none_or(|q| q == crate::decimal::Decimal::ZERO)
                })
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
    })
}

/// 64-bit FNV-1a, in a const fn so the ETag costs nothing at run time.
pub const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut rest = bytes;
    while let [byte, tail @ ..] = rest {
        hash ^= *byte as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        rest = tail;
    }
    hash
}

const fn hex_digit(hash: u64, nibble: u32) -> u8 {
    match (hash >> (4 * nibble)) & 0xf {
        n @ 0..=9 => b'0' + n as u8,
        n => b'a' + (n - 10) as u8,
    }
}

/// `"` + 16 hex digits + `"`, built at compile time.
pub const fn etag_of(bytes: &[u8]) -> [u8; 18] {
    let h = fnv1a(bytes);
    [
        b'"',
        hex_digit(h, 15),
        hex_digit(h, 14),
        hex_digit(h, 13),
        hex_digit(h, 12),
        hex_digit(h, 11),
        hex_digit(h, 10),
        hex_digit(h, 9),
        hex_digit(h, 8),
        hex_digit(h, 7),
        hex_digit(h, 6),
        hex_digit(h, 5),
        hex_digit(h, 4),
        hex_digit(h, 3),
        hex_digit(h, 2),
        hex_digit(h, 1),
        hex_digit(h, 0),
        b'"',
    ]
}

/// A page file, gzipped for a browser that accepts it and plain for a client that does
/// not (`curl` without `--compressed`). Each encoding has its own ETag (the gzipped one
/// ends in `-gz"`), and a revisit with either gets a 304 and no body. `read` gets the
/// file's bytes by its name in the package (`app.js` or `app.js.gz`), only when a body
/// is sent.
pub fn asset(
    asset: &Asset,
    if_none_match: Option<&str>,
    accept_encoding: Option<&str>,
    read: impl FnOnce(&str) -> Result<Vec<u8>, ApiError>,
) -> HttpResponse {
    let gzip = accepts_gzip(accept_encoding);
    let etag = if gzip {
        format!("{}-gz\"", asset.etag.trim_end_matches('"'))
    } else {
        asset.etag.to_string()
    };
    let unchanged = if_none_match.is_some_and(|tags| {
        tags.split(',')
            .any(|tag| tag.trim() == etag || tag.trim() == "*")
    });
    let body = if unchanged {
        Vec::new()
    } else {
        let read = if gzip {
            read(&format!("{}.gz", asset.name))
        } else {
            read(asset.name)
        };
        match read {
            Ok(body) => body,
            Err(error) => return error.into_response(),
        }
    };
    let mut headers = base_headers(asset.content_type);
    headers.push(("Cache-Control".to_string(), "no-cache".to_string()));
    headers.push(("Vary".to_string(), "Accept-Encoding".to_string()));
    headers.push((
        "Content-Security-Policy".to_string(),
        CONTENT_SECURITY_POLICY.to_string(),
    ));
    headers.push(("X-Frame-Options".to_string(), "DENY".to_string()));
    if gzip && !unchanged {
        headers.push(("Content-Encoding".to_string(), "gzip".to_string()));
    }
    headers.push(("ETag".to_string(), etag));
    HttpResponse {
        status: if unchanged { 304 } else { 200 },
        headers,
        body,
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
