//! Replies through workers, as a page sees them: 202 at once, the answer through the
//! socket, Stop, deadlines, worker failures, limits, and keys kept out of everything
//! the chat actor records.

use crate::actor;
use crate::generation::MAX_RUNNING;
use crate::providers::{OPENAI_API_KEY, OPENAI_BASE_URL};
use crate::test_support::{Harness, WORKER};
use serde_json::{json, Value};

const KEY: &str = "sk-secret-abcdef123456";

fn openai_chat(h: &mut Harness) -> String {
    h.host.set_env(OPENAI_API_KEY, KEY);
    h.host.set_env(OPENAI_BASE_URL, "http://127.0.0.1:9999/v1");
    let (status, chat) = h.call(
        "POST",
        "/api/chats",
        Some(json!({ "provider": "openai", "model": "gpt-4o-mini" })),
    );
    assert_eq!(status, 201, "{chat}");
    chat["id"].as_str().unwrap().to_string()
}

fn reply(h: &mut Harness, chat: &str) -> (u16, Value) {
    h.call("POST", &format!("/api/reply?chat={chat}"), None)
}

fn generation(h: &mut Harness, id: &str) -> Value {
    let (status, body) = h.call("GET", &format!("/api/generation?id={id}"), None);
    assert_eq!(status, 200, "{body}");
    body["generation"].clone()
}

#[test]
fn a_reply_is_accepted_at_once_and_arrives_through_the_socket() {
    let mut h = Harness::with_worker();
    actor::socket_opened(&h.host, &mut h.state, 1, None);
    let chat = openai_chat(&mut h);
    h.say(&chat, "What is Theater?");
    let (status, accepted) = reply(&mut h, &chat);
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["generation"]["id"].as_str().unwrap().to_string();
    assert_eq!(accepted["generation"]["status"], "running");
    assert_eq!(generation(&mut h, &id)["status"], "running");

    // What the worker was given: its manifest and a job without the key.
    let (manifest, job) = h.host.spawned.borrow()[0].clone();
    assert!(manifest.contains(WORKER), "{manifest}");
    assert!(manifest.contains("OPENAI_API_KEY") && !manifest.contains("save_chain"));
    let job: Value = serde_json::from_slice(&job).unwrap();
    assert_eq!(
        job["turns"],
        json!([{ "role": "user", "content": "What is Theater?" }])
    );
    assert!(!job.to_string().contains(KEY));

    // The page stays live meanwhile.
    assert_eq!(h.call("GET", "/api/chats", None).0, 200);
    h.provider_answers(
        200,
        r#"{"choices":[{"message":{"content":"An actor runtime."}}],"usage":{"prompt_tokens":5,"completion_tokens":3}}"#,
    );
    h.run_worker();
    let done = generation(&mut h, &id);
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        h.messages(&chat).last().unwrap(),
        &("assistant".to_string(), "An actor runtime.".to_string())
    );
    assert_eq!(h.host.stopped.borrow().as_slice(), ["child-1"]);
    let pushed = h.pushed("generation");
    assert_eq!(pushed.first().unwrap()["generation"]["status"], "running");
    assert_eq!(pushed.last().unwrap()["generation"]["status"], "done");
    assert!(h
        .pushed("changed")
        .iter()
        .any(|e| e["chat"] == chat.as_str()));
    // Nothing the chat actor recorded or sent holds the key.
    assert!(!h.host.everything_written().contains(KEY));
    assert!(!String::from_utf8_lossy(&h.state.encode()).contains(KEY));
}

#[test]
fn provider_failures_keep_the_users_message_and_say_what_to_do() {
    let mut h = Harness::with_worker();
    let chat = h.new_chat();
    h.call(
        "PATCH",
        &format!("/api/chat?id={chat}"),
        Some(json!({ "provider": "openai", "model": "gpt-4o" })),
    );
    h.say(&chat, "are you there?");
    let (status, error) = reply(&mut h, &chat);
    assert_eq!(status, 503);
    assert_eq!(error["error"]["code"], "provider_not_configured");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("OPENAI_API_KEY"));

    h.host.set_env(OPENAI_API_KEY, KEY);
    for (status, body, code) in [
        (
            429,
            r#"{"error":{"message":"Rate limit reached"}}"#,
            "provider_rate_limited",
        ),
        (
            401,
            &*format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#),
            "provider_auth",
        ),
        (500, "oops", "provider_failed"),
        (200, "{not json", "provider_bad_reply"),
    ] {
        let (accepted, body_json) = reply(&mut h, &chat);
        assert_eq!(accepted, 202, "{body_json}");
        let id = body_json["generation"]["id"].as_str().unwrap().to_string();
        h.provider_answers(status, body);
        h.run_worker();
        let failed = generation(&mut h, &id);
        assert_eq!(failed["status"], "failed", "{failed}");
        assert_eq!(failed["code"], code, "{failed}");
        assert!(!failed.to_string().contains(KEY));
        if code == "provider_rate_limited" {
            assert_eq!(failed["retry_after"], 20);
        }
    }
    assert_eq!(
        h.messages(&chat),
        [("user".to_string(), "are you there?".to_string())]
    );
    // Retry once the provider is back answers the same message.
    reply(&mut h, &chat);
    h.provider_answers(200, r#"{"choices":[{"message":{"content":"yes"}}]}"#);
    h.run_worker();
    assert_eq!(h.messages(&chat).len(), 2);
    assert!(!h.host.everything_written().contains(KEY));
}

#[test]
fn stop_ends_the_generation_now_and_the_late_answer_is_dropped() {
    let mut h = Harness::with_worker();
    let chat = openai_chat(&mut h);
    h.say(&chat, "long question");
    let id = reply(&mut h, &chat).1["generation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, stopped) = h.call("POST", &format!("/api/stop?chat={chat}"), None);
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["generation"]["status"], "stopped");
    assert_eq!(h.host.stopped.borrow().as_slice(), ["child-1"]);
    // Stopping again says how it ended; stopping nothing is a clear 409/404.
    assert_eq!(
        h.call("POST", &format!("/api/stop?generation={id}"), None)
            .1["generation"]["status"],
        "stopped"
    );
    assert_eq!(
        h.call("POST", &format!("/api/stop?chat={chat}"), None).0,
        409
    );
    assert_eq!(h.call("POST", "/api/stop?generation=nope", None).0, 404);
    // The detached worker answers anyway: nothing is stored.
    h.provider_answers(200, r#"{"choices":[{"message":{"content":"too late"}}]}"#);
    h.run_worker();
    assert_eq!(
        h.messages(&chat),
        [("user".to_string(), "long question".to_string())]
    );
    assert!(h
        .host
        .logs
        .borrow()
        .iter()
        .any(|l| l.contains("late answer")));
    // The next generation works.
    reply(&mut h, &chat);
    h.provider_answers(200, r#"{"choices":[{"message":{"content":"now"}}]}"#);
    h.run_worker();
    assert_eq!(h.messages(&chat).len(), 2);
}

#[test]
fn a_generation_past_its_deadline_times_out_at_the_next_event() {
    let mut h = Harness::with_worker();
    actor::socket_opened(&h.host, &mut h.state, 1, None);
    let chat = openai_chat(&mut h);
    h.say(&chat, "slow one");
    let id = reply(&mut h, &chat).1["generation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.host.advance(29_000);
    assert_eq!(generation(&mut h, &id)["status"], "running");
    h.host.advance(1_000);
    // A socket ping is enough to notice it.
    actor::socket_frame(&h.host, &mut h.state, r#"{"type":"ping"}"#);
    let ended = h.pushed("generation").last().unwrap()["generation"].clone();
    assert_eq!(ended["status"], "timed_out", "{ended}");
    assert!(ended["message"].as_str().unwrap().contains("30 s"));
    assert_eq!(h.host.stopped.borrow().as_slice(), ["child-1"]);
    h.provider_answers(200, r#"{"choices":[{"message":{"content":"late"}}]}"#);
    h.run_worker();
    assert_eq!(h.messages(&chat).len(), 1);
}

#[test]
fn a_failed_worker_is_reported_and_nothing_else_is_affected() {
    let mut h = Harness::with_worker();
    let chat = openai_chat(&mut h);
    h.say(&chat, "crash please");
    let other = openai_chat(&mut h);
    h.say(&other, "fine");
    let id = reply(&mut h, &chat).1["generation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other_id = reply(&mut h, &other).1["generation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    actor::child_error(&h.host, &mut h.state, "child-1", "internal");
    let failed = generation(&mut h, &id);
    assert_eq!(
        (failed["status"].as_str(), failed["code"].as_str()),
        (Some("failed"), Some("worker_failed"))
    );
    assert!(failed["message"].as_str().unwrap().contains("internal"));
    assert_eq!(generation(&mut h, &other_id)["status"], "running");
    h.provider_answers(
        200,
        r#"{"choices":[{"message":{"content":"other answer"}}]}"#,
    );
    h.run_worker();
    assert_eq!(generation(&mut h, &other_id)["status"], "done");
    // A worker that exits without a report is a failure too; unknown children are freed.
    h.say(&other, "again");
    let third = reply(&mut h, &other).1["generation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    actor::child_exit(&h.host, &mut h.state, "child-3");
    assert_eq!(generation(&mut h, &third)["code"], "worker_failed");
    actor::child_error(&h.host, &mut h.state, "child-99", "paused");
    assert!(h.host.stopped.borrow().contains(&"child-99".to_string()));
}

#[test]
fn one_generation_per_chat_and_a_bounded_number_in_flight() {
    let mut h = Harness::with_worker();
    let mut chats = Vec::new();
    for n in 0..=MAX_RUNNING {
        let chat = openai_chat(&mut h);
        h.say(&chat, &format!("q{n}"));
        chats.push(chat);
    }
    for chat in &chats[..MAX_RUNNING] {
        assert_eq!(reply(&mut h, chat).0, 202);
    }
    let (status, busy) = reply(&mut h, &chats[0]);
    assert_eq!(
        (status, busy["error"]["code"].as_str()),
        (409, Some("generation_running"))
    );
    // The branch cannot move under a running reply.
    assert_eq!(h.say(&chats[0], "more").0, 409);
    assert_eq!(
        h.call("DELETE", &format!("/api/chat?id={}", chats[0]), None)
            .0,
        409
    );
    let response = h.raw(
        "POST",
        &format!("/api/reply?chat={}", chats[MAX_RUNNING]),
        None,
    );
    assert_eq!(response.status, 429);
    assert_eq!(response.header("retry-after"), Some("5"));
    assert_eq!(h.host.spawned.borrow().len(), MAX_RUNNING);
}

#[test]
fn a_worker_that_cannot_start_is_a_clear_503_and_the_message_stays() {
    let mut h = Harness::with_worker();
    let chat = openai_chat(&mut h);
    h.say(&chat, "hello");
    h.host.spawn_fails.set(true);
    let (status, error) = reply(&mut h, &chat);
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (503, Some("worker_failed"))
    );
    assert!(h.state.generations.running.is_empty());
    h.host.spawn_fails.set(false);
    assert_eq!(reply(&mut h, &chat).0, 202);

    let mut bare = Harness::new();
    let chat = openai_chat(&mut bare);
    bare.say(&chat, "hello");
    assert_eq!(reply(&mut bare, &chat).1["error"]["code"], "worker_missing");
}

#[test]
fn the_state_stays_small_with_every_slot_busy_and_a_full_history() {
    let mut h = Harness::with_worker();
    for n in 0..40 {
        let chat = openai_chat(&mut h);
        h.say(&chat, &format!("q{n}"));
        let id = reply(&mut h, &chat).1["generation"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        h.call("POST", &format!("/api/stop?generation={id}"), None);
    }
    for n in 0..MAX_RUNNING {
        let chat = openai_chat(&mut h);
        h.say(&chat, &format!("r{n}"));
        reply(&mut h, &chat);
    }
    let size = h.state.encode().len();
    assert!(size < 4096, "state is {size} bytes");
}

/// The actor state, a worker's job and its reports are written byte for byte as
/// serde's derives wrote them (the texts were printed by that version from the same
/// values), and read back the same: a state or report of the version before reads.
#[test]
fn state_jobs_and_reports_keep_their_json() {
    use crate::chats::hints::{Hints, Newest, Open};
    use crate::chats::{ChatId, MessageId, Role, Usage};
    use crate::config::ActorConfig;
    use crate::generation::{Generations, Job, Outcome, Report, Running};
    use crate::json::{FromJson, ToJson};
    use crate::providers::{Completion, ProviderError, Settings, Turn};
    use crate::state::ActorState;

    fn same<T: ToJson + FromJson + PartialEq + std::fmt::Debug>(value: &T, text: &str) {
        assert_eq!(value.to_json().to_text(), text);
        assert_eq!(&T::from_bytes(text.as_bytes()).unwrap(), value);
    }

    let id = |c: char| MessageId::parse(&c.to_string().repeat(40)).unwrap();
    let config = ActorConfig {
        worker: Some("/pkg/lib/worker.wasm".into()),
        timeouts: crate::json::Members(vec![("anthropic".into(), 90), ("openai".into(), 30)]),
        require_token: true,
        ..ActorConfig::default()
    };
    let mut generations = Generations {
        next: 5,
        ..Generations::default()
    };
    generations.start(Running {
        id: "gab-4".into(),
        chat: ChatId::parse("c2").unwrap(),
        child: "child-1".into(),
        answers: id('a'),
        provider: "openai".into(),
        model: "gpt".into(),
        started_at: 10,
        deadline: 20,
        omitted: 3,
        sibling: Some((id('b'), 4)),
    });
    generations.start(Running {
        id: "gab-5".into(),
        chat: ChatId::parse("c3").unwrap(),
        child: "child-2".into(),
        answers: id('c'),
        provider: "demo".into(),
        model: "echo".into(),
        started_at: 11,
        deadline: 21,
        omitted: 0,
        sibling: None,
    });
    let r = generations.running[0].clone();
    generations.finish(&r, Outcome::Done { message: id('d') }, 30);
    let failed = Outcome::Failed {
        code: "auth".into(),
        message: "bad key".into(),
        retry_after: Some(5),
    };
    generations.finish(&r, failed, 31);
    generations.finish(&r, Outcome::Stopped, 32);
    let late = Outcome::TimedOut {
        message: "late".into(),
    };
    generations.finish(&r, late, 33);
    let state = ActorState {
        config: config.clone(),
        server_id: 7,
        port: 8090,
        sockets: vec![1, 2],
        actor_id: "5f0c6d2e-aaaa".into(),
        generations,
        tickets: vec![("t1".into(), 99)],
        catalog: Some("ab".repeat(20)),
        hints: Hints::default(),
    };
    state.hints.set_list(Some(Newest {
        shard: 3,
        hash: "ab".repeat(20),
        older: true,
    }));
    state.hints.set_open(Some(Open {
        chat: ChatId::parse("c7").unwrap(),
        hash: "cd".repeat(20),
    }));
    same(
        &state,
        r#"{"config":{"store_id":"theater-chat","host":"127.0.0.1","port":8084,"worker":"/pkg/lib/worker.wasm","timeouts":{"anthropic":90,"openai":30},"require_token":true},"server_id":7,"port":8090,"sockets":[1,2],"actor_id":"5f0c6d2e-aaaa","generations":{"next":5,"running":[{"id":"gab-4","chat":"c2","child":"child-1","answers":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","provider":"openai","model":"gpt","started_at":10,"deadline":20,"omitted":3,"sibling":["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",4]},{"id":"gab-5","chat":"c3","child":"child-2","answers":"cccccccccccccccccccccccccccccccccccccccc","provider":"demo","model":"echo","started_at":11,"deadline":21}],"finished":[{"id":"gab-4","chat":"c2","outcome":{"status":"done","message":"dddddddddddddddddddddddddddddddddddddddd"},"finished_at":30},{"id":"gab-4","chat":"c2","outcome":{"status":"failed","code":"auth","message":"bad key","retry_after":5},"finished_at":31},{"id":"gab-4","chat":"c2","outcome":{"status":"stopped"},"finished_at":32},{"id":"gab-4","chat":"c2","outcome":{"status":"timed_out","message":"late"},"finished_at":33}]},"tickets":[["t1",99]],"catalog":"abababababababababababababababababababab","hints":{"list":{"shard":3,"hash":"abababababababababababababababababababab","older":true},"open":{"chat":"c7","hash":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"}}}"#,
    );
    let bare = ActorState {
        config: ActorConfig::default(),
        server_id: 1,
        port: 8084,
        sockets: vec![],
        actor_id: String::new(),
        generations: Generations::default(),
        tickets: vec![],
        catalog: None,
        hints: Hints::default(),
    };
    same(
        &bare,
        r#"{"config":{"store_id":"theater-chat","host":"127.0.0.1","port":8084},"server_id":1,"port":8084,"sockets":[],"actor_id":"","generations":{"next":0,"running":[],"finished":[]}}"#,
    );

    let job = Job {
        parent: "p-1".into(),
        id: "g1".into(),
        provider: "openai".into(),
        model: "gpt".into(),
        turns: vec![
            Turn {
                role: Role::User,
                content: "hi \"there\"".into(),
            },
            Turn {
                role: Role::Assistant,
                content: "yo".into(),
            },
        ],
        settings: Settings {
            system: Some("sys".into()),
            temperature: Some(crate::decimal::dec("0.25")),
            max_tokens: Some(9),
        },
    };
    same(
        &job,
        r#"{"parent":"p-1","id":"g1","provider":"openai","model":"gpt","turns":[{"role":"user","content":"hi \"there\""},{"role":"assistant","content":"yo"}],"settings":{"system":"sys","temperature":0.25,"max_tokens":9}}"#,
    );
    let bare = Job {
        settings: Settings::default(),
        turns: vec![],
        ..job
    };
    same(
        &bare,
        r#"{"parent":"p-1","id":"g1","provider":"openai","model":"gpt","turns":[],"settings":{}}"#,
    );

    let ok = Report {
        id: "g1".into(),
        result: Ok(Completion {
            content: "answer".into(),
            model: "gpt-4o".into(),
            usage: Some(Usage {
                input_tokens: 1,
                output_tokens: 2,
                cost: None,
            }),
        }),
    };
    same(
        &ok,
        r#"{"id":"g1","result":{"Ok":{"content":"answer","model":"gpt-4o","usage":{"input_tokens":1,"output_tokens":2}}}}"#,
    );
    let ok = Report {
        id: "g2".into(),
        result: Ok(Completion {
            content: "a".into(),
            model: "m".into(),
            usage: None,
        }),
    };
    same(
        &ok,
        r#"{"id":"g2","result":{"Ok":{"content":"a","model":"m","usage":null}}}"#,
    );
    let err = Report {
        id: "g3".into(),
        result: Err(ProviderError::Overloaded {
            status: 529,
            message: "busy".into(),
            retry_after: None,
        }),
    };
    same(
        &err,
        r#"{"id":"g3","result":{"Err":{"kind":"overloaded","status":529,"message":"busy","retry_after":null}}}"#,
    );
}
