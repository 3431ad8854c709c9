//! Conversations as a tree, as the page drives them: edit a question, regenerate or
//! ask several models, switch versions, and reopen where the user left each branch.

use crate::providers::{OPENAI_API_KEY, OPENAI_BASE_URL};
use crate::test_support::Harness;
use serde_json::{json, Value};

fn page(h: &mut Harness, chat: &str) -> Vec<Value> {
    let (status, page) = h.call("GET", &format!("/api/messages?chat={chat}&limit=200"), None);
    assert_eq!(status, 200, "{page}");
    page["messages"].as_array().unwrap().clone()
}

fn contents(h: &mut Harness, chat: &str) -> Vec<String> {
    page(h, chat)
        .iter()
        .map(|m| m["content"].as_str().unwrap().chars().take(40).collect())
        .collect()
}

fn ids(h: &mut Harness, chat: &str) -> Vec<String> {
    page(h, chat)
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

fn reply(h: &mut Harness, chat: &str, body: Value) -> (u16, Value) {
    h.call("POST", &format!("/api/reply?chat={chat}"), Some(body))
}

fn edit(h: &mut Harness, chat: &str, message: &str, content: &str) -> (u16, Value) {
    h.call(
        "POST",
        &format!("/api/edit?chat={chat}"),
        Some(json!({ "message": message, "content": content })),
    )
}

fn switch(h: &mut Harness, chat: &str, message: &str) -> (u16, Value) {
    h.call(
        "POST",
        &format!("/api/branch?chat={chat}"),
        Some(json!({ "message": message })),
    )
}

fn chat_view(h: &mut Harness, chat: &str) -> Value {
    h.call("GET", &format!("/api/chat?id={chat}"), None).1
}

/// A demo chat: q1, a1, q2, a2.
fn two_turns(h: &mut Harness) -> String {
    let chat = h.new_chat();
    for q in ["q1", "q2"] {
        h.say(&chat, q);
        assert_eq!(reply(h, &chat, json!({})).0, 202);
    }
    chat
}

#[test]
fn an_edit_is_a_sibling_and_each_branch_is_found_where_it_was_left() {
    let mut h = Harness::new();
    let chat = two_turns(&mut h);
    let before = ids(&mut h, &chat);
    let (q2, a2) = (before[2].clone(), before[3].clone());

    let (status, edited) = edit(&mut h, &chat, &q2, "q2, better");
    assert_eq!(status, 201, "{edited}");
    assert_eq!(edited["chat"]["message_count"], 3);
    assert_eq!(edited["message"]["parent"], before[1].as_str());
    let shown = contents(&mut h, &chat);
    assert_eq!(
        (shown.len(), shown[0].as_str(), shown[2].as_str()),
        (3, "q1", "q2, better")
    );
    // The tree names the fork: after a1, [q2, q2'], the new one shown, q2's tip a2.
    let tree = &chat_view(&mut h, &chat)["tree"];
    assert_eq!(tree[0]["at"], before[1].as_str());
    assert_eq!(tree[0]["n"], 2);
    assert_eq!(tree[0]["selected"], 1);
    assert_eq!(tree[0]["children"][0]["id"], q2.as_str());
    assert_eq!(tree[0]["children"][0]["tip"], a2.as_str());
    assert_eq!(tree[0]["children"][0]["tip_n"], 4);

    // Answer the new version, then go back: the old branch is whole, down to a2.
    assert_eq!(reply(&mut h, &chat, json!({})).0, 202);
    let new_branch = ids(&mut h, &chat);
    let (status, switched) = switch(&mut h, &chat, &q2);
    assert_eq!(status, 200, "{switched}");
    assert_eq!(switched["chat"]["head"], a2.as_str());
    assert_eq!(switched["chat"]["message_count"], 4);
    assert_eq!(ids(&mut h, &chat), before);
    // And forward again, to the answered new version.
    switch(&mut h, &chat, &new_branch[2]);
    assert_eq!(ids(&mut h, &chat), new_branch);
    assert_eq!(chat_view(&mut h, &chat)["head"], new_branch[3].as_str());
}

#[test]
fn regenerating_a_reply_adds_a_version_next_to_it() {
    let mut h = Harness::new();
    let chat = two_turns(&mut h);
    let before = ids(&mut h, &chat);
    let (status, again) = reply(&mut h, &chat, json!({ "regenerate": before[1] }));
    assert_eq!(status, 202, "{again}");
    // Regenerating a1 (the answer to q1) drops the rest of the branch from view.
    let shown = ids(&mut h, &chat);
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[0], before[0]);
    assert_ne!(shown[1], before[1]);
    let tree = &chat_view(&mut h, &chat)["tree"];
    assert_eq!(tree[0]["at"], before[0].as_str());
    assert_eq!(tree[0]["children"][0]["tip"], before[3].as_str());
    // Regenerating the newest reply keeps everything before it.
    let newest = shown[1].clone();
    reply(&mut h, &chat, json!({ "regenerate": newest }));
    let tree = &chat_view(&mut h, &chat)["tree"];
    assert_eq!(tree[0]["children"].as_array().unwrap().len(), 3);
    assert_eq!(tree[0]["selected"], 2);
}

#[test]
fn several_models_answer_one_question_as_switchable_siblings() {
    let mut h = Harness::with_worker();
    h.host.set_env(OPENAI_API_KEY, "sk-test-several");
    h.host.set_env(OPENAI_BASE_URL, "http://127.0.0.1:9999/v1");
    let chat = h.new_chat();
    h.say(&chat, "which is best?");
    let (status, started) = reply(
        &mut h,
        &chat,
        json!({ "models": [
            { "provider": "openai", "model": "gpt-4o" },
            { "provider": "openai", "model": "gpt-4o-mini" },
            { "provider": "demo", "model": "demo-echo" },
        ] }),
    );
    assert_eq!(status, 202, "{started}");
    let generations = started["generations"].as_array().unwrap();
    assert_eq!(generations.len(), 3);
    assert_eq!(generations[0]["status"], "running");
    assert_eq!(generations[2]["status"], "done", "the demo answers at once");
    // While the others run, the chat waits for them.
    assert_eq!(h.say(&chat, "more").0, 409);
    for (worker, text) in [(0, "GPT-4o says"), (1, "mini says")] {
        h.provider_answers(
            200,
            &format!(r#"{{"choices":[{{"message":{{"content":"{text}"}}}}]}}"#),
        );
        h.run_worker_at(worker);
    }
    let view = chat_view(&mut h, &chat);
    let point = &view["tree"][0];
    let answers: Vec<&str> = point["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(answers.len(), 3, "{view}");
    assert_eq!(view["message_count"], 2);
    let mut seen = Vec::new();
    for answer in answers {
        assert_eq!(switch(&mut h, &chat, answer).0, 200);
        let shown = page(&mut h, &chat);
        assert_eq!(shown.len(), 2);
        seen.push(shown[1]["model"].as_str().unwrap().to_string());
    }
    seen.sort();
    assert_eq!(seen, ["demo-echo", "gpt-4o", "gpt-4o-mini"]);
}

#[test]
fn bad_branch_requests_are_refused_and_change_nothing() {
    let mut h = Harness::new();
    let chat = two_turns(&mut h);
    let before = ids(&mut h, &chat);
    let snapshot = chat_view(&mut h, &chat);
    // A reply cannot be edited, a question cannot be regenerated.
    assert_eq!(edit(&mut h, &chat, &before[1], "x").0, 400);
    assert_eq!(
        reply(&mut h, &chat, json!({ "regenerate": before[0] })).0,
        400
    );
    // No other version to switch to; not a message id; empty text.
    assert_eq!(switch(&mut h, &chat, &before[2]).0, 409);
    assert_eq!(switch(&mut h, &chat, "nope").0, 400);
    assert_eq!(edit(&mut h, &chat, &before[2], "  ").0, 400);
    // A message of another chat.
    let other = two_turns(&mut h);
    let foreign = ids(&mut h, &other)[0].clone();
    assert_eq!(edit(&mut h, &chat, &foreign, "x").0, 400);
    // Too many models, or one twice.
    let models = json!({ "models": [{"model": "demo-echo"}, {"model": "demo-echo"}] });
    assert_eq!(reply(&mut h, &chat, models).0, 400);
    let four = json!({ "models": [{}, {}, {}, {}] });
    assert_eq!(reply(&mut h, &chat, four).0, 400);
    assert_eq!(chat_view(&mut h, &chat), snapshot);
    // A message on a branch not shown cannot be edited until it is shown.
    edit(&mut h, &chat, &before[2], "q2'");
    let (status, error) = edit(&mut h, &chat, &before[2], "q2''");
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["error"]["code"], "not_on_branch");
}

#[test]
fn forks_at_the_first_message_and_branches_cost_no_extra_host_calls_to_read() {
    let mut h = Harness::new();
    let chat = two_turns(&mut h);
    let first = ids(&mut h, &chat)[0].clone();
    let (status, edited) = edit(&mut h, &chat, &first, "q1, again");
    assert_eq!(status, 201, "{edited}");
    assert_eq!(edited["chat"]["message_count"], 1);
    let tree = &chat_view(&mut h, &chat)["tree"];
    assert!(tree[0].get("at").is_none(), "{tree}");
    // A page of a branched chat costs what any page costs: nothing once its objects are
    // in the actor's memory, 1 store call after a restart (the record's label: the
    // start's check read the record and its newest message). Posting is 3 calls then (4 when the record was just written).
    let calls = h.host.calls.get();
    page(&mut h, &chat);
    assert_eq!(h.host.calls.get() - calls, 0);
    h.restart();
    let calls = h.host.calls.get();
    page(&mut h, &chat);
    assert_eq!(h.host.calls.get() - calls, 1);
    let calls = h.host.calls.get();
    h.say(&chat, "on the new branch");
    assert_eq!(h.host.calls.get() - calls, 3);
    let calls = h.host.calls.get();
    h.say(&chat, "and on");
    assert_eq!(h.host.calls.get() - calls, 4);
}

#[test]
fn a_fork_continues_in_a_new_chat_sharing_the_history() {
    let mut h = Harness::new();
    let chat = two_turns(&mut h);
    let before = ids(&mut h, &chat);
    let writes = h.host.calls.get();
    let (status, forked) = h.call(
        "POST",
        &format!("/api/fork?chat={chat}"),
        Some(json!({ "message": before[1] })),
    );
    assert_eq!(status, 201, "{forked}");
    // Nothing copied: a chat record and its list entry, no message.
    assert!(h.host.calls.get() - writes < 20);
    let fork = forked["id"].as_str().unwrap().to_string();
    assert_eq!(forked["message_count"], 2);
    assert_eq!(forked["forked_from"], chat.as_str());
    assert!(forked["title"].as_str().unwrap().ends_with("(fork)"));
    assert_eq!(ids(&mut h, &fork), before[..2].to_vec());
    // The fork goes its own way; the original is untouched.
    h.say(&fork, "only in the fork");
    assert_eq!(reply(&mut h, &fork, json!({})).0, 202);
    assert_eq!(page(&mut h, &fork).len(), 4);
    assert_eq!(ids(&mut h, &chat), before);
    // Its shared messages can be edited there (a fork of its own history).
    let (status, _) = edit(&mut h, &fork, &before[0], "q1 in the fork");
    assert_eq!(status, 201);
    assert_eq!(ids(&mut h, &chat), before);
    // Search reads a fork's shared history as its own.
    let (status, found) = h.call("GET", "/api/search?q=q2", None);
    assert_eq!(status, 200, "{found}");
    let chats: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["chat"].as_str().unwrap())
        .collect();
    assert!(chats.contains(&chat.as_str()), "{found}");
    let (_, in_fork) = h.call("GET", "/api/search?q=fork", None);
    assert_eq!(in_fork["results"][0]["chat"], fork.as_str(), "{in_fork}");
    let (_, shared) = h.call("GET", "/api/search?q=q1", None);
    let found_in: Vec<&str> = shared["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["chat"].as_str().unwrap())
        .collect();
    assert!(found_in.contains(&fork.as_str()), "{shared}");
    // Deleting the original leaves the fork whole.
    switch(&mut h, &fork, &before[0]);
    assert_eq!(
        h.call("DELETE", &format!("/api/chat?id={chat}"), None).0,
        204
    );
    assert_eq!(page(&mut h, &fork).len(), 4);
    // A message the chat does not show cannot be forked from.
    let (status, _) = h.call(
        "POST",
        &format!("/api/fork?chat={fork}"),
        Some(json!({ "message": "a".repeat(40) })),
    );
    assert_eq!(status, 404);
}
