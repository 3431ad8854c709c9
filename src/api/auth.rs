//! Access control: when the chat is reachable from other machines (a bind host that is
//! not loopback) or `require_token` is set, every API request and the live-updates socket
//! need the access token from `CHAT_ACCESS_TOKEN` in theater-server's environment.
//!
//! - The page and its assets and `/api/health` stay public: they hold no data, and the
//!   page must be able to ask for the token.
//! - `POST /api/login {"token"}` checks it and sets it as an `HttpOnly`,
//!   `SameSite=Strict` cookie; API clients may send `Authorization: Bearer TOKEN`.
//! - Theater 0.2.1's WebSocket connect handler sees no headers (no cookie), so the page
//!   first gets a single-use ticket from `GET /api/ws-ticket` and connects to
//!   `/ws?ticket=...`; a socket without a valid ticket is never told anything.
//!
//! The token is read from the environment at each request and never kept: the actor
//! state, recorded in the event chain, holds only tickets, which are random, single-use
//! and expire after a minute.

use super::{ApiError, Outcome};
use crate::http::{self, Request};
use crate::json::object;
use crate::port::{Env, Host};
use crate::state::ActorState;

pub const TOKEN_VAR: &str = "CHAT_ACCESS_TOKEN";
pub const MIN_TOKEN_CHARS: usize = 16;
const COOKIE: &str = "chat_session";
/// Tickets outstanding at once, and how long one lives.
pub const MAX_TICKETS: usize = 16;
pub const TICKET_MS: u64 = 60_000;

/// Loopback names: a server bound to one of these is reachable only from this machine.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host == "::1" || host.starts_with("127.")
}

pub fn required(state: &ActorState) -> bool {
    state.config.require_token || !is_loopback(&state.config.host)
}

/// The configured token, when it is long enough to be one.
pub fn token<E: Env>(env: &E) -> Option<String> {
    env.env_var(TOKEN_VAR)
        .map(|t| t.trim().to_string())
        .filter(|t| t.chars().count() >= MIN_TOKEN_CHARS)
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn presented(request: &Request) -> Option<&str> {
    if let Some(bearer) = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim());
    }
    request.header("cookie")?.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE).then_some(value)
    })
}

fn unauthorized() -> ApiError {
    ApiError::new(
        401,
        "unauthorized",
        "this chat needs its access token (CHAT_ACCESS_TOKEN on the server)",
    )
}

/// The page, its files, health and login: what anyone may ask for.
fn public(request: &Request) -> bool {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET" | "HEAD", "/api/health") | ("POST", "/api/login") => true,
        ("GET" | "HEAD", path) => super::assets::page_file(path).is_some(),
        _ => false,
    }
}

/// Whether a request may pass; public routes always may.
pub fn check<H: Host>(host: &H, state: &ActorState, request: &Request) -> Result<(), ApiError> {
    if !required(state) || public(request) {
        return Ok(());
    }
    let expected = token(host).ok_or_else(unauthorized)?;
    match presented(request) {
        Some(given) if same(given, &expected) => Ok(()),
        _ => Err(unauthorized()),
    }
}

/// `POST /api/login {"token": "..."}`: sets the session cookie.
pub fn login<H: Host>(
    host: &H,
    state: &ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    if !required(state) {
        return Ok(Outcome::unchanged(http::no_content()));
    }
    let body = request.json_object()?;
    let given = body
        .get("token")
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    let expected = token(host).ok_or_else(unauthorized)?;
    if !same(given.trim(), &expected) {
        return Err(ApiError::new(
            401,
            "unauthorized",
            "that is not the access token",
        ));
    }
    let mut response = http::no_content();
    response.headers.push((
        "Set-Cookie".to_string(),
        format!("{COOKIE}={expected}; HttpOnly; SameSite=Strict; Path=/"),
    ));
    Ok(Outcome::unchanged(response))
}

/// `GET /api/ws-ticket` (authenticated): a single-use ticket for `/ws?ticket=`.
pub fn ticket<H: Host>(host: &H, state: &mut ActorState) -> Result<Outcome, ApiError> {
    let bytes = host
        .random_bytes(16)
        .map_err(|e| ApiError::new(500, "internal", e.to_string()))?;
    let ticket: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let now = host.now_ms();
    state.tickets.retain(|(_, expires)| *expires > now);
    if state.tickets.len() >= MAX_TICKETS {
        state.tickets.remove(0);
    }
    state
        .tickets
        .push((ticket.clone(), now.saturating_add(TICKET_MS)));
    Ok(Outcome::unchanged(http::json(
        200,
        &object! { "ticket": ticket },
    )))
}

/// Whether a socket may listen: always when no token is required, else only with a
/// valid ticket in its query string (used up by this).
pub fn admit_socket<H: Host>(host: &H, state: &mut ActorState, query: Option<&str>) -> bool {
    if !required(state) {
        return true;
    }
    let Some(given) = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("ticket="))
    else {
        return false;
    };
    let now = host.now_ms();
    let found = state
        .tickets
        .iter()
        .position(|(t, expires)| *expires > now && same(t, given));
    match found {
        Some(at) => {
            state.tickets.remove(at);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::{init, socket_opened};
    use crate::port::fake::FakeHost;
    use crate::test_support::Harness;
    use serde_json::json;

    const TOKEN: &str = "correct-horse-battery-staple";

    fn guarded() -> Harness {
        Harness::with_env(
            r#"{"store_id":"t","require_token":true}"#,
            &[(TOKEN_VAR, TOKEN)],
        )
    }

    #[test]
    fn a_server_others_can_reach_will_not_start_without_a_token() {
        let host = FakeHost::new();
        let error = init(&host, Some(br#"{"host":"0.0.0.0"}"#), "a").unwrap_err();
        assert!(error.to_string().contains("CHAT_ACCESS_TOKEN"), "{error}");
        host.set_env(TOKEN_VAR, "short");
        assert!(init(&host, Some(br#"{"host":"0.0.0.0"}"#), "a").is_err());
        host.set_env(TOKEN_VAR, TOKEN);
        assert!(init(&host, Some(br#"{"host":"0.0.0.0"}"#), "a").is_ok());
        // Loopback needs none unless asked.
        assert!(init(&FakeHost::new(), Some(br#"{"host":"127.0.0.1"}"#), "a").is_ok());
        assert!(init(&FakeHost::new(), Some(br#"{"require_token":true}"#), "a").is_err());
    }

    #[test]
    fn without_the_token_nothing_is_readable_or_writable() {
        let mut h = guarded();
        let bearer = format!("Bearer {TOKEN}");
        let chat = h.with_headers(
            "POST",
            "/api/chats",
            &[("Authorization", &bearer)],
            Some(json!({})),
        );
        assert_eq!(chat.status, 201);
        for (method, uri, body) in [
            ("GET", "/api/chats", None),
            ("POST", "/api/chats", Some(json!({}))),
            ("GET", "/api/chat?id=c1", None),
            ("PATCH", "/api/chat?id=c1", Some(json!({ "title": "x" }))),
            ("DELETE", "/api/chat?id=c1", None),
            ("GET", "/api/messages?chat=c1", None),
            (
                "POST",
                "/api/messages?chat=c1",
                Some(json!({ "content": "x" })),
            ),
            ("POST", "/api/reply?chat=c1", None),
            ("GET", "/api/providers", None),
            ("GET", "/api/generation?chat=c1", None),
            ("GET", "/api/ws-ticket", None),
        ] {
            for headers in [
                vec![],
                vec![("Authorization", "Bearer wrong-token-wrong-token")],
                vec![("Cookie", "chat_session=wrong-token-wrong-token")],
            ] {
                let response = h.with_headers(method, uri, &headers, body.clone());
                assert_eq!(response.status, 401, "{method} {uri} {headers:?}");
            }
        }
        // The page itself and the health check stay public.
        assert_eq!(h.with_headers("GET", "/", &[], None).status, 200);
        assert_eq!(h.page_file("/app.js").status, 200);
        assert_eq!(h.page_file("/tree.js").status, 200);
        let health = h.with_headers("GET", "/api/health", &[], None);
        assert!(String::from_utf8_lossy(&health.body).contains("\"token_required\":true"));
        // The chat was not touched.
        let listed = h.with_headers("GET", "/api/chats", &[("Authorization", &bearer)], None);
        assert!(String::from_utf8_lossy(&listed.body).contains("New chat"));
    }

    #[test]
    fn logging_in_sets_an_http_only_strict_cookie() {
        let mut h = guarded();
        let wrong = h.with_headers("POST", "/api/login", &[], Some(json!({ "token": "nope" })));
        assert_eq!(wrong.status, 401);
        assert!(wrong.header("set-cookie").is_none());
        let ok = h.with_headers("POST", "/api/login", &[], Some(json!({ "token": TOKEN })));
        assert_eq!(ok.status, 204);
        let cookie = ok.header("set-cookie").unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let session = cookie.split(';').next().unwrap().to_string();
        let listed = h.with_headers("GET", "/api/chats", &[("Cookie", &session)], None);
        assert_eq!(listed.status, 200);
        // The token is never in the state the runtime records.
        assert!(!String::from_utf8_lossy(&h.state.encode()).contains(TOKEN));
    }

    #[test]
    fn the_socket_needs_a_fresh_single_use_ticket() {
        let mut h = guarded();
        socket_opened(&h.host, &mut h.state, 1, None);
        socket_opened(&h.host, &mut h.state, 2, Some("ticket=made-up"));
        assert!(h.state.sockets.is_empty());
        let bearer = format!("Bearer {TOKEN}");
        let ticket = h.with_headers("GET", "/api/ws-ticket", &[("Authorization", &bearer)], None);
        let ticket: serde_json::Value = serde_json::from_slice(&ticket.body).unwrap();
        let query = format!("ticket={}", ticket["ticket"].as_str().unwrap());
        socket_opened(&h.host, &mut h.state, 3, Some(&query));
        socket_opened(&h.host, &mut h.state, 4, Some(&query));
        assert_eq!(h.state.sockets, vec![3], "a ticket admits one socket");
        let ticket = h.with_headers("GET", "/api/ws-ticket", &[("Authorization", &bearer)], None);
        let ticket: serde_json::Value = serde_json::from_slice(&ticket.body).unwrap();
        h.host.advance(TICKET_MS + 1);
        let query = format!("ticket={}", ticket["ticket"].as_str().unwrap());
        socket_opened(&h.host, &mut h.state, 5, Some(&query));
        assert_eq!(h.state.sockets, vec![3], "an expired ticket admits nothing");
        for _ in 0..(MAX_TICKETS * 2) {
            h.with_headers("GET", "/api/ws-ticket", &[("Authorization", &bearer)], None);
        }
        assert!(h.state.tickets.len() <= MAX_TICKETS);
    }
}
