//! JSON views of chats, messages, usage and generations, as the API and the socket
//! send them: no nulls, costs in US dollars.

use super::models::settings_view;
use crate::catalog::NanoUsd;
use crate::chats::list::Summary;
use crate::chats::{Chat, Message, MessageId, Spent, Usage};
use crate::generation::{Finished, Running};
use crate::json::{object, Json, Object, ToJson};

pub fn chat_view(chat: &Chat) -> Json {
    Object::new()
        .with("id", &chat.id)
        .with("title", &chat.title)
        .with("created_at", &chat.created_at)
        .with("updated_at", &chat.updated_at)
        .with("message_count", &chat.message_count)
        .with("provider", &chat.provider)
        .with("model", &chat.model)
        .field("settings", settings_view(&chat.settings))
        .field("usage", spent_view(&chat.spent))
        .some("head", &chat.head)
        .some("forked_from", &chat.lineage.first())
        .unless(chat.tree.is_empty(), "tree", &chat.tree)
        .build()
}

/// Dollars from billionths, for JSON (exact sums stay in the store).
fn usd(nanos: NanoUsd) -> crate::decimal::Decimal {
    crate::decimal::Decimal::from_billionths(nanos)
}

fn usage_view(usage: &Usage) -> Json {
    Object::new()
        .with("input_tokens", &usage.input_tokens)
        .with("output_tokens", &usage.output_tokens)
        .some("cost_usd", &usage.cost.map(usd))
        .build()
}

/// A chat's totals over every reply; `cost_usd` covers the priced ones, and
/// `unpriced_replies` says how many had no known price.
fn spent_view(spent: &Spent) -> Json {
    Object::new()
        .with("input_tokens", &spent.input_tokens)
        .with("output_tokens", &spent.output_tokens)
        .with("cost_usd", &usd(spent.cost))
        .unless(spent.unpriced == 0, "unpriced_replies", &spent.unpriced)
        .build()
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
    Object::new()
        .with("id", id)
        .with("role", &message.role)
        .with("content", &message.content)
        .with("created_at", &message.created_at)
        .some("parent", &message.parent)
        .some("provider", &message.provider)
        .some("model", &message.model)
        .some("usage", &message.usage.as_ref().map(usage_view))
        .unless(message.omitted == 0, "omitted", &message.omitted)
        .build()
}

pub fn running_view(running: &Running) -> Json {
    Object::new()
        .with("id", &running.id)
        .with("chat", &running.chat)
        .with("status", "running")
        .with("provider", &running.provider)
        .with("model", &running.model)
        .with("started_at", &running.started_at)
        .with("deadline", &running.deadline)
        .unless(running.omitted == 0, "omitted", &running.omitted)
        .build()
}

/// The generation's fields, then its outcome's (`status` and what goes with it).
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
