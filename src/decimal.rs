//! Numbers 0 or more, to nine decimal places: temperatures, prices and dollars. Read
//! from the text JSON and TOML write them and written as serde_json wrote the same
//! `f64`, without floating point: core's float parsing and formatting (its tables
//! included) were about 37 KB of the chat component, for a handful of numbers.
//!
//! Nine places are more than any of them needs (a temperature of 0.123456789, a price
//! of a billionth of a dollar per million tokens); a number with more is rounded to the
//! nearest billionth, as a float would have rounded it to its own precision.

/// A number 0 or more, in billionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Decimal(u64);

/// Billionths in a unit.
const SCALE: u64 = 1_000_000_000;
/// Decimal places kept.
const PLACES: usize = 9;

impl Decimal {
    pub const ZERO: Decimal = Decimal(0);

    /// `n` billionths (nano-dollars to dollars, for example).
    pub const fn from_billionths(n: u64) -> Self {
        Decimal(n)
    }

    /// A whole number, or `None` past the range (about 1.8e10).
    pub const fn whole(n: u64) -> Option<Self> {
        match n.checked_mul(SCALE) {
            Some(b) => Some(Decimal(b)),
            None => None,
        }
    }

    pub const fn billionths(self) -> u64 {
        self.0
    }

    /// The smallest whole number at least this large.
    pub const fn ceil(self) -> u64 {
        self.0 / SCALE + if self.0 % SCALE == 0 { 0 } else { 1 }
    }

    /// Reads a number as JSON, TOML (its `_` taken out) or an HTTP q-value writes it:
    /// `2`, `0.7`, `+1.5`, `.5`, `1.5e-3`, `12E2`. `None` for anything else, for a
    /// negative number (`-0` is 0) and past the range. Places past the ninth are rounded
    /// to the nearest billionth, halves up.
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, text.get(1..)?),
            Some(b'+') => (false, text.get(1..)?),
            _ => (false, text),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(at) => (body.get(..at)?, exponent(body.get(at + 1..)?)?),
            None => (body, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return None;
        }
        // Every digit, then where the units digit of the billionths falls in them.
        let digits: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .map(|b| b - b'0')
            .collect();
        if digits.iter().all(|d| *d == 0) {
            return Some(Decimal::ZERO);
        }
        if negative {
            return None;
        }
        // The value is DIGITS × 10^(exponent − |fraction|), so in billionths the first
        // `kept` digits are whole and the rest a fraction of one.
        let places = i64::try_from(fraction.len()).ok()?;
        let kept = i64::try_from(digits.len()).ok()? + exponent - places + PLACES as i64;
        let mut value: u64 = 0;
        for position in 0..kept.max(0) {
            let digit = usize::try_from(position)
                .ok()
                .and_then(|p| digits.get(p))
                .copied()
                .unwrap_or(0);
            value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
        }
        let next = usize::try_from(kept)
            .ok()
            .and_then(|p| digits.get(p))
            .copied()
            .unwrap_or(0);
        if next >= 5 {
            value = value.checked_add(1)?;
        }
        Some(Decimal(value))
    }
}

/// An exponent's digits (signed), clamped far past any number in range (a decimal's or
/// a float's), so that `1e999999999999` is too large rather than unreadable.
pub(crate) fn exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits
        .bytes()
        .try_fold(0i64, |n, b| {
            n.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
        .unwrap_or(i64::MAX)
        .min(1_000_000);
    Some(if negative { -magnitude } else { magnitude })
}

/// `2`, `0.7`, `0.000001234`: for messages, like an `f64`'s `Display`.
impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = self.0 / SCALE;
        let fraction = self.0 % SCALE;
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let places = format!("{fraction:09}");
        write!(f, "{whole}.{}", places.trim_end_matches('0'))
    }
}

/// As serde_json wrote the same `f64` (`2.0`, `0.7`, `0.001234`), but for values under
/// 0.00001, which it wrote with an exponent (`1.234e-6`) and this writes plainly
/// (`0.000001234`): both read back as the same number, and nothing hashed holds one.
impl crate::json::ToJson for Decimal {
    fn to_json(&self) -> crate::json::Json {
        let text = if self.0 % SCALE == 0 {
            format!("{}.0", self.0 / SCALE)
        } else {
            self.to_string()
        };
        crate::json::Json::Number(text)
    }
}

impl crate::json::FromJson for Decimal {
    fn from_json(value: crate::json::Json) -> Result<Self, crate::json::JsonError> {
        match &value {
            crate::json::Json::Number(text) => Decimal::parse(text).ok_or_else(|| {
                crate::json::JsonError::new(format!("{text} is negative or too large"))
            }),
            _ => Err(crate::json::JsonError::expected("a number", &value)),
        }
    }
}

/// A decimal from its text, for tests: `dec("0.7")`.
#[cfg(test)]
pub(crate) fn dec(text: &str) -> Decimal {
    Decimal::parse(text).unwrap()
}

#[cfg(test)]
#[path = "decimal_tests.rs"]
mod tests;
