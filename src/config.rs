//! The actor's configuration: the manifest's `init_state` JSON merged with
//! `theater start -i`, read once at init.

use crate::json::{Fields, FromJson, Json, JsonError, Members, Object, ToJson};
use thiserror::Error;

pub const DEFAULT_STORE_ID: &str = "theater-chat";
pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 8084;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorConfig {
    /// The content store every chat lives in. Fixed, so a restarted actor finds its data.
    pub store_id: String,
    pub host: String,
    /// 0 asks for an ephemeral port.
    pub port: u16,
    /// Absolute path of the worker component (`lib/worker.wasm`); the package's
    /// init state names it. Without it, only the offline demo model answers.
    pub worker: Option<String>,
    /// Seconds each provider may take to answer (default 120), e.g. `{"openai": 60}`.
    pub timeouts: Members<u64>,
    /// Ask for the access token even on a loopback address (it is always asked for on
    /// any other).
    pub require_token: bool,
    /// Models and prices to add or change, as TOML in the format of
    /// `assets/models.toml`. Checked at init and kept in the store (the state only
    /// names it), so it is never written with the state.
    pub catalog: Option<String>,
}

const FIELDS: &[&str] = &[
    "store_id",
    "host",
    "port",
    "worker",
    "timeouts",
    "require_token",
    "catalog",
];

/// Unknown fields are refused (a misspelt one would be silently ignored).
impl FromJson for ActorConfig {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "an object")?;
        f.only(FIELDS)?;
        Ok(Self {
            store_id: f
                .take::<Option<_>>("store_id")?
                .unwrap_or_else(default_store_id),
            host: f.take::<Option<_>>("host")?.unwrap_or_else(default_host),
            port: f.take::<Option<_>>("port")?.unwrap_or(DEFAULT_PORT),
            worker: f.take("worker")?,
            timeouts: f.take_or_default("timeouts")?,
            require_token: f.take_or_default("require_token")?,
            catalog: f.take("catalog")?,
        })
    }
}

/// As the actor state keeps it: without the catalog, which the store keeps.
impl ToJson for ActorConfig {
    fn to_json(&self) -> Json {
        Object::new()
            .with("store_id", &self.store_id)
            .with("host", &self.host)
            .with("port", &self.port)
            .some("worker", &self.worker)
            .unless(self.timeouts.is_empty(), "timeouts", &self.timeouts)
            .unless(!self.require_token, "require_token", &self.require_token)
            .build()
    }
}

fn default_store_id() -> String {
    DEFAULT_STORE_ID.to_string()
}

fn default_host() -> String {
    DEFAULT_HOST.to_string()
}

fn default_port() -> u16 {
    DEFAULT_PORT
}

impl Default for ActorConfig {
    fn default() -> Self {
        Self {
            store_id: default_store_id(),
            host: default_host(),
            port: default_port(),
            worker: None,
            timeouts: Members::default(),
            require_token: false,
            catalog: None,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("init state is not a valid configuration: {0}")]
    Invalid(String),
    #[error("store_id {} must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'", crate::json::quoted(.0))]
    BadStoreId(String),
    #[error("host must not be empty")]
    EmptyHost,
    #[error("worker must be an absolute path to worker.wasm, not {}", crate::json::quoted(.0))]
    BadWorker(String),
    #[error("timeouts.{0} must be 1 to 3600 seconds")]
    BadTimeout(String),
}

impl ActorConfig {
    /// Parses the init state; none or an empty object gives the defaults.
    pub fn from_init(bytes: Option<&[u8]>) -> Result<Self, ConfigError> {
        let config: Self = match bytes {
            None => Self::default(),
            Some(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Self::default(),
            Some(bytes) => {
                Self::from_bytes(bytes).map_err(|error| ConfigError::Invalid(error.to_string()))?
            }
        };
        // The store id becomes a directory name under THEATER_HOME/store.
        let id_ok = (1..=64).contains(&config.store_id.len())
            && config
                .store_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(ConfigError::BadStoreId(config.store_id));
        }
        if config.host.trim().is_empty() {
            return Err(ConfigError::EmptyHost);
        }
        if let Some(worker) = &config.worker {
            if !worker.starts_with('/') {
                return Err(ConfigError::BadWorker(worker.clone()));
            }
        }
        if let Some((provider, _)) = config
            .timeouts
            .0
            .iter()
            .find(|(_, seconds)| !(1..=3600).contains(seconds))
        {
            return Err(ConfigError::BadTimeout(provider.clone()));
        }
        Ok(config)
    }

    /// How long a generation with this provider may take, in milliseconds.
    pub fn timeout_ms(&self, provider: &str) -> u64 {
        self.timeouts
            .get(provider)
            .copied()
            .unwrap_or(crate::generation::DEFAULT_TIMEOUT_S)
            .saturating_mul(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_init_state_gives_defaults() {
        assert_eq!(
            ActorConfig::from_init(None).unwrap(),
            ActorConfig::default()
        );
        assert_eq!(ActorConfig::from_init(Some(b"{}")).unwrap().port, 8084);
    }

    #[test]
    fn merged_init_state_overrides_fields() {
        let config = ActorConfig::from_init(Some(br#"{"store_id":"test-1","port":0}"#)).unwrap();
        assert_eq!(config.store_id, "test-1");
        assert_eq!(config.port, 0);
        assert_eq!(config.host, "127.0.0.1");
    }

    #[test]
    fn worker_paths_are_absolute_and_timeouts_sane() {
        let config = ActorConfig::from_init(Some(
            br#"{"worker":"/pkg/lib/worker.wasm","timeouts":{"openai":30}}"#,
        ))
        .unwrap();
        assert_eq!(config.timeout_ms("openai"), 30_000);
        assert_eq!(config.timeout_ms("other"), 120_000);
        assert!(matches!(
            ActorConfig::from_init(Some(br#"{"worker":"lib/worker.wasm"}"#)),
            Err(ConfigError::BadWorker(_))
        ));
        assert!(matches!(
            ActorConfig::from_init(Some(br#"{"timeouts":{"openai":0}}"#)),
            Err(ConfigError::BadTimeout(_))
        ));
    }

    #[test]
    fn rejects_typos_and_unsafe_store_ids() {
        assert!(matches!(
            ActorConfig::from_init(Some(br#"{"prot":1}"#)),
            Err(ConfigError::Invalid(_))
        ));
        for bad in ["", "../etc", "a/b", "x".repeat(65).as_str()] {
            let json = serde_json::json!({ "store_id": bad }).to_string();
            assert!(
                matches!(
                    ActorConfig::from_init(Some(json.as_bytes())),
                    Err(ConfigError::BadStoreId(_))
                ),
                "{bad:?} accepted"
            );
        }
    }
}
