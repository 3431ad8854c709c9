//! A TOML 1.1 reader for the models file: the document as tables of values, each with the
//! byte offset it starts at, so `read.rs` can say on which line a mistake is. It takes
//! what toml's parser takes, with the same meaning (fuzz/fuzz_targets/toml.rs holds it to
//! that), except what no models file holds, which it refuses saying so: date-times,
//! nesting over 64 deep, tables of over 1,000 keys. It replaces toml's parser: the chat
//! component is 73 KB smaller for it.
//!
//! The document's structure (headers, dotted keys, which tables may be reopened) is here;
//! `scalar.rs` reads keys, strings and numbers.

mod scalar;

use scalar::Cursor;

/// A mistake in the document: where it is (a byte offset) and what it is.
#[derive(Debug, PartialEq)]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

impl SyntaxError {
    fn new(at: usize, message: impl Into<String>) -> Self {
        Self {
            at,
            message: message.into(),
        }
    }
}

/// A value and the byte offset it starts at (a table defined by a header: the header's).
#[derive(Debug, PartialEq)]
pub struct Item {
    pub value: Value,
    pub at: usize,
    made: Made,
}

impl Item {
    /// The document's root table as an item (at its start).
    pub fn root(root: Table) -> Self {
        table(root, 0, Made::Header)
    }
}

#[derive(Debug, PartialEq)]
pub enum Value {
    String(String),
    Integer(i64),
    /// As written, without its `_` (`-1.5e3`, `inf`, `+nan`); one too large for a
    /// 64-bit float is refused. The catalog reads the few it needs as decimals.
    Float(String),
    Boolean(bool),
    Array(Vec<Item>),
    Table(Table),
}

/// How a table or list came to be, which decides what may still add to it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Made {
    /// Written whole: a scalar, an inline table or a list in brackets. Closed.
    Whole,
    /// By a `[header]` (or, for a list, by `[[headers]]`): closed to dotted keys.
    Header,
    /// As the parent of a header's table (`a` in `[a.b]`): a later `[a]` may define it.
    Implicit,
    /// By a dotted key (`a` in `a.b = 1`): more dotted keys may add to it.
    Dotted,
}

/// Keys in the order they were written.
#[derive(Debug, Default, PartialEq)]
pub struct Table {
    entries: Vec<Entry>,
}

#[derive(Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    /// Where the key is written (its first occurrence).
    pub at: usize,
    pub item: Item,
}

impl Table {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, key: &str) -> Option<&Item> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.item)
    }

    /// The entry named `key`, added by `make` when there is none.
    fn entry(&mut self, key: &Key, make: impl FnOnce() -> Item) -> Result<&mut Item, SyntaxError> {
        let index = match self.entries.iter().position(|e| e.key == key.name) {
            Some(index) => index,
            None => {
                self.push(key, make())?;
                self.entries.len() - 1
            }
        };
        self.entries
            .get_mut(index)
            .map(|entry| &mut entry.item)
            .ok_or_else(|| SyntaxError::new(key.at, "internal error: lost a key"))
    }

    fn push(&mut self, key: &Key, item: Item) -> Result<(), SyntaxError> {
        if self.entries.len() >= MAX_KEYS {
            return Err(SyntaxError::new(
                key.at,
                format!("a table may hold at most {MAX_KEYS} keys"),
            ));
        }
        self.entries.push(Entry {
            key: key.name.clone(),
            at: key.at,
            item,
        });
        Ok(())
    }
}

/// The most keys a table holds: a key is found by reading the table's keys one by one,
/// which stays quick up to there (a models file's tables have at most six keys).
const MAX_KEYS: usize = 1_000;

/// One part of a dotted key, and where it is written.
#[derive(Debug, Clone)]
struct Key {
    name: String,
    at: usize,
}

fn table(table: Table, at: usize, made: Made) -> Item {
    Item {
        value: Value::Table(table),
        at,
        made,
    }
}

/// The whole document as its root table, or the first mistake in it.
pub fn parse(text: &str) -> Result<Table, SyntaxError> {
    let mut cursor = Cursor::new(text);
    let mut root = Table::default();
    // The keys of the table the lines below the last header go into (a list of tables
    // on the way means its newest table).
    let mut current: Vec<Key> = Vec::new();
    loop {
        cursor.skip_spaces();
        match cursor.peek() {
            None => return Ok(root),
            Some(b'#' | b'\n' | b'\r') => {}
            Some(b'[') => current = header(&mut cursor, &mut root)?,
            Some(_) => {
                let at = cursor.at();
                let into = descend(&mut root, &current)
                    .ok_or_else(|| SyntaxError::new(at, "internal error: lost the table"))?;
                key_value(&mut cursor, into, current.len(), false)?;
            }
        }
        cursor.end_of_line()?;
    }
}

/// `[a.b]` or `[[a.b]]`: defines the table (or adds one to the list) and returns its keys.
fn header(cursor: &mut Cursor, root: &mut Table) -> Result<Vec<Key>, SyntaxError> {
    let at = cursor.at();
    cursor.bump();
    let list = cursor.eat(b'[');
    cursor.skip_spaces();
    let keys = cursor.key()?;
    cursor.skip_spaces();
    let close = if list { "]]" } else { "]" };
    if !cursor.eat_str(close) {
        return Err(cursor.unexpected(&format!("`{close}` to close the header")));
    }
    if keys.len() > MAX_DEPTH {
        return Err(too_deep(at, "tables"));
    }
    let Some((last, parents)) = keys.split_last() else {
        return Err(SyntaxError::new(at, "a header needs a key"));
    };
    let mut into = root;
    for (depth, key) in parents.iter().enumerate() {
        let item = into.entry(key, || table(Table::default(), at, Made::Implicit))?;
        into = open(item).ok_or_else(|| {
            let name = dotted(keys.get(..=depth).unwrap_or_default());
            SyntaxError::new(
                key.at,
                format!("`{name}` is not a table that can be added to"),
            )
        })?;
    }
    let fresh = || table(Table::default(), at, Made::Header);
    match into.entries.iter_mut().find(|e| e.key == last.name) {
        None => {
            let item = if list {
                Item {
                    value: Value::Array(vec![fresh()]),
                    at,
                    made: Made::Header,
                }
            } else {
                fresh()
            };
            into.push(last, item)?;
        }
        Some(Entry { item, .. }) => match (&mut item.value, item.made, list) {
            // Defines a table that only a header's path made so far.
            (Value::Table(_), Made::Implicit, false) => {
                item.made = Made::Header;
                item.at = at;
            }
            (Value::Array(items), Made::Header, true) => items.push(fresh()),
            _ => {
                return Err(SyntaxError::new(
                    last.at,
                    format!("`{}` is defined twice", dotted(&keys)),
                ))
            }
        },
    }
    Ok(keys)
}

/// The table an existing item lets a header go into: a table not written whole, or the
/// newest table of a `[[list]]`.
fn open(item: &mut Item) -> Option<&mut Table> {
    match (&mut item.value, item.made) {
        (Value::Table(table), Made::Header | Made::Implicit | Made::Dotted) => Some(table),
        (Value::Array(items), Made::Header) => match items.last_mut() {
            Some(Item {
                value: Value::Table(table),
                ..
            }) => Some(table),
            _ => None,
        },
        _ => None,
    }
}

/// The table the header `keys` defined (already checked by `header`).
fn descend<'t>(root: &'t mut Table, keys: &[Key]) -> Option<&'t mut Table> {
    let mut into = root;
    for key in keys {
        let entry = into.entries.iter_mut().find(|e| e.key == key.name)?;
        into = open(&mut entry.item)?;
    }
    Some(into)
}

/// `a.b.c = value` into `into`, which is `depth` tables deep: `a` and `b` are made (or
/// must have been made) by dotted keys. In an inline table (`inline`), newlines and
/// comments may stand around the `=` too, as toml takes them.
fn key_value(
    cursor: &mut Cursor,
    into: &mut Table,
    depth: usize,
    inline: bool,
) -> Result<(), SyntaxError> {
    let at = cursor.at();
    let keys = cursor.key()?;
    let depth = depth + keys.len();
    if depth > MAX_DEPTH {
        return Err(too_deep(at, "keys"));
    }
    let blank = |cursor: &mut Cursor| {
        if inline {
            cursor.skip_blank()
        } else {
            cursor.skip_spaces();
            Ok(())
        }
    };
    blank(cursor)?;
    if !cursor.eat(b'=') {
        return Err(cursor.unexpected("`=` after the key"));
    }
    blank(cursor)?;
    let item = value(cursor, depth)?;
    let Some((last, parents)) = keys.split_last() else {
        return Err(cursor.unexpected("a key"));
    };
    let mut into = into;
    for (depth, key) in parents.iter().enumerate() {
        let item = into.entry(key, || table(Table::default(), key.at, Made::Dotted))?;
        into = match item {
            Item {
                value: Value::Table(table),
                made: Made::Dotted,
                ..
            } => table,
            _ => {
                let name = dotted(keys.get(..=depth).unwrap_or_default());
                return Err(SyntaxError::new(
                    key.at,
                    format!("`{name}` is already defined, so dotted keys cannot add to it"),
                ));
            }
        };
    }
    if into.get(&last.name).is_some() {
        return Err(SyntaxError::new(
            last.at,
            format!("`{}` is defined twice", dotted(&keys)),
        ));
    }
    into.push(last, item)
}

/// Tables and lists nest at most this deep, whether by headers, dotted keys, inline
/// tables or lists: reading, and dropping, a deeper one would exhaust the stack.
const MAX_DEPTH: usize = 64;

fn too_deep(at: usize, what: &str) -> SyntaxError {
    SyntaxError::new(
        at,
        format!("{what} nest too deeply (at most {MAX_DEPTH} levels)"),
    )
}

fn value(cursor: &mut Cursor, depth: usize) -> Result<Item, SyntaxError> {
    let at = cursor.at();
    let value = match cursor.peek() {
        Some(b'"' | b'\'') => Value::String(cursor.string()?),
        Some(b'[') => Value::Array(list(cursor, depth + 1)?),
        Some(b'{') => Value::Table(inline_table(cursor, depth + 1)?),
        Some(_) => cursor.scalar()?,
        None => return Err(cursor.unexpected("a value")),
    };
    Ok(Item {
        value,
        at,
        made: Made::Whole,
    })
}

fn list(cursor: &mut Cursor, depth: usize) -> Result<Vec<Item>, SyntaxError> {
    if depth > MAX_DEPTH {
        return Err(too_deep(cursor.at(), "lists"));
    }
    cursor.bump();
    let mut items = Vec::new();
    loop {
        cursor.skip_blank()?;
        if cursor.eat(b']') {
            return Ok(items);
        }
        items.push(value(cursor, depth)?);
        cursor.skip_blank()?;
        if cursor.eat(b']') {
            return Ok(items);
        }
        if !cursor.eat(b',') {
            return Err(cursor.unexpected("`,` or `]` in the list"));
        }
    }
}

/// `{ a = 1, b.c = 2 }`: over several lines and with a trailing comma too (TOML 1.1).
fn inline_table(cursor: &mut Cursor, depth: usize) -> Result<Table, SyntaxError> {
    if depth > MAX_DEPTH {
        return Err(too_deep(cursor.at(), "inline tables"));
    }
    cursor.bump();
    let mut table = Table::default();
    loop {
        cursor.skip_blank()?;
        if cursor.eat(b'}') {
            return Ok(table);
        }
        key_value(cursor, &mut table, depth, true)?;
        cursor.skip_blank()?;
        if cursor.eat(b'}') {
            return Ok(table);
        }
        if !cursor.eat(b',') {
            return Err(cursor.unexpected("`,` or `}` in the inline table"));
        }
    }
}

/// `a.b` as written in a message.
fn dotted(keys: &[Key]) -> String {
    keys.iter()
        .map(|key| key.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
#[path = "toml_tests.rs"]
mod tests;
