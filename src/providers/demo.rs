//! The built-in offline demo model: answers deterministically from the conversation,
//! so the actor is useful (and testable) with no API key.

use super::{excerpt, Completion, Prepared, Provider, ProviderError, Settings, Turn};
use crate::chats::{Role, Usage};
use crate::port::HttpResponse;

pub struct Demo;

pub const DEMO_MODEL: &str = "demo-echo";

impl Provider for Demo {
    fn prepare(
        &self,
        _model: &str,
        _settings: &Settings,
        turns: &[Turn],
    ) -> Result<Prepared, ProviderError> {
        let asked = turns.iter().filter(|t| t.role == Role::User).count();
        let last = turns
            .iter()
            .rev()
            .find(|t| t.role == Role::User)
            .map(|t| t.content.as_str())
            .unwrap_or_default();
        let words = last.split_whitespace().count();
        let content = format!(
            "Demo model (offline): you said \"{}\" ({} {}). It sees {} {} of yours from this chat \
             (the ones that fit its context window). To talk to a real LLM, set a provider's key on the server (ANTHROPIC_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY or OPENAI_API_KEY) and pick one of its models.",
            excerpt(last, 200),
            words,
            if words == 1 { "word" } else { "words" },
            asked,
            if asked == 1 { "message" } else { "messages" }
        );
        let input: usize = turns
            .iter()
            .map(|t| t.content.split_whitespace().count())
            .sum();
        let output = content.split_whitespace().count();
        Ok(Prepared::Answered(Completion {
            content,
            model: DEMO_MODEL.to_string(),
            usage: Some(Usage {
                input_tokens: input as u64,
                output_tokens: output as u64,
                cost: None,
            }),
        }))
    }

    fn parse(&self, _response: &HttpResponse) -> Result<Completion, ProviderError> {
        Err(ProviderError::Malformed {
            detail: "the demo model makes no HTTP requests".to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: Role, content: &str) -> Turn {
        Turn {
            role,
            content: content.to_string(),
        }
    }

    #[test]
    fn answers_the_last_user_message_deterministically() {
        let turns = [
            turn(Role::User, "first"),
            turn(Role::Assistant, "ok"),
            turn(Role::User, "hello there world"),
        ];
        let Prepared::Answered(first) = Demo
            .prepare(DEMO_MODEL, &Settings::default(), &turns)
            .unwrap()
        else {
            panic!("the demo model answers without HTTP");
        };
        let Prepared::Answered(second) = Demo
            .prepare(DEMO_MODEL, &Settings::default(), &turns)
            .unwrap()
        else {
            panic!("the demo model answers without HTTP");
        };
        assert_eq!(first, second);
        assert!(first.content.contains("\"hello there world\" (3 words)"));
        assert!(first.content.contains("It sees 2 messages of yours"));
        assert_eq!(first.model, DEMO_MODEL);
    }
}
