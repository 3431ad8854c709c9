//! Generations: replies being written by worker actors.
//!
//! The chat actor never waits on a provider. Asking for a reply spawns a small worker
//! actor (`lib/worker.wasm`) with a [`Job`]; the worker calls the provider and sends a
//! [`Report`] back through the message server. Meanwhile the actor keeps serving, and
//! the table of [`Generations`] in its state says what is running, so Stop and
//! deadlines work without any help from the worker.
//!
//! Everything here is recorded in the event chain (spawn parameters, messages, state):
//! a job carries no key (the worker reads its own from the environment) and a report
//! carries the parsed answer or a scrubbed error, never a raw provider reply.
//!
//! The table is bounded ([`MAX_RUNNING`], [`MAX_FINISHED`]), so the state stays small.

use crate::chats::{ChatId, MessageId};
use crate::providers::{Completion, ProviderError, Settings, Turn};
use std::collections::VecDeque;

mod json;

/// Generations in flight at once, across all chats. Past it a request gets 429: the
/// runtime's queues (100 operations per actor, 32 commands) must never fill.
pub const MAX_RUNNING: usize = 4;
/// Finished generations remembered for clients that poll instead of listening.
pub const MAX_FINISHED: usize = 8;
/// Seconds a provider may take before the generation is given up (per provider in
/// the init state's `timeouts`).
pub const DEFAULT_TIMEOUT_S: u64 = 120;

/// What the chat actor hands a worker (its init state).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The chat actor's id: where the report goes.
    pub parent: String,
    pub id: String,
    pub provider: String,
    pub model: String,
    pub turns: Vec<Turn>,
    /// Absent from jobs of older chat actors.
    pub settings: Settings,
}

/// What a worker sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: String,
    pub result: Result<Completion, ProviderError>,
}

/// A generation whose worker has not reported yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub id: String,
    pub chat: ChatId,
    /// The worker's actor id.
    pub child: String,
    /// The user message being answered; the reply becomes its child.
    pub answers: MessageId,
    pub provider: String,
    pub model: String,
    pub started_at: u64,
    pub deadline: u64,
    /// Earlier messages of the branch not sent (see [`crate::context`]).
    pub omitted: u64,
    /// The reply being regenerated and its depth: the answer becomes its sibling.
    pub sibling: Option<(MessageId, u64)>,
}

/// How a generation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done {
        message: MessageId,
    },
    Failed {
        code: String,
        message: String,
        retry_after: Option<u64>,
    },
    Stopped,
    TimedOut {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    pub id: String,
    pub chat: ChatId,
    pub outcome: Outcome,
    pub finished_at: u64,
}

/// The table kept in the actor state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Generations {
    pub next: u64,
    pub running: Vec<Running>,
    pub finished: VecDeque<Finished>,
}

/// Where a generation stands, for the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status<'a> {
    Running(&'a Running),
    Finished(&'a Finished),
}

impl Generations {
    /// A fresh id, unique across actor restarts thanks to `boot` (from the actor id).
    pub fn new_id(&mut self, boot: &str) -> String {
        self.next = self.next.saturating_add(1);
        format!("g{boot}-{}", self.next)
    }

    pub fn running_in(&self, chat: &ChatId) -> Option<&Running> {
        self.running.iter().find(|r| &r.chat == chat)
    }

    pub fn is_full(&self) -> bool {
        self.running.len() >= MAX_RUNNING
    }

    pub fn start(&mut self, running: Running) {
        self.running.push(running);
    }

    /// Takes a running generation out of the table.
    pub fn take(&mut self, id: &str) -> Option<Running> {
        let at = self.running.iter().position(|r| r.id == id)?;
        Some(self.running.remove(at))
    }

    pub fn take_by_child(&mut self, child: &str) -> Option<Running> {
        let at = self.running.iter().position(|r| r.child == child)?;
        Some(self.running.remove(at))
    }

    /// The generations past their deadline, taken out of the table.
    pub fn take_expired(&mut self, now: u64) -> Vec<Running> {
        let (expired, live): (Vec<_>, Vec<_>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|r| now >= r.deadline);
        self.running = live;
        expired
    }

    pub fn finish(&mut self, running: &Running, outcome: Outcome, now: u64) {
        if self.finished.len() >= MAX_FINISHED {
            self.finished.pop_front();
        }
        self.finished.push_back(Finished {
            id: running.id.clone(),
            chat: running.chat.clone(),
            outcome,
            finished_at: now,
        });
    }

    pub fn status(&self, id: &str) -> Option<Status<'_>> {
        if let Some(running) = self.running.iter().find(|r| r.id == id) {
            return Some(Status::Running(running));
        }
        self.finished
            .iter()
            .rev()
            .find(|f| f.id == id)
            .map(Status::Finished)
    }
}

/// The worker's manifest: only the handlers it needs, an environment limited to the
/// provider variables, and no saved chain (a saved chain would keep the HTTP call,
/// key included, on disk, and saving it blocks the runtime while the child is busy).
pub fn worker_manifest(component: &str, env_vars: &[&str]) -> String {
    // A JSON string is a valid TOML basic string (same escapes).
    let quote = |text: &str| crate::json::ToJson::to_json(text).to_text();
    let vars: Vec<String> = env_vars.iter().map(|v| quote(v)).collect();
    format!(
        "name = \"chat-worker\"\nversion = \"{}\"\ncomponent = {}\n\n\
         [[handlers]]\ntype = \"runtime\"\nconfig = {{}}\n\n\
         [[handlers]]\ntype = \"environment\"\nconfig = {{ allowed_vars = [{}] }}\n\n\
         [[handlers]]\ntype = \"http-client\"\nconfig = {{}}\n\n\
         [[handlers]]\ntype = \"message-server\"\nconfig = {{}}\n",
        env!("CARGO_PKG_VERSION"),
        quote(component),
        vars.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{FromJson, ToJson};

    fn running(id: &str, chat: &str, deadline: u64) -> Running {
        Running {
            id: id.into(),
            chat: ChatId::parse(chat).unwrap(),
            child: format!("child-{id}"),
            answers: MessageId::parse(&"a".repeat(40)).unwrap(),
            provider: "openai".into(),
            model: "m".into(),
            started_at: 0,
            deadline,
            omitted: 0,
            sibling: None,
        }
    }

    #[test]
    fn the_table_stays_bounded() {
        let mut table = Generations::default();
        for n in 0..(MAX_FINISHED * 3) {
            let r = running(&format!("g{n}"), "c1", 10);
            table.finish(&r, Outcome::Stopped, 1);
        }
        assert_eq!(table.finished.len(), MAX_FINISHED);
        assert!(table.status("g0").is_none());
        assert!(matches!(
            table.status(&format!("g{}", MAX_FINISHED * 3 - 1)),
            Some(Status::Finished(_))
        ));
        assert!(table.to_json().to_bytes().len() < 4096);
    }

    #[test]
    fn deadlines_take_only_what_expired() {
        let mut table = Generations::default();
        table.start(running("a", "c1", 100));
        table.start(running("b", "c2", 200));
        assert!(table.take_expired(99).is_empty());
        let expired = table.take_expired(150);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].id, "a");
        assert_eq!(table.running.len(), 1);
        assert!(table.running_in(&ChatId::parse("c2").unwrap()).is_some());
    }

    #[test]
    fn ids_differ_across_restarts() {
        let mut first = Generations::default();
        let mut second = Generations::default();
        assert_ne!(first.new_id("1a2b3c4d"), second.new_id("9f8e7d6c"));
        assert_eq!(first.new_id("1a2b3c4d"), "g1a2b3c4d-2");
    }

    #[test]
    fn the_worker_manifest_is_toml_naming_only_what_workers_need() {
        let text = worker_manifest("/nix/store/x \"y\"/lib/worker.wasm", &["OPENAI_API_KEY"]);
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["component"].as_str(),
            Some("/nix/store/x \"y\"/lib/worker.wasm")
        );
        let types: Vec<_> = parsed["handlers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["runtime", "environment", "http-client", "message-server"]
        );
        assert!(parsed.get("save_chain").is_none());
        assert_eq!(
            parsed["handlers"][1]["config"]["allowed_vars"][0].as_str(),
            Some("OPENAI_API_KEY")
        );
    }

    #[test]
    fn outcomes_keep_their_json_shape() {
        let id = "a".repeat(40);
        let every = [
            Outcome::Done {
                message: MessageId::parse(&id).unwrap(),
            },
            Outcome::Failed {
                code: "rate_limited".into(),
                message: "slow down".into(),
                retry_after: Some(7),
            },
            Outcome::Failed {
                code: "auth".into(),
                message: "bad key".into(),
                retry_after: None,
            },
            Outcome::Stopped,
            Outcome::TimedOut {
                message: "no answer in 120 s".into(),
            },
        ];
        let texts: Vec<String> = every.iter().map(|o| o.to_json().to_text()).collect();
        assert_eq!(
            texts,
            [
                format!(r#"{{"status":"done","message":"{id}"}}"#),
                r#"{"status":"failed","code":"rate_limited","message":"slow down","retry_after":7}"#.into(),
                r#"{"status":"failed","code":"auth","message":"bad key"}"#.into(),
                r#"{"status":"stopped"}"#.into(),
                r#"{"status":"timed_out","message":"no answer in 120 s"}"#.into(),
            ]
        );
        // The state of a running actor holds these: each reads back whole.
        for (outcome, text) in every.iter().zip(&texts) {
            assert_eq!(&Outcome::from_bytes(text.as_bytes()).unwrap(), outcome);
        }
        for (bad, says) in [
            (
                r#"{"status":"done","message":"c1"}"#,
                r#"`message`: invalid message id "c1""#,
            ),
            (
                r#"{"status":"failed","message":"m"}"#,
                "missing field `code`",
            ),
            (r#"{"status":"timed_out"}"#, "missing field `message`"),
            (r#"{"status":"paused"}"#, r#"unknown outcome "paused""#),
        ] {
            let error = Outcome::from_bytes(bad.as_bytes()).unwrap_err();
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn reports_round_trip_with_specific_errors() {
        let report = Report {
            id: "g1".into(),
            result: Err(ProviderError::RateLimited {
                retry_after: Some(20),
                message: "slow down".into(),
            }),
        };
        let bytes = report.to_json().to_bytes();
        assert_eq!(Report::from_bytes(&bytes).unwrap(), report);
    }
}
