//! JSON without serde's generic machinery: a parser into a small tree ([`Json`]), and
//! typed reading from that tree ([`FromJson`], [`Fields`]) whose errors name the field.
//!
//! serde_json's derived readers are instantiated once per type and per input kind, and
//! that code was most of what serde_json added to the component. Reading through one
//! parser and a tree costs one parser whatever the number of types. The stored records
//! and messages are read this way (`store::read_object`); what is not converted yet
//! still goes through serde_json.
//!
//! The grammar is RFC 8259's, as strict as serde_json: no trailing commas, no comments,
//! no leading zeros, no lone surrogates, no control characters in strings, nesting
//! shallower than 128 levels, and nothing but whitespace after the value. Stricter in
//! one way: an object that repeats a key is refused (serde_json keeps the last).

mod parse;
mod read;

pub use parse::{check, is_whole, parse, ParseError};
pub use read::{Fields, FromJson, JsonError};

/// A parsed JSON value. A number keeps its text: it becomes a `u64` or an `f64` only
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
            Json::String(_) => "a string".to_string(),
            Json::Array(_) => "a list".to_string(),
            Json::Object(_) => "an object".to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
