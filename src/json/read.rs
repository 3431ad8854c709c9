//! Typed reading from a [`Json`] tree, with serde's rules for what may be missing: an
//! `Option` field may be absent or null, any other field must be there unless the
//! reader supplies a default, and keys nobody asks for are ignored.

use super::{parse, Json, Map, Members, ParseError};
use std::fmt;

/// Why a value is not what a reader wanted, and where in it (`window[2].role`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError(Box<Problem>);

/// Boxed, so that every reader's `Result` stays one word wider than its value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    path: String,
    problem: String,
}

impl JsonError {
    pub fn new(problem: impl Into<String>) -> Self {
        Self(Box::new(Problem {
            path: String::new(),
            problem: problem.into(),
        }))
    }

    /// The value was not the kind expected: "expected a string, found the number 3".
    pub fn expected(what: &str, found: &Json) -> Self {
        Self::new(format!("expected {what}, found {}", found.kind()))
    }

    /// The same problem, one step further out: `key` then the path so far.
    #[inline(never)]
    fn within(mut self, step: &str) -> Self {
        let path = &mut self.0.path;
        if !(path.starts_with('[') || path.is_empty()) {
            path.insert(0, '.');
        }
        path.insert_str(0, step);
        self
    }

    #[inline(never)]
    fn within_index(self, index: usize) -> Self {
        self.within(&format!("[{index}]"))
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Problem { path, problem } = &*self.0;
        if path.is_empty() {
            f.write_str(problem)
        } else {
            write!(f, "`{path}`: {problem}")
        }
    }
}

impl std::error::Error for JsonError {}

impl From<ParseError> for JsonError {
    fn from(error: ParseError) -> Self {
        Self::new(error.to_string())
    }
}

/// A type read from a JSON value.
pub trait FromJson: Sized {
    fn from_json(value: Json) -> Result<Self, JsonError>;

    /// The value of a field that is not there; `None` makes it required.
    fn absent() -> Option<Self> {
        None
    }

    /// Parses bytes and reads them as this type.
    fn from_bytes(bytes: &[u8]) -> Result<Self, JsonError> {
        Self::from_json(parse(bytes)?)
    }
}

impl FromJson for Json {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        Ok(value)
    }
}

impl FromJson for String {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match value {
            Json::String(text) => Ok(text),
            other => Err(JsonError::expected("a string", &other)),
        }
    }
}

impl FromJson for bool {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match value {
            Json::Bool(b) => Ok(b),
            other => Err(JsonError::expected("true or false", &other)),
        }
    }
}

impl FromJson for u64 {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match &value {
            // The grammar has no `+`, so Rust's parse takes exactly JSON's digits.
            Json::Number(text) if text.bytes().all(|b| b.is_ascii_digit()) => text
                .parse()
                .map_err(|_| JsonError::new(format!("{text} is too large"))),
            _ => Err(JsonError::expected("a whole number", &value)),
        }
    }
}

impl FromJson for u32 {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let n = u64::from_json(value)?;
        u32::try_from(n).map_err(|_| JsonError::new(format!("{n} is too large")))
    }
}

impl FromJson for u16 {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let n = u64::from_json(value)?;
        u16::try_from(n).map_err(|_| JsonError::new(format!("{n} is too large")))
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match value {
            Json::Null => Ok(None),
            other => T::from_json(other).map(Some),
        }
    }

    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let items = items(value)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match T::from_json(item) {
                Ok(read) => out.push(read),
                Err(error) => return Err(error.within_index(i)),
            }
        }
        Ok(out)
    }
}

/// The items of a list (the part of reading one that is the same for every type).
#[inline(never)]
fn items(value: Json) -> Result<Vec<Json>, JsonError> {
    match value {
        Json::Array(items) => Ok(items),
        other => Err(JsonError::expected("a list", &other)),
    }
}

impl<T: FromJson> FromJson for Members<T> {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut out = Vec::new();
        for (key, value) in Fields::of(value, "an object")?.0 .0 {
            let value = T::from_json(value).map_err(|e| e.within(&key))?;
            out.push((key, value));
        }
        Ok(Self(out))
    }
}

impl<A: FromJson, B: FromJson> FromJson for (A, B) {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match value {
            Json::Array(items) if items.len() == 2 => {
                let mut items = items.into_iter();
                let (Some(a), Some(b)) = (items.next(), items.next()) else {
                    return Err(JsonError::new("expected a list of two"));
                };
                Ok((
                    A::from_json(a).map_err(|e| e.within_index(0))?,
                    B::from_json(b).map_err(|e| e.within_index(1))?,
                ))
            }
            other => Err(JsonError::expected("a list of two", &other)),
        }
    }
}

/// The fields of an object, taken one by one by name.
pub struct Fields(Map);

impl Fields {
    /// The fields of `value`, which must be an object (`what` names it in the error).
    pub fn of(value: Json, what: &str) -> Result<Self, JsonError> {
        match value {
            Json::Object(pairs) => Ok(Self(Members(pairs))),
            other => Err(JsonError::expected(what, &other)),
        }
    }

    #[inline(never)]
    fn remove(&mut self, key: &str) -> Option<Json> {
        self.0.remove(key)
    }

    /// A field; absent is an error unless the type has a value for it (an `Option`).
    pub fn take<T: FromJson>(&mut self, key: &str) -> Result<T, JsonError> {
        match self.remove(key) {
            Some(value) => T::from_json(value).map_err(|e| e.within(key)),
            None => T::absent().ok_or_else(|| missing(key)),
        }
    }

    /// Refuses the fields not taken yet unless `known` names them (serde's
    /// `deny_unknown_fields`); call it before taking any.
    pub fn only(&self, known: &[&str]) -> Result<(), JsonError> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(key) => {
                let names: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                Err(JsonError::new(format!(
                    "unknown field `{key}`, expected one of {}",
                    names.join(", ")
                )))
            }
            None => Ok(()),
        }
    }

    /// A field that may be absent, read as the type's default then (serde's
    /// `#[serde(default)]`; a null is still an error unless the type is an `Option`).
    pub fn take_or_default<T: FromJson + Default>(&mut self, key: &str) -> Result<T, JsonError> {
        match self.remove(key) {
            Some(value) => T::from_json(value).map_err(|e| e.within(key)),
            None => Ok(T::default()),
        }
    }
}

#[inline(never)]
fn missing(key: &str) -> JsonError {
    JsonError::new(format!("missing field `{key}`"))
}
