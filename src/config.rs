//! The actor's configuration: the manifest's `init_state` JSON merged with
//! `theater start -i`, read once at init.

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub const DEFAULT_STORE_ID: &str = "theater-chat";
pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 8084;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorConfig {
    /// The content store every chat lives in. Fixed, so a restarted actor finds its data.
    #[serde(default = "default_store_id")]
    pub store_id: String,
    #[serde(default = "default_host")]
    pub host: String,
    /// 0 asks for an ephemeral port.
    #[serde(default = "default_port")]
    pub port: u16,
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
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("init state is not a valid configuration: {0}")]
    Invalid(String),
    #[error("store_id {0:?} must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'")]
    BadStoreId(String),
    #[error("host must not be empty")]
    EmptyHost,
}

impl ActorConfig {
    /// Parses the init state; none or an empty object gives the defaults.
    pub fn from_init(bytes: Option<&[u8]>) -> Result<Self, ConfigError> {
        let config: Self = match bytes {
            None => Self::default(),
            Some(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Self::default(),
            Some(bytes) => serde_json::from_slice(bytes)
                .map_err(|error| ConfigError::Invalid(error.to_string()))?,
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
        Ok(config)
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
