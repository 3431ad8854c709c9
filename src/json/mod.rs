//! All the JSON of both components, without serde: a parser into a small tree
//! ([`Json`]), typed reading from that tree ([`FromJson`], [`Fields`]) whose errors name
//! the field, and a writer ([`ToJson`], [`Object`], `object!`) that writes what
//! serde_json wrote, byte for byte.
//!
//! serde_json's readers and writers are instantiated once per type (and per input
//! kind), and that code was the largest part of both components. Going through one
//! parser, one tree and one writer costs the same whatever the number of types.
//!
//! The grammar is RFC 8259's, as strict as serde_json: no trailing commas, no comments,
//! no leading zeros, no lone surrogates, no control characters in strings, nesting
//! shallower than 128 levels, and nothing but whitespace after the value. Stricter in
//! one way: an object that repeats a key is refused (serde_json keeps the last).

mod parse;
mod read;
mod write;

pub use parse::{check, is_whole, parse, ParseError};
pub use read::{Fields, FromJson, JsonError};
pub(crate) use write::object;
pub use write::{quoted, Object, ToJson};

/// A parsed JSON value. A number keeps its text: it becomes a `u64` or a `Decimal` only
/// when a reader asks for one, so nothing is rounded on the way.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Keys in the order of the text; a key appears once (the parser refuses repeats).
    Object(Vec<(String, Json)>),
}

impl Json {
    /// What a reader names the value when it is not what was expected.
    pub fn kind(&self) -> String {
        match self {
            Json::Null => "null".to_string(),
            Json::Bool(b) => format!("the boolean {b}"),
            Json::Number(n) => format!("the number {n}"),
            // A short string is named, so that a wrong word is seen; a long one may be
            // anything (a message), and is not repeated.
            Json::String(text) if text.chars().count() <= 40 => {
                format!("the string {}", quoted(text))
            }
            Json::String(_) => "a string".to_string(),
            Json::Array(_) => "a list".to_string(),
            Json::Object(_) => "an object".to_string(),
        }
    }

    /// The value of a key of an object (`None` for other values).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(pairs) => find(pairs, key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    /// A whole number that fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(_) => u64::from_json(self.clone()).ok(),
            _ => None,
        }
    }

    /// A number from 0 to about 1.8e10, to nine places.
    pub fn as_decimal(&self) -> Option<crate::decimal::Decimal> {
        match self {
            Json::Number(text) => crate::decimal::Decimal::parse(text),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Sets a key of an object, replacing its value if it has one (other values are
    /// left alone).
    pub fn insert(&mut self, key: &str, value: Json) {
        if let Json::Object(pairs) = self {
            match pairs.iter_mut().find(|(k, _)| k == key) {
                Some((_, old)) => *old = value,
                None => pairs.push((key.to_string(), value)),
            }
        }
    }
}

fn find<'a, T>(pairs: &'a [(String, T)], key: &str) -> Option<&'a T> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A map read from and written as a JSON object: its members (the parser refuses a
/// repeated key), looked up by a scan. Small maps only; a `BTreeMap` would cost several
/// kilobytes of code per value type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members<T>(pub Vec<(String, T)>);

impl<T> Default for Members<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

/// An object's keys and values as they were parsed (a request's body).
pub type Map = Members<Json>;

impl<T> Members<T> {
    pub fn get(&self, key: &str) -> Option<&T> {
        find(&self.0, key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Takes a member out (the others may change places).
    pub fn remove(&mut self, key: &str) -> Option<T> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(at).1)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Map {
    /// The members of `value` if it is an object.
    pub fn of(value: Json) -> Option<Self> {
        match value {
            Json::Object(pairs) => Some(Self(pairs)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
