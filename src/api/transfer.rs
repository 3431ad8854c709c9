//! Export and import: `GET /api/export?chat=c1&format=markdown|json` hands a chat out as
//! Markdown (the branch shown, to read) or as JSON (`theater-chat/1`: every message of
//! every branch, the tree and the head, to keep); `POST /api/import` takes such a JSON
//! file back as a new chat. An import is checked whole before anything is stored, so a
//! bad file is a 400 that says what is wrong and leaves no chat behind.

use super::models::catalog;
use super::{chat_id, chat_view, ApiError, Outcome};
use crate::chats::transfer::WalkError;
use crate::chats::tree::Tree;
use crate::chats::{is_zero, Chat, ChatStore, Message, MessageId, Role, Spent, Usage};
use crate::http::{self, Request, MAX_IMPORT_BYTES};
use crate::json::{Object, ToJson};
use crate::port::{Host, HttpResponse};
use crate::providers::Settings;
use crate::state::ActorState;

mod check;
use check::read_import;

/// What an export says it is; an import takes nothing else.
pub const FORMAT: &str = "theater-chat/1";
/// Most messages one export holds, over all branches (and one import).
pub const MAX_MESSAGES: usize = 20_000;
/// Most bytes of message text one export gathers.
pub const MAX_EXPORT_BYTES: usize = 16 * 1024 * 1024;
/// Longest provider or model name an imported message may carry.
const MAX_NAME_CHARS: usize = 200;
const TOP_KEYS: [&str; 5] = ["format", "chat", "messages", "tree", "head"];

/// The chat in an export: everything but its messages. `id` and `created_at` say where
/// it came from; an import gets a new id and its own time.
#[derive(Debug, Clone, PartialEq)]
struct ChatPart {
    id: Option<String>,
    title: String,
    /// False while the title waits for the first message.
    titled: bool,
    created_at: Option<u64>,
    provider: String,
    model: String,
    settings: Settings,
    /// Tokens and cost over every reply (cost in billionths of a US dollar).
    usage: Spent,
}

/// One message in an export, as stored (without its window).
#[derive(Debug, Clone, PartialEq)]
struct MessagePart {
    id: MessageId,
    parent: Option<MessageId>,
    role: Role,
    content: String,
    created_at: u64,
    provider: Option<String>,
    model: Option<String>,
    usage: Option<Usage>,
    omitted: u64,
}

struct ExportFile<'a> {
    format: &'static str,
    chat: ChatPart,
    messages: Vec<MessagePart>,
    tree: &'a Tree,
    head: Option<&'a MessageId>,
}

/// The fields of a chat in an export (an import refuses others).
const CHAT_KEYS: &[&str] = &[
    "id",
    "title",
    "titled",
    "created_at",
    "provider",
    "model",
    "settings",
    "usage",
];
/// The fields of a message in an export (an import refuses others).
const MESSAGE_KEYS: &[&str] = &[
    "id",
    "parent",
    "role",
    "content",
    "created_at",
    "provider",
    "model",
    "usage",
    "omitted",
];

impl ToJson for ChatPart {
    fn to_json(&self) -> crate::json::Json {
        Object::new()
            .some("id", &self.id)
            .with("title", &self.title)
            .with("titled", &self.titled)
            .some("created_at", &self.created_at)
            .with("provider", &self.provider)
            .with("model", &self.model)
            .with("settings", &self.settings)
            .with("usage", &self.usage)
            .build()
    }
}

impl ToJson for MessagePart {
    fn to_json(&self) -> crate::json::Json {
        Object::new()
            .with("id", &self.id)
            .some("parent", &self.parent)
            .with("role", &self.role)
            .with("content", &self.content)
            .with("created_at", &self.created_at)
            .some("provider", &self.provider)
            .some("model", &self.model)
            .some("usage", &self.usage)
            .unless(is_zero(&self.omitted), "omitted", &self.omitted)
            .build()
    }
}

impl ToJson for ExportFile<'_> {
    fn to_json(&self) -> crate::json::Json {
        Object::new()
            .with("format", self.format)
            .with("chat", &self.chat)
            .with("messages", &self.messages)
            .with("tree", self.tree)
            .some("head", &self.head)
            .build()
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "invalid_export", message)
}

fn too_large(message: impl Into<String>) -> ApiError {
    ApiError::new(413, "export_too_large", message)
}

/// `GET /api/export?chat=c1&format=json|markdown` (JSON by default): a download.
pub fn export<H: Host>(
    host: &H,
    state: &ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    let store = state.chats(host);
    let chat = store.get(&chat_id(request, "chat")?)?;
    let response = match request.query("format").unwrap_or("json") {
        "json" => {
            let messages = store
                .every_message(&chat, MAX_MESSAGES)
                .map_err(|error| walk_error(&chat, error))?;
            let body = json_export(&chat, messages)?;
            download("application/json", &disposition(&chat.title, "json"), body)
        }
        "markdown" | "md" => {
            let branch = shown_branch(&store, &chat)?;
            download(
                "text/markdown; charset=utf-8",
                &disposition(&chat.title, "md"),
                markdown(&chat, &branch).into_bytes(),
            )
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "format must be \"json\" or \"markdown\", not {}",
                crate::json::quoted(other)
            )))
        }
    };
    Ok(Outcome::unchanged(response))
}

fn walk_error(chat: &Chat, error: WalkError) -> ApiError {
    match error {
        WalkError::TooMany(limit) => too_large(format!(
            "chat {} has more than {limit} messages over all its branches, more than one export holds",
            chat.id
        )),
        WalkError::Store(error) => error.into(),
    }
}

fn text_bytes<'a>(messages: impl Iterator<Item = &'a Message>) -> usize {
    messages.fold(0usize, |sum, m| sum.saturating_add(m.content.len()))
}

fn json_export(chat: &Chat, messages: Vec<(MessageId, Message)>) -> Result<Vec<u8>, ApiError> {
    if text_bytes(messages.iter().map(|(_, m)| m)) > MAX_EXPORT_BYTES {
        return Err(too_large(format!(
            "chat {} holds more than {} MiB of text over all its branches, more than one export holds",
            chat.id,
            MAX_EXPORT_BYTES / (1024 * 1024)
        )));
    }
    let file = ExportFile {
        format: FORMAT,
        chat: ChatPart {
            id: Some(chat.id.to_string()),
            title: chat.title.clone(),
            titled: chat.titled,
            created_at: Some(chat.created_at),
            provider: chat.provider.clone(),
            model: chat.model.clone(),
            settings: chat.settings.clone(),
            usage: chat.spent,
        },
        messages: messages
            .into_iter()
            .map(|(id, m)| MessagePart {
                id,
                parent: m.parent,
                role: m.role,
                content: m.content,
                created_at: m.created_at,
                provider: m.provider,
                model: m.model,
                usage: m.usage,
                omitted: m.omitted,
            })
            .collect(),
        tree: &chat.tree,
        head: chat.head.as_ref(),
    };
    Ok(file.to_json().to_bytes())
}

/// The branch shown, root first, read back from the head a page at a time.
fn shown_branch<H: Host>(
    store: &ChatStore<'_, H>,
    chat: &Chat,
) -> Result<Vec<(MessageId, Message)>, ApiError> {
    let mut pages = Vec::new();
    let mut before: Option<MessageId> = None;
    let (mut count, mut bytes) = (0usize, 0usize);
    loop {
        let page = store.page(chat, before.as_ref(), super::MAX_PAGE)?;
        count = count.saturating_add(page.messages.len());
        bytes = bytes.saturating_add(text_bytes(page.messages.iter().map(|(_, m)| m)));
        if count > MAX_MESSAGES || bytes > MAX_EXPORT_BYTES {
            return Err(too_large(format!(
                "the branch shown of chat {} is longer than one export holds ({MAX_MESSAGES} messages, {} MiB)",
                chat.id,
                MAX_EXPORT_BYTES / (1024 * 1024)
            )));
        }
        before = page.messages.first().map(|(id, _)| id.clone());
        let more = page.has_more && before.is_some();
        pages.push(page.messages);
        if !more {
            break;
        }
    }
    Ok(pages.into_iter().rev().flatten().collect())
}

/// The chat as a document to read: its title and facts, then each message of the
/// branch shown under a heading, its text as is.
fn markdown(chat: &Chat, branch: &[(MessageId, Message)]) -> String {
    let mut out = format!("# {}\n\n", chat.title);
    out.push_str(&format!(
        "- Model: {} / {}\n- Started: {}\n- Messages: {} (the branch shown)\n",
        chat.provider,
        chat.model,
        utc(chat.created_at),
        branch.len()
    ));
    if !chat.spent.is_empty() {
        out.push_str(&format!(
            "- Used: {} input + {} output tokens, {}",
            chat.spent.input_tokens,
            chat.spent.output_tokens,
            dollars(chat.spent.cost)
        ));
        if chat.spent.unpriced > 0 {
            out.push_str(&format!(
                " (and {} replies with no known price)",
                chat.spent.unpriced
            ));
        }
        out.push('\n');
    }
    if let Some(system) = chat.settings.system_prompt() {
        out.push_str("- System prompt:\n\n");
        for line in system.lines() {
            out.push_str(&format!("  > {line}\n"));
        }
    }
    for (_, message) in branch {
        let heading = match (message.role, &message.model) {
            (Role::User, _) => "You".to_string(),
            (Role::Assistant, Some(model)) => format!("Assistant ({model})"),
            (Role::Assistant, None) => "Assistant".to_string(),
        };
        let mut facts = vec![utc(message.created_at)];
        if let Some(usage) = &message.usage {
            facts.push(format!(
                "{} input + {} output tokens",
                usage.input_tokens, usage.output_tokens
            ));
            if let Some(cost) = usage.cost {
                facts.push(dollars(cost));
            }
        }
        if message.omitted > 0 {
            facts.push(format!(
                "{} earlier messages not sent to the model",
                message.omitted
            ));
        }
        out.push_str(&format!(
            "\n## {heading}\n\n*{}*\n\n{}\n",
            facts.join(" · "),
            message.content
        ));
    }
    out
}

/// `YYYY-MM-DD HH:MM UTC` from milliseconds since the epoch.
fn utc(ms: u64) -> String {
    let seconds = ms / 1000;
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let minutes = seconds % 86_400 / 60;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

/// US dollars from billionths, exactly: `$0.00`, `$0.000123`, `$12.50`.
fn dollars(nanos: u64) -> String {
    let fraction = format!("{:09}", nanos % 1_000_000_000);
    let fraction = fraction.trim_end_matches('0');
    format!("${}.{fraction:0<2}", nanos / 1_000_000_000)
}

/// `attachment; filename="..."` with a name safe on any system, plus the exact title as
/// `filename*` when it is not plain ASCII.
fn disposition(title: &str, extension: &str) -> String {
    let mut safe = String::new();
    for c in title.chars() {
        let c = if c.is_ascii_alphanumeric() || " -_.,()+".contains(c) {
            c
        } else {
            '_'
        };
        if !(c == '_' && safe.ends_with('_')) {
            safe.push(c);
        }
    }
    let safe: String = safe
        .trim_matches(|c| c == ' ' || c == '.' || c == '_')
        .chars()
        .take(80)
        .collect();
    let safe = match safe.trim_end() {
        "" => "chat",
        name => name,
    };
    let mut header = format!("attachment; filename=\"{safe}.{extension}\"");
    if !title.is_ascii() {
        let exact: String = title
            .chars()
            .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
            .take(120)
            .collect();
        header.push_str("; filename*=UTF-8''");
        for byte in format!("{}.{extension}", exact.trim()).bytes() {
            if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
                header.push(char::from(byte));
            } else {
                header.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    header
}

fn download(content_type: &str, disposition: &str, body: Vec<u8>) -> HttpResponse {
    let headers = [
        ("Content-Type", content_type),
        ("Content-Disposition", disposition),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ];
    HttpResponse {
        status: 200,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body,
    }
}

/// `POST /api/import` with an export as the body: 201 with the new chat.
pub fn import<H: Host>(
    host: &H,
    state: &ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    let body = request.json_object()?;
    let catalog = catalog(host, state)?;
    let checked = read_import(body, &catalog)?;
    let store = state.chats(host);
    let chat = store.import(checked)?;
    Ok(Outcome::changed(
        http::json(201, &chat_view(&chat)),
        chat.id,
    ))
}

/// A body over the limit sent to `/api/import` is an export too big to import: say so.
pub(crate) fn explain_too_large(request: &Request, error: ApiError) -> ApiError {
    if error.status == 413 && request.path == "/api/import" {
        return ApiError::new(
            413,
            "payload_too_large",
            format!(
                "this export is over {} MiB, the most an import may carry, so it cannot be imported",
                MAX_IMPORT_BYTES / (1024 * 1024)
            ),
        );
    }
    error
}

#[cfg(test)]
#[path = "transfer_tests.rs"]
mod tests;
