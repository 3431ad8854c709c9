//! Any bytes through the actor's own JSON parser (`chat::json`), against serde_json's:
//! both take or both refuse, except where ours is stricter on purpose (a repeated key)
//! or keeps what serde_json cannot (a number beyond f64, kept as its text); what both
//! take reads the same; the building and the checking parser agree (but for repeated
//! keys, which a whole value may have); what we write reads back as the same tree, and
//! a string is written as serde_json writes it; and a short read of an object is
//! always an end-of-input error (`store::read_object` reads it again).
#![no_main]

use chat::json::{is_whole, parse, Json};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Our tree as serde_json's; `None` for a number serde_json cannot hold.
fn to_serde(value: &Json) -> Option<Value> {
    Some(match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(text) => serde_json::from_str(text).ok()?,
        Json::String(text) => Value::String(text.clone()),
        Json::Array(items) => Value::Array(items.iter().map(to_serde).collect::<Option<_>>()?),
        Json::Object(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| Some((k.clone(), to_serde(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

fuzz_target!(|data: &[u8]| {
    let ours = parse(data);
    let theirs = serde_json::from_slice::<Value>(data);
    // Whole-ness does not look at keys: a repeated one is still a whole value.
    let repeats = matches!(&ours, Err(e) if e.to_string().starts_with("an object repeats a key"));
    let whole = is_whole(data);
    assert!(!ours.is_ok() || whole, "parsed but not whole");
    assert!(!whole || ours.is_ok() || repeats, "whole but not parsed");
    if let Ok(json) = &ours {
        // What we write reads back as the same tree.
        assert_eq!(parse(&json.to_bytes()).as_ref(), Ok(json), "written back differently");
    }
    match (&ours, &theirs) {
        (Ok(json), Ok(value)) => {
            if let Some(converted) = to_serde(json) {
                assert_eq!(&converted, value);
                // A string is written byte for byte as serde_json writes it.
                if let Json::String(text) = json {
                    assert_eq!(json.to_text(), serde_json::to_string(text).unwrap());
                }
            }
        }
        (Ok(json), Err(error)) => assert!(
            to_serde(json).is_none(),
            "ours took what serde_json refused: {error}"
        ),
        (Err(error), Ok(_)) => assert!(repeats, "serde_json took what ours refused: {error}"),
        (Err(_), Err(_)) => {}
    }
    if let (Ok(Json::Object(_)), Ok(text)) = (&ours, std::str::from_utf8(data)) {
        let trimmed = text.trim_end_matches([' ', '\t', '\n', '\r']);
        for (end, _) in trimmed.char_indices().skip(1) {
            let short = trimmed.get(..end).unwrap_or_default();
            if let Err(error) = parse(short.as_bytes()) {
                assert!(error.is_eof(), "{end}: {error}");
            } else {
                panic!("a short read parsed: {short:?}");
            }
        }
    }
});
