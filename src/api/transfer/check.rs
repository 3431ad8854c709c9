//! Reading an import: the file is checked whole (format, chat, every message, the tree
//! and the head) before anything is stored, and a bad one is a 400 that says what is
//! wrong.

use super::{
    invalid, too_large, ChatPart, MessagePart, CHAT_KEYS, FORMAT, MAX_MESSAGES, MAX_NAME_CHARS,
    MESSAGE_KEYS, TOP_KEYS,
};
use crate::api::models::check_settings;
use crate::api::{clean_title, ApiError, MAX_MESSAGE_CHARS};
use crate::chats::transfer::{Import, Incoming};
use crate::chats::tree::{Tree, MAX_CHILDREN, MAX_POINTS};
use crate::chats::{MessageId, NewChat, Origin, Role};
use crate::json::{Fields, FromJson, Json, JsonError, Map};
use crate::table::{Set, Table};

/// A chat as an export has it; unknown fields are refused.
impl FromJson for ChatPart {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "an object")?;
        f.only(CHAT_KEYS)?;
        Ok(Self {
            id: f.take("id")?,
            title: f.take("title")?,
            // A chat exported before `titled` existed had a title of its own.
            titled: f.take::<Option<bool>>("titled")?.unwrap_or(true),
            created_at: f.take("created_at")?,
            provider: f.take("provider")?,
            model: f.take("model")?,
            settings: f.take_or_default("settings")?,
            usage: f.take_or_default("usage")?,
        })
    }
}

/// A message as an export has it; unknown fields are refused.
impl FromJson for MessagePart {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "an object")?;
        f.only(MESSAGE_KEYS)?;
        Ok(Self {
            id: f.take("id")?,
            parent: f.take("parent")?,
            role: f.take("role")?,
            content: f.take("content")?,
            created_at: f.take("created_at")?,
            provider: f.take("provider")?,
            model: f.take("model")?,
            usage: f.take("usage")?,
            omitted: f.take_or_default("omitted")?,
        })
    }
}

/// Checks an export whole: its format, the chat's title, model and settings, every
/// message (id, parent earlier in the file, role, text), the tree and the head.
pub(super) fn read_import(
    mut body: Map,
    catalog: &crate::catalog::Catalog,
) -> Result<Import, ApiError> {
    match body.get("format") {
        Some(Json::String(format)) if format == FORMAT => {}
        Some(Json::String(format)) => {
            return Err(invalid(format!(
                "this file is a {} export; this server reads {}",
                crate::json::quoted(format),
                crate::json::quoted(FORMAT)
            )))
        }
        _ => {
            return Err(invalid(format!(
                "this is not a chat export: it has no \"format\": {} (export a chat as JSON to get one)",
                crate::json::quoted(FORMAT)
            )))
        }
    }
    if let Some(key) = body.keys().find(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(invalid(format!(
            "unknown field {}; an export has {}",
            crate::json::quoted(key),
            TOP_KEYS.join(", ")
        )));
    }
    let chat: ChatPart = match body.remove("chat") {
        Some(value) => ChatPart::from_json(value).map_err(|e| invalid(format!("\"chat\": {e}")))?,
        None => return Err(invalid("\"chat\" is missing")),
    };
    let title =
        clean_title(&chat.title).map_err(|e| invalid(format!("the title: {}", e.message)))?;
    catalog.check(&chat.provider, &chat.model).map_err(|e| {
        invalid(format!(
            "the chat's model {}/{}: {e}; add it to this server's models or change \"provider\" and \"model\" in the file",
            chat.provider, chat.model
        ))
    })?;
    check_settings(catalog, &chat.provider, &chat.model, &chat.settings)
        .map_err(|e| invalid(format!("the chat's settings: {}", e.message)))?;

    let list = match body.remove("messages") {
        Some(Json::Array(list)) => list,
        _ => return Err(invalid("\"messages\" (a list) is missing")),
    };
    if list.len() > MAX_MESSAGES {
        return Err(too_large(format!(
            "the file holds {} messages; one import takes at most {MAX_MESSAGES}",
            list.len()
        )));
    }
    // Every message so far, and its parent.
    let mut parents: Table<MessageId, Option<MessageId>> = Table::new();
    let mut messages = Vec::with_capacity(list.len());
    for (i, value) in list.into_iter().enumerate() {
        let part =
            MessagePart::from_json(value).map_err(|e| invalid(format!("messages[{i}]: {e}")))?;
        let incoming = read_message(i, part, &parents)?;
        parents.insert(incoming.id.clone(), incoming.parent.clone());
        messages.push(incoming);
    }

    let tree: Tree = match body.remove("tree") {
        None | Some(Json::Null) => Tree::default(),
        Some(value) => Tree::from_json(value).map_err(|e| invalid(format!("\"tree\": {e}")))?,
    };
    check_tree(&tree, &parents)?;
    let head = match body.remove("head") {
        None | Some(Json::Null) => None,
        Some(Json::String(text)) => Some(MessageId::parse(&text).ok_or_else(|| {
            invalid(format!(
                "\"head\": {} is not a message id",
                crate::json::quoted(&text)
            ))
        })?),
        Some(_) => return Err(invalid("\"head\" must be a message id")),
    };
    match &head {
        None if !messages.is_empty() => {
            return Err(invalid(
                "\"head\" is missing: it names the message the chat shows last",
            ))
        }
        Some(id) if !parents.contains(id) => {
            return Err(invalid(format!(
                "\"head\" {id} is not a message of the file"
            )))
        }
        _ => {}
    }
    Ok(Import {
        chat: NewChat {
            title: Some(title),
            provider: chat.provider,
            model: chat.model,
            settings: chat.settings,
            fork: None,
        },
        titled: chat.titled,
        spent: chat.usage,
        messages,
        tree,
        head,
    })
}

/// One message, checked as a posted one is, against the messages before it.
fn read_message(
    i: usize,
    part: MessagePart,
    earlier: &Table<MessageId, Option<MessageId>>,
) -> Result<Incoming, ApiError> {
    let at = format!("messages[{i}] ({})", part.id);
    if earlier.contains(&part.id) {
        return Err(invalid(format!("{at}: this id is in the file twice")));
    }
    if let Some(parent) = &part.parent {
        if !earlier.contains(parent) {
            return Err(invalid(format!(
                "{at}: its parent {parent} is not an earlier message of the file (parents come before their children)"
            )));
        }
    }
    if part.content.trim().is_empty() {
        return Err(invalid(format!("{at}: the message is empty")));
    }
    if part.content.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::new(
            413,
            "message_too_long",
            format!("{at}: the message is longer than {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let origin = match (part.role, part.provider, part.model) {
        (Role::User, None, None) if part.usage.is_none() && part.omitted == 0 => None,
        (Role::User, ..) => {
            return Err(invalid(format!(
                "{at}: a message of the user has no provider, model, usage or omitted"
            )))
        }
        (Role::Assistant, Some(provider), Some(model)) => {
            for name in [&provider, &model] {
                if name.trim().is_empty()
                    || name.chars().count() > MAX_NAME_CHARS
                    || name.chars().any(char::is_control)
                {
                    return Err(invalid(format!(
                        "{at}: provider and model are names of 1 to {MAX_NAME_CHARS} characters on one line"
                    )));
                }
            }
            Some(Origin {
                provider,
                model,
                usage: part.usage,
                omitted: part.omitted,
            })
        }
        (Role::Assistant, None, None) if part.usage.is_none() && part.omitted == 0 => None,
        (Role::Assistant, ..) => {
            return Err(invalid(format!(
                "{at}: a reply names both its provider and its model, or neither (and then no usage or omitted)"
            )))
        }
    };
    Ok(Incoming {
        id: part.id,
        parent: part.parent,
        role: part.role,
        content: part.content,
        created_at: part.created_at,
        origin,
    })
}

/// The tree names only messages of the file, each fork once, each version under its
/// fork's message, and its indices (shown version, routes) are in range.
fn check_tree(tree: &Tree, parents: &Table<MessageId, Option<MessageId>>) -> Result<(), ApiError> {
    if tree.points.len() > MAX_POINTS {
        return Err(invalid(format!(
            "\"tree\" has {} forks; a chat has at most {MAX_POINTS}",
            tree.points.len()
        )));
    }
    let mut forks: Set<&Option<MessageId>> = Set::new();
    let mut versions: Set<&MessageId> = Set::new();
    for (p, point) in tree.points.iter().enumerate() {
        let at = format!("tree[{p}]");
        if let Some(id) = &point.at {
            if !parents.contains(id) {
                return Err(invalid(format!(
                    "{at}: \"at\" {id} is not a message of the file"
                )));
            }
        }
        if !forks.add(&point.at) {
            return Err(invalid(format!(
                "{at}: a second fork after the same message"
            )));
        }
        if point.children.is_empty() || point.children.len() > MAX_CHILDREN {
            return Err(invalid(format!(
                "{at}: a fork has 1 to {MAX_CHILDREN} versions"
            )));
        }
        if point.selected as usize >= point.children.len() {
            return Err(invalid(format!(
                "{at}: \"selected\" {} is not one of its {} versions",
                point.selected,
                point.children.len()
            )));
        }
        for (c, branch) in point.children.iter().enumerate() {
            let here = format!("{at}.children[{c}]");
            match parents.get(&branch.id) {
                None => {
                    return Err(invalid(format!(
                        "{here}: {} is not a message of the file",
                        branch.id
                    )))
                }
                Some(parent) if parent != &point.at => {
                    return Err(invalid(format!(
                        "{here}: {} does not follow the fork's message",
                        branch.id
                    )))
                }
                Some(_) => {}
            }
            if !versions.add(&branch.id) {
                return Err(invalid(format!("{here}: {} is a version twice", branch.id)));
            }
            if !parents.contains(&branch.tip) {
                return Err(invalid(format!(
                    "{here}: its tip {} is not a message of the file",
                    branch.tip
                )));
            }
        }
        for (q, c) in &point.route {
            let target = tree.points.get(*q as usize).filter(|_| *q as usize != p);
            if target.is_none_or(|t| (*c as usize) >= t.children.len()) {
                return Err(invalid(format!(
                    "{at}: its route names [{q}, {c}], which is not another fork's version"
                )));
            }
        }
    }
    Ok(())
}
