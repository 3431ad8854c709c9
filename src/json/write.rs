//! Writing JSON: types become a [`Json`] tree ([`ToJson`]), and a tree is written
//! compactly, byte for byte as serde_json's `to_vec` writes the same value. That
//! sameness matters: a message's id is the hash of its stored bytes, so every message
//! stored before this writer existed keeps the id it would be given today. Numbers
//! that are not whole are [`crate::decimal::Decimal`]s, written as serde_json wrote the
//! same float (`0.7`, `2.0`) but below 0.00001, which nothing hashed holds.
//!
//! serde_json's rules, kept here: no whitespace; in strings only `"`, `\` and the
//! control characters below U+0020 are escaped (`\b \t \n \f \r`, else `\u00XX` in
//! lowercase hex), everything else is written as is.

use super::Json;
use std::fmt::Write as _;

/// A type written as JSON.
pub trait ToJson {
    fn to_json(&self) -> Json;
}

impl Json {
    /// The compact text of the value.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_text().into_bytes()
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    pub fn is_null(&self) -> bool {
        *self == Json::Null
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(text) => out.push_str(text),
            Json::String(text) => string(text, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(pairs) => {
                out.push('{');
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// The compact text, as [`Json::to_text`].
impl std::fmt::Display for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// `text` in double quotes, escaped as in JSON (`"a \"b\"\n"`), for naming a value in
/// a message. Rust's `{:?}` would do the same, but its escaping code and Unicode tables
/// are 4 KB of the component.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    string(text, &mut out);
    out
}

fn string(text: &str, out: &mut String) {
    out.push('"');
    // Runs of bytes that need no escape are copied whole; every escaped byte is ASCII,
    // so the runs end on char boundaries.
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(text.get(start..i).unwrap_or_default());
        if escaped.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(text.get(start..).unwrap_or_default());
    out.push('"');
}

impl ToJson for Json {
    fn to_json(&self) -> Json {
        self.clone()
    }
}

impl ToJson for str {
    fn to_json(&self) -> Json {
        Json::String(self.to_string())
    }
}

impl ToJson for String {
    fn to_json(&self) -> Json {
        Json::String(self.clone())
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Json {
        Json::Bool(*self)
    }
}

impl ToJson for u64 {
    fn to_json(&self) -> Json {
        Json::Number(self.to_string())
    }
}

impl ToJson for u32 {
    fn to_json(&self) -> Json {
        u64::from(*self).to_json()
    }
}

impl ToJson for u16 {
    fn to_json(&self) -> Json {
        u64::from(*self).to_json()
    }
}

impl ToJson for usize {
    fn to_json(&self) -> Json {
        Json::Number(self.to_string())
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn to_json(&self) -> Json {
        (**self).to_json()
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Json {
        self.as_ref().map_or(Json::Null, ToJson::to_json)
    }
}

impl<T: ToJson> ToJson for [T] {
    fn to_json(&self) -> Json {
        Json::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: ToJson, const N: usize> ToJson for [T; N] {
    fn to_json(&self) -> Json {
        self.as_slice().to_json()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Json {
        self.as_slice().to_json()
    }
}

impl<T: ToJson> ToJson for std::collections::VecDeque<T> {
    fn to_json(&self) -> Json {
        Json::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: ToJson> ToJson for super::Members<T> {
    fn to_json(&self) -> Json {
        Json::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        )
    }
}

impl<A: ToJson, B: ToJson> ToJson for (A, B) {
    fn to_json(&self) -> Json {
        Json::Array(vec![self.0.to_json(), self.1.to_json()])
    }
}

/// An object built field by field, in order; fields left out when empty are written
/// with [`Object::unless`] (serde's `skip_serializing_if`).
#[derive(Debug, Default)]
pub struct Object(Vec<(String, Json)>);

impl Object {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with<T: ToJson + ?Sized>(self, key: &str, value: &T) -> Self {
        self.field(key, value.to_json())
    }

    /// Adds a field already written (the one copy of this code: `with` is generic).
    #[inline(never)]
    pub fn field(mut self, key: &str, value: Json) -> Self {
        self.0.push((key.to_string(), value));
        self
    }

    /// The field, unless `skip` says it is empty.
    pub fn unless<T: ToJson + ?Sized>(self, skip: bool, key: &str, value: &T) -> Self {
        if skip {
            self
        } else {
            self.with(key, value)
        }
    }

    /// An optional field, written only when it is there.
    pub fn some<T: ToJson>(self, key: &str, value: &Option<T>) -> Self {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    pub fn build(self) -> Json {
        Json::Object(self.0)
    }
}

/// A JSON object from `"key": value` pairs, each value anything [`ToJson`]:
/// `object!{ "id": chat.id, "title": chat.title }`.
macro_rules! object {
    ($($key:literal : $value:expr),* $(,)?) => {
        $crate::json::Json::Object(vec![
            $(($key.to_string(), $crate::json::ToJson::to_json(&$value))),*
        ])
    };
}
pub(crate) use object;
