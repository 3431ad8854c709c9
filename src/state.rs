//! The state Theater hands to every call. It is recorded in the event chain on every
//! call, so it holds only what the process needs between calls and never grows with
//! history: chats live in the content store.

use crate::chats::hints::Hints;
use crate::chats::ChatStore;
use crate::config::ActorConfig;
use crate::generation::Generations;
use crate::json::{Fields, FromJson, Json, JsonError, Object, ToJson};
use crate::port::Host;
use thiserror::Error;

/// Open WebSocket connections kept for change notifications. Past this, the oldest
/// is forgotten (browsers reconnect and refetch), so the state stays bounded.
pub const MAX_SOCKETS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorState {
    pub config: ActorConfig,
    pub server_id: u64,
    /// The port actually bound (differs from the config when it asked for 0).
    pub port: u16,
    pub sockets: Vec<u64>,
    /// This actor's id (from `init`): workers send their reports to it.
    pub actor_id: String,
    /// Replies being written by workers, and the last few that finished.
    pub generations: Generations,
    /// Single-use WebSocket tickets and when they expire (see `api::auth`); bounded.
    pub tickets: Vec<(String, u64)>,
    /// The store object holding the init state's catalog overlay, if one was given.
    pub catalog: Option<String>,
    /// Where the newest page of the chat list is and the chat being used's current
    /// version, so their reads skip a label lookup (constant size, see `chats::hints`).
    pub hints: Hints,
}

/// Fields added after the first release may be absent from an older state.
impl FromJson for ActorState {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "the actor state")?;
        Ok(Self {
            config: f.take("config")?,
            server_id: f.take("server_id")?,
            port: f.take("port")?,
            sockets: f.take_or_default("sockets")?,
            actor_id: f.take_or_default("actor_id")?,
            generations: f.take_or_default("generations")?,
            tickets: f.take_or_default("tickets")?,
            catalog: f.take("catalog")?,
            hints: f.take_or_default("hints")?,
        })
    }
}

impl ToJson for ActorState {
    fn to_json(&self) -> Json {
        Object::new()
            .with("config", &self.config)
            .with("server_id", &self.server_id)
            .with("port", &self.port)
            .with("sockets", &self.sockets)
            .with("actor_id", &self.actor_id)
            .with("generations", &self.generations)
            .unless(self.tickets.is_empty(), "tickets", &self.tickets)
            .some("catalog", &self.catalog)
            .unless(self.hints.is_empty(), "hints", &self.hints)
            .build()
    }
}

#[derive(Debug, Error)]
#[error("actor state is unreadable: {0}")]
pub struct StateError(String);

impl ActorState {
    pub fn decode(bytes: Option<&[u8]>) -> Result<Self, StateError> {
        let bytes = bytes.ok_or_else(|| StateError("missing".to_string()))?;
        Self::from_bytes(bytes).map_err(|error| StateError(error.to_string()))
    }

    pub fn encode(&self) -> Vec<u8> {
        self.to_json().to_bytes()
    }

    pub fn add_socket(&mut self, connection_id: u64) {
        self.sockets.retain(|id| *id != connection_id);
        if self.sockets.len() >= MAX_SOCKETS {
            self.sockets.remove(0);
        }
        self.sockets.push(connection_id);
    }

    pub fn remove_socket(&mut self, connection_id: u64) {
        self.sockets.retain(|id| *id != connection_id);
    }

    /// The chats of this actor's store, keeping [`Self::hints`] true as they change.
    pub fn chats<'a, H: Host>(&'a self, host: &'a H) -> ChatStore<'a, H> {
        ChatStore::with_hints(host, &self.config.store_id, &self.hints)
    }

    /// A short tag of this actor's life, so generation ids never repeat across restarts.
    pub fn boot(&self) -> String {
        self.actor_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> ActorState {
        ActorState {
            config: ActorConfig::default(),
            server_id: 1,
            port: 8084,
            sockets: Vec::new(),
            actor_id: "5f0c6d2e-aaaa-bbbb-cccc-0123456789ab".into(),
            generations: Generations::default(),
            tickets: Vec::new(),
            catalog: None,
            hints: Hints::default(),
        }
    }

    #[test]
    fn round_trips() {
        let mut s = state();
        s.add_socket(9);
        assert_eq!(ActorState::decode(Some(&s.encode())).unwrap(), s);
        s.hints.set_list(Some(crate::chats::hints::Newest {
            shard: 3,
            hash: "ab".repeat(20),
            older: true,
        }));
        s.hints.set_open(Some(crate::chats::hints::Open {
            chat: crate::chats::ChatId::parse("c7").unwrap(),
            hash: "cd".repeat(20),
        }));
        let again = ActorState::decode(Some(&s.encode())).unwrap();
        assert_eq!(again, s);
        assert_eq!(again.hints.list().map(|newest| newest.shard), Some(3));
        assert_eq!(
            again.hints.open().map(|open| open.hash),
            Some("cd".repeat(20))
        );
        assert!(ActorState::decode(None).is_err());
        assert!(ActorState::decode(Some(b"nope")).is_err());
    }

    #[test]
    fn sockets_stay_bounded() {
        let mut s = state();
        for id in 0..(MAX_SOCKETS as u64 * 3) {
            s.add_socket(id);
        }
        assert_eq!(s.sockets.len(), MAX_SOCKETS);
        assert_eq!(s.sockets.last(), Some(&(MAX_SOCKETS as u64 * 3 - 1)));
        assert!(s.encode().len() < 1024);
        s.remove_socket(MAX_SOCKETS as u64 * 3 - 1);
        assert_eq!(s.sockets.len(), MAX_SOCKETS - 1);
    }
}
