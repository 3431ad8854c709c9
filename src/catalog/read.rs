//! Reads a catalog's TOML into its types: `toml.rs` gives the document with the place of
//! every key and value, and this module checks keys and types, so a mistake is told in
//! TOML's words with its line.

use super::toml::{self, Item, Value};
use super::{Catalog, ModelEntry, Overlay, ProviderEntry, ProviderOverlay};
use crate::decimal::Decimal;

/// What went wrong, with where when it is known.
pub(super) type ReadError = String;

/// The whole file, for line numbers.
#[derive(Clone, Copy)]
struct Source<'t> {
    text: &'t str,
}

impl Source<'_> {
    /// "line 4, column 27: …" for a byte offset.
    fn at(&self, at: usize, message: impl std::fmt::Display) -> ReadError {
        let before = self.text.get(..at).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        format!("line {line}, column {column}: {message}")
    }
}

/// One TOML table read as one of our types: `keys` are all it may hold.
struct Table<'t> {
    source: Source<'t>,
    table: &'t toml::Table,
    at: usize,
    /// "a provider", "a model": how errors name it.
    what: &'static str,
}

impl<'t> Table<'t> {
    fn new(
        source: Source<'t>,
        item: &'t Item,
        what: &'static str,
        keys: &[&str],
    ) -> Result<Self, ReadError> {
        let Value::Table(table) = &item.value else {
            return Err(source.at(
                item.at,
                format!("{}, expected {what} (a table)", described(&item.value)),
            ));
        };
        if let Some(unknown) = table
            .entries()
            .iter()
            .find(|entry| !keys.contains(&entry.key.as_str()))
        {
            return Err(source.at(
                unknown.at,
                format!(
                    "unknown key `{}` in {what}, which takes {}",
                    unknown.key,
                    keys.join(", ")
                ),
            ));
        }
        Ok(Self {
            source,
            table,
            at: item.at,
            what,
        })
    }

    fn get(&self, key: &str) -> Option<&'t Item> {
        self.table.get(key)
    }

    /// A key the table must have, read by `read` (`Table::string`, `Table::boolean`).
    fn need<T>(
        &self,
        key: &str,
        read: fn(&Self, &str) -> Result<Option<T>, ReadError>,
    ) -> Result<T, ReadError> {
        self.required(key, read(self, key)?)
    }

    fn required<T>(&self, key: &str, value: Option<T>) -> Result<T, ReadError> {
        value.ok_or_else(|| {
            self.source
                .at(self.at, format!("{} needs `{key}`", self.what))
        })
    }

    fn wrong(&self, key: &str, item: &Item, expected: &str) -> ReadError {
        self.source.at(
            item.at,
            format!("`{key}` is {}, expected {expected}", described(&item.value)),
        )
    }

    /// A value `read` takes, or an error saying it is not `expected`.
    fn scalar<T>(
        &self,
        key: &str,
        expected: &str,
        read: impl Fn(&Value) -> Option<T>,
    ) -> Result<Option<T>, ReadError> {
        self.get(key)
            .map(|item| read(&item.value).ok_or_else(|| self.wrong(key, item, expected)))
            .transpose()
    }

    fn string(&self, key: &str) -> Result<Option<String>, ReadError> {
        self.scalar(key, "a string", |value| match value {
            Value::String(text) => Some(text.clone()),
            _ => None,
        })
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, ReadError> {
        self.scalar(key, "true or false", |value| match value {
            Value::Boolean(flag) => Some(*flag),
            _ => None,
        })
    }

    /// A number 0 or more, whole or not (`input_price = 3` is 3.0), to nine places.
    fn number(&self, key: &str) -> Result<Option<Decimal>, ReadError> {
        self.scalar(key, "a number, 0 or more", |value| match value {
            Value::Float(text) => Decimal::parse(text),
            Value::Integer(whole) => u64::try_from(*whole).ok().and_then(Decimal::whole),
            _ => None,
        })
    }

    /// A whole number, 0 or more, that fits `T`.
    fn count<T: TryFrom<u64>>(&self, key: &str) -> Result<Option<T>, ReadError> {
        self.get(key)
            .map(|item| {
                let Value::Integer(whole) = item.value else {
                    return Err(self.wrong(key, item, "a whole number, 0 or more"));
                };
                match u64::try_from(whole) {
                    Ok(count) => T::try_from(count)
                        .map_err(|_| self.wrong(key, item, "a smaller whole number")),
                    Err(_) => Err(self.wrong(key, item, "a whole number, 0 or more")),
                }
            })
            .transpose()
    }

    /// A list of tables (`models = [{ … }]` or `[[providers.models]]`), each read by `read`.
    fn list<T>(
        &self,
        key: &str,
        read: impl Fn(&Item) -> Result<T, ReadError>,
    ) -> Result<Option<Vec<T>>, ReadError> {
        self.get(key)
            .map(|item| match &item.value {
                Value::Array(items) => items.iter().map(&read).collect(),
                _ => Err(self.wrong(key, item, "a list")),
            })
            .transpose()
    }
}

/// How a message names a value it did not expect.
fn described(value: &Value) -> String {
    match value {
        Value::String(text) => format!("string {}", crate::json::quoted(text)),
        Value::Integer(whole) => format!("integer {whole}"),
        Value::Float(text) => format!("float {text}"),
        Value::Boolean(flag) => format!("boolean {flag}"),
        Value::Array(_) => "a list".to_string(),
        Value::Table(_) => "a table".to_string(),
    }
}

/// The whole document as a table, or its first syntax error with its line.
fn document(source: Source<'_>) -> Result<Item, ReadError> {
    toml::parse(source.text)
        .map(Item::root)
        .map_err(|error| source.at(error.at, error.message))
}

const MODEL_KEYS: &[&str] = &[
    "id",
    "name",
    "context_window",
    "max_output_tokens",
    "input_price",
    "output_price",
];

fn model(source: Source<'_>, value: &Item) -> Result<ModelEntry, ReadError> {
    let table = Table::new(source, value, "a model", MODEL_KEYS)?;
    Ok(ModelEntry {
        id: table.need("id", Table::string)?,
        name: table.need("name", Table::string)?,
        context_window: table.count("context_window")?,
        max_output_tokens: table.count("max_output_tokens")?,
        input_price: table.number("input_price")?,
        output_price: table.number("output_price")?,
    })
}

const PROVIDER_KEYS: &[&str] = &["id", "name", "open_model_list", "max_temperature", "models"];

fn provider(source: Source<'_>, value: &Item) -> Result<ProviderEntry, ReadError> {
    let table = Table::new(source, value, "a provider", PROVIDER_KEYS)?;
    Ok(ProviderEntry {
        id: table.need("id", Table::string)?,
        name: table.need("name", Table::string)?,
        open_model_list: table.need("open_model_list", Table::boolean)?,
        max_temperature: table
            .number("max_temperature")?
            .unwrap_or_else(super::default_max_temperature),
        models: table.required("models", table.list("models", |v| model(source, v))?)?,
    })
}

fn provider_overlay(source: Source<'_>, value: &Item) -> Result<ProviderOverlay, ReadError> {
    let table = Table::new(source, value, "a provider", PROVIDER_KEYS)?;
    Ok(ProviderOverlay {
        id: table.need("id", Table::string)?,
        name: table.string("name")?,
        open_model_list: table.boolean("open_model_list")?,
        max_temperature: table.number("max_temperature")?,
        models: table
            .list("models", |v| model(source, v))?
            .unwrap_or_default(),
    })
}

const TOP_KEYS: &[&str] = &["default_provider", "providers"];

/// A whole catalog (`assets/models.toml`): every provider with all its fields.
pub(super) fn catalog(text: &str) -> Result<Catalog, ReadError> {
    let source = Source { text };
    let document = document(source)?;
    let table = Table::new(source, &document, "the catalog", TOP_KEYS)?;
    Ok(Catalog {
        default_provider: table.need("default_provider", Table::string)?,
        providers: table.required(
            "providers",
            table.list("providers", |v| provider(source, v))?,
        )?,
    })
}

/// The user's models file: every key but a provider's and a model's `id` may be left out.
pub(super) fn overlay(text: &str) -> Result<Overlay, ReadError> {
    let source = Source { text };
    let document = document(source)?;
    let table = Table::new(source, &document, "the models file", TOP_KEYS)?;
    Ok(Overlay {
        default_provider: table.string("default_provider")?,
        providers: table
            .list("providers", |v| provider_overlay(source, v))?
            .unwrap_or_default(),
    })
}
