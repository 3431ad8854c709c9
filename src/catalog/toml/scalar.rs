//! The TOML document's text, read a piece at a time: blanks and comments, keys, strings,
//! numbers and booleans.

use super::{Key, SyntaxError, Value};

/// A place in the document.
pub(super) struct Cursor<'t> {
    text: &'t str,
    at: usize,
}

/// Control characters, which may only appear escaped (a tab may appear as it is).
fn is_control(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\t') || byte == 0x7f
}

impl<'t> Cursor<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        // A byte order mark is not part of the document.
        let at = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Self { text, at }
    }

    pub(super) fn at(&self) -> usize {
        self.at
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.text.as_bytes().get(self.at + ahead).copied()
    }

    fn rest(&self) -> &'t str {
        self.text.get(self.at..).unwrap_or("")
    }

    /// Steps over an ASCII byte the caller has peeked.
    pub(super) fn bump(&mut self) {
        self.at += 1;
    }

    pub(super) fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    pub(super) fn eat_str(&mut self, ascii: &str) -> bool {
        let found = self.rest().starts_with(ascii);
        if found {
            self.at += ascii.len();
        }
        found
    }

    /// "expected `=` after the key, found `:`" at the cursor.
    pub(super) fn unexpected(&self, expected: &str) -> SyntaxError {
        let found = match self.rest().chars().next() {
            None => "the end of the file".to_string(),
            Some('\n' | '\r') => "the end of the line".to_string(),
            Some(c) if c.is_control() => format!("control character U+{:04X}", u32::from(c)),
            Some(c) => format!("`{c}`"),
        };
        SyntaxError::new(self.at, format!("expected {expected}, found {found}"))
    }

    /// Spaces and tabs.
    pub(super) fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// A newline (LF or CRLF), if one is next.
    fn newline(&mut self) -> Result<bool, SyntaxError> {
        match self.peek() {
            Some(b'\n') => self.at += 1,
            Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.at += 2,
            Some(b'\r') => {
                return Err(SyntaxError::new(
                    self.at,
                    "a carriage return must be followed by a newline",
                ))
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A comment, if one is next, up to the end of its line.
    fn comment(&mut self) -> Result<(), SyntaxError> {
        if self.peek() != Some(b'#') {
            return Ok(());
        }
        while let Some(byte) = self.peek() {
            if byte == b'\n' || byte == b'\r' {
                break;
            }
            if is_control(byte) {
                return Err(SyntaxError::new(
                    self.at,
                    "a comment may not hold control characters",
                ));
            }
            self.at += 1;
        }
        Ok(())
    }

    /// Spaces, newlines and comments, as between the items of a list.
    pub(super) fn skip_blank(&mut self) -> Result<(), SyntaxError> {
        loop {
            self.skip_spaces();
            self.comment()?;
            if !self.newline()? {
                return Ok(());
            }
        }
    }

    /// The rest of a line after a header or a key's value: spaces, a comment, the newline.
    pub(super) fn end_of_line(&mut self) -> Result<(), SyntaxError> {
        self.skip_spaces();
        self.comment()?;
        if self.peek().is_none() || self.newline()? {
            return Ok(());
        }
        Err(self.unexpected("the end of the line"))
    }

    /// `a`, `a.b`, `"a b".'c'`: each part with where it is written.
    pub(super) fn key(&mut self) -> Result<Vec<Key>, SyntaxError> {
        let mut keys = Vec::new();
        loop {
            let at = self.at;
            let name = match self.peek() {
                Some(b'"') if !self.rest().starts_with("\"\"\"") => self.basic()?,
                Some(b'\'') if !self.rest().starts_with("'''") => self.literal()?,
                _ => {
                    while matches!(
                        self.peek(),
                        Some(b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_')
                    ) {
                        self.at += 1;
                    }
                    match self.text.get(at..self.at) {
                        Some(bare) if !bare.is_empty() => bare.to_string(),
                        _ => return Err(self.unexpected("a key")),
                    }
                }
            };
            keys.push(Key { name, at });
            self.skip_spaces();
            if !self.eat(b'.') {
                return Ok(keys);
            }
            self.skip_spaces();
        }
    }

    /// A string in any of TOML's four quotings.
    pub(super) fn string(&mut self) -> Result<String, SyntaxError> {
        if self.rest().starts_with("\"\"\"") {
            self.multi_line(b'"')
        } else if self.rest().starts_with("'''") {
            self.multi_line(b'\'')
        } else if self.peek() == Some(b'"') {
            self.basic()
        } else {
            self.literal()
        }
    }

    /// Bytes up to the next ASCII byte `stop` accepts, added to `out`. Stopping only at
    /// ASCII bytes keeps every slice on a character boundary.
    fn run(&mut self, out: &mut String, stop: impl Fn(u8) -> bool) {
        let start = self.at;
        while self.peek().is_some_and(|byte| !stop(byte)) {
            self.at += 1;
        }
        out.push_str(self.text.get(start..self.at).unwrap_or(""));
    }

    fn unterminated(start: usize) -> SyntaxError {
        SyntaxError::new(
            start,
            "this string is not closed on its line (`\"\"\"` and `'''` strings may span lines)",
        )
    }

    fn control(&self) -> SyntaxError {
        self.unexpected("a character a string may hold (escape control characters)")
    }

    /// `"…"`, with escapes.
    fn basic(&mut self) -> Result<String, SyntaxError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            self.run(&mut out, |b| b == b'"' || b == b'\\' || is_control(b));
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                None | Some(b'\n' | b'\r') => return Err(Self::unterminated(start)),
                Some(_) => return Err(self.control()),
            }
        }
    }

    /// `'…'`, as written.
    fn literal(&mut self) -> Result<String, SyntaxError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        self.run(&mut out, |b| b == b'\'' || is_control(b));
        match self.peek() {
            Some(b'\'') => {
                self.at += 1;
                Ok(out)
            }
            None | Some(b'\n' | b'\r') => Err(Self::unterminated(start)),
            Some(_) => Err(self.control()),
        }
    }

    /// `"""…"""` (with escapes) or `'''…'''`: a newline right after the opening quotes is
    /// not part of the string, and up to two quotes may come right before the closing ones.
    fn multi_line(&mut self, quote: u8) -> Result<String, SyntaxError> {
        let start = self.at;
        self.at += 3;
        self.newline()?;
        let escapes = quote == b'"';
        let mut out = String::new();
        loop {
            self.run(&mut out, |b| {
                b == quote || (escapes && b == b'\\') || (is_control(b) && b != b'\n')
            });
            match self.peek() {
                Some(b) if b == quote => {
                    let mut quotes = 0;
                    while self.peek_at(quotes) == Some(quote) && quotes < 5 {
                        quotes += 1;
                    }
                    self.at += quotes;
                    let (kept, closed) = if quotes >= 3 {
                        (quotes - 3, true)
                    } else {
                        (quotes, false)
                    };
                    out.extend(std::iter::repeat_n(char::from(quote), kept));
                    if closed {
                        return Ok(out);
                    }
                }
                Some(b'\\') => {
                    if !self.escaped_newline()? {
                        out.push(self.escape()?);
                    }
                }
                Some(b'\n') => {
                    self.at += 1;
                    out.push('\n');
                }
                Some(b'\r') => {
                    self.newline()?;
                    out.push_str("\r\n");
                }
                None => {
                    return Err(SyntaxError::new(
                        start,
                        "this string is never closed".to_string(),
                    ))
                }
                Some(_) => return Err(self.control()),
            }
        }
    }

    /// A backslash at the end of a line in `"""…"""`: it and every blank up to the next
    /// text are left out. False (nothing read) for any other backslash.
    fn escaped_newline(&mut self) -> Result<bool, SyntaxError> {
        let backslash = self.at;
        self.at += 1;
        self.skip_spaces();
        if !self.newline()? {
            self.at = backslash;
            return Ok(false);
        }
        loop {
            self.skip_spaces();
            if !self.newline()? {
                return Ok(true);
            }
        }
    }

    /// `\n`, `\"`, `\u00e9`, …: the character it stands for.
    fn escape(&mut self) -> Result<char, SyntaxError> {
        let at = self.at;
        self.at += 1;
        let simple = match self.peek() {
            Some(b'b') => Some('\u{8}'),
            Some(b't') => Some('\t'),
            Some(b'n') => Some('\n'),
            Some(b'f') => Some('\u{c}'),
            Some(b'r') => Some('\r'),
            Some(b'e') => Some('\u{1b}'),
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            _ => None,
        };
        if let Some(c) = simple {
            self.at += 1;
            return Ok(c);
        }
        let digits = match self.peek() {
            Some(b'x') => 2,
            Some(b'u') => 4,
            Some(b'U') => 8,
            _ => {
                return Err(SyntaxError::new(
                    at,
                    "unknown escape: use \\b \\t \\n \\f \\r \\e \\\" \\\\ \\xHH \\uHHHH or \\UHHHHHHHH",
                ))
            }
        };
        let hex = self.text.get(self.at + 1..self.at + 1 + digits);
        let c = hex
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32)
            .ok_or_else(|| {
                SyntaxError::new(
                    at,
                    format!("an escape needs {digits} hex digits of a Unicode scalar value"),
                )
            })?;
        self.at += 1 + digits;
        Ok(c)
    }

    /// A boolean or a number (a date-time is refused by name).
    pub(super) fn scalar(&mut self) -> Result<Value, SyntaxError> {
        let start = self.at;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'+' | b'-' | b'.' | b'_' | b':')
        ) {
            self.at += 1;
        }
        let token = self.text.get(start..self.at).unwrap_or("");
        if token.is_empty() {
            return Err(self.unexpected("a value"));
        }
        let error = |message: String| Err(SyntaxError::new(start, message));
        match token {
            "true" => Ok(Value::Boolean(true)),
            "false" => Ok(Value::Boolean(false)),
            _ if is_date_time(token) => {
                error("a date-time, which a models file does not use".to_string())
            }
            _ => match number(token) {
                Some(Ok(value)) => Ok(value),
                Some(Err(why)) => error(format!("`{token}` {why}")),
                None => error(format!(
                    "`{token}` is not a value (a string needs quotes, a number digits)"
                )),
            },
        }
    }
}

/// `1979-05-27…` or `07:32…`.
fn is_date_time(token: &str) -> bool {
    let bytes = token.as_bytes();
    let digits = |n: usize| {
        bytes
            .get(..n)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    (digits(4) && bytes.get(4) == Some(&b'-')) || (digits(2) && bytes.get(2) == Some(&b':'))
}

/// Digits of `radix` with single underscores between them, without the underscores.
fn digits(text: &str, radix: u32) -> Option<String> {
    let bytes = text.as_bytes();
    let is_digit = |b: &u8| char::from(*b).is_digit(radix);
    let well_placed = bytes.first().is_some_and(is_digit)
        && bytes.last().is_some_and(is_digit)
        && !text.contains("__");
    (well_placed && bytes.iter().all(|b| *b == b'_' || is_digit(b))).then(|| text.replace('_', ""))
}

/// Decimal digits without a leading zero (`0` itself aside).
fn decimal(text: &str) -> Option<String> {
    digits(text, 10).filter(|_| text == "0" || !text.starts_with('0'))
}

const TOO_BIG: &str = "does not fit a 64-bit integer";

/// An integer or a float as TOML writes them; `Some(Err)` for one out of range.
fn number(token: &str) -> Option<Result<Value, &'static str>> {
    let (negative, body) = match token.as_bytes().first() {
        Some(b'-') => (true, token.get(1..)?),
        Some(b'+') => (false, token.get(1..)?),
        _ => (false, token),
    };
    let signed = body.len() != token.len();
    if body == "inf" || body == "nan" {
        return Some(Ok(Value::Float(token.to_string())));
    }
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = body.strip_prefix(prefix) {
            let digits = digits(rest, radix).filter(|_| !signed)?;
            return Some(
                i64::from_str_radix(&digits, radix)
                    .map(Value::Integer)
                    .map_err(|_| TOO_BIG),
            );
        }
    }
    let Some(split) = body.find(['.', 'e', 'E']) else {
        let digits = decimal(body)?;
        let text = if negative {
            format!("-{digits}")
        } else {
            digits
        };
        return Some(text.parse().map(Value::Integer).map_err(|_| TOO_BIG));
    };
    let (whole, rest) = body.split_at(split);
    let whole = decimal(whole)?;
    let (fraction, exponent) = match rest.find(['e', 'E']) {
        Some(e) => (rest.get(..e)?, rest.get(e + 1..)),
        None => (rest, None),
    };
    let fraction = match fraction.strip_prefix('.') {
        Some(fraction) => digits(fraction, 10)?,
        None if fraction.is_empty() => String::new(),
        None => return None,
    };
    let exponent = match exponent {
        Some(exponent) => {
            let unsigned = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            digits(unsigned, 10)?;
            crate::decimal::exponent(&exponent.replace('_', ""))?
        }
        None => 0,
    };
    if rounds_to_infinity(&whole, &fraction, exponent) {
        return Some(Err("is too large for a 64-bit float"));
    }
    Some(Ok(Value::Float(token.replace('_', ""))))
}

/// The digits of the least number a 64-bit float rounds up to infinity, halfway from
/// the largest float to 2^1024 (2^1024 − 2^970, 309 digits), its trailing zeros left out.
const INFINITY_FROM: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Whether WHOLE.FRACTION × 10^EXPONENT is at least [`INFINITY_FROM`], without
/// floating point: compares where the first significant digit falls, then the digits.
fn rounds_to_infinity(whole: &str, fraction: &str, exponent: i64) -> bool {
    let all = format!("{whole}{fraction}");
    let significant = all.trim_start_matches('0');
    let leading_zeros = all.len() - significant.len();
    let significant = significant.trim_end_matches('0');
    if significant.is_empty() {
        return false;
    }
    // Digits before the point once the leading zeros are gone.
    let before_point = i64::try_from(whole.len()).unwrap_or(i64::MAX) + exponent
        - i64::try_from(leading_zeros).unwrap_or(0);
    match before_point.cmp(&309) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => significant >= INFINITY_FROM,
    }
}
