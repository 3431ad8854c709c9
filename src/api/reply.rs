//! Starting replies: `POST /api/reply` asks one model, or up to three at once
//! (`models`), to answer the chat's last message, or to write a new version of a reply
//! (`regenerate`); and where an answer lands in the conversation tree.
//!
//! Every answer to the same question after the first becomes a sibling of the ones
//! before it, so several models' answers and regenerated ones are branches the user
//! switches between.

use super::generations::{event, refuse_while_running};
use super::models::{catalog, check_settings, pick_model};
use super::views::{finished_view, running_view};
use super::{chat_id, message_view, ApiError, Outcome, MAX_CONTEXT_MESSAGES};
use crate::catalog::Catalog;
use crate::chats::{Chat, ChatStore, Message, MessageId, Origin, Role, StoreError, Usage};
use crate::context;
use crate::generation::{worker_manifest, Finished, Job, Outcome as Ended, Running};
use crate::http::{self, Request};
use crate::json::{object, Json, Map, ToJson};
use crate::port::Host;
use crate::providers::{self, Prepared, Provider, Turn};
use crate::state::ActorState;

/// Seconds a client is asked to wait when every worker slot is busy.
const BUSY_RETRY_S: u64 = 5;
/// Models one question can be put to at once.
pub const MAX_MODELS: usize = 3;

/// The provider/model pairs a request names (`models`, else `provider`/`model`, else
/// the chat's), checked against the catalog and the chat's settings.
fn targets(catalog: &Catalog, body: &Map, chat: &Chat) -> Result<Vec<(String, String)>, ApiError> {
    let current = (chat.provider.clone(), chat.model.clone());
    let picked = match body.get("models") {
        None | Some(Json::Null) => vec![pick_model(catalog, body, current)?],
        Some(Json::Array(list)) if (1..=MAX_MODELS).contains(&list.len()) => {
            let mut picked: Vec<(String, String)> = Vec::new();
            for entry in list {
                let Some(entry) = Map::of(entry.clone()) else {
                    return Err(ApiError::bad_request(
                        "each of \"models\" is {\"provider\": ..., \"model\": ...}",
                    ));
                };
                let pair = pick_model(catalog, &entry, current.clone())?;
                if picked.contains(&pair) {
                    return Err(ApiError::bad_request(format!(
                        "{}/{} is named twice in \"models\"",
                        pair.0, pair.1
                    )));
                }
                picked.push(pair);
            }
            picked
        }
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "\"models\" is a list of 1 to {MAX_MODELS} {{\"provider\", \"model\"}} objects"
            )))
        }
    };
    for (provider, model) in &picked {
        check_settings(catalog, provider, model, &chat.settings)?;
    }
    Ok(picked)
}

/// The reply `regenerate` names: an assistant message on the branch shown, and how
/// deep it is.
fn regenerated<H: Host>(
    store: &ChatStore<'_, H>,
    chat: &Chat,
    body: &Map,
) -> Result<Option<(MessageId, u64)>, ApiError> {
    let Some(text) = super::optional_string(body, "regenerate")? else {
        return Ok(None);
    };
    let id = MessageId::parse(&text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "{} is not a message id",
            crate::json::quoted(&text)
        ))
    })?;
    let message = store.message(&id)?;
    if !chat.owns(&message) || message.role != Role::Assistant {
        return Err(ApiError::bad_request(format!(
            "message {id} is not a reply in chat {}",
            chat.id
        )));
    }
    let depth = store.depth_on_branch(chat, &id)?;
    Ok(Some((id, depth)))
}

/// Starts the replies a request asks for. The demo model answers before the response;
/// every other model gets a worker.
pub fn start<H: Host>(
    host: &H,
    state: &mut ActorState,
    request: &Request,
) -> Result<Outcome, ApiError> {
    // Borrows only the fields it needs: the generations change below.
    let store = ChatStore::with_hints(host, &state.config.store_id, &state.hints);
    let chat = store.get(&chat_id(request, "chat")?)?;
    let body = request.json_object()?;
    let catalog = catalog(host, state)?;
    let targets = targets(&catalog, &body, &chat)?;
    refuse_while_running(state, &chat.id)?;
    let sibling = regenerated(&store, &chat, &body)?;
    let context = store.page(
        &chat,
        sibling.as_ref().map(|(id, _)| id),
        MAX_CONTEXT_MESSAGES,
    )?;
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
    let branch_len = match &sibling {
        Some((_, depth)) => depth.saturating_sub(1),
        None => chat.message_count,
    };
    let turns: Vec<Turn> = context
        .messages
        .into_iter()
        .map(|(_, m)| Turn {
            role: m.role,
            content: m.content,
        })
        .collect();
    // Everything is checked before anything starts: a refused model starts none.
    let mut plans = Vec::new();
    for (provider, model) in targets {
        let budget = catalog
            .model(&provider, &model)
            .and_then(|entry| context::budget(entry, &chat.settings));
        let fitted = context::fit(turns.clone(), budget).map_err(|too_long| {
            ApiError::new(
                413,
                "context_too_long",
                format!(
                    "your last message is about {} tokens, but {model} has room for about {} next to this chat's system prompt and reply length; shorten the message, lower max_tokens, or choose a model with a longer context",
                    too_long.needed, too_long.available
                ),
            )
        })?;
        // Everything on the branch before the kept turns was left out, by the window
        // or by MAX_CONTEXT_MESSAGES.
        let omitted = branch_len.saturating_sub(fitted.turns.len() as u64);
        plans.push(Plan {
            provider,
            model,
            turns: fitted.turns,
            omitted,
        });
    }
    let remote = plans
        .iter()
        .filter(|plan| !providers::answers_offline(&plan.provider))
        .count();
    if remote > 0 {
        for Plan { provider, .. } in &plans {
            if !providers::answers_offline(provider) {
                providers::availability(host, provider)
                    .map_err(|hint| ApiError::new(503, "provider_not_configured", hint))?;
            }
        }
        if state.generations.running.len().saturating_add(remote) > crate::generation::MAX_RUNNING {
            return Err(ApiError {
                retry_after: Some(BUSY_RETRY_S),
                ..ApiError::new(
                    429,
                    "too_many_generations",
                    format!(
                        "at most {} replies are written at once; try again in a few seconds",
                        crate::generation::MAX_RUNNING
                    ),
                )
            });
        }
        if state.config.worker.is_none() {
            return Err(ApiError::new(
                503,
                "worker_missing",
                "no worker component is configured (\"worker\" in the init state), so only the demo model can answer",
            ));
        }
    }

    let mut views = Vec::new();
    let mut events = Vec::new();
    let mut landed: Option<(MessageId, Message)> = None;
    let mut chat = chat;
    for plan in plans {
        let id = state.generations.new_id(&state.boot());
        if !providers::answers_offline(&plan.provider) {
            let running = spawn(host, state, &chat, &id, plan, (&answers, sibling.as_ref()))?;
            let view = running_view(&running);
            state.generations.start(running);
            events.push(event(view.clone()));
            views.push(view);
            continue;
        }
        // The demo model directly, not through `resolve`, which would link every HTTP
        // provider into the chat actor.
        let Prepared::Answered(completion) =
            providers::Demo.prepare(&plan.model, &chat.settings, &plan.turns)?
        else {
            return Err(ApiError::new(
                500,
                "internal",
                "an offline model asked for HTTP",
            ));
        };
        let origin = Origin {
            usage: priced(&catalog, &plan.provider, &plan.model, completion.usage),
            provider: plan.provider,
            model: plan.model,
            omitted: plan.omitted,
        };
        let (message_id, message, updated) = land(
            &store,
            chat,
            (&answers, sibling.as_ref()),
            completion.content,
            origin,
        )?;
        chat = updated;
        let view = finished_view(&Finished {
            id,
            chat: chat.id.clone(),
            outcome: Ended::Done {
                message: message_id.clone(),
            },
            finished_at: host.now_ms(),
        });
        events.push(event(view.clone()));
        views.push(view);
        landed = Some((message_id, message));
    }
    let mut body = object! { "generation": views.first().cloned().unwrap_or(Json::Null), "generations": views };
    let changed = match landed {
        Some((message_id, message)) => {
            body.insert("message", message_view(&message_id, &message));
            body.insert("chat", super::chat_view(&chat));
            Some(chat.id)
        }
        None => None,
    };
    Ok(Outcome {
        response: http::json(202, &body),
        changed,
        events,
    })
}

/// One model's share of a request: what it is sent, and what was left out.
struct Plan {
    provider: String,
    model: String,
    turns: Vec<Turn>,
    omitted: u64,
}

/// Spawns the worker for one generation; its `Running` entry.
fn spawn<H: Host>(
    host: &H,
    state: &ActorState,
    chat: &Chat,
    id: &str,
    plan: Plan,
    (answers, sibling): (&MessageId, Option<&(MessageId, u64)>),
) -> Result<Running, ApiError> {
    let Plan {
        provider,
        model,
        turns,
        omitted,
    } = plan;
    let worker =
        state.config.worker.as_deref().ok_or_else(|| {
            ApiError::new(503, "worker_missing", "no worker component is configured")
        })?;
    let now = host.now_ms();
    let job = Job {
        parent: state.actor_id.clone(),
        id: id.to_string(),
        provider: provider.clone(),
        model: model.clone(),
        turns,
        settings: chat.settings.clone(),
    };
    let job = job.to_json().to_bytes();
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
    host.log(&format!(
        "chat: generation {id} chat={} provider={provider} model={model}: worker started in {} ms",
        chat.id,
        host.now_ms().saturating_sub(now)
    ));
    Ok(Running {
        id: id.to_string(),
        chat: chat.id.clone(),
        child,
        answers: answers.clone(),
        deadline: now.saturating_add(state.config.timeout_ms(&provider)),
        provider,
        model,
        started_at: now,
        omitted,
        sibling: sibling.cloned(),
    })
}

/// Stores an answer to `answers`: after it when it has none yet, else as a sibling of
/// the answer shown (an earlier model's, or the reply being regenerated).
pub fn land<H: Host>(
    store: &ChatStore<'_, H>,
    chat: Chat,
    (answers, regenerating): (&MessageId, Option<&(MessageId, u64)>),
    content: String,
    origin: Origin,
) -> Result<(MessageId, Message, Chat), StoreError> {
    let Some(head) = chat.head.clone() else {
        return store.append(chat, Role::Assistant, content, Some(origin));
    };
    if &head == answers {
        return store.append(chat, Role::Assistant, content, Some(origin));
    }
    let shown = store.message(&head)?;
    let of = if shown.parent.as_ref() == Some(answers) {
        (head, chat.message_count)
    } else if let Some((id, depth)) = regenerating {
        (id.clone(), *depth)
    } else {
        // The branch moved on (it cannot while a reply runs): keep the answer anyway.
        return store.append(chat, Role::Assistant, content, Some(origin));
    };
    // Every version answers the same question: `answers` is their parent.
    store.add_sibling(
        chat,
        (&of.0, Some(answers), of.1),
        Role::Assistant,
        content,
        Some(origin),
    )
}

/// The usage with its cost at the catalog's prices (none when either is unknown).
pub fn priced(
    catalog: &Catalog,
    provider: &str,
    model: &str,
    usage: Option<Usage>,
) -> Option<Usage> {
    let usage = usage?;
    let cost = catalog
        .model(provider, model)
        .and_then(|entry| entry.cost(usage.input_tokens, usage.output_tokens));
    Some(Usage { cost, ..usage })
}
