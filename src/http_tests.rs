//! Requests as the actor reads them: the path and query, only this server's authority,
//! no cross-site writes, JSON object bodies, and errors as JSON.

use super::*;
use serde_json::Value;

fn raw(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        uri: uri.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn parses_path_and_decoded_query() {
    let request = Request::parse(raw("get", "/api/chat?id=c1&q=a%20b+c&e=", &[], "")).unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/api/chat");
    assert_eq!(request.query("id"), Some("c1"));
    assert_eq!(request.query("q"), Some("a b c"));
    assert!(request.required_query("e").is_err());
    let absolute =
        Request::parse(raw("GET", "http://127.0.0.1:8084/api/chats?x=1", &[], "")).unwrap();
    assert_eq!(absolute.path, "/api/chats");
    assert!(Request::parse(raw("GET", "/a?x=%zz", &[], "")).is_err());
    assert!(Request::parse(raw("GET", "/a?x=%ff", &[], "")).is_err());
    assert!(Request::parse(raw("GET", "/a?x=%4", &[], "")).is_err());
}

#[test]
fn only_this_servers_exact_authority_is_served() {
    let ok = |host: &str| {
        Request::parse(raw("GET", "/", &[("Host", host)], ""))
            .unwrap()
            .check("127.0.0.1", 8084)
            .is_ok()
    };
    assert!(ok("127.0.0.1:8084"));
    assert!(ok("localhost:8084"));
    assert!(ok("LOCALHOST:8084"));
    assert!(ok("[::1]:8084"));
    for bad in [
        "evil.example:8084",
        "127.0.0.1.evil.example",
        "127.0.0.1:8084.evil.com",
        "127.0.0.1:8084@evil.com",
        "127.0.0.1:9999",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:08084x",
        "[::1]evil:8084",
        "[::1:8084",
        "",
        " ",
        "127.0.0.1:8084:1",
    ] {
        assert!(!ok(bad), "{bad:?} accepted");
    }
    let no_host = Request::parse(raw("GET", "/", &[], "")).unwrap();
    assert_eq!(no_host.check("127.0.0.1", 8084).unwrap_err().status, 403);
    // A server on port 80 is named without a port.
    let on_80 = Request::parse(raw("GET", "/", &[("Host", "localhost")], "")).unwrap();
    assert!(on_80.check("127.0.0.1", 80).is_ok());
    // A configured host name is served too.
    let named = Request::parse(raw("GET", "/", &[("Host", "chat.lan:8084")], "")).unwrap();
    assert!(named.check("chat.lan", 8084).is_ok());
}

#[test]
fn cross_site_writes_and_non_json_bodies_are_refused() {
    let check = |headers: &[(&str, &str)], body: &str| {
        Request::parse(raw("POST", "/api/chats", headers, body))
            .unwrap()
            .check("127.0.0.1", 8084)
            .map_err(|e| e.status)
    };
    let json = ("Content-Type", "application/json; charset=utf-8");
    let host = ("Host", "127.0.0.1:8084");
    assert_eq!(
        check(&[host, json, ("Origin", "http://127.0.0.1:8084")], "{}"),
        Ok(())
    );
    assert_eq!(
        check(&[host, json, ("Origin", "http://evil.example")], "{}"),
        Err(403)
    );
    assert_eq!(check(&[host, json, ("Origin", "null")], "{}"), Err(403));
    assert_eq!(
        check(&[host, ("Content-Type", "text/plain")], "{}"),
        Err(415)
    );
    assert_eq!(check(&[host], ""), Ok(()));
    let big = "x".repeat(MAX_BODY_BYTES + 1);
    assert_eq!(check(&[host, json], &big), Err(413));
}

#[test]
fn bodies_must_be_json_objects() {
    let parse = |body: &str| {
        Request::parse(raw("POST", "/", &[], body))
            .unwrap()
            .json_object()
    };
    assert_eq!(parse("").unwrap(), crate::json::Map::default());
    assert!(parse("[1]").is_err());
    assert!(parse("{").is_err());
    let body = parse(r#"{"a":1}"#).unwrap();
    assert_eq!(body.get("a").and_then(crate::json::Json::as_u64), Some(1));
    assert!(parse(r#"{"a":1,"a":2}"#).is_err());
}

#[test]
fn errors_are_json_with_code_and_message() {
    let mut error = ApiError::new(429, "rate_limited", "slow down");
    error.retry_after = Some(3);
    let response = error.into_response();
    assert_eq!(response.status, 429);
    assert_eq!(response.header("retry-after"), Some("3"));
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["message"], "slow down");
}
