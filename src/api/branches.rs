//! Branches: `POST /api/edit` stores a new version of a question as a sibling (the old
//! one and everything after it stay), `POST /api/branch` shows another version of a
//! message, `POST /api/fork` continues from a message in a new chat that shares the
//! history. Regenerating a reply is `POST /api/reply` with `regenerate`.

use super::generations::refuse_while_running;
use super::{chat_id, chat_view, message_view, optional_string, ApiError, Outcome};
use crate::chats::{MessageId, NewChat, Role};
use crate::http::{self, Request};
use crate::json::{object, Map};
use crate::port::Host;
use crate::state::ActorState;

fn message_id(body: &Map) -> Result<MessageId, ApiError> {
    let text = optional_string(body, "message")?
        .ok_or_else(|| ApiError::bad_request("\"message\" (a message id) is required"))?;
    MessageId::parse(&text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{} is not a message id",
            crate::json::quoted(&text)
        ))
    })
}

/// `POST /api/edit?chat=c1 {"message": ID, "content": "..."}`: 201 with the new
/// version, now shown; ask for a reply to it with `POST /api/reply`.
pub fn edit<H: Host>(host: &H, state: &ActorState, request: &Request) -> Result<Outcome, ApiError> {
    let store = state.chats(host);
    let chat = store.get(&chat_id(request, "chat")?)?;
    refuse_while_running(state, &chat.id)?;
    let body = request.json_object()?;
    let target = message_id(&body)?;
    let content = super::message_content(&body)?;
    let original = store.message(&target)?;
    if !chat.owns(&original) || original.role != Role::User {
        return Err(ApiError::bad_request(format!(
            "message {target} is not one of your messages in chat {}",
            chat.id
        )));
    }
    let depth = store.depth_on_branch(&chat, &target)?;
    let (id, message, chat) = store.add_sibling(
        chat,
        (&target, original.parent.as_ref(), depth),
        Role::User,
        content,
        None,
    )?;
    Ok(Outcome::changed(
        http::json(
            201,
            &object! { "message": message_view(&id, &message), "chat": chat_view(&chat) },
        ),
        chat.id,
    ))
}

/// `POST /api/branch?chat=c1 {"message": ID}`: shows the branch that starts at ID (a
/// message with other versions), where it was last left.
pub fn switch<H: Host>(
    host: &H,
    state: &ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    let store = state.chats(host);
    let chat = store.get(&chat_id(request, "chat")?)?;
    refuse_while_running(state, &chat.id)?;
    let body = request.json_object()?;
    let target = message_id(&body)?;
    let chat = store.switch_branch(chat, &target)?;
    Ok(Outcome::changed(
        http::json(200, &object! { "chat": chat_view(&chat) }),
        chat.id,
    ))
}

/// `POST /api/fork?chat=c1 {"message": ID}`: 201 with a new chat whose history is the
/// branch shown up to ID. Nothing is copied: the new chat points at the same messages.
pub fn fork<H: Host>(host: &H, state: &ActorState, request: &Request) -> Result<Outcome, ApiError> {
    let store = state.chats(host);
    let chat = store.get(&chat_id(request, "chat")?)?;
    let body = request.json_object()?;
    let target = message_id(&body)?;
    let message = store.message(&target)?;
    if !chat.owns(&message) {
        return Err(ApiError::bad_request(format!(
            "message {target} is not in chat {}",
            chat.id
        )));
    }
    let depth = store.depth_on_branch(&chat, &target)?;
    let mut lineage = vec![chat.id.clone()];
    lineage.extend(chat.lineage.iter().cloned());
    if lineage.len() > MAX_LINEAGE {
        return Err(ApiError::new(
            409,
            "too_many_forks",
            format!("a fork of a fork may go {MAX_LINEAGE} deep; continue in this chat instead"),
        ));
    }
    let title = super::title_excerpt(&format!("{} (fork)", chat.title));
    let forked = store.create(NewChat {
        title: Some(title),
        provider: chat.provider.clone(),
        model: chat.model.clone(),
        settings: chat.settings.clone(),
        fork: Some((target, depth, lineage)),
    })?;
    Ok(Outcome::changed(
        http::json(201, &chat_view(&forked)),
        forked.id,
    ))
}

/// Forks of forks a chat may descend from (its record names them all).
pub const MAX_LINEAGE: usize = 16;
