//! The parser: bytes to a [`Json`] tree, or to a yes/no on whether they hold one whole
//! value (the same code, building nothing).

use super::Json;
use std::fmt;

/// Deepest nesting of lists and objects read (serde_json's limit too).
const MAX_DEPTH: u32 = 128;

/// Why bytes are not one JSON value, and where (line and column count from 1, columns
/// in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    problem: &'static str,
    line: usize,
    column: usize,
    eof: bool,
}

impl ParseError {
    /// Whether the text ended inside the value: a short read of a whole one.
    pub fn is_eof(&self) -> bool {
        self.eof
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.problem, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses one JSON value (UTF-8, whitespace around it allowed).
pub fn parse(bytes: &[u8]) -> Result<Json, ParseError> {
    whole(bytes, true)
}

/// Whether the bytes are one whole JSON value, and if not why; builds nothing (nor
/// looks at keys: a repeated one is still a whole value).
pub fn check(bytes: &[u8]) -> Result<(), ParseError> {
    whole(bytes, false).map(drop)
}

/// Whether the bytes are one whole JSON value ([`check`]).
pub fn is_whole(bytes: &[u8]) -> bool {
    check(bytes).is_ok()
}

/// The text is checked to be UTF-8 once, first; the parser then slices the runs
/// between ASCII delimiters out of it without checking them again.
fn whole(bytes: &[u8], keep: bool) -> Parsed<Json> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // A byte is there (the text did not end): never an end-of-input error.
        Err(error) => return Err(error_at(bytes, error.valid_up_to(), "invalid UTF-8", false)),
    };
    let mut parser = Parser { text, pos: 0, keep };
    let value = parser.value(0)?;
    parser.space();
    match parser.peek() {
        None => Ok(value),
        Some(_) => Err(parser.fail("trailing characters")),
    }
}

/// An error at byte `pos` of `bytes`, with its line and column.
fn error_at(bytes: &[u8], pos: usize, problem: &'static str, eof: bool) -> ParseError {
    let before = bytes.get(..pos).unwrap_or(bytes);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    ParseError {
        problem,
        line,
        column,
        eof,
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    /// False when only checking: strings, lists and objects are read, not kept.
    keep: bool,
}

type Parsed<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    fn error(&self, problem: &'static str, eof: bool) -> ParseError {
        error_at(self.text.as_bytes(), self.pos, problem, eof)
    }

    /// An error at the current byte, or "EOF" if the text ended.
    fn fail(&self, problem: &'static str) -> ParseError {
        match self.peek() {
            None => self.error("EOF while parsing", true),
            Some(_) => self.error(problem, false),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek();
        if byte.is_some() {
            self.pos += 1;
        }
        byte
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Consumes `byte` (after whitespace) or fails with `problem`.
    fn expect(&mut self, byte: u8, problem: &'static str) -> Parsed<()> {
        self.space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(problem))
        }
    }

    fn value(&mut self, depth: u32) -> Parsed<Json> {
        self.space();
        match self.peek() {
            Some(b'n') => self.word(b"null", Json::Null),
            Some(b't') => self.word(b"true", Json::Bool(true)),
            Some(b'f') => self.word(b"false", Json::Bool(false)),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.fail("expected value")),
        }
    }

    fn word(&mut self, word: &[u8], value: Json) -> Parsed<Json> {
        for &expected in word {
            match self.peek() {
                Some(byte) if byte == expected => self.pos += 1,
                _ => return Err(self.fail("expected value")),
            }
        }
        Ok(value)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Parsed<Json> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.fail("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.fail("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.fail("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.fail("invalid number"));
            }
        }
        if !self.keep {
            return Ok(Json::Null);
        }
        Ok(Json::Number(self.slice(start).to_string()))
    }

    /// The text from `start` to here (both at ASCII bytes, so on char boundaries).
    fn slice(&self, start: usize) -> &'a str {
        self.text.get(start..self.pos).unwrap_or_default()
    }

    fn string(&mut self) -> Parsed<String> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.pos;
            let rest = self.text.as_bytes().get(start..).unwrap_or_default();
            self.pos += rest
                .iter()
                .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
                .unwrap_or(rest.len());
            if self.keep {
                out.push_str(self.slice(start));
            }
            match self.next() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {
                    let c = self.escape()?;
                    if self.keep {
                        out.push(c);
                    }
                }
                Some(_) => {
                    self.pos -= 1;
                    return Err(self
                        .fail("control character (\\u0000-\\u001F) found while parsing a string"));
                }
                None => return Err(self.fail("EOF while parsing a string")),
            }
        }
    }

    fn escape(&mut self) -> Parsed<char> {
        let c = match self.next() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode(),
            Some(_) => {
                self.pos -= 1;
                return Err(self.fail("invalid escape"));
            }
            None => return Err(self.fail("invalid escape")),
        };
        Ok(c)
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.fail("invalid escape"))?;
            self.pos += 1;
            n = n * 16 + digit;
        }
        Ok(n)
    }

    /// After `\u`: a character, joining a surrogate pair; a lone surrogate is refused.
    fn unicode(&mut self) -> Parsed<char> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.next() != Some(b'\\') || self.next() != Some(b'u') {
                    return Err(self.fail("lone leading surrogate in hex escape"));
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.fail("lone leading surrogate in hex escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.fail("lone trailing surrogate in hex escape")),
            n => n,
        };
        char::from_u32(code).ok_or_else(|| self.fail("invalid unicode code point"))
    }

    fn nested(&self, depth: u32) -> Parsed<()> {
        if depth >= MAX_DEPTH {
            Err(self.error("recursion limit exceeded", false))
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: u32) -> Parsed<Json> {
        self.nested(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            let item = self.value(depth)?;
            if self.keep {
                items.push(item);
            }
            self.space();
            match self.next() {
                Some(b',') => continue,
                Some(b']') => return Ok(Json::Array(items)),
                Some(_) => {
                    self.pos -= 1;
                    return Err(self.fail("expected `,` or `]`"));
                }
                None => return Err(self.fail("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: u32) -> Parsed<Json> {
        self.nested(depth)?;
        self.pos += 1;
        let mut pairs: Vec<(String, Json)> = Vec::new();
        self.space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(pairs));
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.fail("key must be a string"));
            }
            let key = self.string()?;
            self.expect(b':', "expected `:`")?;
            let value = self.value(depth)?;
            if self.keep {
                pairs.push((key, value));
            }
            self.space();
            match self.next() {
                Some(b',') => continue,
                Some(b'}') if repeats_a_key(&pairs) => {
                    self.pos -= 1;
                    return Err(self.error("an object repeats a key", false));
                }
                Some(b'}') => return Ok(Json::Object(pairs)),
                Some(_) => {
                    self.pos -= 1;
                    return Err(self.fail("expected `,` or `}`"));
                }
                None => return Err(self.fail("expected `,` or `}`")),
            }
        }
    }
}

/// Whether two pairs have the same key (a sort past a few keys, so a huge object costs
/// n log n, not n squared).
fn repeats_a_key(pairs: &[(String, Json)]) -> bool {
    if pairs.len() <= 16 {
        return pairs
            .iter()
            .enumerate()
            .any(|(i, (key, _))| pairs.iter().skip(i + 1).any(|(other, _)| other == key));
    }
    let mut keys: crate::table::Set<&str> = crate::table::Set::new();
    pairs.iter().any(|(key, _)| !keys.add(key.as_str()))
}
