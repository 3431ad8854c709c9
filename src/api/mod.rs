//! The routes: the web page and the JSON API.
//!
//! Theater 0.2.1's HTTP framework matches routes by exact path, so identifiers travel in
//! the query string (`/api/chat?id=c1`) rather than in the path.

mod assets;
pub mod auth;
pub mod branches;
pub mod generations;
pub mod models;
pub mod reply;
pub mod search;
pub mod transfer;
pub mod views;

use crate::catalog::CatalogError;
use crate::chats::{ChatId, ChatStore, MessageId, NewChat, Role, StoreError};
use crate::http::{self, ApiError, Request};
use crate::json::{object, Json, Map, Object};
use crate::port::{Host, HttpRequest, HttpResponse};
use crate::providers::{self, ProviderError};
use crate::state::ActorState;
use models::{catalog, check_settings, pick_model, read_settings, SETTING_KEYS};
pub use views::{chat_view, message_view, summary_view};

/// Every (method, path) of the API; the page's files ([`assets`]) take GET too.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/health"),
    ("GET", "/api/providers"),
    ("GET", "/api/chats"),
    ("POST", "/api/chats"),
    ("GET", "/api/chat"),
    ("PATCH", "/api/chat"),
    ("DELETE", "/api/chat"),
    ("GET", "/api/messages"),
    ("POST", "/api/messages"),
    ("POST", "/api/reply"),
    ("POST", "/api/edit"),
    ("POST", "/api/branch"),
    ("POST", "/api/fork"),
    ("POST", "/api/stop"),
    ("GET", "/api/generation"),
    ("GET", "/api/search"),
    ("POST", "/api/login"),
    ("GET", "/api/ws-ticket"),
    ("GET", "/api/export"),
    ("POST", "/api/import"),
];

pub const WEBSOCKET_PATH: &str = "/ws";

/// What the server registers: each path once, for every method (`*`), so a method the
/// path does not take reaches the actor and gets a JSON 405 with `Allow`. (Theater 0.2.1
/// matches paths exactly and has no fallback: an unknown path gets the runtime's own
/// empty 404.)
pub fn server_routes() -> Vec<(&'static str, &'static str)> {
    let mut routes: Vec<(&'static str, &'static str)> = Vec::new();
    for path in ROUTES.iter().map(|(_, path)| *path).chain(assets::paths()) {
        if !routes.iter().any(|(_, known)| *known == path) {
            routes.push(("*", path));
        }
    }
    routes
}

fn method_not_allowed(path: &str, method: &str) -> Option<ApiError> {
    let mut allowed: Vec<&str> = ROUTES
        .iter()
        .filter(|(_, p)| *p == path)
        .map(|(m, _)| *m)
        .collect();
    if assets::page_file(path).is_some() {
        allowed.push("GET");
    }
    if allowed.is_empty() {
        return None;
    }
    if allowed.contains(&"GET") {
        allowed.push("HEAD");
    }
    let allow = allowed.join(", ");
    Some(ApiError {
        allow: Some(allow.clone()),
        ..ApiError::new(
            405,
            "method_not_allowed",
            format!("{path} takes {allow}, not {method}"),
        )
    })
}

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_MESSAGE_CHARS: usize = 100_000;
/// One message object's window: the newest page and every older one cost one read.
pub const DEFAULT_PAGE: usize = crate::chats::history::WINDOW_MESSAGES;
pub const MAX_PAGE: usize = 200;
/// Messages of the current branch sent to a model, newest last.
pub const MAX_CONTEXT_MESSAGES: usize = 100;
const AUTO_TITLE_CHARS: usize = 60;

/// A handled request: the response, and what open pages should hear about.
#[derive(Debug)]
pub struct Outcome {
    pub response: HttpResponse,
    /// The chat it changed (pages refetch it).
    pub changed: Option<ChatId>,
    /// Other notifications (generation progress).
    pub events: Vec<Json>,
}

impl Outcome {
    fn unchanged(response: HttpResponse) -> Self {
        Self {
            response,
            changed: None,
            events: Vec::new(),
        }
    }

    fn changed(response: HttpResponse, chat: ChatId) -> Self {
        Self {
            response,
            changed: Some(chat),
            events: Vec::new(),
        }
    }
}

pub fn handle<H: Host>(host: &H, state: &mut ActorState, raw: HttpRequest) -> Outcome {
    let method = raw.method.clone();
    let mut outcome = answer(host, state, raw, &method);
    if method.eq_ignore_ascii_case("HEAD") {
        outcome.response.body.clear();
    }
    outcome
}

fn answer<H: Host>(host: &H, state: &mut ActorState, raw: HttpRequest, method: &str) -> Outcome {
    let result = Request::parse(raw).and_then(|request| {
        request
            .check(&state.config.host, state.port)
            .map_err(|error| transfer::explain_too_large(&request, error))?;
        auth::check(host, state, &request)?;
        route(host, state, &request)
    });
    match result {
        Ok(outcome) => outcome,
        Err(error) => {
            if error.status >= 500 {
                host.log(&format!("chat: {method} failed: {error}"));
            }
            Outcome::unchanged(error.into_response())
        }
    }
}

fn route<H: Host>(
    host: &H,
    state: &mut ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    let api = Api {
        host,
        store: state.chats(host),
        state,
    };
    let unchanged = Outcome::unchanged;
    // HEAD is GET without the body (the handle function drops it).
    let method = match request.method.as_str() {
        "HEAD" => "GET",
        other => other,
    };
    if let Some(file) = assets::page_file(&request.path).filter(|_| method == "GET") {
        return Ok(unchanged(http::asset(
            file,
            request.header("if-none-match"),
            request.header("accept-encoding"),
            |name| assets::read(api.host, name),
        )));
    }
    match (method, request.path.as_str()) {
        // `generations` lets the runner rotate the actor at a quiet moment.
        ("GET", "/api/health") => Ok(unchanged(http::json(
            200,
            &object! {
                "ok": true,
                "version": env!("CARGO_PKG_VERSION"),
                "generations": state.generations.running.len(),
                "token_required": auth::required(state),
                // What the runtime records at every call (the bench watches it stay flat).
                "state_bytes": state.encode().len(),
            },
        ))),
        ("GET", "/api/providers") => {
            models::providers(host, api.state).map(|view| unchanged(http::json(200, &view)))
        }
        ("GET", "/api/chats") => api.list_chats(request).map(unchanged),
        ("POST", "/api/chats") => api.create_chat(request),
        ("GET", "/api/chat") => api.get_chat(request).map(unchanged),
        ("PATCH", "/api/chat") => api.update_chat(request),
        ("DELETE", "/api/chat") => api.delete_chat(request),
        ("GET", "/api/messages") => api.list_messages(request).map(unchanged),
        ("POST", "/api/messages") => api.post_message(request),
        ("POST", "/api/reply") => reply::start(host, state, request),
        ("POST", "/api/edit") => branches::edit(host, state, request),
        ("POST", "/api/branch") => branches::switch(host, state, request),
        ("POST", "/api/fork") => branches::fork(host, state, request),
        ("POST", "/api/stop") => generations::stop(host, state, request),
        ("GET", "/api/generation") => generations::status(state, request).map(unchanged),
        ("GET", "/api/search") => search::answer(host, &api.store, request).map(unchanged),
        ("POST", "/api/login") => auth::login(host, state, request),
        ("GET", "/api/ws-ticket") => auth::ticket(host, state),
        ("GET", "/api/export") => transfer::export(host, state, request),
        ("POST", "/api/import") => transfer::import(host, state, request),
        (_, path) => Err(
            method_not_allowed(path, &request.method).unwrap_or_else(|| {
                ApiError::not_found(format!("no route for {} {}", request.method, path))
            }),
        ),
    }
}

struct Api<'a, H: Host> {
    host: &'a H,
    store: ChatStore<'a, H>,
    state: &'a ActorState,
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ChatNotFound(_) | StoreError::MessageNotFound(_) => {
                ApiError::not_found(error.to_string())
            }
            StoreError::WrongChat { .. } => ApiError::bad_request(error.to_string()),
            StoreError::NotOnBranch(_) => ApiError::new(409, "not_on_branch", error.to_string()),
            StoreError::Refused(_) => ApiError::new(409, "branch_refused", error.to_string()),
            StoreError::Corrupt { .. } => ApiError::new(500, "storage_corrupt", error.to_string()),
            StoreError::Host(_) => ApiError::new(500, "storage_failed", error.to_string()),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        ApiError::bad_request(error.to_string())
    }
}

impl From<ProviderError> for ApiError {
    fn from(error: ProviderError) -> Self {
        let message = error.to_string();
        match error {
            ProviderError::NotConfigured { .. } => {
                ApiError::new(503, "provider_not_configured", message)
            }
            ProviderError::RateLimited { retry_after, .. } => ApiError {
                retry_after,
                ..ApiError::new(429, "provider_rate_limited", message)
            },
            ProviderError::Unreachable { .. } => {
                ApiError::new(502, "provider_unreachable", message)
            }
            ProviderError::Auth { .. } => ApiError::new(502, "provider_auth", message),
            ProviderError::Rejected { .. } => ApiError::new(502, "provider_rejected", message),
            ProviderError::Upstream { .. } => ApiError::new(502, "provider_failed", message),
            ProviderError::Overloaded { retry_after, .. } => ApiError {
                retry_after,
                ..ApiError::new(503, "provider_overloaded", message)
            },
            ProviderError::ModelNotFound { .. } => {
                ApiError::new(502, "provider_model_not_found", message)
            }
            ProviderError::ContextTooLong { .. } => {
                ApiError::new(502, "provider_context_too_long", message)
            }
            ProviderError::Blocked { .. } => ApiError::new(502, "provider_blocked", message),
            ProviderError::Malformed { .. } | ProviderError::Empty => {
                ApiError::new(502, "provider_bad_reply", message)
            }
        }
    }
}

/// A title cut to the longest allowed.
pub(crate) fn title_excerpt(title: &str) -> String {
    providers::excerpt(&without_controls(title), MAX_TITLE_CHARS.saturating_sub(1))
}

/// A message's text from a body: present, not blank, not too long.
pub(crate) fn message_content(body: &Map) -> Result<String, ApiError> {
    let content = optional_string(body, "content")?
        .ok_or_else(|| ApiError::bad_request("\"content\" is required"))?;
    if content.trim().is_empty() {
        return Err(ApiError::bad_request("the message is empty"));
    }
    if content.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::new(
            413,
            "message_too_long",
            format!("the message is longer than {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(content)
}

pub(crate) fn chat_id(request: &Request, name: &str) -> Result<ChatId, ApiError> {
    let text = request.required_query(name)?;
    ChatId::parse(text).ok_or_else(|| {
        ApiError::not_found(format!("chat {} does not exist", crate::json::quoted(text)))
    })
}

pub(crate) fn optional_string(body: &Map, name: &str) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ApiError::bad_request(format!(
            "{} must be a string",
            crate::json::quoted(name)
        ))),
    }
}

/// Titles are one line: control characters (newlines, tabs, ...) become spaces.
fn without_controls(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(crate) fn clean_title(title: &str) -> Result<String, ApiError> {
    let title = without_controls(title);
    let title = title.trim();
    if title.is_empty() {
        return Err(ApiError::bad_request("the title must not be empty"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::bad_request(format!(
            "the title is longer than {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(title.to_string())
}

/// A title from the first line of text of the first message, without the Markdown
/// that would show as raw characters in the list ([`crate::chats::readable`]). A code
/// fence is not a line of text.
fn auto_title(content: &str) -> String {
    let lines = content.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next().unwrap_or_default();
    let plain = lines
        .filter(|l| !crate::chats::readable::is_fence(l))
        .map(crate::chats::readable::line)
        .find(|l| !l.is_empty());
    let line = plain.unwrap_or_else(|| first.to_string());
    providers::excerpt(&without_controls(&line), AUTO_TITLE_CHARS)
}

impl<H: Host> Api<'_, H> {
    /// A page of the chat list, newest first; `next` is the `before` of the next page.
    fn list_chats(&self, request: &Request) -> Result<HttpResponse, ApiError> {
        let before = match request.query("before") {
            None => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!(
                    "before must be a \"next\" this list returned, not {}",
                    crate::json::quoted(text)
                ))
            })?),
        };
        let page = self.store.list(before)?;
        let chats: Vec<Json> = page.chats.iter().map(summary_view).collect();
        let view = Object::new()
            .with("chats", &chats)
            .some("next", &page.next.map(|n| n.to_string()))
            .build();
        Ok(http::json(200, &view))
    }

    fn create_chat(&self, request: &Request) -> Result<Outcome, ApiError> {
        let body = request.json_object()?;
        let title = optional_string(&body, "title")?
            .map(|t| clean_title(&t))
            .transpose()?;
        let catalog = catalog(self.host, self.state)?;
        let (provider, model) = pick_model(&catalog, &body, catalog.default_model())?;
        let settings = read_settings(&body, Default::default())?;
        check_settings(&catalog, &provider, &model, &settings)?;
        let chat = self.store.create(NewChat {
            title,
            provider,
            model,
            settings,
            fork: None,
        })?;
        Ok(Outcome::changed(
            http::json(201, &chat_view(&chat)),
            chat.id,
        ))
    }

    fn get_chat(&self, request: &Request) -> Result<HttpResponse, ApiError> {
        let chat = self.store.get(&chat_id(request, "id")?)?;
        Ok(http::json(200, &chat_view(&chat)))
    }

    /// Changes the title, the model or the settings; anything not sent is kept.
    fn update_chat(&self, request: &Request) -> Result<Outcome, ApiError> {
        let mut chat = self.store.get(&chat_id(request, "id")?)?;
        let body = request.json_object()?;
        let known = ["title", "provider", "model"]
            .iter()
            .chain(SETTING_KEYS.iter())
            .any(|key| body.contains_key(key));
        if !known {
            return Err(ApiError::bad_request(
                "send at least one of \"title\", \"provider\", \"model\", \"system\", \"temperature\", \"max_tokens\"",
            ));
        }
        let title = optional_string(&body, "title")?
            .map(|t| clean_title(&t))
            .transpose()?;
        let listed = title.is_some() || body.contains_key("provider") || body.contains_key("model");
        if let Some(title) = title {
            chat.title = title;
            chat.titled = true;
        }
        let catalog = catalog(self.host, self.state)?;
        let (provider, model) =
            pick_model(&catalog, &body, (chat.provider.clone(), chat.model.clone()))?;
        let settings = read_settings(&body, chat.settings.clone())?;
        check_settings(&catalog, &provider, &model, &settings)?;
        chat.provider = provider;
        chat.model = model;
        chat.settings = settings;
        let chat = self.store.update(chat)?;
        if listed {
            self.store.relist(&chat)?;
        }
        Ok(Outcome::changed(
            http::json(200, &chat_view(&chat)),
            chat.id,
        ))
    }

    fn delete_chat(&self, request: &Request) -> Result<Outcome, ApiError> {
        let id = chat_id(request, "id")?;
        generations::refuse_while_running(self.state, &id)?;
        self.store.delete(&id)?;
        Ok(Outcome::changed(http::no_content(), id))
    }

    fn list_messages(&self, request: &Request) -> Result<HttpResponse, ApiError> {
        let chat = self.store.get(&chat_id(request, "chat")?)?;
        let limit = match request.query("limit") {
            None => DEFAULT_PAGE,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| ApiError::bad_request(format!("limit must be 1 to {MAX_PAGE}")))?,
        };
        let before = match request.query("before") {
            None => None,
            Some(text) => Some(MessageId::parse(text).ok_or_else(|| {
                ApiError::bad_request(format!("{} is not a message id", crate::json::quoted(text)))
            })?),
        };
        let page = self.store.page(&chat, before.as_ref(), limit)?;
        let messages: Vec<Json> = page
            .messages
            .iter()
            .map(|(id, message)| message_view(id, message))
            .collect();
        Ok(http::json(
            200,
            &object! { "messages": messages, "has_more": page.has_more },
        ))
    }

    fn post_message(&self, request: &Request) -> Result<Outcome, ApiError> {
        let mut chat = self.store.get(&chat_id(request, "chat")?)?;
        generations::refuse_while_running(self.state, &chat.id)?;
        let body = request.json_object()?;
        let content = message_content(&body)?;
        let first = !chat.titled;
        if first {
            chat.title = auto_title(&content);
            chat.titled = true;
        }
        let (id, message, chat) = self.store.append(chat, Role::User, content, None)?;
        if first {
            // The message is stored: a list entry left behind is fixed at the next start.
            self.store.relist_or_log(&chat);
        }
        Ok(Outcome::changed(
            http::json(
                201,
                &object! { "message": message_view(&id, &message), "chat": chat_view(&chat) },
            ),
            chat.id,
        ))
    }
}

#[cfg(test)]
mod models_tests;

#[cfg(test)]
mod branches_tests;

#[cfg(test)]
mod list_tests;
