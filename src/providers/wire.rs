//! Pieces the HTTP providers share: base URLs, the API key, the shape of a
//! conversation and of an upstream error object.

use super::{excerpt, ProviderError, Turn};
use crate::chats::Role;
use crate::json::{Fields, FromJson, Json, JsonError, Map};
use crate::port::{HttpRequest, HttpResponse};
use std::fmt;

/// Longest upstream text passed on in an error.
const MAX_UPSTREAM_CHARS: usize = 300;

/// An API key. `{:?}` never shows it, and [`ApiKey::scrub`] masks it out of any text
/// that came back from a provider.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl ApiKey {
    pub(crate) fn new(key: &str) -> Self {
        Self(key.trim().to_string())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Upstream text, key masked first and then shortened, so a cut never leaves part
    /// of the key behind.
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.len() >= 4 {
            excerpt(&text.replace(&self.0, "[redacted]"), MAX_UPSTREAM_CHARS)
        } else {
            excerpt(text, MAX_UPSTREAM_CHARS)
        }
    }

    /// A reply that is not what the provider sends; the error may quote a value of it
    /// (possibly an echoed key).
    pub(crate) fn malformed(&self, error: &JsonError) -> ProviderError {
        ProviderError::Malformed {
            detail: self.scrub(&error.to_string()),
        }
    }
}

/// A base URL without its trailing slashes, if it is an http(s) URL.
pub(crate) fn base_url(url: &str, provider: &str, variable: &str) -> Result<String, ProviderError> {
    let base = url.trim().trim_end_matches('/');
    let scheme_ok = base.starts_with("http://") || base.starts_with("https://");
    if !scheme_ok || base.contains(char::is_whitespace) {
        return Err(ProviderError::NotConfigured {
            provider: provider.to_string(),
            hint: format!("{variable} must be an http:// or https:// URL"),
        });
    }
    Ok(base.to_string())
}

/// Whether a URL's host is this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
pub(crate) fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        let host = bracketed.split(']').next().unwrap_or_default();
        return ipv6_groups(host) == Some([0, 0, 0, 0, 0, 0, 0, 1]);
    }
    let host = host_port.split(':').next().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost") || ipv4_octets(host).is_some_and(|o| o[0] == 127)
}

/// An IPv4 address as std reads one: four decimal octets, no leading zeros. (std's
/// address parser was 4 KB of the component, for this one check.)
fn ipv4_octets(text: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        let plain = (1..=3).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        *octet = part.parse().ok().filter(|_| plain)?;
    }
    parts.next().is_none().then_some(octets)
}

/// The eight groups of an IPv6 address in hex, with one `::` at most (the dotted
/// IPv4 tail is not read: no loopback address is written with one).
fn ipv6_groups(text: &str) -> Option<[u16; 8]> {
    let groups = |part: &str| -> Option<Vec<u16>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        part.split(':')
            .map(|g| {
                let hex = (1..=4).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit());
                u16::from_str_radix(g, 16).ok().filter(|_| hex)
            })
            .collect()
    };
    let all = match text.split_once("::") {
        None => groups(text)?,
        Some((head, tail)) => {
            let (head, tail) = (groups(head)?, groups(tail)?);
            // `::` stands for one zero group or more.
            let zeros = 8usize
                .checked_sub(head.len() + tail.len())
                .filter(|n| *n >= 1)?;
            let mut all = head;
            all.extend(std::iter::repeat_n(0, zeros));
            all.extend(tail);
            all
        }
    };
    all.try_into().ok()
}

/// `Retry-After` in seconds (the HTTP-date form is ignored).
pub(crate) fn retry_after(response: &HttpResponse) -> Option<u64> {
    response
        .header("retry-after")
        .and_then(|value| value.trim().parse().ok())
}

/// The conversation as strictly alternating turns starting with the user, as the
/// Anthropic and Gemini APIs want it: leading assistant turns are dropped and
/// consecutive turns of one role are joined.
pub(crate) fn alternating(turns: &[Turn]) -> Vec<(Role, String)> {
    let mut merged: Vec<(Role, String)> = Vec::new();
    for turn in turns.iter().skip_while(|turn| turn.role == Role::Assistant) {
        match merged.last_mut() {
            Some((role, content)) if *role == turn.role => {
                content.push_str("\n\n");
                content.push_str(&turn.content);
            }
            _ => merged.push((turn.role, turn.content.clone())),
        }
    }
    merged
}

/// Whether an upstream message says the prompt is longer than the model's context.
pub(crate) fn mentions_context_limit(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "context length",
        "context_length",
        "context window",
        "prompt is too long",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

/// The `error` object of an error reply, with the fields any provider uses.
#[derive(Debug, Default)]
pub(crate) struct WireError {
    pub message: String,
    /// Anthropic's and OpenAI's `type` (see [`WireError::kind`]).
    kind: Option<Json>,
    /// OpenAI's string code, OpenRouter's and Gemini's numeric one.
    pub code: Option<Json>,
    /// Gemini's canonical status (see [`WireError::status`]).
    status: Option<Json>,
    pub metadata: Option<Json>,
    pub details: Option<Json>,
}

impl FromJson for WireError {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "an error object")?;
        Ok(Self {
            message: f.take_or_default("message")?,
            kind: f.take("type")?,
            code: f.take("code")?,
            status: f.take("status")?,
            metadata: f.take("metadata")?,
            details: f.take("details")?,
        })
    }
}

impl WireError {
    /// The `error` of a body: an object, or a bare message (some proxies send that);
    /// else the body itself is the message.
    pub(crate) fn read(body: &[u8]) -> Self {
        let error = crate::json::parse(body)
            .ok()
            .and_then(Map::of)
            .and_then(|mut reply| reply.remove("error"));
        let read = match error {
            Some(Json::String(message)) => Some(Self {
                message,
                ..Self::default()
            }),
            Some(object) => Self::from_json(object).ok(),
            None => None,
        };
        read.unwrap_or_else(|| Self {
            message: String::from_utf8_lossy(body).into_owned(),
            ..Self::default()
        })
    }

    /// Anthropic's and OpenAI's `type` (`overloaded_error`, ...), if a string.
    pub(crate) fn kind(&self) -> Option<&str> {
        self.kind.as_ref().and_then(Json::as_str)
    }

    /// Gemini's canonical status (`NOT_FOUND`, ...), if a string: Azure sends a number.
    pub(crate) fn status(&self) -> Option<&str> {
        self.status.as_ref().and_then(Json::as_str)
    }

    /// `code` as text, whether a string or a number.
    pub(crate) fn code_text(&self) -> Option<String> {
        match &self.code {
            Some(Json::String(code) | Json::Number(code)) => Some(code.clone()),
            _ => None,
        }
    }

    /// `code` as an HTTP status, whether a number or digits in a string.
    pub(crate) fn code_status(&self) -> Option<u16> {
        self.code_text().and_then(|code| code.trim().parse().ok())
    }
}

/// A JSON `POST` with the given headers.
pub(crate) fn post_json(
    uri: String,
    mut headers: Vec<(String, String)>,
    body: &Json,
) -> HttpRequest {
    headers.push(("Content-Type".to_string(), "application/json".to_string()));
    headers.push(("Accept".to_string(), "application/json".to_string()));
    HttpRequest {
        method: "POST".to_string(),
        uri,
        headers,
        body: body.to_bytes(),
    }
}

/// A 404: the model when the message names one, otherwise a wrong base URL or path.
pub(crate) fn not_found(status: u16, message: String) -> ProviderError {
    if message.to_ascii_lowercase().contains("model") {
        ProviderError::ModelNotFound { message }
    } else {
        ProviderError::Rejected { status, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_never_leaves_part_of_the_key() {
        let key = ApiKey::new("sk-abcdefghijklmnop");
        let text = format!("{}{}", "x".repeat(295), "sk-abcdefghijklmnop");
        let scrubbed = key.scrub(&text);
        assert!(!scrubbed.contains("sk-abc"), "{scrubbed}");
        assert_eq!(format!("{key:?}"), "[redacted]");
        // A key too short to mask safely is left alone rather than shredding the text.
        assert_eq!(ApiKey::new("ab").scrub("a b ab"), "a b ab");
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for url in [
            "http://localhost",
            "http://LOCALHOST:1234/v1",
            "http://127.0.0.1",
            "https://127.255.0.9:8443/x",
            "http://[::1]:11434/v1",
            "http://me:pw@localhost/v1",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://localhost.evil.com",
            "http://127.0.0.1.nip.io/v1",
            "http://[::2]/",
            "http://10.0.0.1/",
            "http://localhost@example.com/",
            "https://example.com/?next=http://localhost",
            "http://0.0.0.0/",
            "http://127.0.0.01/",
            "http://127.0.0/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }

    /// The address readers agree with std's on every form that matters.
    #[test]
    fn addresses_are_read_as_std_reads_them() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        for text in [
            "127.0.0.1",
            "127.255.0.9",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "127.0.0.01",
            "127.0.0",
            "127.0.0.1.5",
            "1.2.3.",
            ".1.2.3",
            "+1.2.3.4",
            "1.2.3.4 ",
            "01.2.3.4",
            "00.0.0.0",
            "1..2.3",
            "",
        ] {
            let std = text.parse::<Ipv4Addr>().ok().map(|ip| ip.octets());
            assert_eq!(ipv4_octets(text), std, "{text:?}");
        }
        for text in [
            "::1",
            "::",
            "0:0:0:0:0:0:0:1",
            "0::1",
            "::0:1",
            "0000::0001",
            "1::",
            "::2",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1::2::3",
            "1:2:3:4:5:6:7::",
            "::1:2:3:4:5:6:7",
            "1:2:3:4::5:6:7:8",
            ":1",
            "1:",
            ":::1",
            "00001::1",
            "g::1",
            "fe80::abcd",
            "::ffff:1:2",
            "",
        ] {
            let std = text.parse::<Ipv6Addr>().ok().map(|ip| ip.segments());
            assert_eq!(ipv6_groups(text), std, "{text:?}");
        }
    }

    #[test]
    fn error_objects_of_every_shape_are_read() {
        let anthropic = WireError::read(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(anthropic.kind(), Some("overloaded_error"));
        assert_eq!(anthropic.message, "Overloaded");
        let gemini =
            WireError::read(br#"{"error":{"code":404,"message":"m","status":"NOT_FOUND"}}"#);
        assert_eq!(
            (gemini.code_status(), gemini.status()),
            (Some(404), Some("NOT_FOUND"))
        );
        let openai = WireError::read(br#"{"error":{"message":"m","code":"invalid_api_key"}}"#);
        assert_eq!(openai.code_text().as_deref(), Some("invalid_api_key"));
        assert_eq!(openai.code_status(), None);
        assert_eq!(WireError::read(br#"{"error":"plain"}"#).message, "plain");
        assert_eq!(WireError::read(b"<html>").message, "<html>");
        assert_eq!(
            WireError::read(br#"{"error":{"message":5}}"#).message,
            r#"{"error":{"message":5}}"#
        );
    }
}
