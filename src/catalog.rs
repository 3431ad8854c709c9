//! The provider and model catalog, compiled in from `assets/models.toml`.

use serde::Deserialize;
use thiserror::Error;

const CATALOG_TOML: &str = include_str!("../assets/models.toml");

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub default_provider: String,
    pub providers: Vec<ProviderEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderEntry {
    pub id: String,
    pub name: String,
    /// Whether model ids outside `models` are accepted.
    pub open_model_list: bool,
    pub models: Vec<ModelEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("models.toml is invalid: {0}")]
    Invalid(String),
    #[error("unknown provider {0:?}")]
    UnknownProvider(String),
    #[error("provider {0:?} lists no model")]
    NoModels(String),
    #[error("provider {provider:?} has no model {model:?}")]
    UnknownModel { provider: String, model: String },
}

/// Longest model id accepted from a request.
pub const MAX_MODEL_ID: usize = 200;

impl Catalog {
    pub fn builtin() -> Result<Self, CatalogError> {
        Self::parse(CATALOG_TOML)
    }

    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let catalog: Self =
            toml::from_str(text).map_err(|error| CatalogError::Invalid(error.to_string()))?;
        catalog
            .first_model(&catalog.default_provider)
            .map_err(|e| CatalogError::Invalid(format!("default_provider: {e}")))?;
        Ok(catalog)
    }

    pub fn provider(&self, id: &str) -> Result<&ProviderEntry, CatalogError> {
        self.providers
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| CatalogError::UnknownProvider(id.to_string()))
    }

    /// The model a provider offers first.
    pub fn first_model(&self, provider: &str) -> Result<String, CatalogError> {
        self.provider(provider)?
            .models
            .first()
            .map(|m| m.id.clone())
            .ok_or_else(|| CatalogError::NoModels(provider.to_string()))
    }

    /// The provider and model a new chat starts with (`parse` checked both exist).
    pub fn default_model(&self) -> (String, String) {
        let model = self.first_model(&self.default_provider).unwrap_or_default();
        (self.default_provider.clone(), model)
    }

    /// Checks a provider/model pair a request names.
    pub fn check(&self, provider: &str, model: &str) -> Result<(), CatalogError> {
        let entry = self.provider(provider)?;
        let listed = entry.models.iter().any(|m| m.id == model);
        let plausible = !model.trim().is_empty()
            && model.len() <= MAX_MODEL_ID
            && !model.chars().any(char::is_control);
        if listed || (entry.open_model_list && plausible) {
            Ok(())
        } else {
            Err(CatalogError::UnknownModel {
                provider: provider.to_string(),
                model: model.to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_defaults_to_the_demo_model() {
        let catalog = Catalog::builtin().unwrap();
        assert_eq!(
            catalog.default_model(),
            ("demo".to_string(), "demo-echo".to_string())
        );
    }

    #[test]
    fn closed_lists_reject_unknown_models_open_lists_accept_them() {
        let catalog = Catalog::builtin().unwrap();
        assert!(catalog.check("demo", "demo-echo").is_ok());
        assert!(catalog.check("demo", "gpt-4o").is_err());
        assert!(catalog.check("openai", "my-local-llama").is_ok());
        assert!(catalog.check("openai", "").is_err());
        assert!(catalog.check("openai", "bad\nid").is_err());
        assert_eq!(
            catalog.check("nope", "x"),
            Err(CatalogError::UnknownProvider("nope".into()))
        );
    }

    #[test]
    fn a_catalog_without_its_default_provider_is_invalid() {
        let text = r#"default_provider = "x"
[[providers]]
id = "demo"
name = "d"
open_model_list = false
models = []"#;
        assert!(matches!(
            Catalog::parse(text),
            Err(CatalogError::Invalid(_))
        ));
    }
}
