//! How chats, messages and list shards are written: through [`crate::json`], field by
//! field in the order and with the omissions serde's derives used, so the stored
//! bytes, and with them every message id, are the same as before (see
//! [`crate::json`]'s writer; the tests compare the bytes with serde's).

use super::history::Ancestor;
use super::list::{Shard, Summary};
use super::tree::{Branch, Point, Tree};
use super::{is_zero, Chat, ChatId, ChatIndex, Message, MessageId, Role, Spent, Usage};
use crate::json::{Json, Object, ToJson};

impl ToJson for ChatId {
    fn to_json(&self) -> Json {
        self.as_str().to_json()
    }
}

impl ToJson for MessageId {
    fn to_json(&self) -> Json {
        self.as_str().to_json()
    }
}

impl ToJson for Role {
    fn to_json(&self) -> Json {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
        .to_json()
    }
}

impl ToJson for Usage {
    fn to_json(&self) -> Json {
        Object::new()
            .with("input_tokens", &self.input_tokens)
            .with("output_tokens", &self.output_tokens)
            .some("cost", &self.cost)
            .build()
    }
}

impl ToJson for Spent {
    fn to_json(&self) -> Json {
        Object::new()
            .with("input_tokens", &self.input_tokens)
            .with("output_tokens", &self.output_tokens)
            .with("cost", &self.cost)
            .with("unpriced", &self.unpriced)
            .build()
    }
}

impl ToJson for Message {
    fn to_json(&self) -> Json {
        Object::new()
            .with("v", &self.v)
            .with("chat", &self.chat)
            .with("parent", &self.parent)
            .with("role", &self.role)
            .with("content", &self.content)
            .with("created_at", &self.created_at)
            .some("provider", &self.provider)
            .some("model", &self.model)
            .some("usage", &self.usage)
            .unless(is_zero(&self.omitted), "omitted", &self.omitted)
            .unless(self.window.is_empty(), "window", &self.window)
            .some("before", &self.before)
            .build()
    }
}

impl ToJson for Ancestor {
    fn to_json(&self) -> Json {
        Object::new()
            .with("id", &self.id)
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

impl ToJson for Branch {
    fn to_json(&self) -> Json {
        Object::new()
            .with("id", &self.id)
            .with("tip", &self.tip)
            .with("tip_n", &self.tip_n)
            .build()
    }
}

impl ToJson for Point {
    fn to_json(&self) -> Json {
        Object::new()
            .some("at", &self.at)
            .with("n", &self.n)
            .with("route", &self.route)
            .with("children", &self.children)
            .with("selected", &self.selected)
            .build()
    }
}

/// Written as its list of points.
impl ToJson for Tree {
    fn to_json(&self) -> Json {
        self.points.to_json()
    }
}

impl ToJson for Chat {
    fn to_json(&self) -> Json {
        Object::new()
            .with("v", &self.v)
            .with("id", &self.id)
            .with("title", &self.title)
            .with("titled", &self.titled)
            .with("created_at", &self.created_at)
            .with("updated_at", &self.updated_at)
            .with("head", &self.head)
            .with("message_count", &self.message_count)
            .with("provider", &self.provider)
            .with("model", &self.model)
            .unless(self.settings.is_empty(), "settings", &self.settings)
            .unless(self.spent.is_empty(), "spent", &self.spent)
            .unless(self.tree.is_empty(), "tree", &self.tree)
            .unless(self.lineage.is_empty(), "lineage", &self.lineage)
            .with("w", &self.w)
            .build()
    }
}

impl ToJson for ChatIndex {
    fn to_json(&self) -> Json {
        Object::new()
            .with("v", &self.v)
            .with("next_id", &self.next_id)
            .with("shards", &self.shards)
            .unless(self.chats.is_empty(), "chats", &self.chats)
            .with("w", &self.w)
            .build()
    }
}

impl ToJson for Summary {
    fn to_json(&self) -> Json {
        Object::new()
            .with("id", &self.id)
            .with("title", &self.title)
            .with("created_at", &self.created_at)
            .with("provider", &self.provider)
            .with("model", &self.model)
            .build()
    }
}

impl ToJson for Shard {
    fn to_json(&self) -> Json {
        Object::new()
            .with("chats", &self.chats)
            .with("w", &self.w)
            .build()
    }
}
