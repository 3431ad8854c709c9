//! Replies: `POST /api/reply` starts a generation and answers 202 at once,
//! `POST /api/stop` ends one, `GET /api/generation` says where one stands; and what
//! happens when a worker reports, fails or runs past its deadline.
//!
//! Pages hear about every step on the WebSocket:
//! `{"type":"generation","generation":{...}}`, plus `{"type":"changed","chat":...}` when
//! a reply was stored.

use super::models::{catalog, check_settings, pick_model};
use super::views::{finished_view, running_view};
use super::{chat_id, message_view, ApiError, Outcome, MAX_CONTEXT_MESSAGES};
use crate::catalog::Catalog;
use crate::chats::{ChatId, ChatStore, Origin, Role, Usage};
use crate::context;
use crate::generation::{
    worker_manifest, Finished, Job, Outcome as Ended, Report, Running, Status,
};
use crate::http::{self, Request};
use crate::port::Host;
use crate::providers::{self, Prepared, Provider, ProviderError, Turn};
use crate::state::ActorState;
use serde_json::{json, Value};

/// Seconds a client is asked to wait when every worker slot is busy.
const BUSY_RETRY_S: u64 = 5;

fn event(view: Value) -> Value {
    json!({ "type": "generation", "generation": view })
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

/// Starts a reply to the chat's last message.
pub fn start<H: Host>(
    host: &H,
    state: &mut ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    let store = ChatStore::new(host, &state.config.store_id);
    let chat = store.get(&chat_id(request, "chat")?)?;
    let body = request.json_object()?;
    let catalog = catalog(host, state)?;
    let (provider_id, model) =
        pick_model(&catalog, &body, (chat.provider.clone(), chat.model.clone()))?;
    let settings = chat.settings.clone();
    check_settings(&catalog, &provider_id, &model, &settings)?;
    refuse_while_running(state, &chat.id)?;
    let context = store.page(&chat, None, MAX_CONTEXT_MESSAGES)?;
    let answers = match context.messages.last() {
        Some((id, last)) if last.role == Role::User => id.clone(),
        Some(_) => {
            return Err(ApiError::new(
                409,
                "nothing_to_answer",
                "the last message is already a reply; send a message first",
            ))
        }
        None => {
            return Err(ApiError::new(
                409,
                "nothing_to_answer",
                "the chat has no messages yet",
            ))
        }
    };
    let turns: Vec<Turn> = context
        .messages
        .into_iter()
        .map(|(_, m)| Turn {
            role: m.role,
            content: m.content,
        })
        .collect();
    let budget = catalog
        .model(&provider_id, &model)
        .and_then(|entry| context::budget(entry, &settings));
    let turns = context::fit(turns, budget)
        .map_err(|too_long| {
            ApiError::new(
                413,
                "context_too_long",
                format!(
                    "your last message is about {} tokens, but {model} has room for about {} next to this chat's system prompt and reply length; shorten the message, lower max_tokens, or choose a model with a longer context",
                    too_long.needed, too_long.available
                ),
            )
        })?
        .turns;
    // Everything on the branch before the kept turns was left out, by the window or
    // by MAX_CONTEXT_MESSAGES.
    let omitted = chat.message_count.saturating_sub(turns.len() as u64);
    let id = state.generations.new_id(&state.boot());
    let now = host.now_ms();

    if providers::answers_offline(&provider_id) {
        // The demo model directly, not through `resolve`, which would link every HTTP
        // provider into the chat actor.
        let Prepared::Answered(completion) = providers::Demo.prepare(&model, &settings, &turns)?
        else {
            return Err(ApiError::new(
                500,
                "internal",
                "an offline model asked for HTTP",
            ));
        };
        let usage = priced(&catalog, &provider_id, &model, completion.usage);
        let (message_id, message, chat) = store.append(
            chat,
            Role::Assistant,
            completion.content,
            Some(Origin {
                provider: provider_id,
                model,
                usage,
                omitted,
            }),
        )?;
        // Answered before the response: the response says so, and nothing is kept in
        // the state for it.
        let view = finished_view(&Finished {
            id,
            chat: chat.id.clone(),
            outcome: Ended::Done {
                message: message_id.clone(),
            },
            finished_at: now,
        });
        let mut body = json!({ "generation": view.clone() });
        if let Some(body) = body.as_object_mut() {
            body.insert("message".into(), message_view(&message_id, &message));
            body.insert("chat".into(), super::chat_view(&chat));
        }
        return Ok(Outcome {
            response: http::json(202, &body),
            changed: Some(chat.id),
            events: vec![event(view)],
        });
    }

    providers::availability(host, &provider_id)
        .map_err(|hint| ApiError::new(503, "provider_not_configured", hint))?;
    if state.generations.is_full() {
        return Err(ApiError {
            retry_after: Some(BUSY_RETRY_S),
            ..ApiError::new(
                429,
                "too_many_generations",
                format!(
                    "{} replies are being written already; try again in a few seconds",
                    crate::generation::MAX_RUNNING
                ),
            )
        });
    }
    let worker = state.config.worker.as_deref().ok_or_else(|| {
        ApiError::new(
            503,
            "worker_missing",
            "no worker component is configured (\"worker\" in the init state), so only the demo model can answer",
        )
    })?;
    let job = Job {
        parent: state.actor_id.clone(),
        id: id.clone(),
        provider: provider_id.clone(),
        model: model.clone(),
        turns,
        settings,
    };
    let job =
        serde_json::to_vec(&job).map_err(|e| ApiError::new(500, "internal", e.to_string()))?;
    let child = host
        .spawn(&worker_manifest(worker, providers::ENV_VARS), &job)
        .map_err(|error| {
            host.log(&format!(
                "chat: generation {id}: could not start a worker: {error}"
            ));
            ApiError::new(
                503,
                "worker_failed",
                format!("could not start a worker: {}", error.message),
            )
        })?;
    let spawned = host.now_ms();
    host.log(&format!(
        "chat: generation {id} chat={} provider={provider_id} model={model}: worker started in {} ms",
        chat.id,
        spawned.saturating_sub(now)
    ));
    let running = Running {
        id: id.clone(),
        chat: chat.id.clone(),
        child,
        answers,
        provider: provider_id.clone(),
        model,
        started_at: now,
        deadline: now.saturating_add(state.config.timeout_ms(&provider_id)),
        omitted,
    };
    let view = running_view(&running);
    state.generations.start(running);
    Ok(Outcome {
        response: http::json(202, &json!({ "generation": view.clone() })),
        changed: None,
        events: vec![event(view)],
    })
}

fn current_view(state: &ActorState, id: &str) -> Value {
    match state.generations.status(id) {
        Some(Status::Running(running)) => running_view(running),
        Some(Status::Finished(finished)) => finished_view(finished),
        None => Value::Null,
    }
}

/// `POST /api/stop?generation=ID` (or `?chat=c1`): ends the generation for the user now.
/// The worker is detached; whatever it sends later is dropped.
pub fn stop<H: Host>(
    host: &H,
    state: &mut ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    let id = match (request.query("generation"), request.query("chat")) {
        (Some(id), _) => id.to_string(),
        (None, Some(_)) => {
            let chat = chat_id(request, "chat")?;
            match state.generations.running_in(&chat) {
                Some(running) => running.id.clone(),
                None => {
                    return Err(ApiError::new(
                        409,
                        "not_running",
                        format!("no reply is being written in chat {chat}"),
                    ))
                }
            }
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "name the generation (?generation=ID) or the chat (?chat=ID)",
            ))
        }
    };
    let Some(running) = state.generations.take(&id) else {
        // Already over: say how it ended (stopping twice is not an error).
        return match state.generations.status(&id) {
            Some(Status::Finished(finished)) => Ok(Outcome::unchanged(http::json(
                200,
                &json!({ "generation": finished_view(finished) }),
            ))),
            _ => Err(ApiError::not_found(format!(
                "generation {id:?} is not known"
            ))),
        };
    };
    let now = host.now_ms();
    let events = end(
        host,
        state,
        running,
        Ended::Stopped,
        now,
        "stopped by the user",
    );
    let view = current_view(state, &id);
    Ok(Outcome {
        response: http::json(200, &json!({ "generation": view })),
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
                "generation {id:?} is not known"
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
                .unwrap_or(Value::Null),
        }
    };
    Ok(http::json(200, &json!({ "generation": view })))
}

/// Detaches the worker, records the outcome, logs one line; returns the page events.
fn end<H: Host>(
    host: &H,
    state: &mut ActorState,
    running: Running,
    outcome: Ended,
    now: u64,
    how: &str,
) -> Vec<Value> {
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
        events.push(json!({ "type": "changed", "chat": running.chat }));
    }
    state.generations.finish(&running, outcome, now);
    events.push(event(current_view(state, &running.id)));
    events
}

/// Gives up the generations past their deadline. Called before every other event, so a
/// deadline is noticed at the next request, socket frame or message (the page polls
/// while a reply runs); costs no host call when nothing runs.
pub fn expire<H: Host>(host: &H, state: &mut ActorState) -> Vec<Value> {
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
pub fn report<H: Host>(host: &H, state: &mut ActorState, bytes: &[u8]) -> Vec<Value> {
    let report: Report = match serde_json::from_slice(bytes) {
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
    let store = ChatStore::new(host, &state.config.store_id);
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
        Ok(catalog) => priced(
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
    match store.append(
        chat,
        Role::Assistant,
        completion.content,
        Some(Origin {
            provider: running.provider.clone(),
            model: running.model.clone(),
            usage,
            omitted: running.omitted,
        }),
    ) {
        Ok((message, _, _)) => Ended::Done { message },
        Err(error) => Ended::Failed {
            code: "storage_failed".into(),
            message: format!("the reply arrived but could not be saved: {error}"),
            retry_after: None,
        },
    }
}

/// The usage with its cost at the catalog's prices (none when either is unknown).
fn priced(catalog: &Catalog, provider: &str, model: &str, usage: Option<Usage>) -> Option<Usage> {
    let usage = usage?;
    let cost = catalog
        .model(provider, model)
        .and_then(|entry| entry.cost(usage.input_tokens, usage.output_tokens));
    Some(Usage { cost, ..usage })
}

/// The runtime reports that a worker trapped or failed (`handle-child-error`).
pub fn child_failed<H: Host>(
    host: &H,
    state: &mut ActorState,
    child: &str,
    kind: &str,
) -> Vec<Value> {
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
pub fn child_exited<H: Host>(host: &H, state: &mut ActorState, child: &str) -> Vec<Value> {
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
