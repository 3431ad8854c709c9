//! Writing JSON: types become a [`Json`] tree ([`ToJson`]), and a tree is written
//! compactly, byte for byte as serde_json's `to_vec` writes the same value. That
//! sameness matters: a message's id is the hash of its stored bytes, so every message
//! stored before this writer existed keeps the id it would be given today. (One
//! exception, outside anything hashed: a float that needs 17 digits may end in a
//! different last digit, as serde_json does not always round it to nearest; both read
//! back as the same number. The tests pin every float from 0 to 2 byte for byte.)
//!
//! serde_json's rules, kept here: no whitespace; in strings only `"`, `\` and the
//! control characters below U+0020 are escaped (`\b \t \n \f \r`, else `\u00XX` in
//! lowercase hex), everything else is written as is; a float is written in the
//! shortest form that reads back the same, with `.0` on a whole number and an
//! exponent only outside 1e-5 .. 1e16 (see [`float`]); a float that is not finite is
//! `null`.

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

/// A float as serde_json writes it: Rust's shortest round-trip digits, laid out
/// plainly from 1e-5 to below 1e16 (`12340000000.0`, `12.34`, `0.001234`), else in
/// exponent form (`1e-7`, `1.234e+33`).
fn float(x: f64) -> Json {
    if !x.is_finite() {
        return Json::Null;
    }
    // `{:e}` gives the shortest digits: "-1.234e-7", "5e0".
    let sci = format!("{x:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let length = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    // The value is 0.DIGITS × 10^point.
    let point = exponent + 1;
    let zeros = |n: i32| "0".repeat(usize::try_from(n).unwrap_or(0));
    let text = if length <= point && point <= 16 {
        format!("{digits}{}.0", zeros(point - length))
    } else if 0 < point && point <= 16 {
        let (whole, fraction) = digits.split_at(usize::try_from(point).unwrap_or(0));
        format!("{whole}.{fraction}")
    } else if -5 < point && point <= 0 {
        format!("0.{}{digits}", zeros(-point))
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent = point - 1;
        let plus = if exponent > 0 { "+" } else { "" };
        format!("{first}{rest}e{plus}{exponent}")
    };
    Json::Number(format!("{sign}{text}"))
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

impl ToJson for f64 {
    fn to_json(&self) -> Json {
        float(*self)
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
