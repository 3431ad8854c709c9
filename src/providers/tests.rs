//! Configuration from the environment, settings and the error shape.

use super::*;
use crate::json::{FromJson, ToJson};
use crate::port::fake::FakeHost;

/// A provider's HTTP reply, with a `Retry-After` header when given.
pub(super) fn reply(status: u16, retry_after: Option<&str>, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: retry_after
            .map(|after| vec![("Retry-After".to_string(), after.to_string())])
            .unwrap_or_default(),
        body: body.as_bytes().to_vec(),
    }
}

pub(super) fn turn(role: Role, content: &str) -> Turn {
    Turn {
        role,
        content: content.into(),
    }
}

#[test]
fn openai_needs_a_key_and_says_which_variable() {
    let host = FakeHost::new();
    let error = resolve(&host, "openai").err().unwrap();
    assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
    host.set_env(OPENAI_API_KEY, "  ");
    assert!(resolve(&host, "openai").is_err());
    host.set_env(OPENAI_API_KEY, "sk-test");
    assert!(resolve(&host, "openai").is_ok());
    assert!(resolve(&host, "demo").is_ok());
    assert!(availability(&host, "elsewhere").is_err());
}

#[test]
fn every_http_provider_names_its_key_variable_until_it_is_set() {
    let host = FakeHost::new();
    assert_eq!(availability(&host, "demo"), Ok(()));
    for (id, key, base) in [
        ("openai", OPENAI_API_KEY, OPENAI_BASE_URL),
        ("anthropic", ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL),
        ("gemini", GEMINI_API_KEY, GEMINI_BASE_URL),
        ("openrouter", OPENROUTER_API_KEY, OPENROUTER_BASE_URL),
    ] {
        assert!(ENV_VARS.contains(&key) && ENV_VARS.contains(&base));
        let hint = availability(&host, id).unwrap_err();
        assert!(hint.contains(key), "{id}: {hint}");
        host.set_env(key, "key-0123456789");
        assert_eq!(availability(&host, id), Ok(()), "{id}");
        assert!(resolve(&host, id).is_ok(), "{id}");
        host.set_env(base, "not a url");
        let hint = availability(&host, id).unwrap_err();
        assert!(hint.contains(base), "{id}: {hint}");
        assert!(resolve(&host, id).is_err(), "{id}");
        host.set_env(base, " ");
        assert_eq!(
            availability(&host, id),
            Ok(()),
            "{id}: blank means the default"
        );
    }
    assert_eq!(ENV_VARS.len(), 8);
}

#[test]
fn the_providers_use_their_documented_endpoints_by_default() {
    let host = FakeHost::new();
    let turns = [Turn {
        role: Role::User,
        content: "hi".into(),
    }];
    for (id, key, model, uri) in [
        ("openai", OPENAI_API_KEY, "gpt-4o-mini", "https://api.openai.com/v1/chat/completions"),
        ("anthropic", ANTHROPIC_API_KEY, "claude-haiku-4-5", "https://api.anthropic.com/v1/messages"),
        (
            "gemini",
            GEMINI_API_KEY,
            "gemini-2.5-flash",
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
        ),
        ("openrouter", OPENROUTER_API_KEY, "openai/gpt-4o", "https://openrouter.ai/api/v1/chat/completions"),
    ] {
        host.set_env(key, "key-0123456789");
        let provider = resolve(&host, id).unwrap();
        let Prepared::Send(request) = provider
            .prepare(model, &Settings::default(), &turns)
            .unwrap()
        else {
            panic!("{id} sends a request");
        };
        assert_eq!(request.uri, uri);
    }
}

#[test]
fn a_local_openai_compatible_server_needs_no_key() {
    let host = FakeHost::new();
    host.set_env(OPENAI_BASE_URL, "http://localhost:11434/v1");
    assert_eq!(availability(&host, "openai"), Ok(()));
    let provider = resolve(&host, "openai").unwrap();
    let Prepared::Send(request) = provider
        .prepare("llama3", &Settings::default(), &[])
        .unwrap()
    else {
        panic!("an HTTP provider sends a request");
    };
    assert_eq!(request.header("authorization"), None);
    host.set_env(OPENAI_BASE_URL, "https://ollama.example.com/v1");
    assert!(availability(&host, "openai")
        .unwrap_err()
        .contains(OPENAI_API_KEY));
    // Only the OpenAI-compatible provider goes without a key.
    host.set_env(ANTHROPIC_BASE_URL, "http://127.0.0.1:9");
    assert!(availability(&host, "anthropic").is_err());
}

#[test]
fn settings_are_checked_against_their_ranges() {
    assert_eq!(Settings::default().validate(), Ok(()));
    let full = Settings {
        system: Some("x".repeat(MAX_SYSTEM_CHARS)),
        temperature: Some(crate::decimal::dec("2.0")),
        max_tokens: Some(MAX_OUTPUT_TOKENS),
    };
    assert_eq!(full.validate(), Ok(()));
    for temperature in ["2.01", "2.000000001", "18446744073"] {
        let error = Settings {
            temperature: Some(crate::decimal::dec(temperature)),
            ..Settings::default()
        }
        .validate()
        .unwrap_err();
        assert!(error.contains("from 0 to 2"), "{error}");
    }
    for max_tokens in [0, MAX_OUTPUT_TOKENS + 1] {
        let error = Settings {
            max_tokens: Some(max_tokens),
            ..Settings::default()
        }
        .validate()
        .unwrap_err();
        assert!(error.contains("from 1 to 200000"), "{error}");
    }
    let error = Settings {
        system: Some("é".repeat(MAX_SYSTEM_CHARS + 1)),
        ..Settings::default()
    }
    .validate()
    .unwrap_err();
    assert!(error.contains("20000 characters"), "{error}");
}

#[test]
fn settings_serialize_only_what_is_set() {
    assert_eq!(Settings::default().to_json().to_text(), "{}");
    let settings = Settings::from_bytes(br#"{"temperature":0.5}"#).unwrap();
    assert_eq!(settings.temperature, Some(crate::decimal::dec("0.5")));
    assert_eq!((settings.system, settings.max_tokens), (None, None));
}

#[test]
fn errors_keep_their_json_shape() {
    let text = |s: &str| s.to_string();
    let every = [
        ProviderError::NotConfigured {
            provider: text("openai"),
            hint: text("set OPENAI_API_KEY"),
        },
        ProviderError::Unreachable { detail: text("d") },
        ProviderError::Auth {
            status: 401,
            message: text("m"),
        },
        ProviderError::RateLimited {
            retry_after: Some(20),
            message: text("m"),
        },
        ProviderError::RateLimited {
            retry_after: None,
            message: text("m"),
        },
        ProviderError::Rejected {
            status: 400,
            message: text("m"),
        },
        ProviderError::Upstream {
            status: 502,
            message: text("m"),
        },
        ProviderError::Malformed { detail: text("d") },
        ProviderError::Empty,
        ProviderError::Overloaded {
            status: 529,
            message: text("Overloaded"),
            retry_after: Some(3),
        },
        ProviderError::ModelNotFound { message: text("m") },
        ProviderError::ContextTooLong { message: text("m") },
        ProviderError::Blocked { reason: text("r") },
    ];
    let kinds: Vec<String> = every
        .iter()
        .map(|error| error.to_json().get("kind").unwrap().to_text())
        .collect();
    assert_eq!(
        kinds.join(" "),
        r#""not_configured" "unreachable" "auth" "rate_limited" "rate_limited" "rejected" "upstream" "malformed" "empty" "overloaded" "model_not_found" "context_too_long" "blocked""#
    );
    // Workers of a running package send these; the chat actor reads each back whole.
    for error in every {
        let json = error.to_json().to_text();
        assert_eq!(
            ProviderError::from_bytes(json.as_bytes()).unwrap(),
            error,
            "{json}"
        );
    }
    assert_eq!(
        ProviderError::Overloaded {
            status: 529,
            message: text("busy"),
            retry_after: None,
        }
        .to_json()
        .to_text(),
        r#"{"kind":"overloaded","status":529,"message":"busy","retry_after":null}"#
    );
    // The tag may come last, an absent or null optional field is None, and a field
    // the variant does not have is ignored, as the derived reader did.
    assert_eq!(
        ProviderError::from_bytes(br#"{"message":"slow","extra":1,"kind":"rate_limited"}"#)
            .unwrap(),
        ProviderError::RateLimited {
            retry_after: None,
            message: text("slow"),
        }
    );
    for (bad, says) in [
        (r#"{"kind":"auth","message":"m"}"#, "missing field `status`"),
        (
            r#"{"kind":"teapot"}"#,
            r#"unknown kind of provider error "teapot""#,
        ),
        (
            r#"{"kind":"auth","status":"401","message":"m"}"#,
            "`status`: expected a whole number, found the string \"401\"",
        ),
        (r#"{"status":401,"message":"m"}"#, "missing field `kind`"),
    ] {
        let error = ProviderError::from_bytes(bad.as_bytes()).unwrap_err();
        assert!(error.to_string().contains(says), "{bad}: {error}");
    }
}

#[test]
fn transport_failures_become_unreachable() {
    let host = FakeHost::new();
    host.set_env(OPENAI_API_KEY, "sk-test");
    host.reply_with(Err(crate::port::HostError::new(
        "send-http",
        "connection refused",
    )));
    let provider = resolve(&host, "openai").unwrap();
    let turns = [Turn {
        role: Role::User,
        content: "hi".into(),
    }];
    let error = complete(
        &host,
        provider.as_ref(),
        "gpt-4o-mini",
        &Settings::default(),
        &turns,
    )
    .unwrap_err();
    assert_eq!(
        error,
        ProviderError::Unreachable {
            detail: "connection refused".into()
        }
    );
}

#[test]
fn excerpts_cut_on_characters() {
    assert_eq!(excerpt("  héllo  ", 10), "héllo");
    assert_eq!(excerpt("ééééé", 2), "éé…");
}
