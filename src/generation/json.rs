//! How the worker protocol ([`Job`], [`Report`]) and the table of generations in the
//! actor state are written and read. The JSON is the one serde's derives wrote, so a
//! state or a report written before reads the same.

use super::{Finished, Generations, Job, Outcome, Report, Running};
use crate::chats::is_zero;
use crate::json::{Fields, FromJson, Json, JsonError, Object, ToJson};

impl ToJson for Job {
    fn to_json(&self) -> Json {
        Object::new()
            .with("parent", &self.parent)
            .with("id", &self.id)
            .with("provider", &self.provider)
            .with("model", &self.model)
            .with("turns", &self.turns)
            .with("settings", &self.settings)
            .build()
    }
}

impl FromJson for Job {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a job")?;
        Ok(Self {
            parent: f.take("parent")?,
            id: f.take("id")?,
            provider: f.take("provider")?,
            model: f.take("model")?,
            turns: f.take("turns")?,
            settings: f.take_or_default("settings")?,
        })
    }
}

/// The result as `{"Ok": completion}` or `{"Err": error}`.
impl ToJson for Report {
    fn to_json(&self) -> Json {
        let result = match &self.result {
            Ok(completion) => crate::json::object! { "Ok": completion },
            Err(error) => crate::json::object! { "Err": error },
        };
        crate::json::object! { "id": self.id, "result": result }
    }
}

impl FromJson for Report {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a report")?;
        let id = f.take("id")?;
        let mut result = Fields::of(f.take("result")?, "{\"Ok\": ...} or {\"Err\": ...}")?;
        let result = match result.take("Ok")? {
            Some(completion) => Ok(completion),
            None => match result.take("Err")? {
                Some(error) => Err(error),
                None => return Err(JsonError::new("`result`: expected \"Ok\" or \"Err\"")),
            },
        };
        Ok(Self { id, result })
    }
}

impl ToJson for Running {
    fn to_json(&self) -> Json {
        Object::new()
            .with("id", &self.id)
            .with("chat", &self.chat)
            .with("child", &self.child)
            .with("answers", &self.answers)
            .with("provider", &self.provider)
            .with("model", &self.model)
            .with("started_at", &self.started_at)
            .with("deadline", &self.deadline)
            .unless(is_zero(&self.omitted), "omitted", &self.omitted)
            .some("sibling", &self.sibling)
            .build()
    }
}

impl FromJson for Running {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a running generation")?;
        Ok(Self {
            id: f.take("id")?,
            chat: f.take("chat")?,
            child: f.take("child")?,
            answers: f.take("answers")?,
            provider: f.take("provider")?,
            model: f.take("model")?,
            started_at: f.take("started_at")?,
            deadline: f.take("deadline")?,
            omitted: f.take_or_default("omitted")?,
            sibling: f.take("sibling")?,
        })
    }
}

/// Tagged by `status`: `{"status": "failed", "code": ..., "message": ...}`.
impl ToJson for Outcome {
    fn to_json(&self) -> Json {
        let tagged = |status: &str| Object::new().with("status", status);
        match self {
            Outcome::Done { message } => tagged("done").with("message", message),
            Outcome::Failed {
                code,
                message,
                retry_after,
            } => tagged("failed")
                .with("code", code)
                .with("message", message)
                .some("retry_after", retry_after),
            Outcome::Stopped => tagged("stopped"),
            Outcome::TimedOut { message } => tagged("timed_out").with("message", message),
        }
        .build()
    }
}

impl FromJson for Outcome {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "an outcome")?;
        let status: String = f.take("status")?;
        Ok(match status.as_str() {
            "done" => Self::Done {
                message: f.take("message")?,
            },
            "failed" => Self::Failed {
                code: f.take("code")?,
                message: f.take("message")?,
                retry_after: f.take("retry_after")?,
            },
            "stopped" => Self::Stopped,
            "timed_out" => Self::TimedOut {
                message: f.take("message")?,
            },
            _ => {
                return Err(JsonError::new(format!(
                    "unknown outcome {}",
                    crate::json::quoted(&status)
                )))
            }
        })
    }
}

impl ToJson for Finished {
    fn to_json(&self) -> Json {
        Object::new()
            .with("id", &self.id)
            .with("chat", &self.chat)
            .with("outcome", &self.outcome)
            .with("finished_at", &self.finished_at)
            .build()
    }
}

impl FromJson for Finished {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "a finished generation")?;
        Ok(Self {
            id: f.take("id")?,
            chat: f.take("chat")?,
            outcome: f.take("outcome")?,
            finished_at: f.take("finished_at")?,
        })
    }
}

impl ToJson for Generations {
    fn to_json(&self) -> Json {
        Object::new()
            .with("next", &self.next)
            .with("running", &self.running)
            .with("finished", &self.finished)
            .build()
    }
}

impl FromJson for Generations {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = Fields::of(value, "the generations")?;
        Ok(Self {
            next: f.take_or_default("next")?,
            running: f.take_or_default("running")?,
            finished: f.take_or_default::<Vec<_>>("finished")?.into(),
        })
    }
}
