//! Reads a catalog's TOML into its types: toml's own parser gives the document with the
//! place of every key and value, and this module checks keys and types itself, so a
//! mistake is told in TOML's words with its line, and serde's TOML glue (76 KB of
//! the component, instantiated per type) is not linked in.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{Catalog, ModelEntry, Overlay, ProviderEntry, ProviderOverlay};

/// What went wrong, with where when it is known.
pub(super) type ReadError = String;

/// The whole file, for line numbers.
#[derive(Clone, Copy)]
struct Source<'t> {
    text: &'t str,
}

impl Source<'_> {
    /// "line 4, column 27: …" for the byte offset a span starts at.
    fn at(&self, span: &Range<usize>, message: impl std::fmt::Display) -> ReadError {
        let before = self.text.get(..span.start).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        format!("line {line}, column {column}: {message}")
    }
}

/// One TOML table read as one of our types: `keys` are all it may hold.
struct Table<'t, 'i> {
    source: Source<'t>,
    table: &'t DeTable<'i>,
    span: Range<usize>,
    /// "a provider", "a model": how errors name it.
    what: &'static str,
}

impl<'t, 'i> Table<'t, 'i> {
    fn new(
        source: Source<'t>,
        value: &'t Spanned<DeValue<'i>>,
        what: &'static str,
        keys: &[&str],
    ) -> Result<Self, ReadError> {
        let DeValue::Table(table) = value.get_ref() else {
            return Err(source.at(
                &value.span(),
                format!("{}, expected {what} (a table)", described(value.get_ref())),
            ));
        };
        if let Some(unknown) = table
            .keys()
            .find(|key| !keys.contains(&key.get_ref().as_ref()))
        {
            return Err(source.at(
                &unknown.span(),
                format!(
                    "unknown key `{}` in {what}, which takes {}",
                    unknown.get_ref(),
                    keys.join(", ")
                ),
            ));
        }
        Ok(Self {
            source,
            table,
            span: value.span(),
            what,
        })
    }

    fn get(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.table
            .iter()
            .find(|(name, _)| name.get_ref() == key)
            .map(|(_, value)| value)
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
                .at(&self.span, format!("{} needs `{key}`", self.what))
        })
    }

    fn wrong(&self, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) -> ReadError {
        self.source.at(
            &value.span(),
            format!(
                "`{key}` is {}, expected {expected}",
                described(value.get_ref())
            ),
        )
    }

    /// A value `read` takes, or an error saying it is not `expected`.
    fn scalar<T>(
        &self,
        key: &str,
        expected: &str,
        read: impl Fn(&DeValue<'i>) -> Option<T>,
    ) -> Result<Option<T>, ReadError> {
        self.get(key)
            .map(|value| read(value.get_ref()).ok_or_else(|| self.wrong(key, value, expected)))
            .transpose()
    }

    fn string(&self, key: &str) -> Result<Option<String>, ReadError> {
        self.scalar(key, "a string", |value| match value {
            DeValue::String(text) => Some(text.to_string()),
            _ => None,
        })
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, ReadError> {
        self.scalar(key, "true or false", DeValue::as_bool)
    }

    /// A number, whole or not (`input_price = 3` is 3.0).
    fn number(&self, key: &str) -> Result<Option<f64>, ReadError> {
        self.scalar(key, "a number", |value| match value {
            DeValue::Float(float) => float.as_str().parse::<f64>().ok(),
            DeValue::Integer(whole) => i64::from_str_radix(whole.as_str(), whole.radix())
                .ok()
                .map(|whole| whole as f64),
            _ => None,
        })
    }

    /// A whole number, 0 or more, that fits `T`.
    fn count<T: TryFrom<u64>>(&self, key: &str) -> Result<Option<T>, ReadError> {
        self.get(key)
            .map(|value| {
                let DeValue::Integer(whole) = value.get_ref() else {
                    return Err(self.wrong(key, value, "a whole number, 0 or more"));
                };
                match u64::from_str_radix(whole.as_str(), whole.radix()) {
                    Ok(count) => T::try_from(count)
                        .map_err(|_| self.wrong(key, value, "a smaller whole number")),
                    Err(_) => Err(self.wrong(key, value, "a whole number, 0 or more")),
                }
            })
            .transpose()
    }

    /// A list of tables (`models = [{ … }]` or `[[providers.models]]`), each read by `read`.
    fn list<T>(
        &self,
        key: &str,
        read: impl Fn(&Spanned<DeValue<'i>>) -> Result<T, ReadError>,
    ) -> Result<Option<Vec<T>>, ReadError> {
        self.get(key)
            .map(|value| match value.get_ref() {
                DeValue::Array(items) => items.iter().map(&read).collect(),
                _ => Err(self.wrong(key, value, "a list")),
            })
            .transpose()
    }
}

/// How a message names a value it did not expect.
fn described(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(text) => format!("string {:?}", text.as_ref()),
        DeValue::Integer(whole) => format!("integer {whole}"),
        DeValue::Float(float) => format!("float {float}"),
        DeValue::Boolean(flag) => format!("boolean {flag}"),
        DeValue::Datetime(_) => "a date-time".to_string(),
        DeValue::Array(_) => "a list".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

/// The whole document as a table, or toml's own syntax error (on one line).
fn document(text: &str) -> Result<Spanned<DeValue<'_>>, ReadError> {
    DeTable::parse(text)
        .map(|table| {
            let span = table.span();
            Spanned::new(span, DeValue::Table(table.into_inner()))
        })
        .map_err(|error| one_line(&error.to_string()))
}

const MODEL_KEYS: &[&str] = &[
    "id",
    "name",
    "context_window",
    "max_output_tokens",
    "input_price",
    "output_price",
];

fn model(source: Source<'_>, value: &Spanned<DeValue<'_>>) -> Result<ModelEntry, ReadError> {
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

fn provider(source: Source<'_>, value: &Spanned<DeValue<'_>>) -> Result<ProviderEntry, ReadError> {
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

fn provider_overlay(
    source: Source<'_>,
    value: &Spanned<DeValue<'_>>,
) -> Result<ProviderOverlay, ReadError> {
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
    let document = document(text)?;
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
    let document = document(text)?;
    let table = Table::new(source, &document, "the models file", TOP_KEYS)?;
    Ok(Overlay {
        default_provider: table.string("default_provider")?,
        providers: table
            .list("providers", |v| provider_overlay(source, v))?
            .unwrap_or_default(),
    })
}

/// toml's syntax errors span several lines (the line, a caret); the start shows one.
fn one_line(text: &str) -> String {
    text.split('\n')
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('|') && line != &"^")
        .collect::<Vec<_>>()
        .join("; ")
}
