//! OpenAI-compatible chat completions (`POST {base}/chat/completions`), the wire format
//! shared by OpenAI, OpenRouter, vLLM, Ollama and others.

use super::{excerpt, Completion, Prepared, Provider, ProviderError, Settings, Turn};
use crate::chats::{Role, Usage};
use crate::port::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::fmt;

pub struct OpenAi {
    endpoint: String,
    api_key: String,
}

// The key must never reach a log line through `{:?}`.
impl fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAi")
            .field("endpoint", &self.endpoint)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

impl OpenAi {
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, ProviderError> {
        let base = base_url.trim().trim_end_matches('/');
        let scheme_ok = base.starts_with("http://") || base.starts_with("https://");
        if !scheme_ok || base.contains(char::is_whitespace) {
            return Err(ProviderError::NotConfigured {
                provider: "OpenAI-compatible".to_string(),
                hint: "OPENAI_BASE_URL must be an http:// or https:// URL".to_string(),
            });
        }
        Ok(Self {
            endpoint: format!("{base}/chat/completions"),
            api_key: api_key.to_string(),
        })
    }

    /// Upstream text with our key masked, in case a provider echoes it back.
    fn scrub(&self, text: &str) -> String {
        let short = excerpt(text, 300);
        if self.api_key.len() >= 4 {
            short.replace(&self.api_key, "[redacted]")
        } else {
            short
        }
    }
}

/// The body of a chat completion request; unset settings are left to the server.
fn chat_body(model: &str, settings: &Settings, turns: &[Turn]) -> Value {
    let system = settings
        .system_prompt()
        .map(|system| json!({ "role": "system", "content": system }));
    let messages: Vec<Value> = system
        .into_iter()
        .chain(turns.iter().map(|turn| {
            let role = match turn.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({ "role": role, "content": turn.content })
        }))
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(temperature) = settings.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(max_tokens) = settings.max_tokens {
        body.insert("max_tokens".into(), json!(max_tokens));
    }
    Value::Object(body)
}

#[derive(Deserialize)]
struct ChatCompletion {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
}

impl Provider for OpenAi {
    fn prepare(
        &self,
        model: &str,
        settings: &Settings,
        turns: &[Turn],
    ) -> Result<Prepared, ProviderError> {
        let body = chat_body(model, settings, turns);
        Ok(Prepared::Send(HttpRequest {
            method: "POST".to_string(),
            uri: self.endpoint.clone(),
            headers: vec![
                (
                    "Authorization".to_string(),
                    format!("Bearer {}", self.api_key),
                ),
                ("Content-Type".to_string(), "application/json".to_string()),
                ("Accept".to_string(), "application/json".to_string()),
            ],
            body: body.to_string().into_bytes(),
        }))
    }

    fn parse(&self, response: &HttpResponse) -> Result<Completion, ProviderError> {
        let status = response.status;
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<ErrorBody>(&response.body)
                .map(|body| body.error.message)
                .unwrap_or_else(|_| String::from_utf8_lossy(&response.body).into_owned());
            let message = self.scrub(&message);
            return Err(match status {
                401 | 403 => ProviderError::Auth { status, message },
                429 => ProviderError::RateLimited {
                    retry_after: response
                        .header("retry-after")
                        .and_then(|v| v.trim().parse().ok()),
                    message,
                },
                400..=499 => ProviderError::Rejected { status, message },
                _ => ProviderError::Upstream { status, message },
            });
        }
        let completion: ChatCompletion =
            // serde quotes the offending value, which can be an echoed key.
            serde_json::from_slice(&response.body).map_err(|error| ProviderError::Malformed {
                detail: self.scrub(&error.to_string()),
            })?;
        let content = completion
            .choices
            .into_iter()
            .next()
            .and_then(|choice| choice.message.content)
            .filter(|content| !content.trim().is_empty())
            .ok_or(ProviderError::Empty)?;
        Ok(Completion {
            content,
            model: completion.model.unwrap_or_default(),
            usage: completion.usage.map(|u| Usage {
                input_tokens: u.prompt_tokens,
                output_tokens: u.completion_tokens,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-test-0123456789";

    fn provider() -> OpenAi {
        OpenAi::new("http://127.0.0.1:9/v1/", KEY).unwrap()
    }

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("Retry-After".into(), "7".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn request(provider: &OpenAi, settings: &Settings) -> (HttpRequest, Value) {
        let turns = [
            Turn {
                role: Role::User,
                content: "one".into(),
            },
            Turn {
                role: Role::Assistant,
                content: "two".into(),
            },
            Turn {
                role: Role::User,
                content: "three".into(),
            },
        ];
        let Prepared::Send(request) = provider.prepare("gpt-4o-mini", settings, &turns).unwrap()
        else {
            panic!("an HTTP provider sends a request");
        };
        let body = serde_json::from_slice(&request.body).unwrap();
        (request, body)
    }

    #[test]
    fn a_malformed_reply_that_echoes_the_key_does_not_pass_it_on() {
        // Found by the provider_reply fuzz target: serde quotes the offending value.
        let body = format!(r#"{{"choices":"us{KEY}age"}}"#);
        let error = provider().parse(&response(200, &body)).unwrap_err();
        assert!(matches!(error, ProviderError::Malformed { .. }));
        assert!(!error.to_string().contains(KEY), "{error}");
    }

    #[test]
    fn builds_the_wire_request_in_order_with_bearer_auth() {
        let turns = [
            Turn {
                role: Role::User,
                content: "one".into(),
            },
            Turn {
                role: Role::Assistant,
                content: "two".into(),
            },
            Turn {
                role: Role::User,
                content: "three".into(),
            },
        ];
        let Prepared::Send(request) = provider()
            .prepare("gpt-4o-mini", &Settings::default(), &turns)
            .unwrap()
        else {
            panic!("an HTTP provider sends a request");
        };
        assert_eq!(request.method, "POST");
        assert_eq!(request.uri, "http://127.0.0.1:9/v1/chat/completions");
        assert_eq!(
            request.header("authorization"),
            Some("Bearer sk-test-0123456789")
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(
            body["messages"],
            json!([
                {"role": "user", "content": "one"},
                {"role": "assistant", "content": "two"},
                {"role": "user", "content": "three"}
            ])
        );
    }

    #[test]
    fn sends_the_settings_with_the_system_prompt_first() {
        let settings = Settings {
            system: Some("Answer in French.".into()),
            temperature: Some(0.2),
            max_tokens: Some(300),
        };
        let (_, body) = request(&provider(), &settings);
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "Answer in French."})
        );
        assert_eq!(body["messages"][1]["content"], "one");
        assert_eq!(body["temperature"], 0.2);
        assert_eq!(body["max_tokens"], 300);
        let blank = Settings {
            system: Some("  ".into()),
            ..Settings::default()
        };
        let (_, body) = request(&provider(), &blank);
        assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn parses_a_completion_with_usage() {
        let body = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18",
            "choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#;
        let completion = provider().parse(&response(200, body)).unwrap();
        assert_eq!(completion.content, "Hi!");
        assert_eq!(completion.model, "gpt-4o-mini-2024-07-18");
        assert_eq!(
            completion.usage,
            Some(Usage {
                input_tokens: 9,
                output_tokens: 2
            })
        );
    }

    #[test]
    fn maps_error_replies_and_never_echoes_the_key() {
        let body = format!(
            r#"{{"error":{{"message":"Incorrect API key provided: {KEY}.","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
        );
        let error = provider().parse(&response(401, &body)).unwrap_err();
        assert!(matches!(error, ProviderError::Auth { status: 401, .. }));
        assert!(!error.to_string().contains(KEY), "{error}");
        assert!(error.to_string().contains("[redacted]"));

        let limited = provider()
            .parse(&response(
                429,
                r#"{"error":{"message":"Rate limit reached"}}"#,
            ))
            .unwrap_err();
        assert_eq!(
            limited,
            ProviderError::RateLimited {
                retry_after: Some(7),
                message: "Rate limit reached".into()
            }
        );
        let missing = provider()
            .parse(&response(
                404,
                r#"{"error":{"message":"The model `x` does not exist"}}"#,
            ))
            .unwrap_err();
        assert!(matches!(
            missing,
            ProviderError::Rejected { status: 404, .. }
        ));
        let down = provider()
            .parse(&response(503, "<html>bad gateway</html>"))
            .unwrap_err();
        assert!(matches!(down, ProviderError::Upstream { status: 503, .. }));
    }

    #[test]
    fn rejects_malformed_and_empty_replies() {
        assert!(matches!(
            provider().parse(&response(200, "not json")),
            Err(ProviderError::Malformed { .. })
        ));
        assert_eq!(
            provider().parse(&response(200, r#"{"choices":[]}"#)),
            Err(ProviderError::Empty)
        );
        assert_eq!(
            provider().parse(&response(
                200,
                r#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#
            )),
            Err(ProviderError::Empty)
        );
    }

    #[test]
    fn base_url_must_be_http() {
        assert!(OpenAi::new("ftp://x", KEY).is_err());
        assert!(OpenAi::new("api.openai.com", KEY).is_err());
        assert!(format!("{:?}", provider()).contains("[redacted]"));
        assert!(!format!("{:?}", provider()).contains(KEY));
    }
}
