//! Models and settings as the API sees them: the catalog (built in, plus the user's
//! overlay kept in the store), `GET /api/providers`, and choosing and checking a chat's
//! model and settings from a request body.

use super::optional_string;
use crate::catalog::{Catalog, ModelEntry};
use crate::http::ApiError;
use crate::json::{object, Json, Map, Object, ToJson};
use crate::port::Host;
use crate::providers::{self, Settings, MAX_OUTPUT_TOKENS};
use crate::state::ActorState;

/// The catalog, read only by the handlers that need it, keeping page and list requests
/// cheap. With an overlay this is one store read.
pub(crate) fn catalog<H: Host>(host: &H, state: &ActorState) -> Result<Catalog, ApiError> {
    let overlay = match &state.catalog {
        None => None,
        Some(hash) => Some(
            crate::store::read_object::<_, crate::catalog::StoredOverlay>(
                host,
                &state.config.store_id,
                hash,
            )
            .map_err(|e| ApiError::new(500, "storage_failed", e.to_string()))?
            .toml,
        ),
    };
    Catalog::with_overlay(overlay.as_deref())
        .map_err(|e| ApiError::new(500, "internal", e.to_string()))
}

fn model_view(model: &ModelEntry) -> Json {
    Object::new()
        .with("id", &model.id)
        .with("name", &model.name)
        .some("context_window", &model.context_window)
        .some("max_output_tokens", &model.max_output_tokens)
        .some("input_price", &model.input_price)
        .some("output_price", &model.output_price)
        .build()
}

/// `GET /api/providers`: every provider, whether it can answer now and why not (never a
/// key), and its models with their windows and prices (US dollars per million tokens).
pub fn providers<H: Host>(host: &H, state: &ActorState) -> Result<Json, ApiError> {
    let catalog = catalog(host, state)?;
    let list: Vec<Json> = catalog
        .providers
        .iter()
        .map(|entry| {
            let available = providers::availability(host, &entry.id);
            let mut view = object! {
                "id": entry.id,
                "name": entry.name,
                "available": available.is_ok(),
                "open_model_list": entry.open_model_list,
                "max_temperature": entry.max_temperature,
                "models": entry.models.iter().map(model_view).collect::<Vec<_>>(),
            };
            if let Err(reason) = available {
                view.insert("unavailable_reason", reason.to_json());
            }
            view
        })
        .collect();
    let (provider, model) = catalog.default_model();
    let default = object! { "provider": provider, "model": model };
    Ok(object! { "providers": list, "default": default })
}

/// Provider and model from a body, each defaulting to `current`, checked together.
pub(crate) fn pick_model(
    catalog: &Catalog,
    body: &Map,
    current: (String, String),
) -> Result<(String, String), ApiError> {
    let provider = optional_string(body, "provider")?;
    let model = optional_string(body, "model")?;
    let picked = match (provider, model) {
        (None, None) => current,
        (Some(provider), None) => {
            let first = catalog.first_model(&provider)?;
            (provider, first)
        }
        (provider, Some(model)) => (provider.unwrap_or(current.0), model),
    };
    catalog.check(&picked.0, &picked.1)?;
    Ok(picked)
}

pub const SETTING_KEYS: [&str; 3] = ["system", "temperature", "max_tokens"];

/// Applies `system`, `temperature` and `max_tokens` from a body (`null` clears one).
pub(crate) fn read_settings(body: &Map, mut settings: Settings) -> Result<Settings, ApiError> {
    if body.contains_key("system") {
        settings.system = optional_string(body, "system")?.filter(|s| !s.trim().is_empty());
    }
    match body.get("temperature") {
        None => {}
        Some(Json::Null) => settings.temperature = None,
        Some(value @ Json::Number(_)) => {
            settings.temperature = Some(value.as_decimal().ok_or_else(|| {
                ApiError::bad_request(format!(
                    "temperature must be a number from 0 to {}",
                    crate::providers::MAX_TEMPERATURE
                ))
            })?)
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "\"temperature\" must be a number, or null for the model's default",
            ))
        }
    }
    match body.get("max_tokens") {
        None => {}
        Some(Json::Null) => settings.max_tokens = None,
        Some(value) => {
            let n = value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "\"max_tokens\" must be a whole number from 1 to {MAX_OUTPUT_TOKENS}, or null for the model's default"
                    ))
                })?;
            settings.max_tokens = Some(n);
        }
    }
    Ok(settings)
}

/// Checks settings against the provider and model they will be sent to; the error
/// names the allowed range.
pub(crate) fn check_settings(
    catalog: &Catalog,
    provider: &str,
    model: &str,
    settings: &Settings,
) -> Result<(), ApiError> {
    settings.validate().map_err(ApiError::bad_request)?;
    let entry = catalog.provider(provider)?;
    if let Some(temperature) = settings.temperature {
        if temperature > entry.max_temperature {
            return Err(ApiError::bad_request(format!(
                "temperature must be from 0 to {} for {}",
                entry.max_temperature, entry.name
            )));
        }
    }
    let limit = catalog
        .model(provider, model)
        .and_then(|m| m.max_output_tokens);
    if let (Some(max_tokens), Some(limit)) = (settings.max_tokens, limit) {
        if max_tokens > limit {
            return Err(ApiError::bad_request(format!(
                "max_tokens must be from 1 to {limit} for {model}"
            )));
        }
    }
    Ok(())
}

/// The settings as the API shows them: only those set.
pub fn settings_view(settings: &Settings) -> Json {
    settings.to_json()
}
