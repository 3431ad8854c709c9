//! The worker role: one job in, one report out.
//!
//! A worker is a separate, small component (`lib/worker.wasm`, built from this crate
//! with the `worker` feature) that the chat actor spawns per generation. Its `init`
//! reads the provider's key from its own environment, sends the request, parses the
//! answer with the same provider code the tests cover, and sends a compact [`Report`]
//! to the chat actor. It shares `providers` and `generation` with the chat actor and
//! nothing else: it has no store and no server.

use crate::generation::{Job, Report};
use crate::json::{FromJson, ToJson};
use crate::port::{Env, HostError, Outbound};
use crate::providers;

/// What a worker asks of Theater.
pub trait WorkerHost: Env + Outbound {
    fn log(&self, line: &str);
    /// A one-way message to another actor (the chat actor).
    fn send(&self, actor: &str, message: &[u8]) -> Result<(), HostError>;
}

/// Runs one job. `Err` only when the result cannot be delivered at all: the runtime
/// then reports the failure to the chat actor through `handle-child-error`.
pub fn run<H: WorkerHost>(host: &H, job: &[u8]) -> Result<(), String> {
    let job = Job::from_bytes(job).map_err(|error| {
        let line = format!("chat-worker: unreadable job: {error}");
        host.log(&line);
        line
    })?;
    let result = providers::resolve(host, &job.provider).and_then(|provider| {
        providers::complete(
            host,
            provider.as_ref(),
            &job.model,
            &job.settings,
            &job.turns,
        )
    });
    let report = Report { id: job.id, result };
    let bytes = report.to_json().to_bytes();
    host.send(&job.parent, &bytes).map_err(|error| {
        let line = format!("chat-worker: could not report to {}: {error}", job.parent);
        host.log(&line);
        line
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chats::Role;
    use crate::port::fake::FakeHost;
    use crate::port::HttpResponse;
    use crate::providers::{ProviderError, Settings, Turn, OPENAI_API_KEY, OPENAI_BASE_URL};

    const KEY: &str = "sk-worker-test-0123456789";

    fn job() -> Vec<u8> {
        Job {
            parent: "parent-id".into(),
            id: "gx-1".into(),
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            turns: vec![Turn {
                role: Role::User,
                content: "hi".into(),
            }],
            settings: Settings::default(),
        }
        .to_json()
        .to_bytes()
    }

    fn report(host: &FakeHost) -> Report {
        let messages = host.messages.borrow();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].0, "parent-id");
        Report::from_bytes(&messages[0].1).unwrap()
    }

    #[test]
    fn calls_the_provider_with_its_own_key_and_reports_the_answer() {
        let host = FakeHost::new();
        host.set_env(OPENAI_API_KEY, KEY);
        host.set_env(OPENAI_BASE_URL, "http://127.0.0.1:9/v1");
        host.reply_with(Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: br#"{"choices":[{"message":{"content":"hello"}}]}"#.to_vec(),
        }));
        run(&host, &job()).unwrap();
        let sent = host.http_sent.borrow();
        assert_eq!(sent[0].uri, "http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(
            sent[0].header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        let report = report(&host);
        assert_eq!(report.id, "gx-1");
        assert_eq!(report.result.unwrap().content, "hello");
    }

    #[test]
    fn errors_are_reported_specific_and_without_the_key() {
        let host = FakeHost::new();
        host.set_env(OPENAI_API_KEY, KEY);
        host.reply_with(Ok(HttpResponse {
            status: 401,
            headers: vec![],
            body: format!(r#"{{"error":{{"message":"bad key {KEY}"}}}}"#).into_bytes(),
        }));
        run(&host, &job()).unwrap();
        let bytes = host.messages.borrow()[0].1.clone();
        assert!(!String::from_utf8_lossy(&bytes).contains(KEY));
        assert!(matches!(
            report(&host).result,
            Err(ProviderError::Auth { status: 401, .. })
        ));
    }

    #[test]
    fn a_missing_key_is_reported_not_sent() {
        let host = FakeHost::new();
        run(&host, &job()).unwrap();
        assert!(host.http_sent.borrow().is_empty());
        assert!(matches!(
            report(&host).result,
            Err(ProviderError::NotConfigured { .. })
        ));
    }

    #[test]
    fn an_unreadable_job_is_an_error_for_the_supervisor() {
        let host = FakeHost::new();
        assert!(run(&host, b"{not json").is_err());
        assert!(host.messages.borrow().is_empty());
    }
}
