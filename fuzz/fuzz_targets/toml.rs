//! Any text through the models file's TOML reader (src/catalog/toml.rs) and through
//! toml's own parser: both read the same tree, or both refuse the text. The differences
//! allowed are ours to refuse: a date-time (by name), lists or inline tables nested over
//! 64 deep, and a table of over 1,000 keys.
#![no_main]

use chat::catalog::toml::{parse, Item, Table, Value};
use libfuzzer_sys::fuzz_target;

fn as_toml(table: &Table) -> toml::Table {
    fn value(item: &Item) -> toml::Value {
        match &item.value {
            Value::String(text) => toml::Value::String(text.clone()),
            Value::Integer(whole) => toml::Value::Integer(*whole),
            Value::Float(text) => toml::Value::Float(text.parse().unwrap()),
            Value::Boolean(flag) => toml::Value::Boolean(*flag),
            Value::Array(items) => toml::Value::Array(items.iter().map(value).collect()),
            Value::Table(table) => toml::Value::Table(as_toml(table)),
        }
    }
    table
        .entries()
        .iter()
        .map(|entry| (entry.key.clone(), value(&entry.item)))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let theirs = toml::from_str::<toml::Table>(text);
    match (parse(text), theirs) {
        // Debug text, so that NaN equals NaN.
        (Ok(ours), Ok(theirs)) => assert_eq!(
            format!("{:?}", as_toml(&ours)),
            format!("{theirs:?}"),
            "{text:?}"
        ),
        (Err(_), Err(_)) => {}
        (Err(ours), Ok(theirs)) => assert!(
            ours.message.contains("date-time") && format!("{theirs:?}").contains("Datetime")
                || ours.message.contains("nest too deeply")
                || ours.message.contains("at most 1000 keys"),
            "{text:?}: we refused ({ours:?}), toml read {theirs:?}"
        ),
        (Ok(ours), Err(theirs)) => panic!("{text:?}: we read {ours:?}, toml refused: {theirs}"),
    }
    if let Err(error) = parse(text) {
        assert!(error.at <= text.len() && !error.message.contains('\n'), "{error:?}");
    }
});
