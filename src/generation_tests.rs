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
