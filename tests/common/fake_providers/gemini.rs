//! The fake Gemini API: `POST /v1beta/models/{model}:generateContent`.

use super::{fields, Answer, Recorded, GEMINI_USAGE};
use serde_json::{json, Map, Value};

/// GenerateContentRequest's fields, as proto JSON accepts them (either case).
const FIELDS: &[&str] = &[
    "contents",
    "systemInstruction",
    "system_instruction",
    "generationConfig",
    "generation_config",
    "safetySettings",
    "safety_settings",
    "tools",
    "toolConfig",
    "tool_config",
    "cachedContent",
    "cached_content",
];

fn error(code: u16, status: &str, message: &str, details: Option<Value>) -> Answer {
    let mut error = Map::new();
    error.insert("code".into(), json!(code));
    error.insert("message".into(), json!(message));
    error.insert("status".into(), json!(status));
    if let Some(details) = details {
        error.insert("details".into(), details);
    }
    Answer::json(code, json!({ "error": error }))
}

/// What Google's front end answers for a path it does not serve (a base URL with the
/// version in it, say): an HTML page, its message after a long head and style sheet.
fn not_found_page(path: &str) -> Answer {
    let style = "*{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}\
        html{background:#fff;color:#222;padding:15px}\
        body{margin:7% auto 0;max-width:390px;min-height:180px;padding:30px 0 15px}\
        p{margin:11px 0 22px;overflow:hidden}ins{color:#777;text-decoration:none}\
        a img{border:0}@media screen and (max-width:772px){body{margin-top:0;max-width:none}}";
    Answer::html(
        404,
        &format!(
            "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  \
             <meta name=viewport content=\"initial-scale=1, minimum-scale=1, width=device-width\">\n  \
             <title>Error 404 (Not Found)!!1</title>\n  <style>\n    {style}\n  </style>\n  \
             <p><b>404.</b> <ins>That's an error.</ins>\n  \
             <p>The requested URL <code>{path}</code> was not found on this server.  \
             <ins>That's all we know.</ins>\n"
        ),
    )
}

fn invalid(message: &str) -> Answer {
    error(400, "INVALID_ARGUMENT", message, None)
}

pub(super) fn answer(request: &Recorded, key: &str) -> Answer {
    // The real API takes `?key=` too, but a key in a URL ends up in logs: refused here,
    // so a test sees it.
    let key_in_url = request
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("key=")));
    if key_in_url {
        return invalid(
            "this fake refuses an API key in the URL (?key=): send it in the x-goog-api-key header",
        );
    }
    let model = request
        .path()
        .strip_prefix("/v1beta/models/")
        .and_then(|rest| rest.strip_suffix(":generateContent"));
    let Some(model) = model.filter(|_| request.method == "POST") else {
        return not_found_page(request.path());
    };
    match request.header("x-goog-api-key") {
        None => return error(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            None,
        ),
        Some(got) if got != key => {
            return error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                Some(json!([{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": { "service": "generativelanguage.googleapis.com" }
                }])),
            )
        }
        Some(_) => {}
    }
    let body = &request.body;
    if !body.is_object() {
        return invalid("Invalid JSON payload received.");
    }
    if let Some(unknown) = fields(body).into_iter().find(|f| !FIELDS.contains(f)) {
        return invalid(&format!(
            "Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field."
        ));
    }
    let contents = body["contents"].as_array().cloned().unwrap_or_default();
    if contents.is_empty() {
        return invalid("* GenerateContentRequest.contents: contents is not specified");
    }
    for (i, content) in contents.iter().enumerate() {
        if !matches!(content["role"].as_str(), Some("user" | "model")) {
            return invalid("Please use a valid role: user, model.");
        }
        let texts = content["parts"].as_array().cloned().unwrap_or_default();
        if texts.is_empty() || texts.iter().any(|part| !part["text"].is_string()) {
            return invalid(&format!(
                "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty."
            ));
        }
    }
    match model {
        "fake-503" => error(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
            None,
        ),
        "fake-429" => error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details.",
            Some(json!([
                { "@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [] },
                { "@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37.2s" }
            ])),
        ),
        "fake-404" => error(
            404,
            "NOT_FOUND",
            &format!("models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."),
            None,
        ),
        "fake-too-long" => invalid(
            "The input token count (1234567) exceeds the maximum number of tokens allowed (1048576).",
        ),
        "fake-blocked" => Answer::json(
            200,
            json!({
                "promptFeedback": {
                    "blockReason": "SAFETY",
                    "safetyRatings": [
                        { "category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH" }
                    ]
                },
                "usageMetadata": { "promptTokenCount": 8, "totalTokenCount": 8 },
                "modelVersion": model
            }),
        ),
        "fake-blocked-reply" => Answer::json(
            200,
            json!({
                "candidates": [{
                    "finishReason": "SAFETY",
                    "index": 0,
                    "safetyRatings": [
                        { "category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH" }
                    ]
                }],
                "usageMetadata": { "promptTokenCount": 8, "totalTokenCount": 8 },
                "modelVersion": model
            }),
        ),
        _ => {
            let (input, output) = GEMINI_USAGE;
            let text = format!(
                "Fake Gemini reply to: {}",
                request.last_text("contents", "user")
            );
            Answer::json(
                200,
                json!({
                    "candidates": [{
                        "content": { "role": "model", "parts": [{ "text": text }] },
                        "finishReason": "STOP",
                        "index": 0
                    }],
                    "usageMetadata": {
                        "promptTokenCount": input,
                        "candidatesTokenCount": output,
                        "totalTokenCount": input + output
                    },
                    "modelVersion": model,
                    "responseId": "fakeResponseId0123"
                }),
            )
        }
    }
}
