//! Replies being written: `POST /api/stop` ends them, `GET /api/generation` says where
//! one stands; and what happens when a worker reports, fails or runs past its deadline.
//! (`POST /api/reply`, which starts them, is [`super::reply`].)
//!
//! Pages hear about every step on the WebSocket:
//! `{"type":"generation","generation":{...}}`, plus `{"type":"changed","chat":...}` when
//! a reply was stored.

use super::models::catalog;
use super::views::{finished_view, running_view};
use super::{chat_id, ApiError, Outcome};
use crate::chats::{ChatId, Origin, Usage};
use crate::generation::{Outcome as Ended, Report, Running, Status};
use crate::http::{self, Request};
use crate::json::{object, FromJson, Json};
use crate::port::Host;
use crate::providers::{self, ProviderError};
use crate::state::ActorState;

pub(crate) fn event(view: Json) -> Json {
    object! { "type": "generation", "generation": view }
}

/// 409 while the chat has a reply being written: its branch must not move under it.
pub fn refuse_while_running(state: &ActorState, chat: &ChatId) -> Result<(), ApiError> {
    match state.generations.running_in(chat) {
        None => Ok(()),
        Some(running) => Err(ApiError::new(
            409,
            "generation_running",
            format!(
                "a reply is being written in this chat ({}); stop it or wait for it",
                running.id
            ),
        )),
    }
}

fn current_view(state: &ActorState, id: &str) -> Json {
    match state.generations.status(id) {
        Some(Status::Running(running)) => running_view(running),
        Some(Status::Finished(finished)) => finished_view(finished),
        None => Json::Null,
    }
}

/// `POST /api/stop?generation=ID` (or `?chat=c1`: every reply being written in it):
/// ends it for the user now. The worker is detached; whatever it sends later is dropped.
pub fn stop<H: Host>(
    host: &H,
    state: &mut ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    let ids: Vec<String> = match (request.query("generation"), request.query("chat")) {
        (Some(id), _) => vec![id.to_string()],
        (None, Some(_)) => {
            let chat = chat_id(request, "chat")?;
            let ids: Vec<String> = state
                .generations
                .running
                .iter()
                .filter(|r| r.chat == chat)
                .map(|r| r.id.clone())
                .collect();
            if ids.is_empty() {
                return Err(ApiError::new(
                    409,
                    "not_running",
                    format!("no reply is being written in chat {chat}"),
                ));
            }
            ids
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "name the generation (?generation=ID) or the chat (?chat=ID)",
            ))
        }
    };
    let mut events = Vec::new();
    let mut views = Vec::new();
    for id in ids {
        let Some(running) = state.generations.take(&id) else {
            // Already over: say how it ended (stopping twice is not an error).
            return match state.generations.status(&id) {
                Some(Status::Finished(finished)) => Ok(Outcome::unchanged(http::json(
                    200,
                    &object! { "generation": finished_view(finished) },
                ))),
                _ => Err(ApiError::not_found(format!(
                    "generation {} is not known",
                    crate::json::quoted(&id)
                ))),
            };
        };
        let now = host.now_ms();
        events.extend(end(
            host,
            state,
            running,
            Ended::Stopped,
            now,
            "stopped by the user",
        ));
        views.push(current_view(state, &id));
    }
    let first = views.first().cloned().unwrap_or(Json::Null);
    Ok(Outcome {
        response: http::json(200, &object! { "generation": first, "generations": views }),
        changed: None,
        events,
    })
}

/// `GET /api/generation?id=ID`, or `?chat=c1` for the chat's running or latest one.
pub fn status(
    state: &ActorState,
    request: &Request,
) -> Result<crate::port::HttpResponse, ApiError> {
    let view = if let Some(id) = request.query("id") {
        let view = current_view(state, id);
        if view.is_null() {
            return Err(ApiError::not_found(format!(
                "generation {} is not known",
                crate::json::quoted(id)
            )));
        }
        view
    } else {
        let chat = chat_id(request, "chat")?;
        match state.generations.running_in(&chat) {
            Some(running) => running_view(running),
            None => state
                .generations
                .finished
                .iter()
                .rev()
                .find(|f| f.chat == chat)
                .map(finished_view)
                .unwrap_or(Json::Null),
        }
    };
    Ok(http::json(200, &object! { "generation": view }))
}

/// Detaches the worker, records the outcome, logs one line; returns the page events.
fn end<H: Host>(
    host: &H,
    state: &mut ActorState,
    running: Running,
    outcome: Ended,
    now: u64,
    how: &str,
) -> Vec<Json> {
    if !running.child.is_empty() {
        if let Err(error) = host.stop_child(&running.child) {
            host.log(&format!(
                "chat: generation {}: stop-child: {error}",
                running.id
            ));
        }
    }
    host.log(&format!(
        "chat: generation {} chat={} provider={} model={} ms={}: {how}",
        running.id,
        running.chat,
        running.provider,
        running.model,
        now.saturating_sub(running.started_at)
    ));
    let mut events = Vec::new();
    if matches!(outcome, Ended::Done { .. }) {
        events.push(object! { "type": "changed", "chat": running.chat });
    }
    state.generations.finish(&running, outcome, now);
    events.push(event(current_view(state, &running.id)));
    events
}

/// Gives up the generations past their deadline. Called before every other event, so a
/// deadline is noticed at the next request, socket frame or message (the page polls
/// while a reply runs); costs no host call when nothing runs.
pub fn expire<H: Host>(host: &H, state: &mut ActorState) -> Vec<Json> {
    if state.generations.running.is_empty() {
        return Vec::new();
    }
    let now = host.now_ms();
    let mut events = Vec::new();
    for running in state.generations.take_expired(now) {
        let seconds = running.deadline.saturating_sub(running.started_at) / 1000;
        let message = format!(
            "no answer from the model within {seconds} s; try again, or raise timeouts.{} in the init state",
            running.provider
        );
        events.extend(end(
            host,
            state,
            running,
            Ended::TimedOut { message },
            now,
            "timed out",
        ));
    }
    events
}

/// A worker's report (`handle-send`). Unknown, stopped or timed-out generations are
/// dropped: a detached worker may still answer.
pub fn report<H: Host>(host: &H, state: &mut ActorState, bytes: &[u8]) -> Vec<Json> {
    let report = match Report::from_bytes(bytes) {
        Ok(report) => report,
        Err(error) => {
            host.log(&format!(
                "chat: unreadable message from a worker dropped: {error}"
            ));
            return Vec::new();
        }
    };
    let Some(running) = state.generations.take(&report.id) else {
        host.log(&format!(
            "chat: late answer for generation {} dropped",
            report.id
        ));
        return Vec::new();
    };
    let now = host.now_ms();
    let outcome = match report.result {
        Ok(completion) => store_reply(host, state, &running, completion),
        Err(error) => failed(&error),
    };
    let how = match &outcome {
        Ended::Done { .. } => "ok".to_string(),
        Ended::Failed { code, .. } => code.clone(),
        _ => String::new(),
    };
    end(host, state, running, outcome, now, &how)
}

fn failed(error: &ProviderError) -> Ended {
    let api = ApiError::from(error.clone());
    Ended::Failed {
        code: api.code.to_string(),
        message: api.message,
        retry_after: api.retry_after,
    }
}

fn store_reply<H: Host>(
    host: &H,
    state: &ActorState,
    running: &Running,
    completion: providers::Completion,
) -> Ended {
    let store = state.chats(host);
    let chat = match store.get(&running.chat) {
        Ok(chat) => chat,
        Err(error) => {
            return Ended::Failed {
                code: "chat_gone".into(),
                message: format!("the reply arrived but the chat is gone: {error}"),
                retry_after: None,
            }
        }
    };
    // Without the catalog (an unreadable overlay) the reply is kept, unpriced.
    let usage = match catalog(host, state) {
        Ok(catalog) => super::reply::priced(
            &catalog,
            &running.provider,
            &running.model,
            completion.usage,
        ),
        Err(_) => completion.usage.map(|usage| Usage {
            cost: None,
            ..usage
        }),
    };
    let origin = Origin {
        provider: running.provider.clone(),
        model: running.model.clone(),
        usage,
        omitted: running.omitted,
    };
    match super::reply::land(
        &store,
        chat,
        (&running.answers, running.sibling.as_ref()),
        completion.content,
        origin,
    ) {
        Ok((message, _, _)) => Ended::Done { message },
        Err(error) => Ended::Failed {
            code: "storage_failed".into(),
            message: format!("the reply arrived but could not be saved: {error}"),
            retry_after: None,
        },
    }
}

/// The runtime reports that a worker trapped or failed (`handle-child-error`).
pub fn child_failed<H: Host>(
    host: &H,
    state: &mut ActorState,
    child: &str,
    kind: &str,
) -> Vec<Json> {
    let Some(running) = state.generations.take_by_child(child) else {
        // Not ours any more; free it anyway (a failed child stays paused).
        let _ = host.stop_child(child);
        return Vec::new();
    };
    let now = host.now_ms();
    let outcome = Ended::Failed {
        code: "worker_failed".into(),
        message: format!(
            "the worker writing this reply failed ({kind}); your message is kept, try again"
        ),
        retry_after: None,
    };
    end(
        host,
        state,
        running,
        outcome,
        now,
        &format!("worker failed: {kind}"),
    )
}

/// A worker shut down on its own (`handle-child-exit`) without reporting.
pub fn child_exited<H: Host>(host: &H, state: &mut ActorState, child: &str) -> Vec<Json> {
    let Some(running) = state.generations.take_by_child(child) else {
        return Vec::new();
    };
    let now = host.now_ms();
    let outcome = Ended::Failed {
        code: "worker_failed".into(),
        message: "the worker writing this reply stopped without an answer; try again".into(),
        retry_after: None,
    };
    end(host, state, running, outcome, now, "worker exited")
}
