//! The provider and model catalog: `assets/models.toml` compiled in, plus the
//! user's additions and overrides from the init state (`"catalog"`, same format), so
//! models and prices change without a rebuild.

use crate::decimal::Decimal;
use thiserror::Error;

mod read;
pub mod toml;

const CATALOG_TOML: &str = include_str!("../assets/models.toml");

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub default_provider: String,
    pub providers: Vec<ProviderEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderEntry {
    pub id: String,
    pub name: String,
    /// Whether model ids outside `models` are accepted.
    pub open_model_list: bool,
    /// The highest temperature the provider takes (Anthropic: 1).
    pub max_temperature: Decimal,
    pub models: Vec<ModelEntry>,
}

fn default_max_temperature() -> Decimal {
    crate::providers::MAX_TEMPERATURE
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    pub id: String,
    pub name: String,
    /// Tokens the model reads at most.
    pub context_window: Option<u64>,
    /// The longest reply it writes.
    pub max_output_tokens: Option<u32>,
    /// US dollars per million input tokens.
    pub input_price: Option<Decimal>,
    /// US dollars per million output tokens.
    pub output_price: Option<Decimal>,
}

/// What the user's catalog adds: providers to change (by id) and their models (by id).
#[derive(Debug, Clone, PartialEq)]
struct Overlay {
    default_provider: Option<String>,
    providers: Vec<ProviderOverlay>,
}

#[derive(Debug, Clone, PartialEq)]
struct ProviderOverlay {
    id: String,
    name: Option<String>,
    open_model_list: Option<bool>,
    max_temperature: Option<Decimal>,
    models: Vec<ModelEntry>,
}

/// The init state's overlay as the store keeps it (its hash is in the actor state).
#[derive(Debug)]
pub struct StoredOverlay {
    pub toml: String,
    /// When it was stored: each start writes new bytes.
    pub stored_at: u64,
}

impl crate::json::ToJson for StoredOverlay {
    fn to_json(&self) -> crate::json::Json {
        crate::json::object! { "toml": self.toml, "stored_at": self.stored_at }
    }
}

impl crate::json::FromJson for StoredOverlay {
    fn from_json(value: crate::json::Json) -> Result<Self, crate::json::JsonError> {
        let mut f = crate::json::Fields::of(value, "the stored models file")?;
        Ok(Self {
            toml: f.take("toml")?,
            stored_at: f.take("stored_at")?,
        })
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("models.toml is invalid: {0}")]
    Invalid(String),
    #[error("unknown provider {}", crate::json::quoted(.0))]
    UnknownProvider(String),
    #[error("provider {} lists no model", crate::json::quoted(.0))]
    NoModels(String),
    #[error(
        "provider {} has no model {}",
        crate::json::quoted(provider),
        crate::json::quoted(model)
    )]
    UnknownModel { provider: String, model: String },
    #[error("the models file (CHAT_MODELS, or the init state's \"catalog\") is invalid: {0}")]
    BadOverlay(String),
}

/// The cost of a reply in billionths of a US dollar (integers add up exactly).
pub type NanoUsd = u64;

/// Longest model id accepted from a request.
pub const MAX_MODEL_ID: usize = 200;
/// The highest price a models file may give: a million dollars per million tokens.
const MAX_PRICE: Decimal = Decimal::from_billionths(1_000_000 * 1_000_000_000);

impl Catalog {
    pub fn builtin() -> Result<Self, CatalogError> {
        Self::parse(CATALOG_TOML)
    }

    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let catalog = read::catalog(text).map_err(CatalogError::Invalid)?;
        catalog.validate().map_err(CatalogError::Invalid)?;
        Ok(catalog)
    }

    /// The built-in catalog with the user's `overlay` (TOML, the format of
    /// `assets/models.toml`) applied: a provider or model with a known id is changed
    /// field by field, a new one is added. Errors name the line of the overlay.
    pub fn with_overlay(overlay: Option<&str>) -> Result<Self, CatalogError> {
        let mut catalog = Self::builtin()?;
        let Some(text) = overlay else {
            return Ok(catalog);
        };
        let overlay = read::overlay(text).map_err(CatalogError::BadOverlay)?;
        if let Some(default) = overlay.default_provider {
            catalog.default_provider = default;
        }
        for entry in overlay.providers {
            let index = match catalog.providers.iter().position(|p| p.id == entry.id) {
                Some(index) => index,
                None => {
                    catalog.providers.push(ProviderEntry {
                        id: entry.id.clone(),
                        name: entry.id.clone(),
                        open_model_list: false,
                        max_temperature: default_max_temperature(),
                        models: Vec::new(),
                    });
                    catalog.providers.len().saturating_sub(1)
                }
            };
            let Some(provider) = catalog.providers.get_mut(index) else {
                continue;
            };
            if let Some(name) = entry.name {
                provider.name = name;
            }
            if let Some(open) = entry.open_model_list {
                provider.open_model_list = open;
            }
            if let Some(max) = entry.max_temperature {
                provider.max_temperature = max;
            }
            for model in entry.models {
                match provider.models.iter_mut().find(|m| m.id == model.id) {
                    Some(known) => known.merge(model),
                    None => provider.models.push(model),
                }
            }
        }
        catalog.validate().map_err(CatalogError::BadOverlay)?;
        Ok(catalog)
    }

    /// What TOML cannot say: known providers, sane numbers, a usable default.
    fn validate(&self) -> Result<(), String> {
        for provider in &self.providers {
            if !crate::providers::is_known(&provider.id) {
                return Err(format!(
                    "provider {} is not one the actor speaks to (it knows {})",
                    crate::json::quoted(&provider.id),
                    crate::providers::KNOWN.join(", ")
                ));
            }
            if provider.max_temperature > crate::providers::MAX_TEMPERATURE {
                return Err(format!(
                    "provider {}: max_temperature must be from 0 to {}",
                    crate::json::quoted(&provider.id),
                    crate::providers::MAX_TEMPERATURE
                ));
            }
            for model in &provider.models {
                let where_ = format!(
                    "provider {}, model {}",
                    crate::json::quoted(&provider.id),
                    crate::json::quoted(&model.id)
                );
                let plausible = !model.id.trim().is_empty()
                    && model.id.len() <= MAX_MODEL_ID
                    && !model.id.chars().any(char::is_control);
                if !plausible {
                    return Err(format!(
                        "{where_}: the id must be 1 to {MAX_MODEL_ID} printable characters"
                    ));
                }
                for (name, price) in [
                    ("input_price", model.input_price),
                    ("output_price", model.output_price),
                ] {
                    if price.is_some_and(|p| p > MAX_PRICE) {
                        return Err(format!(
                            "{where_}: {name} must be US dollars per million tokens, from 0 to 1000000"
                        ));
                    }
                }
                if model.context_window == Some(0) || model.max_output_tokens == Some(0) {
                    return Err(format!(
                        "{where_}: context_window and max_output_tokens must be positive"
                    ));
                }
            }
        }
        self.first_model(&self.default_provider)
            .map(|_| ())
            .map_err(|e| format!("default_provider: {e}"))
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

    /// The catalog's entry for a model, if it lists it (open lists take others too).
    pub fn model(&self, provider: &str, model: &str) -> Option<&ModelEntry> {
        self.provider(provider)
            .ok()?
            .models
            .iter()
            .find(|m| m.id == model)
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

impl ModelEntry {
    fn merge(&mut self, other: ModelEntry) {
        self.name = other.name;
        self.context_window = other.context_window.or(self.context_window);
        self.max_output_tokens = other.max_output_tokens.or(self.max_output_tokens);
        self.input_price = other.input_price.or(self.input_price);
        self.output_price = other.output_price.or(self.output_price);
    }

    /// What a reply with this usage cost, if both prices are known.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> Option<NanoUsd> {
        let (input, output) = (self.input_price?, self.output_price?);
        // Prices are billionths of a dollar per million tokens: the cost in billionths
        // is tokens × price ÷ 1e6, to the nearest. Each price is split at the millions
        // so that no product needs more than 64 bits (u128 division is 1 KB of code).
        const MILLION: u64 = 1_000_000;
        let whole = |tokens: u64, price: Decimal| tokens.checked_mul(price.billionths() / MILLION);
        let rest = |tokens: u64, price: Decimal| tokens.checked_mul(price.billionths() % MILLION);
        let wholes = whole(input_tokens, input)?.checked_add(whole(output_tokens, output)?)?;
        let rests = rest(input_tokens, input)?.checked_add(rest(output_tokens, output)?)?;
        wholes.checked_add(rests.checked_add(MILLION / 2)? / MILLION)
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

    #[test]
    fn every_builtin_provider_is_one_the_actor_speaks_to_and_has_a_priced_model() {
        let catalog = Catalog::builtin().unwrap();
        let ids: Vec<&str> = catalog.providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["demo", "openai", "anthropic", "gemini", "openrouter"]);
        for provider in &catalog.providers {
            assert!(provider
                .models
                .iter()
                .any(|m| m.context_window.is_some() && m.cost(1, 1).is_some()));
        }
        assert_eq!(
            catalog.provider("anthropic").unwrap().max_temperature,
            crate::decimal::dec("1.0")
        );
        assert_eq!(
            catalog.provider("gemini").unwrap().max_temperature,
            crate::decimal::dec("2.0")
        );
    }

    #[test]
    fn cost_is_exact_in_nano_dollars_and_absent_without_prices() {
        let catalog = Catalog::builtin().unwrap();
        let sonnet = catalog.model("anthropic", "claude-sonnet-4-5").unwrap();
        // 1,000 in at $3/M + 500 out at $15/M = $0.003 + $0.0075.
        assert_eq!(sonnet.cost(1000, 500), Some(10_500_000));
        // $0.15/M and $0.60/M, a float's 0.15 being no problem: one token each is
        // 150 + 600 billionths; a third of a billionth rounds to nothing.
        let mini = catalog.model("openai", "gpt-4o-mini").unwrap();
        assert_eq!(mini.cost(1, 1), Some(750));
        let cheap = ModelEntry {
            input_price: Some(crate::decimal::dec("0.000333333")),
            ..mini.clone()
        };
        assert_eq!(cheap.cost(1, 0), Some(0));
        assert_eq!(cheap.cost(3_000, 0), Some(1_000));
        // 7 × $1.2345678/M = 8,641.97 billionths; and 5 out at $0.60/M: 3,000 more.
        let odd = ModelEntry {
            input_price: Some(crate::decimal::dec("1.2345678")),
            ..cheap.clone()
        };
        assert_eq!(odd.cost(7, 0), Some(8_642));
        assert_eq!(odd.cost(7, 5), Some(11_642));
        // Past what a u64 of billionths holds: no cost rather than a wrong one.
        assert_eq!(sonnet.cost(u64::MAX, u64::MAX), None);
        let llama = catalog
            .model("openrouter", "meta-llama/llama-3.3-70b-instruct")
            .unwrap();
        assert_eq!(llama.cost(1000, 500), None);
        assert_eq!(
            catalog.model("demo", "demo-echo").unwrap().cost(9, 9),
            Some(0)
        );
    }

    #[test]
    fn an_overlay_adds_models_and_overrides_prices_field_by_field() {
        let overlay = r#"
[[providers]]
id = "openai"
models = [
  { id = "llama3.1:8b", name = "Llama 3.1 8B (Ollama)", context_window = 8192 },
  { id = "gpt-4o-mini", name = "GPT-4o mini (our price)", input_price = 0.1 },
]
"#;
        let catalog = Catalog::with_overlay(Some(overlay)).unwrap();
        let llama = catalog.model("openai", "llama3.1:8b").unwrap();
        assert_eq!(llama.context_window, Some(8192));
        assert_eq!(llama.cost(10, 10), None);
        let mini = catalog.model("openai", "gpt-4o-mini").unwrap();
        assert_eq!(mini.name, "GPT-4o mini (our price)");
        assert_eq!(mini.input_price, Some(crate::decimal::dec("0.1")));
        assert_eq!(
            mini.output_price,
            Some(crate::decimal::dec("0.6")),
            "unchanged fields are kept"
        );
        assert_eq!(mini.context_window, Some(128_000));
        // Everything else is the built-in catalog.
        assert_eq!(
            catalog.providers.len(),
            Catalog::builtin().unwrap().providers.len()
        );
        assert_eq!(
            Catalog::with_overlay(None).unwrap(),
            Catalog::builtin().unwrap()
        );
    }

    #[test]
    fn a_bad_overlay_names_its_line_or_its_entry() {
        let typo = "[[providers]]\nid = \"openai\"\nmodels = [\n  { id = \"x\", name = \"X\", input_prize = 1.0 },\n]\n";
        let error = Catalog::with_overlay(Some(typo)).unwrap_err().to_string();
        assert!(error.contains("line 4"), "{error}");
        assert!(error.contains("input_prize"), "{error}");
        assert!(!error.contains('\n'), "{error}");

        // Types are named as TOML has them, not as Rust does.
        for (field, says) in [
            (
                "input_price = \"cheap\"",
                "string \"cheap\", expected a number",
            ),
            ("context_window = -5", "expected a whole number, 0 or more"),
            (
                "max_output_tokens = 1.5",
                "expected a whole number, 0 or more",
            ),
        ] {
            let overlay = format!(
                "[[providers]]\nid = \"openai\"\n[[providers.models]]\nid = \"x\"\nname = \"X\"\n{field}\n"
            );
            let error = Catalog::with_overlay(Some(&overlay))
                .unwrap_err()
                .to_string();
            assert!(error.contains("line 6"), "{error}");
            assert!(error.contains(says), "{field}: {error}");
        }
        let error = Catalog::with_overlay(Some("[[providers]]\nid = \"openai\"\nmodels = 3\n"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("expected a list"), "{error}");

        let unknown = "[[providers]]\nid = \"ollama\"\nmodels = []\n";
        let error = Catalog::with_overlay(Some(unknown))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"ollama\" is not one the actor speaks to"),
            "{error}"
        );

        let negative = "[[providers]]\nid = \"openai\"\nmodels = [{ id = \"x\", name = \"X\", output_price = -1.0 }]\n";
        let error = Catalog::with_overlay(Some(negative))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(
                "line 3, column 50: `output_price` is float -1.0, expected a number, 0 or more"
            ),
            "{error}"
        );
        let dear = "[[providers]]\nid = \"openai\"\nmodels = [{ id = \"x\", name = \"X\", output_price = 1_000_000.000000001 }]\n";
        let error = Catalog::with_overlay(Some(dear)).unwrap_err().to_string();
        assert!(
            error.contains("output_price must be US dollars per million tokens, from 0 to 1000000"),
            "{error}"
        );
        let most = "[[providers]]\nid = \"openai\"\nmodels = [{ id = \"x\", name = \"X\", output_price = 1e6 }]\n";
        assert!(Catalog::with_overlay(Some(most)).is_ok());

        let default = "default_provider = \"gemini\"\n";
        assert_eq!(
            Catalog::with_overlay(Some(default))
                .unwrap()
                .default_model(),
            ("gemini".to_string(), "gemini-2.5-flash".to_string())
        );
    }

    #[test]
    fn a_missing_key_or_a_wrong_shape_names_its_line_and_what_it_should_be() {
        let said = |overlay: &str| {
            Catalog::with_overlay(Some(overlay))
                .unwrap_err()
                .to_string()
        };
        for (overlay, says) in [
            (
                "[[providers]]\nid = \"openai\"\n\n[[providers.models]]\nid = \"x\"\n",
                &["line 4", "a model needs `name`"][..],
            ),
            (
                "default_provider = \"openai\"\n[[providers]]\nname = \"OpenAI\"\n",
                &["line 2", "a provider needs `id`"],
            ),
            (
                "[providers]\nid = \"openai\"\n",
                &["`providers` is a table, expected a list"],
            ),
            (
                "providers = [\"openai\"]\n",
                &["string \"openai\", expected a provider"],
            ),
            (
                "[[providers]]\nid = \"openai\"\nopen_model_list = \"yes\"\n",
                &["line 3", "expected true or false"],
            ),
            (
                "[[providers]]\nid = \"openai\"\nmodels = [{ id = \"x\", name = \"X\", max_output_tokens = 5_000_000_000 }]\n",
                &["expected a smaller whole number"],
            ),
        ] {
            let error = said(overlay);
            assert!(says.iter().all(|s| error.contains(s)), "{error}");
        }
        // A syntax error says where, on one line.
        let error = said("default_provider = \"openai\n");
        assert!(
            error.contains("line 1, column 20: this string is not closed on its line")
                && !error.contains('\n'),
            "{error}"
        );
    }

    #[test]
    fn numbers_may_be_written_any_way_toml_allows() {
        let overlay = "[[providers]]\nid = \"openai\"\nmodels = [{ id = \"x\", name = \"X\", context_window = 128_000, max_output_tokens = 0x4000, input_price = 3, output_price = 1.5e1 }]\n";
        let catalog = Catalog::with_overlay(Some(overlay)).unwrap();
        let model = catalog.model("openai", "x").unwrap();
        assert_eq!(model.context_window, Some(128_000));
        assert_eq!(model.max_output_tokens, Some(16_384));
        assert_eq!(model.cost(1_000_000, 1_000_000), Some(18_000_000_000));
    }
}
