//! JSON views of chats, messages, usage and generations, as the API and the socket
//! send them: no nulls, costs in US dollars.

use super::models::settings_view;
use crate::catalog::NanoUsd;
use crate::chats::list::Summary;
use crate::chats::{Chat, Message, MessageId, Spent, Usage};
use crate::generation::{Finished, Running};
use crate::json::{object, Json, ToJson};

/// Adds `value` under `key` unless it is absent: views carry no nulls.
pub(crate) fn put<T: ToJson>(view: &mut Json, key: &str, value: Option<T>) {
    if let Some(value) = value {
        view.insert(key, value.to_json());
    }
}

pub fn chat_view(chat: &Chat) -> Json {
    let mut view = object! {
        "id": chat.id,
        "title": chat.title,
        "created_at": chat.created_at,
        "updated_at": chat.updated_at,
        "message_count": chat.message_count,
        "provider": chat.provider,
        "model": chat.model,
        "settings": settings_view(&chat.settings),
        "usage": spent_view(&chat.spent),
    };
    put(&mut view, "head", chat.head.as_ref());
    put(&mut view, "forked_from", chat.lineage.first());
    if !chat.tree.is_empty() {
        put(&mut view, "tree", Some(&chat.tree));
    }
    view
}

/// Dollars from billionths, for JSON (exact sums stay in the store).
fn usd(nanos: NanoUsd) -> f64 {
    nanos as f64 / 1e9
}

fn usage_view(usage: &Usage) -> Json {
    let mut view = object! {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
    };
    put(&mut view, "cost_usd", usage.cost.map(usd));
    view
}

/// A chat's totals over every reply; `cost_usd` covers the priced ones, and
/// `unpriced_replies` says how many had no known price.
fn spent_view(spent: &Spent) -> Json {
    let mut view = object! {
        "input_tokens": spent.input_tokens,
        "output_tokens": spent.output_tokens,
        "cost_usd": usd(spent.cost),
    };
    put(
        &mut view,
        "unpriced_replies",
        (spent.unpriced > 0).then_some(spent.unpriced),
    );
    view
}

pub fn summary_view(chat: &Summary) -> Json {
    object! {
        "id": chat.id,
        "title": chat.title,
        "created_at": chat.created_at,
        "provider": chat.provider,
        "model": chat.model,
    }
}

pub fn message_view(id: &MessageId, message: &Message) -> Json {
    let mut view = object! {
        "id": id,
        "role": message.role,
        "content": message.content,
        "created_at": message.created_at,
    };
    put(&mut view, "parent", message.parent.as_ref());
    put(&mut view, "provider", message.provider.as_ref());
    put(&mut view, "model", message.model.as_ref());
    put(&mut view, "usage", message.usage.as_ref().map(usage_view));
    put(
        &mut view,
        "omitted",
        (message.omitted > 0).then_some(message.omitted),
    );
    view
}

pub fn running_view(running: &Running) -> Json {
    let mut view = object! {
        "id": running.id,
        "chat": running.chat,
        "status": "running",
        "provider": running.provider,
        "model": running.model,
        "started_at": running.started_at,
        "deadline": running.deadline,
    };
    put(
        &mut view,
        "omitted",
        (running.omitted > 0).then_some(running.omitted),
    );
    view
}

pub fn finished_view(finished: &Finished) -> Json {
    let mut view = object! {
        "id": finished.id,
        "chat": finished.chat,
        "finished_at": finished.finished_at,
    };
    if let Json::Object(outcome) = finished.outcome.to_json() {
        for (key, value) in outcome {
            view.insert(&key, value);
        }
    }
    view
}
