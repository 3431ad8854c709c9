//! How stored chats, messages and list shards are read back: through [`crate::json`],
//! field by field, with the defaults the serde attributes they were written with had
//! (a field written only when it is not empty reads as empty when absent).

use super::history::Ancestor;
use super::list::{Shard, Summary};
use super::tree::{Branch, Point, Tree};
use super::{Chat, ChatId, ChatIndex, Message, MessageId, Role, Spent, Usage};
use crate::json::{Fields, FromJson, Json, JsonError};

impl FromJson for ChatId {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        Self::try_from(String::from_json(value)?).map_err(JsonError::new)
    }
}

impl FromJson for MessageId {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        Self::try_from(String::from_json(value)?).map_err(JsonError::new)
    }
}

impl FromJson for Role {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match &value {
            Json::String(text) if text == "user" => Ok(Role::User),
            Json::String(text) if text == "assistant" => Ok(Role::Assistant),
            _ => Err(JsonError::expected("\"user\" or \"assistant\"", &value)),
        }
    }
}

impl FromJson for Usage {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "token counts")?;
        Ok(Self {
            input_tokens: f.take("input_tokens")?,
            output_tokens: f.take("output_tokens")?,
            cost: f.take("cost")?,
        })
    }
}

impl FromJson for Spent {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "what a chat spent")?;
        Ok(Self {
            input_tokens: f.take("input_tokens")?,
            output_tokens: f.take("output_tokens")?,
            cost: f.take("cost")?,
            unpriced: f.take("unpriced")?,
        })
    }
}

impl FromJson for Message {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a message")?;
        Ok(Self {
            v: f.take_or_default("v")?,
            chat: f.take("chat")?,
            parent: f.take("parent")?,
            role: f.take("role")?,
            content: f.take("content")?,
            created_at: f.take("created_at")?,
            provider: f.take("provider")?,
            model: f.take("model")?,
            usage: f.take("usage")?,
            omitted: f.take_or_default("omitted")?,
            window: f.take_or_default("window")?,
            before: f.take("before")?,
        })
    }
}

impl FromJson for Ancestor {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "an ancestor")?;
        Ok(Self {
            id: f.take("id")?,
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

impl FromJson for Branch {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a branch")?;
        Ok(Self {
            id: f.take("id")?,
            tip: f.take("tip")?,
            tip_n: f.take("tip_n")?,
        })
    }
}

impl FromJson for Point {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a branch point")?;
        Ok(Self {
            at: f.take("at")?,
            n: f.take("n")?,
            route: f.take("route")?,
            children: f.take("children")?,
            selected: f.take("selected")?,
        })
    }
}

/// Written as its list of points.
impl FromJson for Tree {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        Ok(Self {
            points: Vec::from_json(value)?,
        })
    }
}

impl FromJson for Chat {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a chat")?;
        Ok(Self {
            v: f.take_or_default("v")?,
            id: f.take("id")?,
            title: f.take("title")?,
            titled: f.take_or_default("titled")?,
            created_at: f.take("created_at")?,
            updated_at: f.take("updated_at")?,
            head: f.take("head")?,
            message_count: f.take("message_count")?,
            provider: f.take("provider")?,
            model: f.take("model")?,
            settings: f.take_or_default("settings")?,
            spent: f.take_or_default("spent")?,
            tree: f.take_or_default("tree")?,
            lineage: f.take_or_default("lineage")?,
            w: f.take_or_default("w")?,
            stored: None,
        })
    }
}

impl FromJson for ChatIndex {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "the chat index")?;
        Ok(Self {
            v: f.take_or_default("v")?,
            next_id: f.take("next_id")?,
            shards: f.take_or_default("shards")?,
            chats: f.take_or_default("chats")?,
            w: f.take_or_default("w")?,
            stored: None,
        })
    }
}

impl FromJson for Summary {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a chat in the list")?;
        Ok(Self {
            id: f.take("id")?,
            title: f.take("title")?,
            created_at: f.take("created_at")?,
            provider: f.take("provider")?,
            model: f.take("model")?,
        })
    }
}

impl FromJson for Shard {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a page of the chat list")?;
        Ok(Self {
            chats: f.take("chats")?,
            w: f.take_or_default("w")?,
            stored: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::ToJson;
    use crate::providers::Settings;
    use crate::store::Stamp;

    fn id(c: char) -> MessageId {
        MessageId::parse(&c.to_string().repeat(40)).unwrap()
    }

    /// Written byte for byte as serde's derives wrote it before (`stored`, printed by
    /// the serde version on the same values), and read back whole: every field set,
    /// then every optional field left out. Message ids are hashes of these bytes.
    fn round_trip<T: ToJson + FromJson + PartialEq + std::fmt::Debug>(value: T, stored: &str) {
        assert_eq!(value.to_json().to_text(), stored);
        assert_eq!(T::from_bytes(stored.as_bytes()).unwrap(), value);
    }

    fn usage() -> Usage {
        Usage {
            input_tokens: 12,
            output_tokens: 34,
            cost: Some(56),
        }
    }

    #[test]
    fn messages_chats_and_list_pages_read_back_as_written() {
        let ancestor = Ancestor {
            id: id('a'),
            role: Role::Assistant,
            content: "earlier \"quoted\" é 😀\n".into(),
            created_at: 5,
            provider: Some("openai".into()),
            model: Some("gpt".into()),
            usage: Some(usage()),
            omitted: 2,
        };
        let full = Message {
            v: 3,
            chat: ChatId::parse("c7").unwrap(),
            parent: Some(id('b')),
            role: Role::Assistant,
            content: "hello\u{1}\t".into(),
            created_at: 9,
            provider: Some("anthropic".into()),
            model: Some("claude".into()),
            usage: Some(usage()),
            omitted: 4,
            window: vec![ancestor.clone(), ancestor],
            before: Some(id('c')),
        };
        round_trip(
            full.clone(),
            r#"{"v":3,"chat":"c7","parent":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","role":"assistant","content":"hello\u0001\t","created_at":9,"provider":"anthropic","model":"claude","usage":{"input_tokens":12,"output_tokens":34,"cost":56},"omitted":4,"window":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","role":"assistant","content":"earlier \"quoted\" é 😀\n","created_at":5,"provider":"openai","model":"gpt","usage":{"input_tokens":12,"output_tokens":34,"cost":56},"omitted":2},{"id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","role":"assistant","content":"earlier \"quoted\" é 😀\n","created_at":5,"provider":"openai","model":"gpt","usage":{"input_tokens":12,"output_tokens":34,"cost":56},"omitted":2}],"before":"cccccccccccccccccccccccccccccccccccccccc"}"#,
        );
        round_trip(
            Message {
                v: 0,
                parent: None,
                role: Role::User,
                provider: None,
                model: None,
                usage: None,
                omitted: 0,
                window: vec![],
                before: None,
                ..full
            },
            r#"{"v":0,"chat":"c7","parent":null,"role":"user","content":"hello\u0001\t","created_at":9}"#,
        );

        let tree = Tree {
            points: vec![Point {
                at: Some(id('d')),
                n: 3,
                route: vec![(0, 1), (2, 0)],
                children: vec![Branch {
                    id: id('e'),
                    tip: id('f'),
                    tip_n: 8,
                }],
                selected: 0,
            }],
        };
        let chat = Chat {
            v: 2,
            id: ChatId::parse("c12").unwrap(),
            title: "A title".into(),
            titled: true,
            created_at: 1,
            updated_at: 2,
            head: Some(id('9')),
            message_count: 7,
            provider: "gemini".into(),
            model: "flash".into(),
            settings: Settings {
                system: Some("Be brief.".into()),
                temperature: Some(crate::decimal::dec("0.7")),
                max_tokens: Some(500),
            },
            spent: Spent {
                input_tokens: 1,
                output_tokens: 2,
                cost: 3,
                unpriced: 4,
            },
            tree,
            lineage: vec![ChatId::parse("c3").unwrap()],
            w: Stamp { rev: 6, at: 7 },
            stored: None,
        };
        round_trip(
            chat.clone(),
            r#"{"v":2,"id":"c12","title":"A title","titled":true,"created_at":1,"updated_at":2,"head":"9999999999999999999999999999999999999999","message_count":7,"provider":"gemini","model":"flash","settings":{"system":"Be brief.","temperature":0.7,"max_tokens":500},"spent":{"input_tokens":1,"output_tokens":2,"cost":3,"unpriced":4},"tree":[{"at":"dddddddddddddddddddddddddddddddddddddddd","n":3,"route":[[0,1],[2,0]],"children":[{"id":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","tip":"ffffffffffffffffffffffffffffffffffffffff","tip_n":8}],"selected":0}],"lineage":["c3"],"w":{"rev":6,"at":7}}"#,
        );
        round_trip(
            Chat {
                titled: false,
                head: None,
                settings: Settings::default(),
                spent: Spent::default(),
                tree: Tree::default(),
                lineage: vec![],
                w: Stamp::default(),
                ..chat.clone()
            },
            r#"{"v":2,"id":"c12","title":"A title","titled":false,"created_at":1,"updated_at":2,"head":null,"message_count":7,"provider":"gemini","model":"flash","w":{"rev":0,"at":0}}"#,
        );

        round_trip(
            ChatIndex {
                v: 2,
                next_id: 40,
                shards: vec![0, 3],
                chats: vec![ChatId::parse("c1").unwrap()],
                w: Stamp { rev: 1, at: 2 },
                stored: None,
            },
            r#"{"v":2,"next_id":40,"shards":[0,3],"chats":["c1"],"w":{"rev":1,"at":2}}"#,
        );
        round_trip(
            Shard {
                chats: vec![Summary::of(&chat)],
                w: Stamp { rev: 3, at: 4 },
                stored: None,
            },
            r#"{"chats":[{"id":"c12","title":"A title","created_at":1,"provider":"gemini","model":"flash"}],"w":{"rev":3,"at":4}}"#,
        );
    }

    #[test]
    fn a_bad_stored_message_names_the_field() {
        let error = Message::from_bytes(
            br#"{"chat": "c1", "parent": null, "role": "robot", "content": "", "created_at": 1}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`role`: expected \"user\" or \"assistant\", found the string \"robot\""
        );
        let error = Message::from_bytes(
            br#"{"chat": "c1", "role": "user", "content": "", "created_at": 1, "window": [{"id": "x"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`window[0].id`: invalid message id \"x\""
        );
    }
}
